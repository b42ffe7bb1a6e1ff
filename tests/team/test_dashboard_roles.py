"""The dashboard offers each role only what it may do (MainScreen.check_action, ImtuiApp.may):
a viewer's change keys do nothing, a responder may halt but not modify, an operator may modify."""

from __future__ import annotations

import pytest

from imtui.bootstrap import open_services
from imtui.clock import FixedClock
from imtui.config import Settings
from imtui.domain.calendar import parse_instant
from tests.support.dbs import drop_db, fresh_db_url

ACTIONS = ("upgrade", "modify", "halt", "reactivate")
EXPECTED = {
    "viewer": set(),
    "responder": {"halt", "reactivate"},
    "operator": {"upgrade", "modify", "halt", "reactivate"},
    "admin": {"upgrade", "modify", "halt", "reactivate"},
}


@pytest.mark.parametrize("role", list(EXPECTED))
async def test_the_dashboard_offers_what_the_role_allows(tmp_path, role):
    from imtui.ui.app import ImtuiApp
    from imtui.ui.screens.change_form import ChangeForm
    from tests.support.ui import settle

    db = fresh_db_url(tmp_path)
    clock = FixedClock(parse_instant("2026-11-20T10:00", "Asia/Shanghai"))
    settings = Settings(db=db, control_plane_latency=0, refresh_seconds=3600, keymap=tmp_path / "k.toml")
    admin = open_services(settings, clock, actor="alice")
    other = open_services(settings, clock, actor="vera")
    try:
        await admin.changes.create("chat", "acme")
        if role != "viewer":
            await admin.users.grant("vera", role)
        ui = ImtuiApp(other, settings, keymap_file=tmp_path / "k.toml")
        async with ui.run_test(size=(100, 30)) as pilot:
            await settle(pilot)
            assert ui.role == role
            offered = {a for a in ACTIONS if ui.main.check_action(a, ()) is not None}
            assert offered == EXPECTED[role]
            ui.main.open_change_form("modify", ui.main.targets())  # even called directly
            await settle(pilot)
            assert isinstance(ui.screen, ChangeForm) == ("modify" in EXPECTED[role])
    finally:
        admin.close()
        other.close()
        drop_db(db)
