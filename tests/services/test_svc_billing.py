"""Month close and bills: the worked example of domain.md §5, idempotent closes, 0.00 bills,
months that have none, the open month's live figures, issued bills that never change."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest

from imtui.domain.calendar import Month
from imtui.domain.changes import ChangeRequest
from imtui.domain.errors import NotFound, Refused
from imtui.services.models import LineView
from tests.support.services import at, count_audit, money, sql

D = Decimal
NOV, DEC, JAN = Month(2026, 11), Month(2026, 12), Month(2027, 1)


@pytest.fixture
async def example(services, clock):
    """domain.md §5: trial app created 2026-11-02, upgraded to pro with 2000 members
    on 2026-11-16 10:00 (UTC+8)."""
    app = await services.changes.create("chat-prod", "acme")
    clock.set(at("2026-11-16T10:00:00"))
    await services.changes.upgrade(app.app_id, ChangeRequest(edition="pro", members_per_group=2000))
    return app.app_id


def lines(bill):
    [account] = bill.accounts
    [app] = account.apps
    return app.lines


def assert_amount(value, text):
    assert isinstance(value, Decimal)
    assert value == D(text) and money(value) == text


async def test_worked_example_november(services, clock, example):
    clock.set(at("2026-12-03T00:00:05"))
    bill = await services.billing.bill(NOV)
    assert (bill.month, bill.currency, bill.state) == ("2026-11", "USD", "issued")
    assert bill.issued_at == at("2026-12-03T00:00:05")
    assert_amount(bill.total, "345.00")
    assert_amount(bill.projected_total, "345.00")
    [account] = bill.accounts
    assert account.account == "acme"
    assert_amount(account.total, "345.00")
    [app] = account.apps
    assert app.app_id == example
    assert_amount(app.total, "345.00")
    assert app.lines == [
        LineView("edition", "pro", 15, D("225.00")),
        LineView("members_per_group", "2000", 15, D("120.00")),
    ]
    assert [money(ln.amount) for ln in app.lines] == ["225.00", "120.00"]
    assert await count_audit(services, "close_month", "done") == 1


async def test_worked_example_december_unchanged(services, clock, example):
    clock.set(at("2027-01-03T00:00:00"))
    bill = await services.billing.bill(DEC)
    assert bill.state == "issued"
    assert_amount(bill.total, "689.98")
    assert lines(bill) == [
        LineView("edition", "pro", 31, D("449.99")),
        LineView("members_per_group", "2000", 31, D("239.99")),
    ]


async def test_worked_example_december_with_flagship_on_the_11th(services, clock, example):
    clock.set(at("2026-12-11T12:00:00"))
    result = await services.changes.modify(example, ChangeRequest(edition="flagship"))
    assert result.app.members_per_group == 2000 and result.app.history_days == 30
    clock.set(at("2027-01-03T00:00:00"))
    bill = await services.billing.bill(DEC)
    got = sorted((ln.item, ln.setting, ln.days, ln.amount) for ln in lines(bill))
    assert got == sorted(
        [
            ("edition", "pro", 10, D("145.16")),
            ("edition", "flagship", 21, D("609.67")),
            ("members_per_group", "2000", 11, D("85.16")),
        ]
    )
    assert_amount(bill.total, "839.99")


async def test_worked_example_january_deactivation(services, clock, example):
    clock.set(at("2027-01-10T09:00:00"))
    [res] = await services.lifecycle.halt([example], "customer left")
    assert res.ok
    assert res.app.purge_at == at("2027-04-10T09:00:00")
    clock.set(at("2027-02-03T00:00:00"))
    bill = await services.billing.bill(JAN)
    assert lines(bill) == [
        LineView("edition", "pro", 10, D("145.16")),
        LineView("members_per_group", "2000", 10, D("77.42")),
    ]
    assert_amount(bill.total, "222.58")
    # a month spent wholly deactivated costs nothing
    clock.set(at("2027-03-03T00:00:00"))
    feb = await services.billing.bill(Month(2027, 2))
    assert feb.state == "issued" and feb.accounts == []
    assert_amount(feb.total, "0.00")


async def test_closing_twice_issues_one_bill(services, make_services, db_path, clock, example):
    clock.set(at("2026-12-03T00:00:05"))
    first = await services.billing.bill(NOV)
    clock.advance(hours=3)
    second = await services.billing.bill(NOV)
    other = make_services()  # a second process on the same file
    third = await other.billing.bill(NOV)
    assert first == second == third
    assert third.issued_at == at("2026-12-03T00:00:05")
    assert sql(db_path, "select count(*) from bills where month = '2026-11'") == [(1,)]
    assert sql(db_path, "select count(*) from month_closes where month = '2026-11'") == [(1,)]
    assert await count_audit(services, "close_month") == 1
    assert await services.billing.months() == ["2026-11"]


async def test_two_processes_closing_at_the_same_moment_issue_one_bill(make_services, db_path, clock):
    first = make_services()
    for account in ("acme", "globex"):
        app = await first.changes.create(f"{account}-app", account)
        await first.changes.upgrade(app.app_id, ChangeRequest(edition="pro"))
    second = make_services()
    third = make_services()
    clock.set(at("2026-12-03T00:00:01"))
    bills = await asyncio.gather(
        first.billing.bill(NOV),
        second.billing.bill(NOV),
        third.billing.bill(NOV),
    )
    assert bills[0] == bills[1] == bills[2]
    assert bills[0].state == "issued"
    assert sql(db_path, "select account_id, count(*) from bills where month = '2026-11' group by account_id") == [
        (1, 1),
        (2, 1),
    ]
    assert await count_audit(first, "close_month") == 1
    # 449.99 × 29 / 30 for each account: upgraded on the 2nd, so 2nd..30th are billed
    for account in bills[0].accounts:
        assert_amount(account.total, "434.99")


async def test_accounts_with_nothing_to_bill_get_a_zero_bill(services, db_path, clock):
    await services.changes.create("free-chat", "freeloader")
    clock.set(at("2026-12-03T00:00:00"))
    bill = await services.billing.bill(NOV)
    assert bill.state == "issued"
    assert bill.accounts == []
    assert bill.total == D("0.00") and money(bill.total) == "0.00"
    assert bill.projected_total == D("0.00")
    rows = sql(
        db_path,
        "select a.name, b.total_cents from bills b join accounts a on a.id = b.account_id where b.month = '2026-11'",
    )
    assert rows == [("freeloader", 0)]


async def test_empty_database_still_has_a_zero_bill_for_a_finished_month(services, clock):
    clock.set(at("2026-12-15T00:00:00"))
    bill = await services.billing.bill(NOV)
    assert (bill.state, bill.accounts) == ("issued", [])
    assert_amount(bill.total, "0.00")


async def test_months_before_the_database_or_in_the_future_have_no_bill(services, clock, example):
    for month in (Month(2026, 10), Month(2025, 11), DEC, Month(2027, 6)):
        with pytest.raises(NotFound) as exc:
            await services.billing.bill(month)
        assert exc.value.exit_code == 4
    clock.set(at("2026-12-05T00:00:00"))
    with pytest.raises(NotFound):
        await services.billing.bill(Month(2026, 10))
    with pytest.raises(NotFound):
        await services.billing.bill(JAN)
    assert (await services.billing.bill(NOV)).state == "issued"
    assert (await services.billing.bill(DEC)).state == "open"


async def test_open_month_to_date_and_projected(services, clock, example):
    clock.set(at("2026-11-20T12:00:00"))
    bill = await services.billing.bill()
    assert (bill.month, bill.state, bill.issued_at) == ("2026-11", "open", None)
    # 16th..20th: 5 days; 449.99 × 5 / 30 = 74.998… and 239.99 × 5 / 30 = 39.998…
    assert lines(bill) == [
        LineView("edition", "pro", 5, D("75.00")),
        LineView("members_per_group", "2000", 5, D("40.00")),
    ]
    assert_amount(bill.total, "115.00")
    assert_amount(bill.projected_total, "345.00")
    [account] = bill.accounts
    assert_amount(account.total, "115.00")
    assert_amount(account.projected_total, "345.00")
    assert (await services.billing.bill(NOV)) == bill

    summary = await services.billing.cost_summary([example])
    assert summary.month == "2026-11"
    assert_amount(summary.month_to_date, "115.00")
    assert_amount(summary.projected, "345.00")
    assert summary.last_month is None
    fleet = await services.billing.cost_summary()
    assert_amount(fleet.month_to_date, "115.00") and fleet.apps == 1

    # the first day of December, unchanged: one day of each, projected a full month
    clock.set(at("2026-12-01T08:00:00"))
    dec = await services.billing.bill()
    assert dec.state == "open" and dec.month == "2026-12"
    assert_amount(dec.total, "22.26")  # 14.52 + 7.74
    assert_amount(dec.projected_total, "689.98")
    summary = await services.billing.cost_summary([example])
    assert_amount(summary.last_month, "345.00")


async def test_issued_bills_never_change(services, clock, example):
    clock.set(at("2026-12-03T00:00:05"))
    issued = await services.billing.bill(NOV)
    # later operations of every kind
    clock.set(at("2026-12-03T10:00:00"))
    await services.changes.modify(example, ChangeRequest(edition="flagship", members_per_group=6000))
    new = await services.changes.create("another", "acme")
    await services.changes.upgrade(new.app_id, ChangeRequest(edition="pro", live_unlimited=True))
    clock.advance(days=1)
    await services.lifecycle.halt([example, new.app_id], "pause")
    clock.advance(days=1)
    await services.lifecycle.reactivate([example])
    assert await services.billing.bill(NOV) == issued
    # a clock set back inside November sees the month as issued, and cannot change it
    clock.set(at("2026-11-20T12:00:00"))
    assert await services.billing.bill(NOV) == issued
    assert await services.billing.bill() == issued
    with pytest.raises(Refused):
        await services.changes.create("back-dated", "acme")
    with pytest.raises(Refused):
        await services.changes.modify(example, ChangeRequest(history_days=90))
    clock.set(at("2027-03-03T00:00:00"))
    assert await services.billing.bill(NOV) == issued


async def test_a_close_takes_effect_at_midnight_however_late_it_runs(services, clock, example):
    clock.set(at("2026-12-10T00:00:00"))
    bill = await services.billing.bill(NOV)  # carried out on the 10th
    assert bill.issued_at == at("2026-12-10T00:00:00")
    assert_amount(bill.total, "345.00")
    # the database's latest instant is the issue's (Dec 3 00:00), not the read's
    clock.set(at("2026-11-30T23:00:00"))
    with pytest.raises(Refused):
        await services.changes.create("back-dated", "acme")
    clock.set(at("2026-12-05T00:00:00"))
    assert (await services.changes.create("on-the-5th", "acme")).created_at == at("2026-12-05T00:00:00")
