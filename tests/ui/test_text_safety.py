"""Text typed by people (filters, app names) is shown as written and never crashes the dashboard."""

from __future__ import annotations

from imtui.ui.screens.halt import HaltDialog
from tests.support.ui import settle, summary


async def test_filter_text_with_brackets_is_shown_verbatim(env):
    """Typing “[/” into the filter shows it in the summary as typed; the app keeps running."""
    await env.trial("plain")
    app = env.make_app()
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"[/", "enter")
        await settle(pilot)
        assert app.is_running
        assert "filter “[/”" in summary(app)
        assert len(app.main.model.view) == 0


async def test_app_name_with_brackets_in_halt_dialog(env):
    """An app named “ops[/]bot” is listed under that exact name in the halt dialog; nothing crashes."""
    app_id = await env.trial("ops[/]bot")
    await env.trial("[b]bold[/b]")
    app = env.make_app()
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot)
        await pilot.press("a", "h")
        await settle(pilot)
        assert app.is_running
        assert isinstance(app.screen, HaltDialog)
        text = " ".join(str(s.render()) for s in app.screen.query("#halt-targets Static"))
        assert f"{app_id}  ops[/]bot" in text
        assert "[b]bold[/b]" in text


async def test_app_name_with_brackets_in_detail(env):
    """The detail screen of an app named “ops[/]bot” opens and shows the name as written."""
    await env.trial("ops[/]bot")
    app = env.make_app()
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert app.is_running
        assert "ops[/]bot" in str(app.screen.query_one("#package").render())
