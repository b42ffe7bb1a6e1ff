"""`bills export`: a month's bill as FOCUS CSV (signals.md §5), checked with the FOCUS validator
(`focus-validator` 1.0.0, FOCUS 1.0; see tests/support/focus_check.py) and against `bills`."""

from __future__ import annotations

import csv
import io
from collections import Counter, defaultdict
from decimal import Decimal

import pytest

from imtui.domain.focus import COLUMNS
from tests.support.cli import Result, run_inprocess
from tests.support.dbs import clone_db, drop_db, migrated_db_url
from tests.support.focus_check import MISNAMED_CHECKS, corrected_rules, validate

NOW = "2026-11-20T12:00:00+08:00"
"""The demo's instant: November open (with overage so far), September and October issued."""
DRAFT_NOW = "2026-12-02T12:00:00+08:00"
"""November's draft (between its close's two steps)."""

SPEC_COLUMNS = (
    "BillingAccountId BillingAccountName BillingCurrency BillingPeriodStart BillingPeriodEnd "
    "ChargePeriodStart ChargePeriodEnd ChargeCategory ChargeFrequency ChargeClass ChargeDescription "
    "BilledCost ListCost ContractedCost EffectiveCost PricingQuantity PricingUnit ConsumedQuantity "
    "ConsumedUnit ProviderName PublisherName InvoiceIssuerName ServiceName ServiceCategory ResourceId "
    "ResourceName ResourceType x_SDKAppID x_Item x_Setting x_Days x_BillState"
).split()
"""The columns of signals.md §5's table."""


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """A demo fleet at NOW (built once for the module: tests that move the clock clone it)."""
    url = migrated_db_url(tmp_path_factory.mktemp("demo"))
    run_inprocess("--db", url, "--now", NOW, "demo", "--apps", "120", "--accounts", "4").ok()
    yield url
    drop_db(url)


@pytest.fixture
def later(demo, tmp_path):
    """The demo fleet, seen on 2 December (November drafted): a copy, since the draft is written."""
    url = clone_db(demo, tmp_path, "later.db")
    yield url
    drop_db(url)


def imtui(db: str, now: str, *args: str) -> Result:
    return run_inprocess("--db", db, "--now", now, *args)


def export(db: str, now: str, *args: str) -> list[dict[str, str]]:
    out = imtui(db, now, "bills", "export", *args).ok().out
    rows = list(csv.DictReader(io.StringIO(out)))
    assert out.splitlines()[0].split(",") == list(COLUMNS)
    return rows


def bill(db: str, now: str, *args: str) -> dict:
    return imtui(db, now, "bills", "--format", "json", *args).ok().json


CASES = [("open", NOW, "2026-11"), ("issued", NOW, "2026-10"), ("draft", DRAFT_NOW, "2026-11")]


@pytest.mark.parametrize(("state", "now", "month"), CASES)
def test_rows_are_the_bills_lines_and_sum_to_it_per_account(demo, later, state, now, month):
    db = later if state == "draft" else demo
    rows = export(db, now, "--month", month)
    b = bill(db, now, "--month", month)
    assert b["state"] == state
    # one row per line `bills` shows, with the same fields
    lines = Counter(
        (acc["account"], str(app["app_id"]), ln["item"], ln["setting"], str(ln["days"]), ln["amount"])
        for acc in b["accounts"]
        for app in acc["apps"]
        for ln in app["lines"]
    )
    assert (
        Counter(
            (r["BillingAccountId"], r["x_SDKAppID"], r["x_Item"], r["x_Setting"], r["x_Days"], r["BilledCost"])
            for r in rows
        )
        == lines
    )
    # per account, to the cent
    per_account: dict[str, Decimal] = defaultdict(Decimal)
    for r in rows:
        per_account[r["BillingAccountId"]] += Decimal(r["BilledCost"])
        assert r["BilledCost"] == r["ListCost"] == r["ContractedCost"] == r["EffectiveCost"]
    assert {a: f"{t:.2f}" for a, t in per_account.items()} == {a["account"]: a["total"] for a in b["accounts"]}
    assert f"{sum(per_account.values()):.2f}" == b["total"]
    assert {r["x_BillState"] for r in rows} == {state}
    assert {r["BillingCurrency"] for r in rows} == {"USD"}
    # the order `bills` prints: by account, then app
    assert [(r["BillingAccountId"], int(r["x_SDKAppID"])) for r in rows] == sorted(
        (r["BillingAccountId"], int(r["x_SDKAppID"])) for r in rows
    )


