"""The Accounts (`A`) and Signals (`!`) screens, the signal count in the summary line, `purge_soon`
in the app detail, and a change form held against the budget (tui.md, signals.md §1, §6)."""

from __future__ import annotations

import io
from decimal import Decimal

from textual.widgets import DataTable, Static

from imtui.domain.calendar import Month
from imtui.domain.changes import ChangeRequest
from imtui.ui.screens.accounts import AccountsScreen, BudgetDialog
from imtui.ui.screens.change_form import ChangeForm
from imtui.ui.screens.detail import DetailScreen
from imtui.ui.screens.review import ReviewScreen
from imtui.ui.screens.signals import SignalsScreen
from tests.support.ui import notices, settle, summary


def _cells(table: DataTable) -> list[list[str]]:
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


async def test_accounts_show_the_bills_figures_and_the_budget_state(env):
    await env.demo(apps=40, seed=3)
    await env.services.budgets.set("acme", "500")
    app = env.make_app()
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        await pilot.press("A")
        await settle(pilot)
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


async def test_a_budget_set_from_the_accounts_screen_is_the_cli_budget(env):
    await env.demo(apps=40, seed=3)
    app = env.make_app()
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        await pilot.press("A")
        await settle(pilot)
        await pilot.press("down", "b")  # acme (accounts by name, after the fleet)
        await settle(pilot)
        assert isinstance(app.screen, BudgetDialog)
        await pilot.press(*"12000.50", "enter", *"90", "enter")
        await settle(pilot)
        assert isinstance(app.screen, AccountsScreen)
        [status] = await env.services.budgets.list()
        assert (status.account, status.amount, status.warn_at) == ("acme", Decimal("12000.50"), 90)
        entries = await env.services.audit.trail()
        assert any(e.action == "budget" and "acme" in e.detail for e in entries)
        acme = next(r for r in _cells(app.screen.query_one(DataTable)) if r[0] == "acme")
        assert acme[5] == "12,000.50"
        # an amount that is not one changes nothing and says why in one line
        await pilot.press("b")
        await settle(pilot)
        await pilot.press(*"lots", "enter", "enter")
        await settle(pilot)
        [status] = await env.services.budgets.list()
        assert status.amount == Decimal("12000.50")
        assert any(n.startswith("Budget not changed:") for n in notices(app))


async def test_a_viewer_cannot_set_a_budget_from_the_screen(env):
    await env.demo(apps=10, seed=3)
    app = env.make_app(read_only=True)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        await pilot.press("A")
        await settle(pilot)
        await pilot.press("b")
        await settle(pilot)
        assert isinstance(app.screen, AccountsScreen)  # no dialog: the key is disabled
        assert await env.services.budgets.list() == []


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


async def test_summary_counts_signals_critical_first_and_the_screen_lists_them(env):
    await env.demo(apps=40, seed=3)
    await env.services.budgets.set("acme", "500")
    signals = await env.services.signals.current()
    critical = sum(1 for s in signals if s.severity == "critical")
    assert critical >= 1
    app = env.make_app()
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        assert f"‼ {critical} critical of {len(signals)} signals" in summary(app)
        await pilot.press("exclamation_mark")
        await settle(pilot)
        assert isinstance(app.screen, SignalsScreen)
        rows = _cells(app.screen.query_one(DataTable))
        assert [(r[0], r[1]) for r in rows] == [
            ({"critical": "‼ critical", "warning": "! warning"}[s.severity], s.kind) for s in signals
        ]
        assert rows[0][1] == "budget_over" and rows[0][2] == "account acme"
        # the budget's remedy: the review of acme's lowering suggestions
        await pilot.press("f")
        await settle(pilot)
        assert isinstance(app.screen, ReviewScreen) and app.screen.lowering_only
        acme = {r.app_id for r in app.main.model.rows if r.account == "acme" and r.status == "active"}
        assert set(app.screen.app_ids) == acme
        assert all(s.monthly_delta < 0 for _, s in app.screen.rows)


async def test_purge_soon_shows_in_the_detail_and_its_remedy_reactivates(env):
    doomed = await env.trial("doomed")
    await env.services.lifecycle.halt([doomed], "drill")
    env.clock.advance(days=85)  # purged after 90 days: within the 7 days of purge_soon
    app = env.make_app()
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
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
        package = str(app.screen.query_one("#package", Static).render())
        assert "‼ purge soon: purged at 2027-02-18" in package and "r reactivates it" in package
        await pilot.press("escape", "exclamation_mark")
        await settle(pilot)
        await pilot.press("f")  # the remedy: reactivate
        await settle(pilot)
        assert (await env.services.apps.show(doomed)).status == "active"
        assert "no signals" in summary(app)


async def test_limit_reached_remedy_opens_the_modify_form_with_the_raise(env):
    app_id = await env.pro("busy", members_per_group=200)
    csv = (
        "date,app_id,dau,groups,live_groups,max_groups_per_user,max_members_per_group\n"
        f"2026-11-20,{app_id},10,5,0,1,200\n"
    )
    await env.services.usage.import_file(io.BytesIO(csv.encode()), "usage.csv")
    app = env.make_app()
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        await pilot.press("exclamation_mark")
        await settle(pilot)
        kinds = [r[1] for r in _cells(app.screen.query_one(DataTable))]
        await pilot.press(*["down"] * kinds.index("limit_reached"), "f")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, ChangeForm) and [t.app_id for t in form.targets] == [app_id]
        assert form.request == ChangeRequest(members_per_group=2000)


async def test_the_change_form_warns_when_the_projection_goes_over_the_budget(env):
    app_id = await env.trial("growing", account="acme")
    await env.services.budgets.set("acme", "100")
    app = env.make_app()
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot)
        app.main.open_change_form("upgrade", [app.main.model.row_of(app_id)], ChangeRequest(edition="flagship"))
        await settle(pilot)
        total = str(app.screen.query_one("#preview-total", Static).render())
        assert "‼ over: budget of acme 100.00: projected 0.00 → " in total
        assert "budget of the fleet" not in total  # no fleet budget: not mentioned
