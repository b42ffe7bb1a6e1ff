"""Halting from the keyboard: the README's exact keys, refusals, undo, and service failures."""

from __future__ import annotations

from textual.widgets import Button, Input

from imtui.ui.screens.halt import HaltDialog
from imtui.ui.widgets.app_table import AppTable
from tests.support.ui import notices, settle


async def test_halt_by_id_from_cold_start_with_readme_keys(env):
    """Typing / ID ⏎ h shift+tab reason ⏎ ⏎ halts exactly that app; z brings it back."""
    await env.demo()
    target = await env.trial("pager-bot")
    other = await env.trial("pager-bot-2")
    app = env.make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("slash", *str(target), "enter")
        await settle(pilot)
        assert app.main.query_one(AppTable).cursor_app == target
        assert [r.app_id for r in (app.main.model.row(i) for i in range(len(app.main.model.view)))] == [target]
        await pilot.press("h")
        await settle(pilot)
        assert isinstance(app.screen, HaltDialog)
        assert app.focused.id == "cancel"
        await pilot.press("shift+tab")
        assert app.focused.id == "reason"
        await pilot.press(*"db leak", "enter")
        assert app.focused.id == "confirm"
        await pilot.press("enter")
        await settle(pilot)
        assert not isinstance(app.screen, HaltDialog)
        view = await env.services.apps.show(target)
        assert view.status == "deactivated"
        assert view.halt_reason == "db leak"
        assert (await env.services.apps.show(other)).status == "active"
        assert any("Press z to reactivate" in n for n in notices(app))
        row = app.main.model.row(app.main.model.find(target))
        assert row.status == "deactivated"

        await pilot.press("z")
        await settle(pilot)
        assert (await env.services.apps.show(target)).status == "active"
        assert app.main.check_action("undo_halt", ()) is None
    # ...


async def test_halt_enter_at_once_cancels_and_button_needs_reason(env):
    """h then ⏎ at once only closes the dialog (focus is on Cancel); Halt stays off without a reason."""
    target = await env.trial("only-app")
    app = env.make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("h")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, HaltDialog)
        assert app.focused.id == "cancel"
        await pilot.press("enter")
        await settle(pilot)
        assert not isinstance(app.screen, HaltDialog)
        assert (await env.services.apps.show(target)).status == "active"
        assert env.cp.calls == []

        await pilot.press("h")
        await settle(pilot)
        dialog = app.screen
        confirm = dialog.query_one("#confirm", Button)
        assert confirm.disabled
        assert not dialog.query("#count")  # one app: no count to type
        await pilot.press("shift+tab", "enter")  # empty reason: ⏎ does not reach the Halt button
        await settle(pilot)
        assert isinstance(app.screen, HaltDialog)
        assert confirm.disabled
        await pilot.press(*"   ", "enter")  # blanks are no reason
        assert confirm.disabled
        assert app.focused.id == "reason"
        await pilot.press("escape")
        await settle(pilot)
        assert not isinstance(app.screen, HaltDialog)
        assert (await env.services.apps.show(target)).status == "active"
        assert env.cp.calls == []


async def test_halt_of_several_needs_the_typed_count(env):
    """With 2 marked apps the Halt button stays off until the reason and “2” are typed."""
    a = await env.trial("svc-a")
    b = await env.trial("svc-b")
    c = await env.trial("svc-c")
    app = env.make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("space", "space")  # marks a and b, cursor moves down each time
        await settle(pilot)
        assert app.main.model.marked == {a, b}
        await pilot.press("h")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, HaltDialog)
        text = " ".join(str(s.render()) for s in dialog.query("#halt-targets Static"))
        assert str(a) in text and str(b) in text and str(c) not in text
        assert "HALT 2 APPS" in str(dialog.query_one(".dialog-title").render())
        confirm = dialog.query_one("#confirm", Button)
        assert app.focused.id == "cancel"
        dialog.query_one("#reason", Input).focus()
        await pilot.press(*"maintenance", "enter")
        assert app.focused.id == "count"
        assert confirm.disabled
        await pilot.press("3", "enter")
        await settle(pilot)
        assert confirm.disabled and isinstance(app.screen, HaltDialog)
        assert app.focused.id == "count"  # a wrong count goes nowhere
        await pilot.press("backspace", "2")
        await settle(pilot)
        assert not confirm.disabled
        dialog.query_one("#reason", Input).value = ""
        await settle(pilot)
        assert confirm.disabled  # the count alone is not enough
        await pilot.press("enter")
        assert isinstance(app.screen, HaltDialog)
        await pilot.press("escape")  # still nothing halted when cancelled
        await settle(pilot)
        for app_id in (a, b, c):
            assert (await env.services.apps.show(app_id)).status == "active"
        assert env.cp.calls == []


