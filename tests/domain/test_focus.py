"""FOCUS rows of bill lines (signals.md §5): phrases, quantities, unit prices, SKUs, instants."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from imtui.domain.billing import BillLine
from imtui.domain.calendar import Month
from imtui.domain.focus import COLUMNS, FocusBill, FocusRows, cell, describe, utc_text
from imtui.domain.prices import load_price_list
from tests.support.billing import prorate

PRICES = load_price_list()
NOV = Month(2026, 11)
BILL = FocusBill("2026-11", "open", "USD", NOV.start("Asia/Shanghai"), NOV.end("Asia/Shanghai"), 30)


def parsed(apps) -> list[list[str]]:
    text = "".join(FocusRows(BILL, PRICES).lines(apps))
    header, *out = csv.reader(io.StringIO(text, newline=""))
    assert header == list(COLUMNS) and all(len(r) == len(COLUMNS) for r in out)
    return out


def rows(*lines: BillLine, account="acme", app_id=1400000001, name="chat-prod") -> list[dict[str, str]]:
    return [dict(zip(COLUMNS, r)) for r in parsed([(account, app_id, name, list(lines))])]


def test_instants_in_utc():
    assert utc_text(NOV.start("Asia/Shanghai")) == "2026-10-31T16:00:00Z"
    assert utc_text(datetime(2026, 11, 1, tzinfo=ZoneInfo("America/New_York"))) == "2026-11-01T04:00:00Z"


def test_phrases():
    p = Decimal("899.99")
    assert describe(BillLine("edition", "flagship", p, 15, Decimal("450.00"))) == "flagship edition, 15 days"
    assert describe(BillLine("edition", "pro", p, 1, Decimal("15.00"))) == "pro edition, 1 day"
    assert describe(BillLine("members_per_group", "2000", p, 3, p)) == "2000 members per group, 3 days"
    assert describe(BillLine("live_groups", "unlimited", p, 3, p)) == "unlimited live groups, 3 days"
    assert describe(BillLine("history_days", "90", p, 30, p)) == "90 days of message history, the whole month"
    assert describe(BillLine("dau_overage", "23456", p, 9, p), 2) == "DAU overage, peak 23,456 (2 blocks)"
    assert describe(BillLine("groups_overage", "100001", p, 9, p), 1) == "groups overage, peak 100,001 (1 block)"


def test_an_overage_line():
    (r,) = rows(BillLine("dau_overage", "23456", Decimal("449.99"), 12, Decimal("899.98")))
    assert (r["ChargeCategory"], r["ChargeFrequency"]) == ("Usage", "Usage-Based")
    assert (r["PricingQuantity"], r["PricingUnit"], r["ListUnitPrice"]) == ("2.0", "10,000 DAU", "449.99")
    assert (r["ConsumedQuantity"], r["ConsumedUnit"]) == ("23456.0", "DAU")
    assert r["BilledCost"] == r["ListCost"] == r["ContractedCost"] == r["EffectiveCost"] == "899.98"
    assert (r["SkuId"], r["SkuPriceId"]) == ("dau_overage", "dau_overage")
    assert (r["x_Item"], r["x_Setting"], r["x_Days"], r["x_BillState"]) == ("dau_overage", "23456", "12", "open")


def test_package_lines_unit_price_and_skus():
    price = Decimal("179.99")  # pro's 90 days of history; flagship lists it at 99.99
    days = 7
    amount = prorate(price, days, 30)
    (edition, history) = rows(
        BillLine("edition", "pro", Decimal("449.99"), days, prorate(Decimal("449.99"), days, 30)),
        BillLine("history_days", "90", price, days, amount),
    )
    assert (edition["ChargeCategory"], edition["ChargeFrequency"]) == ("Purchase", "Recurring")
    assert (edition["PricingQuantity"], edition["PricingUnit"]) == ("7.0", "Days")
    assert edition["ConsumedQuantity"] == edition["ConsumedUnit"] == ""
    assert (edition["SkuId"], edition["SkuPriceId"]) == ("edition:pro", "edition:pro")
    assert (history["SkuId"], history["SkuPriceId"]) == ("history_days:90", "pro/history_days:90")
    unit = Decimal(history["ListUnitPrice"])
    assert unit == (price / 30).quantize(Decimal("1e-10")) == Decimal(history["ContractedUnitPrice"])
    # the unit price times the days, rounded once to the cent as the bill rounds, is the amount
    assert (unit * days).quantize(Decimal("0.01"), ROUND_HALF_UP) == amount == Decimal(history["BilledCost"])


def test_accounts_and_apps_in_the_order_given():
    line = BillLine("edition", "pro", Decimal("449.99"), 2, Decimal("30.00"))
    out = parsed([("acme", 1, "a", [line, line]), ("globex", 2, "b", [line])])
    got = [(r[COLUMNS.index("BillingAccountId")], r[COLUMNS.index("ResourceId")]) for r in out]
    assert got == [("acme", "1"), ("acme", "1"), ("globex", "2")]
    assert {r[COLUMNS.index("ResourceName")] for r in out} == {"a", "b"}


def test_names_are_quoted_as_the_csv_module_quotes_them():
    hostile = 'a,b "c"\nd\re, \u00e9'
    for text in (hostile, "plain", "", "x" * 200, '"', ","):
        buf = io.StringIO()
        csv.writer(buf, lineterminator="").writerow(["", text])
        assert "," + cell(text) == buf.getvalue()
    line = BillLine("edition", "pro", Decimal("449.99"), 2, Decimal("30.00"))
    (r,) = rows(line, account=hostile, name=hostile)
    assert r["BillingAccountId"] == r["BillingAccountName"] == r["ResourceName"] == hostile
