"""The Accounts (`A`) and Signals (`!`) screens, the signal count in the summary line, `purge_soon`
in the app detail, and a change form held against the budget (tui.md, signals.md §1, §6)."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal

from textual.widgets import Button, DataTable, Input, Static

from imtui.bootstrap import open_services
from imtui.domain.calendar import Month
from imtui.domain.changes import ChangeRequest
from imtui.ui.screens.accounts import AccountsScreen, BudgetDialog
from imtui.ui.screens.change_form import ChangeForm
from imtui.ui.screens.detail import DetailScreen
from imtui.ui.screens.help import HelpScreen
from imtui.ui.screens.main_loading import SIGNALS_SECONDS
from imtui.ui.screens.reactivate import ReactivateDialog
from imtui.ui.screens.review import ReviewScreen
from imtui.ui.screens.signals import SignalsScreen
from tests.support.cli import run_exe
from tests.support.ui import notices, settle, summary, wait_for

READ_ONLY = ": this run is read-only (--read-only); nothing can be changed"


@asynccontextmanager
async def opened(env, key: str, size: tuple[int, int], **make) -> AsyncIterator[tuple]:
    """The dashboard loaded, `key` pressed once it is (the screen it opens shown): (app, pilot)."""
    app = env.make_app(**make)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        await pilot.press(key)
        await settle(pilot)
        yield app, pilot


def _cells(table: DataTable) -> list[list[str]]:
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


def _text(screen, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


async def test_accounts_show_the_bills_figures_and_the_budget_state(env):
    await env.demo(apps=40, seed=3)
    await env.services.budgets.set("acme", "500")
    async with opened(env, "A", (120, 30)) as (app, pilot):
        assert isinstance(app.screen, AccountsScreen)
        rows = {r[0]: r for r in _cells(app.screen.query_one(DataTable))}
        fleet = await env.services.billing.cost_summary()
        assert rows["(fleet)"][2:5] == [
            f"{fleet.month_to_date:,.2f}",
            f"{fleet.projected:,.2f}",
            f"{fleet.last_month:,.2f}",
        ]
        acme_bill = await env.services.billing.bill(account="acme")
        acme_last = await env.services.billing.bill(Month.parse("2026-10"), account="acme")
        assert rows["acme"][2] == f"{acme_bill.total:,.2f}"
        assert rows["acme"][4] == f"{acme_last.total:,.2f}"
        assert rows["acme"][5:] == ["500.00", f"{int(acme_bill.total / 5)}%", "‼ over"]  # word and symbol
        assert rows["globex"][5:] == ["-", "-", "-"]
        apps = await env.services.apps.list()
        assert rows["acme"][1] == str(sum(1 for a in apps if a.account == "acme" and a.status != "purged"))


async def test_accounts_sort_by_each_column_in_turn_the_fleet_first(env):
    await env.demo(apps=40, seed=3)
    async with opened(env, "A", (120, 30)) as (app, pilot):
        screen = app.screen
        by_name = [r[0] for r in _cells(screen.query_one(DataTable))]
        assert by_name[0] == "(fleet)" and by_name[1:] == sorted(by_name[1:])
        await pilot.press("o", "o")  # apps, then month to date
        await settle(pilot)
        rows = _cells(screen.query_one(DataTable))
        mtd = [Decimal(r[2].replace(",", "")) for r in rows[1:]]
        assert (
            rows[0][0] == "(fleet)"
            and mtd == sorted(mtd)
            and "sort month_to_date ▲" in _text(screen, "#accounts-summary")
        )
        await pilot.press("O")  # the other way
        await settle(pilot)
        rows = _cells(screen.query_one(DataTable))
        assert [Decimal(r[2].replace(",", "")) for r in rows[1:]] == sorted(mtd, reverse=True)


async def test_a_budget_set_from_the_accounts_screen_is_the_cli_budget(env):
    await env.demo(apps=40, seed=3)
    async with opened(env, "A", (120, 30)) as (app, pilot):
        await pilot.press("down", "b")  # acme (accounts by name, after the fleet)
        await settle(pilot)
        assert isinstance(app.screen, BudgetDialog)
        await pilot.press(*"12000.50", "enter", *"90")
        await settle(pilot)
        assert _text(app.screen, "#command") == "$ imtui budgets set --warn-at 90 acme 12000.50"  # the twin command
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, AccountsScreen)
        [status] = await env.services.budgets.list()
        assert (status.account, status.amount, status.warn_at) == ("acme", Decimal("12000.50"), 90)
        entries = await env.services.audit.trail()
        assert [e.detail for e in entries if e.action == "budget"] == ["acme: none → 12,000.50 (warn at 90 %)"]
        acme = next(r for r in _cells(app.screen.query_one(DataTable)) if r[0] == "acme")
        assert acme[5] == "12,000.50"
        # the amount shown is replaced by what is typed; the threshold kept
        await pilot.press("b")
        await settle(pilot)
        await pilot.press(*"800", "enter", "enter")
        await settle(pilot)
        [status] = await env.services.budgets.list()
        assert (status.amount, status.warn_at) == (Decimal("800.00"), 90)
        # an amount that is not one changes nothing and says why in one line
        await pilot.press("b")
        await settle(pilot)
        await pilot.press("ctrl+u", *"lots", "enter", "enter")
        await settle(pilot)
        [status] = await env.services.budgets.list()
        assert status.amount == Decimal("800.00")
        refused = [n for n in notices(app) if n.startswith("Budget not changed:")]
        assert len(refused) == 1 and "\n" not in refused[0]
        # escape cancels: nothing changes
        await pilot.press("b")
        await settle(pilot)
        await pilot.press("ctrl+u", *"1", "escape")
        await settle(pilot)
        assert isinstance(app.screen, AccountsScreen)
        assert [s.amount for s in await env.services.budgets.list()] == [Decimal("800.00")]
        # an empty amount removes the budget (as `imtui budgets remove acme`)
        await pilot.press("b")
        await settle(pilot)
        await pilot.press("ctrl+u")
        await settle(pilot)
        assert _text(app.screen, "#command") == "$ imtui budgets remove acme"
        await pilot.press("enter", "enter")
        await settle(pilot)
        assert await env.services.budgets.list() == []
        assert "removed the budget of acme" in " ".join(notices(app))
        acme = next(r for r in _cells(app.screen.query_one(DataTable)) if r[0] == "acme")
        assert acme[5:] == ["-", "-", "-"]


async def test_the_fleet_budget_is_set_from_its_row(env):
    await env.demo(apps=20, seed=3)
    app = env.make_app()
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        await pilot.press("A", "b")
        await settle(pilot)
        assert _text(app.screen, "#command") == "$ imtui budgets remove --fleet"
        await pilot.press(*"900000", "enter", "enter")
        await settle(pilot)
        [status] = await env.services.budgets.list()
        assert (status.account, status.amount, status.warn_at) == (None, Decimal("900000.00"), 80)
        fleet = _cells(app.screen.query_one(DataTable))[0]
        assert fleet[0] == "(fleet)" and fleet[5] == "900,000.00"


async def test_a_read_only_run_cannot_set_a_budget_and_says_why(env):
    await env.demo(apps=10, seed=3)
    async with opened(env, "A", (120, 30), read_only=True) as (app, pilot):
        assert "read-only: budgets cannot be set here" in _text(app.screen, "#accounts-summary")
        await pilot.press("b")
        await settle(pilot)
        assert isinstance(app.screen, AccountsScreen)  # no dialog: the key is disabled…
        assert [n for n in notices(app) if "read-only" in n] == [READ_ONLY]  # …and says why, once
        assert await env.services.budgets.list() == []


async def test_a_role_taken_away_while_the_dialog_is_open_is_refused_in_one_line(env):
    await env.demo(apps=10, seed=3)
    app = env.make_app()
    boss = open_services(env.settings, env.clock, env.cp, actor="boss")
    try:
        await env.services.users.grant("boss", "admin")
        async with app.run_test(size=(120, 30)) as pilot:
            await settle(pilot)
            await pilot.press("A", "down", "b")
            await settle(pilot)
            await boss.users.grant("tester", "viewer")  # meanwhile, an admin makes this user a viewer
            await pilot.press(*"100", "enter", "enter")
            await settle(pilot)
            assert isinstance(app.screen, AccountsScreen)  # still there: nothing crashed
            [refused] = [n for n in notices(app) if n.startswith("Budget not changed:")]
            assert "viewer" in refused and "\n" not in refused
            assert await env.services.budgets.list() == []
    finally:
        boss.close()


async def test_enter_on_an_account_shows_only_its_apps_and_escape_shows_all(env):
    await env.demo(apps=40, seed=3)
    app = env.make_app()
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        await pilot.press("A", "down", "down", "enter")  # the fleet, acme, globex
        await settle(pilot)
        model = app.main.model
        shown = {model.row(i).account for i in range(len(model.view))}
        assert shown == {"globex"} and "account globex" in summary(app)
        await pilot.press("escape")
        await settle(pilot)
        assert len(model.view) == len(model.rows)


async def test_the_help_lists_the_new_keys_with_what_they_do(env):
    await env.demo(apps=10, seed=3)
    async with opened(env, "f1", (160, 50)) as (app, pilot):
        keys = {r[1]: r for r in _cells(app.screen.query_one(DataTable))}
        assert keys["main.accounts"][0] == "A" and keys["main.signals"][0] == "!"
        await pilot.press("escape", "A", "f1")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        keys = {r[1]: r for r in _cells(app.screen.query_one(DataTable))}
        assert keys["accounts.budget"][0] == "b" and "an empty amount removes it" in keys["accounts.budget"][2]
        assert keys["accounts.sort"][0] == "o" and keys["accounts.show_apps"][0] == "⏎"
        await pilot.press("escape", "escape", "exclamation_mark", "f1")
        await settle(pilot)
        keys = {r[1]: r for r in _cells(app.screen.query_one(DataTable))}
        assert keys["signals.remedy"][0] == "f" and "purge_soon: reactivate" in keys["signals.remedy"][2]


async def test_summary_counts_signals_critical_first_and_the_screen_lists_what_check_reports(env):
    await env.demo(apps=40, seed=3)
    await env.services.budgets.set("acme", "500")
    env.clock.advance(minutes=1)
    checked = run_exe(
        ["--db", env.db, "--now", env.clock.now().isoformat(), "check", "--fail-on", "never", "--format", "json"]
    ).ok()
    reported = checked.json["signals"]
    critical = sum(1 for s in reported if s["severity"] == "critical")
    assert critical >= 1
    app = env.make_app()
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        assert f"‼ {critical} critical of {len(reported)} signals [!]" in summary(app)
        await pilot.press("exclamation_mark")
        await settle(pilot)
        assert isinstance(app.screen, SignalsScreen)
        assert [s.key for s in app.screen.signals] == [s["key"] for s in reported]
        rows = _cells(app.screen.query_one(DataTable))
        assert [(r[0], r[1], r[3]) for r in rows] == [
            (
                {"critical": "‼ critical", "warning": "! warning"}[s["severity"]],
                s["kind"],
                s["since"][:16].replace("T", " "),
            )
            for s in reported
        ]
        assert [r[5] for r in rows] == [s["text"] for s in reported]
        assert rows[0][1] == "budget_over" and rows[0][2] == "account acme"
        assert _text(app.screen, "#signals-sentence") == reported[0]["text"]
        # the budget's remedy: the review of acme's lowering suggestions
        await pilot.press("f")
        await settle(pilot)
        assert isinstance(app.screen, ReviewScreen) and app.screen.lowering_only
        acme = {r.app_id for r in app.main.model.rows if r.account == "acme" and r.status == "active"}
        assert set(app.screen.app_ids) == acme
        reviews = await env.services.review.review(app_ids=sorted(acme))
        saving = [(r.app_id, s) for r in reviews for s in r.review.suggestions if s.monthly_delta < 0]
        assert [(r.app_id, s) for r, s in app.screen.rows] == saving  # its savings only, no raise


async def test_enter_on_an_account_signal_shows_that_accounts_apps(env):
    await env.demo(apps=40, seed=3)
    await env.services.budgets.set("globex", "100")
    async with opened(env, "exclamation_mark", (160, 40)) as (app, pilot):
        subjects = [r[2] for r in _cells(app.screen.query_one(DataTable))]
        await pilot.press(*["down"] * subjects.index("account globex"), "enter")
        await settle(pilot)
        model = app.main.model
        assert app.screen is app.main and {model.row(i).account for i in range(len(model.view))} == {"globex"}
        assert "account globex [esc]" in summary(app)


async def test_purge_soon_shows_in_the_detail_and_its_remedy_asks_then_reactivates(env):
    doomed = await env.trial("doomed")
    await env.services.lifecycle.halt([doomed], "drill")
    env.clock.advance(days=85)  # purged after 90 days: within the 7 days of purge_soon
    app = env.make_app()
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        assert "‼ 1 critical of 1 signal [!]" in summary(app)
        await pilot.press("exclamation_mark")
        await settle(pilot)
        rows = _cells(app.screen.query_one(DataTable))
        assert rows[0][:3] == ["‼ critical", "purge_soon", f"app {doomed}"]
        await pilot.press("enter")  # goes to the app
        await settle(pilot)
        assert app.main.query_one("AppTable").cursor_app == doomed
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, DetailScreen)
        package = _text(app.screen, "#package")
        assert "‼ purge soon: purged at 2027-02-18 10:00 (in 5 days)" in package and "r reactivates it" in package
        await pilot.press("escape", "exclamation_mark")
        await settle(pilot)
        await pilot.press("f")  # the remedy: reactivate, asked first
        await settle(pilot)
        assert isinstance(app.screen, ReactivateDialog)
        assert _text(app.screen, "#command") == f"$ imtui apps reactivate {doomed}"
        assert app.focused is app.screen.query_one("#confirm", Button)
        await pilot.press("escape")  # cancelled: nothing changes
        await settle(pilot)
        assert app.screen is app.main
        assert (await env.services.apps.show(doomed)).status == "deactivated"
        await pilot.press("exclamation_mark", "f", "enter")
        await settle(pilot)
        assert (await env.services.apps.show(doomed)).status == "active"
        assert "no signals" in summary(app)


async def test_a_purge_soon_remedy_in_a_read_only_run_is_refused_in_one_line(env):
    doomed = await env.trial("doomed")
    await env.services.lifecycle.halt([doomed], "drill")
    env.clock.advance(days=85)
    app = env.make_app(read_only=True)
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        await pilot.press("exclamation_mark", "f")
        await settle(pilot)
        assert app.screen is app.main
        assert any("read-only" in n for n in notices(app))
        assert (await env.services.apps.show(doomed)).status == "deactivated"
        await pilot.press("enter")
        await settle(pilot)
        package = _text(app.screen, "#package")
        assert f"an operator can reactivate it (imtui apps reactivate {doomed})" in package


async def test_limit_reached_remedy_opens_the_modify_form_with_the_raise(env):
    app_id = await env.pro("busy", members_per_group=200)
    csv = (
        "date,app_id,dau,groups,live_groups,max_groups_per_user,max_members_per_group\n"
        f"2026-11-20,{app_id},10,5,0,1,200\n"
    )
    await env.services.usage.import_file(io.BytesIO(csv.encode()), "usage.csv")
    async with opened(env, "exclamation_mark", (160, 40)) as (app, pilot):
        kinds = [r[1] for r in _cells(app.screen.query_one(DataTable))]
        await pilot.press(*["down"] * kinds.index("limit_reached"), "f")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, ChangeForm) and [t.app_id for t in form.targets] == [app_id]
        assert form.request == ChangeRequest(members_per_group=2000)


async def test_the_change_form_warns_when_the_projection_goes_over_the_budget(env):
    app_id = await env.trial("growing", account="acme")
    await env.services.budgets.set("acme", "100")
    await env.services.budgets.set(None, "100000")
    app = env.make_app()
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot)
        app.main.open_change_form("upgrade", [app.main.model.row_of(app_id)], ChangeRequest(edition="flagship"))
        await settle(pilot)
        form = app.screen
        [preview] = await env.services.changes.preview("upgrade", [app_id], ChangeRequest(edition="flagship"))
        rise, month = preview.monthly_after - preview.monthly_before, preview.this_month_delta
        lines = _text(form, "#preview-total").splitlines()
        assert lines[1] == (
            f"‼ over budget: budget of acme 100.00: +{rise:,.2f} a month, projected this month 0.00 → {month:,.2f}"
        )
        assert lines[2].startswith(f"✓ within budget of the fleet 100,000.00: +{rise:,.2f} a month")
        # a change that keeps within the budget says so, without the warning
        await env.services.budgets.set("acme", "100000")
        form.dismiss(None)
        await settle(pilot)
        app.main.open_change_form("upgrade", [app.main.model.row_of(app_id)], ChangeRequest(edition="flagship"))
        await settle(pilot)
        total = _text(app.screen, "#preview-total")
        assert "‼" not in total and "✓ within budget of acme 100,000.00" in total


async def test_keys_do_not_wait_for_the_signal_count(env, monkeypatch):
    """At scale the count takes seconds: `A` typed meanwhile opens the accounts at once, and the
    summary line says the count is coming until it is in."""
    await env.demo(apps=20, seed=3)
    release = asyncio.Event()
    report = env.services.signals.report

    async def slow_report(*args, **kwargs):
        await release.wait()
        return await report(*args, **kwargs)

    monkeypatch.setattr(env.services.signals, "report", slow_report)
    app = env.make_app()
    async with app.run_test(size=(160, 40)) as pilot:
        await wait_for(pilot, lambda: app.main._counting)  # after the fleet's cost and headroom
        assert "counting signals… [!]" in summary(app)
        await pilot.press("A")
        await wait_for(pilot, lambda: isinstance(app.screen, AccountsScreen) and app.screen.rows)
        assert app.main.signal_counts is None  # the count is still under way
        release.set()
        await settle(pilot)
        assert app.main.signal_counts is not None
        assert "counting" not in summary(app)


async def test_the_signals_screen_shows_the_count_it_was_counted_from_and_g_counts_again(env, monkeypatch):
    await env.demo(apps=20, seed=3)
    calls = []
    report = env.services.signals.report

    async def counted_report(*args, **kwargs):
        calls.append(1)
        return await report(*args, **kwargs)

    monkeypatch.setattr(env.services.signals, "report", counted_report)
    app = env.make_app()
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        assert len(calls) == 1
        await pilot.press("exclamation_mark")
        await settle(pilot)
        assert len(calls) == 1 and app.screen.signals == app.main.signal_report.signals  # nothing read again
        await pilot.press("g")
        await settle(pilot)
        assert len(calls) == 2


async def test_signals_that_come_with_time_alone_are_counted_as_time_passes(env):
    """A halted app's purge comes within 7 days with no change anywhere: within
    `SIGNALS_SECONDS` the summary line counts it."""
    doomed = await env.trial("doomed")
    await env.services.lifecycle.halt([doomed], "drill")
    env.clock.advance(days=82, hours=23, minutes=59)  # a minute before purge_soon holds
    app = env.make_app()
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        assert "no signals" in summary(app)
        env.clock.advance(seconds=SIGNALS_SECONDS)
        await app.main.poll()
        await settle(pilot)
        assert "‼ 1 critical of 1 signal [!]" in summary(app)


async def test_a_viewers_disabled_key_says_why_and_filter_text_is_not_a_key(env):
    await env.demo(apps=10, seed=3)
    async with opened(env, "h", (160, 40), read_only=True) as (app, pilot):
        assert app.screen is app.main
        assert [n for n in notices(app) if "read-only" in n] == [READ_ONLY]
        app.clear_notifications()
        await pilot.press("slash", *"hum")  # letters of a filter are text, never refused keys
        await settle(pilot)
        assert notices(app) == [] and app.main.query_one("#filter", Input).value == "hum"
