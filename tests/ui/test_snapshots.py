"""Screenshots of the main screens, compared with accepted SVGs in __snapshots__/.

Everything that varies is pinned: a FixedClock, demo seed 3, the conftest's terminal environment,
and the poll interval (tests never wait for it). Regenerate with `pytest tests/ui --snapshot-update`
and look at the changed SVGs before committing them.
"""

from __future__ import annotations

import asyncio

import pytest
from textual.widgets import DataTable, Input, Select

from imtui.ui.screens.change_form import ChangeForm
from imtui.ui.screens.detail import DetailScreen
from imtui.ui.screens.halt import HaltDialog
from imtui.ui.screens.results import ResultsScreen
from imtui.ui.screens.review import ReviewScreen
from tests.support.ui import settle, wait_for

SIZES = {"80x24": (80, 24), "160x50": (160, 50)}
THEMES = ("default", "no_color")


@pytest.fixture
def snap_compare(snap_compare):
    """pytest-textual-snapshot's, with every table painted afresh before the picture: a table
    sizes its columns when idle, and on a busy machine a picture could catch a row painted with
    the widths of the rows before it."""

    def compare(app, run_before=None, **kwargs):
        async def before(pilot):
            if run_before is not None:
                await run_before(pilot)
            await settle(pilot)
            for table in pilot.app.screen.query(DataTable):
                table._clear_caches()
                table.refresh(layout=True)
            await settle(pilot)

        return snap_compare(app, run_before=before, **kwargs)

    return compare


@pytest.fixture(params=THEMES)
def theme(request, monkeypatch):
    if request.param == "no_color":
        monkeypatch.setenv("NO_COLOR", "1")
    return request.param


@pytest.fixture(params=list(SIZES))
def size(request):
    return SIZES[request.param]


@pytest.fixture
def fleet(env):
    """A demo fleet (seed 3) plus known apps: 3 trial, 3 pro (one with history locked)."""

    async def fill():
        await env.demo(apps=40, seed=3)
        ids = {}
        for name in ("snap-trial-1", "snap-trial-2", "snap-trial-3"):
            ids[name] = await env.trial(name, "snapco")
        ids["snap-pro-1"] = await env.pro("snap-pro-1", "snapco")
        ids["snap-pro-2"] = await env.pro("snap-pro-2", "snapco")
        ids["snap-pro-3"] = await env.pro("snap-pro-3", "snapco", history_days=30)
        env.clock.advance(minutes=1)
        return ids

    return asyncio.run(fill())


def go(*keys, then=None):
    """A run_before: waits for the fleet to load, presses keys, runs `then(app)`, waits again."""

    async def run_before(pilot):
        await settle(pilot)
        assert pilot.app.main.model.rows, "the fleet did not load"
        if keys:
            await pilot.press(*keys)
            await settle(pilot)
        if then is not None:
            then(pilot.app)
            await settle(pilot)

    return run_before


def at_app(app_id):
    def put(app):
        app.main.focus_app(app_id)

    return put


def test_main_screen(snap_compare, env, fleet, size, theme):
    """The fleet table, summary line, cost panel and footer with the cursor on the first app."""
    assert snap_compare(env.make_app(), terminal_size=size, run_before=go())


def test_main_screen_at_100_columns_platform_unreachable(snap_compare, env, fleet):
    """At 100 columns: ID, name, edition, status, headroom and both costs in view, the summary on
    one line, saying since when the platform has not answered (set as the drift look sets it)."""

    def unreachable(app):
        app.main.unreachable_since = env.clock.now()
        app.main.show_summary()

    assert snap_compare(env.make_app(), terminal_size=(100, 30), run_before=go(then=unreachable))


def test_upgrade_form(snap_compare, env, fleet, size, theme):
    """The upgrade form for one trial app: edition, items, preview, warning, Confirm/Cancel."""

    async def run_before(pilot):
        await go(then=at_app(fleet["snap-trial-1"]))(pilot)
        await pilot.press("u")
        await settle(pilot)
        assert isinstance(pilot.app.screen, ChangeForm)

    assert snap_compare(env.make_app(), terminal_size=size, run_before=run_before)


