"""Test 5: a stale edit (A loaded the app, B changed it since) is refused as a Conflict (exit 5)
naming who changed it; B's change stays; A reloads and retries successfully. Through the services
and through the dashboard's modify form."""

from __future__ import annotations

import pytest
from textual.widgets import DataTable, Select

from imtui.bootstrap import open_services
from imtui.clock import FixedClock
from imtui.config import Settings
from imtui.domain.calendar import parse_instant
from imtui.domain.changes import ChangeRequest
from imtui.domain.errors import Conflict
from tests.support.dbs import drop_db, fresh_db_url

TZ = "Asia/Shanghai"


def at(text: str):
    return parse_instant(text, TZ)


class Two:
    """alice (the creator: admin) and bob (granted operator) on one database and one clock."""

    def __init__(self, tmp_path):
        self.db = fresh_db_url(tmp_path)
        self.clock = FixedClock(at("2026-10-05T10:00"))
        self.keymap = tmp_path / "keymap.toml"
        self.settings = Settings(db=self.db, control_plane_latency=0, refresh_seconds=3600, keymap=self.keymap)
        self.alice = open_services(self.settings, self.clock, actor="alice")
        self.bob = open_services(self.settings, self.clock, actor="bob")

    def close(self):
        self.alice.close()
        self.bob.close()
        drop_db(self.db)


@pytest.fixture
async def two(tmp_path):
    t = Two(tmp_path)
    await t.alice.users.grant("bob", "operator")
    # a pro app from last month: nothing of it is locked this month
    app = await t.alice.changes.create("shared-chat", "acme")
    await t.alice.changes.upgrade(app.app_id, ChangeRequest(edition="pro"))
    t.app_id = app.app_id
    t.clock.set(at("2026-11-20T10:00"))
    try:
        yield t
    finally:
        t.close()


async def test_a_stale_modify_is_a_conflict_naming_who_changed_it(two):
    app_id = two.app_id
    loaded = await two.alice.apps.show(app_id)  # A opens the app

    two.clock.advance(minutes=1)
    b = await two.bob.changes.modify(app_id, ChangeRequest(members_per_group=2000), expected_version=None)
    assert b.app.members_per_group == 2000 and b.app.version == loaded.version + 1

    two.clock.advance(minutes=1)
    with pytest.raises(Conflict) as err:
        await two.alice.changes.modify(app_id, ChangeRequest(history_days=90), expected_version=loaded.version)
    assert err.value.exit_code == 5
    assert "bob" in err.value.message
    assert str(app_id) in err.value.message

    now = await two.alice.apps.show(app_id)
    assert now.members_per_group == 2000 and now.history_days == 7  # B's change kept, A's not applied
    assert now.version == b.app.version and now.updated_by == "bob"
    trail = await two.alice.audit.trail(app_id)
    assert (trail[0].actor, trail[0].action, trail[0].result) == ("alice", "modify", "refused")
    assert "bob" in trail[0].detail

    # A reloads and retries: it goes through, on top of B's change
    two.clock.advance(minutes=1)
    retried = await two.alice.changes.modify(app_id, ChangeRequest(history_days=90), expected_version=now.version)
    assert retried.app.history_days == 90 and retried.app.members_per_group == 2000
    assert retried.app.updated_by == "alice" and retried.app.version == now.version + 1


async def test_a_stale_upgrade_is_a_conflict_too(two):
    trial = await two.alice.changes.create("young-chat", "acme")
    two.clock.advance(minutes=1)
    await two.bob.changes.upgrade(trial.app_id, ChangeRequest(edition="pro"))
    two.clock.advance(minutes=1)
    with pytest.raises(Conflict) as err:
        await two.alice.changes.upgrade(trial.app_id, ChangeRequest(edition="flagship"), expected_version=trial.version)
    assert err.value.exit_code == 5 and "bob" in err.value.message
    assert (await two.alice.apps.show(trial.app_id)).edition == "pro"


async def test_the_dashboard_shows_the_conflict_when_the_app_changed_behind_the_form(two):
    from imtui.ui.app import ImtuiApp
    from imtui.ui.screens.change_form import ChangeForm
    from imtui.ui.screens.results import ResultsScreen
    from tests.support.ui import settle

    app_id = two.app_id
    ui = ImtuiApp(two.alice, two.settings, keymap_file=two.keymap)
    async with ui.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("m")
        await settle(pilot)
        form = ui.screen
        assert isinstance(form, ChangeForm) and form.kind == "modify"
        assert app_id in form.views
        form.query_one("#history_days", Select).value = "90"
        await settle(pilot)

        two.clock.advance(minutes=1)
        await two.bob.changes.modify(app_id, ChangeRequest(members_per_group=2000))
        two.clock.advance(minutes=1)

        await pilot.press("f2")
        await settle(pilot)
        results = ui.screen
        assert isinstance(results, ResultsScreen), type(results)
        assert "0 done, 1 refused" in results.title_text
        table = results.query_one(DataTable)
        row = [str(c) for c in table.get_row_at(0)]
        assert row[0] == str(app_id) and "refused" in row[1]
        assert "bob" in " ".join(row[2:])

    shown = await two.alice.apps.show(app_id)
    assert shown.members_per_group == 2000 and shown.history_days == 7 and shown.updated_by == "bob"
