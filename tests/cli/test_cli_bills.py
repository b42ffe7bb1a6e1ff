"""`bills`: open and issued months, filters, formats and errors."""

from __future__ import annotations

import csv
import io

import pytest

from tests.support.cli import BILL_KEYS, FIRST, MONEY, assert_instant

A, B = str(FIRST), str(FIRST + 1)


@pytest.fixture
def two_accounts(cli):
    """acme: pro + 2000 members from 2026-11-16 10:00; globex: pro with history 30 from 2026-11-16 11:00."""
    cli.create("chat-prod", "acme", now="2026-11-02T09:00:00+08:00")
    cli.create("support", "globex")
    cli.create("free-one", "globex")  # stays trial: nothing to bill
    cli.run(
        "apps", "upgrade", A, "--edition", "pro", "--members-per-group", "2000", now="2026-11-16T10:00:00+08:00"
    ).ok()
    cli.run("apps", "upgrade", B, "--edition", "pro", "--history-days", "30", now="2026-11-16T11:00:00+08:00").ok()
    return cli


def bill(cli, *opts, now=None):
    return cli.run("bills", *opts, "--format", "json", now=now).ok().json


def test_open_month_by_default(two_accounts):
    b = bill(two_accounts, now="2026-11-20T12:00:00+08:00")
    assert list(b) == BILL_KEYS
    assert (b["month"], b["currency"], b["state"], b["issued_at"]) == ("2026-11", "USD", "open", None)
    acme, globex = b["accounts"]
    assert acme["account"] == "acme" and globex["account"] == "globex"
    # 5 days to date (16th to 20th, both included)
    assert acme["apps"][0]["lines"] == [
        {"item": "edition", "setting": "pro", "days": 5, "amount": "75.00"},
        {"item": "members_per_group", "setting": "2000", "days": 5, "amount": "40.00"},
    ]
    assert (acme["total"], acme["projected_total"]) == ("115.00", "345.00")
    # history retention counts in full from the first day it applies
    assert globex["apps"][0]["lines"] == [
        {"item": "edition", "setting": "pro", "days": 5, "amount": "75.00"},
        {"item": "history_days", "setting": "30", "days": 30, "amount": "99.99"},
    ]
    assert (globex["total"], globex["projected_total"]) == ("174.99", "324.99")
    assert [a["app_id"] for a in globex["apps"]] == [FIRST + 1]  # the trial app has nothing to bill
    assert (b["total"], b["projected_total"]) == ("289.99", "669.99")
    for x in [b, acme, globex]:
        assert MONEY.match(x["total"]) and MONEY.match(x["projected_total"])


def test_open_month_explicit_equals_default(two_accounts):
    a = bill(two_accounts, now="2026-11-20T12:00:00+08:00")
    b = bill(two_accounts, "--month", "2026-11", now="2026-11-20T12:00:01+08:00")
    assert a == b


def test_issued_month(two_accounts):
    draft = bill(two_accounts, "--month", "2026-11", now="2026-12-02T08:00:00+08:00")
    assert (draft["state"], draft["issued_at"]) == ("draft", None)  # until 00:00 on the 3rd
    assert draft["total"] == draft["projected_total"] == "669.99"
    b = bill(two_accounts, "--month", "2026-11", now="2026-12-03T08:00:00+08:00")
    assert b["state"] == "issued"
    assert_instant(b["issued_at"], "2026-12-03T08:00:0")  # records when the close was carried out
    assert b["total"] == b["projected_total"] == "669.99"
    for acc in b["accounts"]:
        assert acc["total"] == acc["projected_total"]
        for app in acc["apps"]:
            assert app["total"] == app["projected_total"]
    # issued once: never changes afterwards
    again = bill(two_accounts, "--month", "2026-11", now="2027-03-01T00:00:00+08:00")
    assert again == b


def test_issued_month_shown_even_to_an_earlier_clock(two_accounts):
    issued = bill(two_accounts, "--month", "2026-11", now="2026-12-03T00:00:05+08:00")
    earlier = bill(two_accounts, "--month", "2026-11", now="2026-11-25T00:00:00+08:00")
    assert earlier == issued
    assert earlier["state"] == "issued"


