"""`imtui budgets list|set|remove` (signals.md §1, cli.md) as scripts use them: one process per step
on one database at exact `--now` instants; JSON shapes, exit codes, the audit trail, and figures
equal to what `bills` says, to the cent."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.support.cli import FIRST, MONEY, run_exe, run_inprocess
from tests.support.dbs import clone_db, drop_db, migrated_db_url

BUDGET_KEYS = ["account", "amount", "warn_at", "month_to_date", "projected", "used_pct", "state"]
T0 = "2026-11-02T09:00:00+08:00"
T1 = "2026-11-10T12:00:00+08:00"


def step(db: str, now: str, *args: str, read_only: bool = False):
    """One process; the database in IMTUI_DB (a PostgreSQL URL's password stays out of the
    process list, which --db would warn about)."""
    return run_exe(["--now", now, *(["--read-only"] if read_only else []), *args], env={"IMTUI_DB": db})


def js(db: str, now: str, *args: str):
    return step(db, now, *args, "--format", "json").ok().json


@pytest.fixture
def fleet(db):
    """acme with a pro app since 2 November, beta with a trial app."""
    step(db, T0, "apps", "create", "chat", "--account", "acme").ok()
    step(db, T0, "apps", "create", "free", "--account", "beta").ok()
    step(db, T0, "apps", "upgrade", str(FIRST), "--edition", "pro").ok()
    return db


def test_set_list_and_remove_with_their_audit_trail(fleet):
    db = fleet
    assert js(db, T1, "budgets", "list") == []
    acme = js(db, T1, "budgets", "set", "acme", "50000", "--warn-at", "90")
    assert list(acme) == BUDGET_KEYS
    assert acme["account"] == "acme" and acme["amount"] == "50000.00" and acme["warn_at"] == 90
    assert all(MONEY.match(acme[k]) for k in ("amount", "month_to_date", "projected"))
    assert acme["state"] == "ok" and acme["used_pct"] == 0
    fleet_budget = js(db, T1, "budgets", "set", "--fleet", "0.01")
    assert (fleet_budget["account"], fleet_budget["amount"], fleet_budget["warn_at"]) == (None, "0.01", 80)
    assert fleet_budget["state"] == "over" and fleet_budget["used_pct"] > 100
    listed = js(db, T1, "budgets", "list")
    assert [b["account"] for b in listed] == [None, "acme"]  # the fleet's first, then by name
    assert listed[1] == acme
    # a change without --warn-at keeps the threshold
    changed = js(db, T1, "budgets", "set", "acme", "60000.5")
    assert (changed["amount"], changed["warn_at"]) == ("60000.50", 90)
    same = step(db, T1, "budgets", "set", "acme", "60000.50", "--warn-at", "90")
    assert same.rc == 0 and "nothing to change" in same.err
    removed = js(db, T1, "budgets", "remove", "acme")
    assert removed == {"account": "acme", "amount": "60000.50", "warn_at": 90, "removed": True}
    again = step(db, T1, "budgets", "remove", "acme", "--format", "json")
    assert again.rc == 0 and again.json["removed"] is False and "acme has no budget" in again.err
    assert js(db, T1, "budgets", "remove", "--fleet")["account"] is None
    assert js(db, T1, "budgets", "list") == []
    trail = [e for e in js(db, T1, "audit") if e["action"] == "budget"]
    assert [(e["result"], e["detail"]) for e in reversed(trail)] == [
        ("done", "acme: none → 50,000.00 (warn at 90 %)"),
        ("done", "the fleet: none → 0.01 (warn at 80 %)"),
        ("done", "acme: 50,000.00 (warn at 90 %) → 60,000.50 (warn at 90 %)"),
        ("done", "acme: 60,000.50 (warn at 90 %), unchanged"),
        ("done", "acme: 60,000.50 (warn at 90 %) → none"),
        ("done", "acme: none, unchanged"),
        ("done", "the fleet: 0.01 (warn at 80 %) → none"),
    ]
    assert all(e["at"] == T1 and e["app_id"] is None for e in trail)


@pytest.mark.parametrize(
    ("args", "code", "says"),
    [
        (("acme", "0"), 2, "more than 0.00"),
        (("acme", "1.001"), 2, "more than two decimals"),
        (("acme", "abc"), 2, "not an amount"),
        (("acme", "10", "--warn-at", "0"), 2, "from 1 to 100"),
        (("acme", "10", "--warn-at", "101"), 2, "from 1 to 100"),
        (("nobody", "10"), 4, "no account named 'nobody'"),
        (("acme",), 2, "ACCOUNT or --fleet, then AMOUNT"),
        (("--fleet", "acme", "10"), 2, "ACCOUNT or --fleet, then AMOUNT"),
    ],
)
def test_invalid_budgets_are_refused_and_audited(fleet, args, code, says):
    r = step(fleet, T1, "budgets", "set", *args)
    assert r.rc == code, r
    assert says in r.one_line_error()
    assert js(fleet, T1, "budgets", "list") == []
    refused = [e for e in js(fleet, T1, "audit") if e["action"] == "budget"]
    if code == 4 or "from 1 to 100" in says or "more than" in says:
        assert refused and refused[0]["result"] == "refused" and says in refused[0]["detail"]


def test_a_negative_amount_is_not_an_option_and_remove_needs_one_subject(fleet):
    assert step(fleet, T1, "budgets", "set", "acme", "-5").rc == 2
    r = step(fleet, T1, "budgets", "remove")
    assert r.rc == 2 and "ACCOUNT or --fleet" in r.one_line_error()
    r = step(fleet, T1, "budgets", "remove", "acme", "--fleet")
    assert r.rc == 2
    assert step(fleet, T1, "budgets", "remove", "nobody").rc == 4


def test_read_only_runs_and_back_dated_changes_are_refused(fleet):
    r = step(fleet, T1, "budgets", "set", "acme", "10", read_only=True)
    assert r.rc == 3 and "read-only" in r.one_line_error()
    step(fleet, T1, "budgets", "set", "acme", "10").ok()
    r = step(fleet, "2026-11-10T11:59:59+08:00", "budgets", "set", "acme", "20")
    assert r.rc == 3 and "cannot be back-dated" in r.one_line_error()
    assert js(fleet, T1, "budgets", "list")[0]["amount"] == "10.00"
    r = step(fleet, T1, "budgets", "list", "--format", "json", read_only=True).ok()
    assert r.json[0]["amount"] == "10.00"  # everyone may read


def test_table_and_csv(fleet):
    step(fleet, T1, "budgets", "set", "--fleet", "1000").ok()
    table = step(fleet, T1, "budgets", "list").ok().out
    assert table.splitlines()[0].split() == BUDGET_KEYS and "(fleet)" in table and "80 %" in table
    csv = step(fleet, T1, "budgets", "list", "--format", "csv").ok().out.splitlines()
    assert csv[0] == ",".join(BUDGET_KEYS) and csv[1].startswith(",1000.00,80,")
    step(fleet, T1, "budgets", "remove", "--fleet").ok()
    assert step(fleet, T1, "budgets", "list").ok().out.startswith("no budgets")


# --- figures equal to the bill's ----------------------------------------------------------------------

NOW = "2026-11-20T12:00:00+08:00"
"""The demo's instant: November open, with usage overage so far."""


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    url = migrated_db_url(tmp_path_factory.mktemp("budgets-demo"))
    run_inprocess("--db", url, "--now", NOW, "demo", "--apps", "150", "--accounts", "5").ok()
    yield url
    drop_db(url)