def test_modify_form(snap_compare, env, fleet, size, theme):
    """The modify form for one pro app with its package items locked this month and history at 90."""

    async def run_before(pilot):
        await go(then=at_app(fleet["snap-pro-1"]))(pilot)
        await pilot.press("m")
        await settle(pilot)
        assert isinstance(pilot.app.screen, ChangeForm)
        pilot.app.screen.query_one("#history_days", Select).value = "90"
        await settle(pilot)

    assert snap_compare(env.make_app(), terminal_size=size, run_before=run_before)


def test_halt_one_app(snap_compare, env, fleet, size, theme):
    """The halt confirmation for one app, focused on Cancel, Halt disabled."""

    async def run_before(pilot):
        await go(then=at_app(fleet["snap-pro-1"]))(pilot)
        await pilot.press("h")
        await settle(pilot)
        assert isinstance(pilot.app.screen, HaltDialog)

    assert snap_compare(env.make_app(), terminal_size=size, run_before=run_before)


def test_halt_three_apps(snap_compare, env, fleet, size, theme):
    """The halt confirmation for 3 marked apps (1 hidden by the filter) with the count field."""

    async def run_before(pilot):
        await settle(pilot)
        await pilot.press("slash", *"snap-pro", "enter", "a", "slash")
        await settle(pilot)
        assert pilot.app.focused.id == "filter"
        pilot.app.main.query_one("#filter", Input).value = "snap-pro-1"
        await settle(pilot)
        await pilot.press("enter", "h")
        await settle(pilot)
        assert isinstance(pilot.app.screen, HaltDialog) and len(pilot.app.screen.targets) == 3

    assert snap_compare(env.make_app(), terminal_size=size, run_before=run_before)


def test_results_list(snap_compare, env, fleet, size, theme):
    """The result list after modifying 3 pro apps: 1 refused (history locked) listed first, 2 done."""

    async def run_before(pilot):
        await settle(pilot)
        await pilot.press("slash", *"snap-pro", "enter", "a", "m")
        await settle(pilot)
        pilot.app.screen.query_one("#history_days", Select).value = "90"
        await settle(pilot)
        await pilot.press("f2")
        await settle(pilot)
        assert isinstance(pilot.app.screen, ResultsScreen)

    assert snap_compare(env.make_app(), terminal_size=size, run_before=run_before)


def test_review_screen(snap_compare, env, fleet, size, theme):
    """Right-sizing suggestions of the whole demo fleet: raise what is near a limit, lower what
    is paid and unused, with each one's monthly price or saving and the lock date."""

    async def run_before(pilot):
        await settle(pilot)
        await pilot.press("R")
        await settle(pilot)
        review = pilot.app.screen
        assert isinstance(review, ReviewScreen) and review.rows
        table = review.query_one("DataTable")
        await wait_for(
            pilot,
            lambda: (
                table.row_count == len(review.rows)
                and table.virtual_size.height > len(review.rows)
                and not table._require_update_dimensions
            ),  # column widths worked out (on idle)
        )
        table.refresh()  # a header painted before the widths were known is painted again
        await settle(pilot)

    assert snap_compare(env.make_app(), terminal_size=size, run_before=run_before)


def test_detail_with_usage(snap_compare, env, fleet, size, theme):
    """One demo app's detail: its package, headroom, and the usage charts of the last 30 days
    (daily active users against the quota; limited items against their limits)."""

    async def run_before(pilot):
        await go(then=at_app(1400000001))(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(pilot.app.screen, DetailScreen)

    assert snap_compare(env.make_app(), terminal_size=size, run_before=run_before)


def _budgets(env):
    """An over budget for acme and a fleet budget that holds (set before the dashboard opens)."""

    async def put():
        await env.services.budgets.set("acme", "500")
        await env.services.budgets.set(None, "900000")
        env.clock.advance(minutes=1)

    asyncio.run(put())


@pytest.mark.parametrize("size", [SIZES["80x24"]], ids=["80x24"])
def test_accounts_screen(snap_compare, env, fleet, size, theme):
    """Every account and the fleet: apps, month to date, projected, last month, budget, used and
    the state as a word with a symbol."""
    _budgets(env)
    assert snap_compare(env.make_app(), terminal_size=size, run_before=go("A"))


@pytest.mark.parametrize("size", [SIZES["80x24"]], ids=["80x24"])
def test_signals_screen(snap_compare, env, fleet, size, theme):
    """The signals, most severe first, each with its severity as a word and a symbol, its subject,
    since when, and its one-key remedy."""
    _budgets(env)
    assert snap_compare(env.make_app(), terminal_size=size, run_before=go("exclamation_mark"))
