"""The applications screen: marks, read-only runs, the cost panel, help and the keymap."""

from __future__ import annotations

from decimal import Decimal

from textual.widgets import DataTable
from textual.widgets._footer import FooterKey

from imtui.domain.calendar import Month
from imtui.ui.screens.halt import HaltDialog
from imtui.ui.screens.help import HelpScreen
from imtui.ui.widgets.app_table import AppTable
from imtui.ui.widgets.cost_panel import CostPanel
from tests.support.ui import at, notices, settle, summary


async def test_marks_survive_filtering_and_sorting(env):
    """Marked apps stay marked through filter, sort and marked-only; the summary counts hidden ones."""
    ids = [await env.trial(name) for name in ("red-1", "red-2", "blue-1", "blue-2")]
    app = env.make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("space", "down", "space")  # red-1 and blue-1 (space moves down)
        await settle(pilot)
        model = app.main.model
        assert model.marked == {ids[0], ids[2]}
        assert "2 marked" in summary(app) and "hidden" not in summary(app)

        await pilot.press("slash", *"red", "enter")
        await settle(pilot)
        assert model.marked == {ids[0], ids[2]}
        assert "2 marked (1 hidden" in summary(app)  # "by filter" too when it fits

        await pilot.press("o", "O")  # sort by name, then reversed
        await settle(pilot)
        assert model.sort_key == "name" and model.sort_reverse
        assert [model.row(i).name for i in range(len(model.view))] == ["red-2", "red-1"]
        assert model.marked == {ids[0], ids[2]}
        assert "2 marked (1 hidden" in summary(app)

        await pilot.press("escape")  # clears the filter
        await settle(pilot)
        assert "2 marked" in summary(app) and "hidden" not in summary(app)
        await pilot.press("asterisk")
        await settle(pilot)
        assert sorted(model.row(i).app_id for i in range(len(model.view))) == [ids[0], ids[2]]
        await pilot.press("asterisk", "n")
        await settle(pilot)
        assert model.marked == set() and len(model.view) == 4
        # the table shows the mark column
        table = app.main.query_one(AppTable)
        await pilot.press("home", "space")
        await settle(pilot)
        assert table.render_line(1).text.startswith("*")


async def test_summary_shows_the_quick_filter_keys(env):
    """The summary line reads “status any [s] · edition any [e] · sort app_id ▲ [o]” as written."""
    await env.trial("one")
    app = env.make_app()
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot)
        text = summary(app)
        assert "status any [s]" in text
        assert "edition any [e]" in text
        assert "[o]" in text


async def test_read_only_run_disables_changing_keys(env):
    """In a read-only run u, m and h open nothing, change nothing, and show dimmed in the footer."""
    trial = await env.trial("ro-trial")
    pro = await env.pro("ro-pro")
    app = env.make_app(read_only=True)
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot)
        main = app.main
        for action in ("upgrade", "modify", "halt", "reactivate", "undo_halt"):
            assert main.check_action(action, ()) is None
        assert main.check_action("filter", ()) is True
        assert "READ-ONLY" in summary(app)
        for key in ("u", "m", "h", "down", "u", "m", "h", "space", "h"):
            await pilot.press(key)
            await settle(pilot)
            assert app.screen is main, key
        assert (await env.services.apps.show(trial)).edition == "trial"
        view = await env.services.apps.show(pro)
        assert view.status == "active" and view.edition == "pro"
        footer = {k.action: k for k in main.query(FooterKey)}
        for action in ("upgrade", "modify", "halt"):
            assert footer[action].has_class("-disabled"), action
        assert not footer["filter"].has_class("-disabled")
        # a path that does not go through the keys (command palette) is refused with a notice
        main.start_halt([main.model.rows[0]])
        main.open_change_form("upgrade", [main.model.rows[0]])
        await settle(pilot)
        assert app.screen is main
        assert any("read-only" in n for n in notices(app))
        assert (await env.services.apps.show(trial)).status == "active"


