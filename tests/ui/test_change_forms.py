"""Upgrade and modify forms: preview, confirmation, result list, locked items."""

from __future__ import annotations

from textual.widgets import DataTable, Select

from imtui.ui.screens.change_form import ChangeForm
from imtui.ui.screens.results import ResultsScreen
from imtui.ui.widgets.app_table import AppTable
from tests.support.ui import at, notices, settle, summary


def table_rows(table: DataTable) -> list[list[str]]:
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


async def test_filter_mark_all_bulk_modify_with_preview_and_results(env):
    """Filtering “bulk”, marking all and setting 90 days history previews 3 apps and lists 2 done, 1 refused."""
    a = await env.pro("bulk-a")
    b = await env.pro("bulk-b")
    locked = await env.pro("bulk-c", history_days=30)  # history changed this month: locked
    other = await env.pro("other-x")
    assert "history_days" in (await env.services.apps.show(locked)).unlock_dates
    env.clock.advance(minutes=5)
    app = env.make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"bulk", "enter")
        await settle(pilot)
        assert len(app.main.model.view) == 3
        await pilot.press("a")
        await settle(pilot)
        assert app.main.model.marked == {a, b, locked}
        assert "3 marked" in summary(app)
        await pilot.press("m")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, ChangeForm) and form.kind == "modify"
        assert "Modify feature configuration of 3 apps" in str(form.query_one(".dialog-title").render())
        form.query_one("#history_days", Select).value = "90"
        await settle(pilot)
        rows = {r[0]: r for r in table_rows(form.query_one("#preview", DataTable))}
        assert set(rows) == {str(a), str(b), str(locked)}
        assert "90" in rows[str(a)][3] and "→" in rows[str(a)][2]
        assert rows[str(locked)][3].startswith("✕")
        total = str(form.query_one("#preview-total").render())
        assert total.startswith("2 of 3 can change")
        assert "monthly +" in total
        assert "--history-days 90" in str(form.query_one("#command").render())

        await pilot.press("f2")
        await settle(pilot)
        results = app.screen
        assert isinstance(results, ResultsScreen)
        assert "2 done, 1 refused" in results.title_text
        listed = table_rows(results.query_one(DataTable))
        assert listed[0][:2] == [str(locked), "✕ refused"] and listed[0][2]
        assert {r[0]: r[1] for r in listed[1:]} == {str(a): "✓ done", str(b): "✓ done"}

        for app_id in (a, b):
            assert (await env.services.apps.show(app_id)).history_days == 90
        assert (await env.services.apps.show(locked)).history_days == 30
        assert (await env.services.apps.show(other)).history_days == 7
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is app.main
        shown = {r.app_id: r.history_days for r in app.main.model.rows}
        assert shown[a] == 90 and shown[locked] == 30


async def test_upgrade_trial_to_flagship_with_irreversibility_warning(env):
    """u on a trial app shows the irreversibility warning; flagship + F2 upgrades it."""
    trial = await env.trial("new-chat")
    app = env.make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert app.main.query_one(AppTable).cursor_app == trial
        await pilot.press("u")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, ChangeForm) and form.kind == "upgrade"
        warning = " ".join(str(w.render()) for w in form.query(".warning"))
        assert "Irreversible" in warning and "never return to trial" in warning
        edition = form.query_one("#edition", Select)
        assert edition.value == "pro"
        # the flagship's offered values only
        edition.value = "flagship"
        await settle(pilot)
        history = form.query_one("#history_days", Select)
        offered = [value for _, value in history._options]
        assert "7" not in offered and {"30", "90", "180", "360"} <= set(offered)
        rows = table_rows(form.query_one("#preview", DataTable))
        assert len(rows) == 1 and rows[0][0] == str(trial) and "flagship" in rows[0][3]
        assert "--edition flagship" in str(form.query_one("#command").render())
        await pilot.press("f2")
        await settle(pilot)
        assert app.screen is app.main
        assert (await env.services.apps.show(trial)).edition == "flagship"
        assert any(f"app {trial}: done" in n for n in notices(app))
        assert app.main.model.row(0).edition == "flagship"


async def test_cancelled_upgrade_changes_nothing(env):
    """escape in the upgrade form closes it and the app stays trial."""
    trial = await env.trial("undecided")
    app = env.make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("u")
        await settle(pilot)
        app.screen.query_one("#edition", Select).value = "flagship"
        await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is app.main
        assert (await env.services.apps.show(trial)).edition == "trial"


async def test_modified_item_shows_locked_with_its_unlock_date(env):
    """After a modify of history this month, the modify form shows history 🔒 locked until 2026-12-01."""
    env.clock.set(at("2026-10-05T10:00"))
    app_id = await env.pro("steady")
    env.clock.set(at("2026-11-20T10:00"))
    app = env.make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("m")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, ChangeForm)
        for item in ("live_groups", "groups_per_user", "members_per_group", "history_days"):
            assert str(form.query_one(f"#lock-{item}").render()) == ""
        form.query_one("#history_days", Select).value = "180"
        await settle(pilot)
        await pilot.press("f2")
        await settle(pilot)
        assert (await env.services.apps.show(app_id)).history_days == 180
        assert app.screen is app.main

        await pilot.press("m")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, ChangeForm)
        lock = str(form.query_one("#lock-history_days").render())
        assert "locked" in lock and "2026-12-01" in lock
        assert str(form.query_one("#lock-groups_per_user").render()) == ""
        # trying again is refused in the preview and by the service; nothing changes
        form.query_one("#history_days", Select).value = "360"
        await settle(pilot)
        assert str(form.query_one("#preview-total").render()).startswith("0 of 1 can change")
        await pilot.press("f2")
        await settle(pilot)
        assert isinstance(app.screen, ResultsScreen)
        assert "0 done, 1 refused" in app.screen.title_text
        assert (await env.services.apps.show(app_id)).history_days == 180