def test_finished_month_with_nothing_billed_is_zero(cli):
    cli.create("free", "acme", now="2026-11-02T09:00:00+08:00")
    b = bill(cli, "--month", "2026-11", now="2026-12-03T09:00:00+08:00")
    assert b == {
        "month": "2026-11",
        "currency": "USD",
        "state": "issued",
        "issued_at": b["issued_at"],
        "total": "0.00",
        "projected_total": "0.00",
        "accounts": [],
    }
    assert_instant(b["issued_at"], "2026-12-03T09:00:0")
    r = cli.run("bills", "--month", "2026-11", "--format", "csv").ok()
    assert r.out.splitlines() == ["month,account,app_id,item,setting,days,amount"]
    r = cli.run("bills", "--month", "2026-11").ok()
    assert "0.00" in r.out


def test_open_month_with_nothing_billed(cli):
    cli.create("free", "acme", now="2026-11-02T09:00:00+08:00")
    b = bill(cli)
    assert (b["state"], b["total"], b["projected_total"], b["accounts"]) == ("open", "0.00", "0.00", [])


def test_filters(two_accounts):
    b = bill(two_accounts, "--month", "2026-11", "--account", "acme", now="2026-12-03T00:00:05+08:00")
    assert [a["account"] for a in b["accounts"]] == ["acme"]
    assert b["total"] == "345.00"
    b = bill(two_accounts, "--month", "2026-11", "--app", B)
    assert [(a["account"], [x["app_id"] for x in a["apps"]]) for a in b["accounts"]] == [("globex", [FIRST + 1])]
    assert b["total"] == "324.99"
    b = bill(two_accounts, "--app", A)  # open month December
    assert b["state"] == "open" and b["month"] == "2026-12"
    assert b["accounts"][0]["apps"][0]["app_id"] == FIRST
    assert b["projected_total"] == "689.98"
    b = bill(two_accounts, "--month", "2026-11", "--account", "acme", "--app", B)
    assert (b["total"], b["accounts"]) == ("0.00", [])


def test_csv_one_row_per_line(two_accounts):
    r = two_accounts.run("bills", "--month", "2026-11", "--format", "csv", now="2026-12-03T00:00:05+08:00").ok()
    rows = list(csv.reader(io.StringIO(r.out)))
    assert rows[0] == ["month", "account", "app_id", "item", "setting", "days", "amount"]
    assert rows[1:] == [
        ["2026-11", "acme", A, "edition", "pro", "15", "225.00"],
        ["2026-11", "acme", A, "members_per_group", "2000", "15", "120.00"],
        ["2026-11", "globex", B, "edition", "pro", "15", "225.00"],
        ["2026-11", "globex", B, "history_days", "30", "30", "99.99"],
    ]


def test_table(two_accounts):
    r = two_accounts.run("bills", now="2026-11-20T12:00:00+08:00").ok()
    assert "2026-11" in r.out and "open" in r.out
    assert "289.99" in r.out and "669.99" in r.out
    r = two_accounts.run("bills", "--month", "2026-11", now="2026-12-03T00:00:05+08:00").ok()
    assert "issued" in r.out and "669.99" in r.out


def test_future_month_exits_4(two_accounts):
    r = two_accounts.run("bills", "--month", "2026-12", now="2026-11-20T12:00:00+08:00")
    assert r.rc == 4
    assert "2026-12" in r.one_line_error()
    assert r.out == ""


def test_month_before_creation_exits_4(two_accounts):
    r = two_accounts.run("bills", "--month", "2026-10", now="2026-11-20T12:00:00+08:00")
    assert r.rc == 4
    assert "2026-10" in r.one_line_error()
    r = two_accounts.run("bills", "--month", "2025-11", now="2027-01-20T12:00:00+08:00")
    assert r.rc == 4


@pytest.mark.parametrize("month", ["2026-13", "2026/11", "nov", "2026-1", "26-11", "2026-11-01", ""])
def test_malformed_month_exits_2(two_accounts, month):
    r = two_accounts.run("bills", "--month", month)
    assert r.rc == 2
    r.one_line_error()


def test_unknown_account_or_app_exits_4(two_accounts):
    r = two_accounts.run("bills", "--account", "acmee")
    assert r.rc == 4
    assert "acmee" in r.one_line_error()
    r = two_accounts.run("bills", "--app", "1400009999")
    assert r.rc == 4
    r.one_line_error()
    r = two_accounts.run("bills", "--month", "2026-11", "--account", "nobody", now="2026-12-03T00:00:05+08:00")
    assert r.rc == 4


def test_malformed_app_exits_2(two_accounts):
    r = two_accounts.run("bills", "--app", "42")
    assert r.rc == 2
    r.one_line_error()


def test_account_without_apps_has_a_zero_bill(cli):
    cli.create("a", "acme", now="2026-11-02T09:00:00+08:00")
    b = bill(cli, "--account", "acme")
    assert b["total"] == "0.00" and b["accounts"] == []