@pytest.fixture
def demo_copy(demo, tmp_path):
    url = clone_db(demo, tmp_path, "copy.db")
    yield url
    drop_db(url)


def test_budget_figures_are_the_bills_to_the_cent(demo_copy):
    db = demo_copy
    bill = js(db, NOW, "bills")
    assert bill["state"] == "open"
    billed = {a["account"]: (a["total"], a["projected_total"]) for a in bill["accounts"]}
    overage = [ln for a in bill["accounts"] for app in a["apps"] for ln in app["lines"] if "overage" in ln["item"]]
    assert overage, "the demo bills some usage overage: the figures must count it"
    accounts = sorted({a["account"] for a in js(db, NOW, "apps", "list")})
    for name in accounts:
        step(db, NOW, "budgets", "set", name, "100000").ok()
    step(db, NOW, "budgets", "set", "--fleet", "100000").ok()
    listed = js(db, NOW, "budgets", "list")
    assert listed[0]["account"] is None
    assert (listed[0]["month_to_date"], listed[0]["projected"]) == (bill["total"], bill["projected_total"])
    for b in listed[1:]:
        assert (b["month_to_date"], b["projected"]) == billed.get(b["account"], ("0.00", "0.00")), b["account"]
    # the state at the bill's figures exactly: at the budget is a warning, a cent under it over
    name, (mtd, _) = next(iter(billed.items()))
    at_budget = js(db, NOW, "budgets", "set", name, mtd, "--warn-at", "100")
    assert (at_budget["state"], at_budget["used_pct"]) == ("warning", 100)
    under = Decimal(mtd) - Decimal("0.01")
    over = js(db, NOW, "budgets", "set", name, str(under))
    assert over["state"] == "over"
    check = step(db, NOW, "check", "--account", name, "--format", "json")
    assert check.rc == 6  # a critical signal
    signals = check.json["signals"]
    assert [s["key"] for s in signals if s["kind"].startswith("budget")] == [f"budget_over:{name}:2026-11"]