async def test_cost_panel_follows_changes_days_and_month_close(env):
    """The panel's month-to-date grows after an upgrade and at midnight; after the month end it shows December and November's bill."""
    trial = await env.trial("meter")
    app = env.make_app()
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot)
        panel = app.main.query_one(CostPanel)
        figures = panel.figures
        assert figures.cursor_app == trial
        assert figures.cursor.month == "2026-11"
        assert figures.cursor.month_to_date == Decimal("0.00")

        await pilot.press("u")
        await settle(pilot)
        await pilot.press("f2")  # pro with its defaults
        await settle(pilot)
        assert (await env.services.apps.show(trial)).edition == "pro"
        after_upgrade = panel.figures.cursor.month_to_date
        assert after_upgrade > 0
        assert panel.figures.cursor.projected > after_upgrade
        assert panel.figures.fleet.month_to_date == after_upgrade
        assert "0 s ago" in str(panel.query_one("#cost-fresh").render())

        env.clock.set(at("2026-11-21T00:00:05"))
        await app.main.poll()
        await settle(pilot)
        assert panel.figures.cursor.month_to_date > after_upgrade
        assert panel.figures.cursor.month == "2026-11"

        env.clock.set(at("2026-12-01T00:00:30"))
        await app.main.poll()
        await settle(pilot)
        figures = panel.figures
        assert figures.cursor.month == "2026-12"
        draft = await env.services.billing.bill(Month(2026, 11), app_id=trial)
        assert draft.state == "draft"  # until 00:00 on the 3rd
        assert figures.cursor.last_month == draft.total
        assert figures.cursor.last_month > 0
        assert "Cost 2026-12" in _panel_text(panel)

        env.clock.set(at("2026-12-03T00:00:30"))
        await app.main.poll()
        await settle(pilot)
        issued = await env.services.billing.bill(Month(2026, 11), app_id=trial)
        assert issued.state == "issued" and issued.total == draft.total
        assert panel.figures.cursor.last_month == issued.total


def _panel_text(panel) -> str:
    import io

    from rich.console import Console

    console = Console(width=80, record=True, file=io.StringIO())
    console.print(panel.query_one("#cost-figures").content)
    return console.export_text()


async def test_help_lists_the_main_screens_binding_ids(env):
    """F1 lists every key of the applications screen with its binding id, e.g. main.halt."""
    await env.trial("one")
    app = env.make_app()
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot)
        await pilot.press("f1")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        table = app.screen.query_one(DataTable)
        ids = {str(table.get_row_at(i)[1]) for i in range(table.row_count)}
        assert {"main.halt", "main.upgrade", "main.modify", "main.filter", "main.mark_all", "main.undo_halt"} <= ids
        keys = {str(table.get_row_at(i)[1]): str(table.get_row_at(i)[0]) for i in range(table.row_count)}
        assert keys["main.halt"] == "h"
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is app.main


async def test_keymap_file_remaps_halt(env):
    """With `"main.halt" = "x"` in the keymap file, x opens the halt dialog and h does not."""
    await env.trial("one")
    env.keymap_file.write_text('"main.halt" = "x"\n', "utf-8")
    app = env.make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("h")
        await settle(pilot)
        assert app.screen is app.main
        await pilot.press("x")
        await settle(pilot)
        assert isinstance(app.screen, HaltDialog)
        await pilot.press("escape", "f1")
        await settle(pilot)
        table = app.screen.query_one(DataTable)
        keys = {str(table.get_row_at(i)[1]): str(table.get_row_at(i)[0]) for i in range(table.row_count)}
        assert keys["main.halt"] == "x"


async def test_keymap_refuses_unsafe_keys(env):
    """A keymap line putting halt on ctrl+s is refused with a warning; h still halts."""
    await env.trial("one")
    env.keymap_file.write_text('"main.halt" = "ctrl+s"\n', "utf-8")
    app = env.make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        warnings = [n for n in app._notifications if n.severity == "warning"]
        assert warnings and "ctrl+s" in warnings[0].message and "tmux" in warnings[0].message
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is app.main
        await pilot.press("h")
        await settle(pilot)
        assert isinstance(app.screen, HaltDialog)


async def test_no_color_starts_with_an_ansi_theme_and_plain_status(env, monkeypatch):
    """With NO_COLOR set the dashboard opens in an ANSI theme and status reads “+ active”."""
    monkeypatch.setenv("NO_COLOR", "1")
    app_id = await env.trial("mono")
    app = env.make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert app.is_running
        assert "ansi" in app.theme
        table = app.main.query_one(AppTable)
        assert table.plain
        row = table.render_line(1).text
        assert str(app_id) in row and "+ active" in row