async def test_halt_dialog_warns_about_marked_apps_hidden_by_filter(env):
    """The halt dialog counts marked apps the filter hides and still lists all of them."""
    a = await env.trial("alpha-1")
    b = await env.trial("beta-1")
    app = env.make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("space", "space", "slash", *"alpha", "enter")
        await settle(pilot)
        await pilot.press("h")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, HaltDialog)
        assert [t.app_id for t in dialog.targets] == [a, b]
        assert "1 of these marked apps are hidden" in str(dialog.query_one("#halt-hidden").render())


async def test_undo_key_reactivates_what_was_just_halted(env):
    """After halting two marked apps, the result list shows both done and z reactivates both."""
    from imtui.ui.screens.results import ResultsScreen

    a = await env.trial("night-a")
    b = await env.trial("night-b")
    app = env.make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert app.main.check_action("undo_halt", ()) is None
        await pilot.press("space", "space", "h")
        await settle(pilot)
        app.screen.query_one("#reason", Input).focus()
        await pilot.press(*"cost", "enter", "2", "enter")
        await settle(pilot)
        assert app.focused.id == "confirm"
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ResultsScreen)
        assert "2 done, 0 refused" in app.screen.title_text
        for app_id in (a, b):
            view = await env.services.apps.show(app_id)
            assert (view.status, view.halt_reason) == ("deactivated", "cost")
        assert any("Press z to reactivate" in n for n in notices(app))
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is app.main
        assert app.main.check_action("undo_halt", ()) is True
        await pilot.press("z")
        await settle(pilot)
        for app_id in (a, b):
            assert (await env.services.apps.show(app_id)).status == "active"
        assert ("activate", a) in env.cp.calls and ("activate", b) in env.cp.calls
        assert app.main.check_action("undo_halt", ()) is None


async def test_control_plane_failure_shows_a_notice_and_changes_nothing(env):
    """When the control plane fails, a “Halting refused” notice appears and the app stays active."""
    target = await env.trial("flaky")
    env.cp.fail.add(target)
    app = env.make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("h", "shift+tab", *"test", "enter", "enter")
        await settle(pilot)
        assert app.is_running
        assert app.screen is app.main
        view = await env.services.apps.show(target)
        assert view.status == "active" and view.halt_reason is None
        errors = [n for n in app._notifications if n.severity == "error"]
        assert errors and "refused" in errors[0].title
        assert str(target) in errors[0].message
        assert app.main.check_action("undo_halt", ()) is None
        assert app.main.model.row(0).status == "active"
        assert not app.main.query_one("#progress").display


async def test_partial_failure_lists_the_refused_app(env):
    """Halting two apps where one fails: the result list shows one done and one refused with why."""
    from textual.widgets import DataTable

    from imtui.ui.screens.results import ResultsScreen

    good = await env.trial("good")
    bad = await env.trial("bad")
    env.cp.fail.add(bad)
    app = env.make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("a", "h")
        await settle(pilot)
        app.screen.query_one("#reason", Input).focus()
        await pilot.press(*"x", "enter", "2", "enter", "enter")
        await settle(pilot)
        assert isinstance(app.screen, ResultsScreen)
        table = app.screen.query_one(DataTable)
        rows = {table.get_row_at(i)[0]: table.get_row_at(i) for i in range(table.row_count)}
        assert rows[str(good)][1] == "✓ done"
        assert rows[str(bad)][1] == "✕ refused" and rows[str(bad)][2]
        assert (await env.services.apps.show(good)).status == "deactivated"
        assert (await env.services.apps.show(bad)).status == "active"


async def test_halt_of_several_shift_tab_reaches_the_reason_first(env):
    """For several apps too, shift+tab from Cancel lands on the reason, ⏎ then goes to the count."""
    await env.trial("svc-a")
    await env.trial("svc-b")
    app = env.make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("a", "h")
        await settle(pilot)
        assert app.focused.id == "cancel"
        await pilot.press("shift+tab")
        assert app.focused.id == "reason"
        await pilot.press(*"batch", "enter")
        assert app.focused.id == "count"
        await pilot.press("2", "enter")
        assert app.focused.id == "confirm"