def test_periods_in_utc_and_the_spec_columns(demo):
    rows = export(demo, NOW)  # the open month by default
    assert set(SPEC_COLUMNS) <= set(COLUMNS)
    # 1 November 00:00 in Asia/Shanghai is 31 October 16:00 UTC
    assert {(r["BillingPeriodStart"], r["BillingPeriodEnd"]) for r in rows} == {
        ("2026-10-31T16:00:00Z", "2026-11-30T16:00:00Z")
    }
    assert all(
        (r["ChargePeriodStart"], r["ChargePeriodEnd"]) == (r["BillingPeriodStart"], r["BillingPeriodEnd"]) for r in rows
    )
    overage = [r for r in rows if r["x_Item"].endswith("_overage")]
    packages = [r for r in rows if not r["x_Item"].endswith("_overage")]
    assert overage and packages
    for r in overage:
        assert (r["ChargeCategory"], r["ChargeFrequency"]) == ("Usage", "Usage-Based")
        assert r["PricingUnit"] in ("10,000 DAU", "100,000 groups")
        assert Decimal(r["PricingQuantity"]) * Decimal(r["ListUnitPrice"]) == Decimal(r["BilledCost"])
        assert Decimal(r["ConsumedQuantity"]) == int(r["x_Setting"])
        assert r["ChargeDescription"].startswith(("DAU overage, peak ", "groups overage, peak "))
    for r in packages:
        assert (r["ChargeCategory"], r["ChargeFrequency"], r["PricingUnit"]) == ("Purchase", "Recurring", "Days")
        assert Decimal(r["PricingQuantity"]) == int(r["x_Days"])
        assert r["ConsumedQuantity"] == r["ConsumedUnit"] == ""
        # the unit price times the days is the amount before its one rounding to the cent
        exact = Decimal(r["ListUnitPrice"]) * int(r["x_Days"])
        assert abs(exact - Decimal(r["BilledCost"])) <= Decimal("0.005") + Decimal("1e-8")
    for r in rows:
        assert r["ProviderName"] == r["PublisherName"] == r["InvoiceIssuerName"] == "Tencent Cloud"
        assert (r["ServiceName"], r["ServiceCategory"], r["ResourceType"]) == (
            "Instant Messaging",
            "Mobile",
            "IM application",
        )
        assert r["ResourceId"] == r["x_SDKAppID"] and r["ResourceName"]
        assert r["ChargeClass"] == ""


@pytest.mark.parametrize(("state", "now", "month"), CASES)
def test_passes_the_focus_validator(demo, later, tmp_path, monkeypatch, state, now, month):
    db = later if state == "draft" else demo
    path = tmp_path / f"{month}.csv"
    imtui(db, now, "bills", "export", "--month", month, "--output", str(path)).ok()
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    assert rows and {r["x_BillState"] for r in rows} == {state}
    assert any(r["ChargeCategory"] == "Usage" for r in rows)  # overage lines are in it
    # the validator as published: only the checks its FOCUS 1.0 rules name by older names fail
    stock = validate(path, monkeypatch)
    assert {name for name, status in stock.items() if status != "passed"} == MISNAMED_CHECKS
    # with those names put right, every check passes
    fixed = validate(path, monkeypatch, corrected_rules(tmp_path / "rules"))
    assert len(fixed) == len(stock) > 100
    assert {name: status for name, status in fixed.items() if status != "passed"} == {}


def test_the_corrected_validator_still_refuses_a_bad_file(demo, tmp_path, monkeypatch):
    """The corrected rules have teeth: a Purchase row without its price ID, a frequency FOCUS does
    not know and a local time are each caught."""
    good = imtui(demo, NOW, "bills", "export").ok().out
    rows = list(csv.DictReader(io.StringIO(good)))
    rows[0]["SkuPriceId"] = ""
    rows[1]["ChargeFrequency"] = "Monthly"
    rows[2]["BillingPeriodStart"] = "2026-11-01T00:00:00+08:00"
    path = tmp_path / "bad.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    fixed = validate(path, monkeypatch, corrected_rules(tmp_path / "rules"))
    failed = {name for name, status in fixed.items() if status != "passed"}
    assert {"SkuPriceId_Nullable", "ChargeFrequency_Enum", "BillingPeriodStart_IsDateTime"} <= failed


def test_one_account_to_a_file(demo, tmp_path):
    everything = export(demo, NOW)
    accounts = sorted({r["BillingAccountId"] for r in everything})
    one = accounts[1]
    path = tmp_path / "out.csv"
    path.write_text("an older export, longer than this one will be\n" * 10_000)
    r = imtui(demo, NOW, "bills", "export", "--account", one, "--output", str(path)).ok()
    assert r.out == "" and r.err == ""
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    assert rows == [row for row in everything if row["BillingAccountId"] == one]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv"]  # replaced whole, nothing left behind


def test_errors_are_one_line(demo, tmp_path):
    r = imtui(demo, NOW, "bills", "export", "--account", "nobody")
    assert r.rc == 4 and "no account named 'nobody'" in r.one_line_error()
    kept = tmp_path / "kept.csv"
    kept.write_text("last month's export\n")
    r = imtui(demo, NOW, "bills", "export", "--account", "nobody", "--output", str(kept))
    assert r.rc == 4 and kept.read_text() == "last month's export\n"  # a failed export replaces nothing
    assert [p.name for p in tmp_path.iterdir()] == ["kept.csv"]
    r = imtui(demo, NOW, "bills", "export", "--month", "2027-01")
    assert r.rc == 4 and "has not started yet" in r.one_line_error()
    r = imtui(demo, NOW, "bills", "export", "--output", str(tmp_path / "missing" / "out.csv"))
    assert r.rc == 2 and "cannot write" in r.one_line_error()
    r = imtui(demo, NOW, "bills", "export", "--format", "json")
    assert r.rc == 2  # the shape is fixed
    assert not (tmp_path / "missing").exists()
