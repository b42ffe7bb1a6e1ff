"""Narrow terminals and a platform that stops answering (tui.md, Qualities; issue 19 item 8).

At 80, 100 and 120 columns the table keeps SDKAppID, name, status, headroom, month-to-date and
projected cost in view (the other columns give way, reachable by scrolling), and the summary line
stays on one line at 100 columns. When the control plane stops answering, the summary says since
when instead of dropping the drift figure, and an app it never acted on is "not done", not refused.
"""

from __future__ import annotations

import pytest

from imtui.services.control_plane_http import HttpControlPlane
from imtui.ui.screens.main import fit_summary
from imtui.ui.screens.results import ResultsScreen
from imtui.ui.widgets.app_table import COLUMNS, AppTable, layout_for
from tests.support.platform import Platform
from tests.support.ui import settle, summary

IN_VIEW = ("SDKAppID", "Name", "Status", "Headroom", "MTD $", "Projected $")


def screen_line(table: AppTable, y: int) -> str:
    return table.render_line(y).text


@pytest.mark.parametrize("width", [80, 100, 120])
async def test_costs_and_headroom_in_view_when_narrow(env, width):
    await env.demo(apps=20)
    app = env.make_app()
    async with app.run_test(size=(width, 30)) as pilot:
        await settle(pilot)
        table = app.main.query_one(AppTable)
        header = screen_line(table, 0)
        assert len(header) <= width
        for title in IN_VIEW:
            assert title in header, (title, header)
        row = app.main.model.row(0)
        line = screen_line(table, 1)
        assert str(row.app_id) in line and f"{row.projected:,.2f}" in line and f"{row.month_to_date:,.2f}" in line
        # the columns that gave way are there, further right
        hidden = [c.title for c in table.layout.columns if c.title.strip() and c.title not in header]
        assert width >= 142 or hidden
        table.scroll_to(x=table.virtual_size.width, animate=False, immediate=True)
        await settle(pilot)
        assert all(title in screen_line(table, 0) for title in hidden[-2:])


def test_layout_keeps_the_usual_order_of_what_is_in_view():
    """At 100 columns: ID, name, edition, status, headroom, costs; account and usage columns after."""
    keys = [c.key for c in layout_for(99).columns]
    assert keys[:8] == ["mark", "app_id", "name", "edition", "status", "headroom", "month_to_date", "projected"]
    assert set(keys[8:]) == {"account", "live_groups", "groups_per_user", "members_per_group"}
    assert layout_for(200).columns == layout_for(140).columns == COLUMNS  # wide: every column, as before


@pytest.mark.parametrize("width", [80, 100])
async def test_summary_on_one_line(env, width):
    """Even with a filter, a status filter and a sort in place."""
    await env.demo(apps=20)
    app = env.make_app()
    async with app.run_test(size=(width, 30)) as pilot:
        await settle(pilot)
        await pilot.press("s", "o")
        await settle(pilot)
        text = summary(app)
        assert "20 apps" in text and "marked" in text and "status active" in text and "sort" in text
        assert app.main.query_one("#summary").size.height == 1
        assert len(text) <= width - 2, text
        if width == 100:
            assert "edition" not in text  # at its default: said only when wide
    async with env.make_app().run_test(size=(180, 30)) as pilot:
        await settle(pilot)
        assert "edition any [e]" in summary(pilot.app)


def test_summary_wording_shortens_only_as_needed():
    parts = [
        "5 apps",
        ("2 marked (1 hidden by filter)", "2 marked (1 hidden)"),
        ("status any [s]", None),
        "sort id [o]",
    ]
    assert fit_summary(parts, 100) == "5 apps · 2 marked (1 hidden by filter) · status any [s] · sort id [o]"
    assert fit_summary(parts, 60) == "5 apps · 2 marked (1 hidden by filter) · sort id [o]"
    assert fit_summary(parts, 48) == "5 apps · 2 marked (1 hidden by filter) · sort id"
    assert fit_summary(parts, 40) == "5 apps · 2 marked (1 hidden) · sort id"


@pytest.fixture
def platform(tmp_path):
    """The platform simulator as a real process (stopped by the test)."""
    folder = tmp_path / "platform"
    folder.mkdir()
    p = Platform(folder).start()
    yield p
    p.kill()


async def _on_the_http_platform(env, platform):
    """The dashboard of a 12-app demo fleet on the platform over HTTP (one short attempt each)."""
    env.cp = HttpControlPlane(platform.url, platform.token, attempt_seconds=2, attempts=1)
    env.settings, env.services = env.open()
    await env.demo(apps=12)
    return env.make_app()


async def test_platform_unreachable_is_said_with_its_time(env, platform):
    """The drift figure is shown while the platform answers; once it stops, the summary says
    "platform unreachable since HH:MM" (the injected clock's local time); a halt then is "not
    done", nothing changed; when the platform answers again, the figure is back."""
    app = await _on_the_http_platform(env, platform)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert " drifted [D]" in summary(app)
        assert "unreachable" not in summary(app)

        platform.stop()
        env.clock.advance(minutes=7)  # 10:08 in the billing zone
        app.main.load_drift()
        await settle(pilot)
        text = summary(app)
        assert "platform unreachable since 10:08" in text, text
        assert app.main.query_one("#summary").size.height == 1

        env.clock.advance(minutes=5)  # still unreachable: the time it stopped stays
        app.main.load_drift()
        await settle(pilot)
        assert "platform unreachable since 10:08" in summary(app)

        # a halt of two apps the platform never acted on: "not done", not refused, nothing changed
        targets = [r.app_id for r in app.main.model.rows if r.status == "active"][:2]
        app.main.halt(targets, "drill")
        await settle(pilot)
        assert isinstance(app.screen, ResultsScreen)
        assert app.screen.title_text == "Halting: 0 done, 0 refused, 2 not done"
        rows = [[str(cell) for cell in row.values()] for row in app.screen.query_one("DataTable")._data.values()]
        assert sorted(int(r[0]) for r in rows) == sorted(targets)
        assert all(
            r[1] == "○ not done" and r[2].startswith("not done: the platform did not answer; nothing changed")
            for r in rows
        )
        snap = await env.services.fleet.snapshot(with_costs=False)
        assert all(r.status == "active" for r in snap.rows if r.app_id in targets)

        await pilot.press("escape")
        platform.start()  # the same port and store: it answers again
        app.main.load_drift()
        await settle(pilot)
        assert " drifted [D]" in summary(app) and "unreachable" not in summary(app)


async def test_an_operation_the_platform_did_not_answer_says_unreachable_at_once(env, platform):
    """No drift look is due: the halt that got no answer is enough for the summary to say so."""
    app = await _on_the_http_platform(env, platform)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert "unreachable" not in summary(app)
        platform.stop()
        env.clock.advance(minutes=3)  # 10:04 in the billing zone
        target = next(r.app_id for r in app.main.model.rows if r.status == "active")
        app.main.halt([target], "drill")
        await settle(pilot)
        assert "platform unreachable since 10:04" in summary(app)
