"""A month's bill as FOCUS rows (FinOps Open Cost and Usage Specification; signals.md §5).

One row per bill line (app × item × setting), so an account's rows sum to its bill exactly. The
columns are FOCUS 1.2's mandatory ones, the conditional ones the FOCUS validator (`focus-validator`
1.0.0, FOCUS 1.0 rules) requires to be present, and imtui's own `x_` columns.

Decisions where FOCUS leaves a choice:
- `BillingAccountId` and `BillingAccountName` are the account's name: what imtui knows it by.
- Package lines are `Purchase`/`Recurring`, their days the `PricingQuantity` (`Days`); overage
  lines are `Usage`/`Usage-Based`, the started blocks the `PricingQuantity` (`10,000 DAU`) and
  the month's peak the `ConsumedQuantity` (`DAU`). Quantities carry a decimal point (`15.0`):
  FOCUS types them Decimal, and readers that guess a column's type from its text (pandas, and
  so the validator) would take `15` for an integer.
- Unit prices: a package line's is its monthly price over the days of the month (the bill's daily
  proration), to 10 decimals; its amount is that times the days rounded once to the cent, the
  bill's own rule, so unit price × quantity equals the cost up to that rounding. An overage
  line's is the block price, exactly. List and contracted prices are equal (no discounts) and
  `PricingCategory` is `Standard`.
- SKUs: `SkuId` is what is bought (`edition:pro`, `history_days:90`, `dau_overage`);
  `SkuPriceId` the price list's entry for it, which for a value-added setting depends on the
  edition (`pro/history_days:90`), else equals `SkuId`.
- Commitment discounts, regions, sub accounts, tags and charge classes do not apply: empty.

Rows are written as CSV text (quoted as the `csv` module quotes) joined from pieces made once per
file, account, app and kind of line, so a row costs a lookup and a concatenation.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from imtui.domain.billing import BillLine
from imtui.domain.calendar import UTC
from imtui.domain.editions import EDITION, GROUPS_PER_USER, HISTORY_DAYS, LIVE_GROUPS, MEMBERS_PER_GROUP
from imtui.domain.prices import PriceList
from imtui.domain.usage import DAU_OVERAGE, GROUPS_OVERAGE

PROVIDER = "Tencent Cloud"
SERVICE_NAME = "Instant Messaging"
SERVICE_CATEGORY = "Mobile"
RESOURCE_TYPE = "IM application"
PURCHASE, RECURRING = "Purchase", "Recurring"
USAGE, USAGE_BASED = "Usage", "Usage-Based"
UNIT_PRICE_PLACES = Decimal("1e-10")

# The columns in groups, in the order a row's pieces are joined (`FocusRows.lines`).
_ACCOUNT = ("BillingAccountId", "BillingAccountName")
_PERIOD = ("BillingCurrency", "BillingPeriodStart", "BillingPeriodEnd", "ChargePeriodStart", "ChargePeriodEnd")
_LINE = (
    "ChargeCategory",
    "ChargeFrequency",
    "ChargeDescription",
    "BilledCost",
    "ListCost",
    "ContractedCost",
    "EffectiveCost",
    "PricingQuantity",
    "PricingUnit",
    "ListUnitPrice",
    "ContractedUnitPrice",
    "ConsumedQuantity",
    "ConsumedUnit",
    "SkuId",
    "SkuPriceId",
)
_FIXED = {
    "PricingCategory": "Standard",
    "ChargeClass": "",
    "ProviderName": PROVIDER,
    "PublisherName": PROVIDER,
    "InvoiceIssuerName": PROVIDER,
    "ServiceName": SERVICE_NAME,
    "ServiceCategory": SERVICE_CATEGORY,
    "ResourceType": RESOURCE_TYPE,
    "CommitmentDiscountCategory": "",
    "CommitmentDiscountId": "",
    "CommitmentDiscountName": "",
    "CommitmentDiscountStatus": "",
    "CommitmentDiscountType": "",
    "RegionId": "",
    "RegionName": "",
    "SubAccountId": "",
    "SubAccountName": "",
    "Tags": "",
}
_APP = ("ResourceId", "ResourceName", "x_SDKAppID")
_OWN = ("x_Item", "x_Setting", "x_Days", "x_BillState")

COLUMNS: tuple[str, ...] = (*_ACCOUNT, *_PERIOD, *_LINE, *_FIXED, *_APP, *_OWN)
"""Every column of the export, in the order written."""

_OVERAGE_UNITS = {DAU_OVERAGE: "DAU", GROUPS_OVERAGE: "groups"}
_ITEM_PHRASE = {
    LIVE_GROUPS: "{} live groups",
    GROUPS_PER_USER: "{} groups per user",
    MEMBERS_PER_GROUP: "{} members per group",
}


def utc_text(instant: datetime) -> str:
    """An instant as FOCUS writes date/times: UTC, ISO 8601, `Z` (`2026-10-31T16:00:00Z`)."""
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _days(n: int) -> str:
    return f"{n} day" if n == 1 else f"{n} days"


def describe(line: BillLine, blocks: int = 0) -> str:
    """The line as one plain phrase: `flagship edition, 15 days`, `2000 members per group, 3 days`,
    `90 days of message history, the whole month`, `DAU overage, peak 23,456 (2 blocks)`."""
    unit = _OVERAGE_UNITS.get(line.item)
    if unit is not None:
        return f"{unit} overage, peak {int(line.setting):,} ({blocks} block{'' if blocks == 1 else 's'})"
    if line.item == EDITION:
        return f"{line.setting} edition, {_days(line.days)}"
    if line.item == HISTORY_DAYS:
        return f"{line.setting} days of message history, the whole month"
    phrase = _ITEM_PHRASE.get(line.item, line.item.replace("_", " ") + " {}")
    return f"{phrase.format(line.setting)}, {_days(line.days)}"


@dataclass(frozen=True)
class FocusBill:
    """What every row of one month's export shares."""

    month: str
    state: str
    """`open`, `draft` or `issued`."""
    currency: str
    start: datetime
    """00:00 on the 1st in the billing time zone (an aware instant)."""
    end: datetime
    """00:00 on the 1st of the next month."""
    days: int
    """Days in the month: a package line's unit price is its monthly price over them."""


def cell(text: str) -> str:
    """One CSV field as the `csv` module writes it by default (RFC 4180: quoted when it holds a
    comma, a quote or a line break, quotes doubled)."""
    if "," in text or '"' in text or "\n" in text or "\r" in text:
        return '"' + text.replace('"', '""') + '"'
    return text


def csv_line(fields: Iterable[str]) -> str:
    """Fields as one CSV line, without its line end."""
    return ",".join(map(cell, fields))


class FocusRows:
    """Turns a bill's lines into the lines of a FOCUS CSV file (`COLUMNS` order, `\\n` ends).

    Each row is the concatenation of four pieces of CSV text made once: the account's (with the
    period), the line's (with the columns every row shares), the app's and the line's own. Lines
    of apps alike are mostly the same objects, so most rows cost one dictionary lookup."""

    def __init__(self, bill: FocusBill, prices: PriceList):
        start, end = utc_text(bill.start), utc_text(bill.end)
        self._bill = bill
        self._period = csv_line((bill.currency, start, end, start, end))
        self._prices = prices
        self._fixed = csv_line(_FIXED.values())
        editions: dict[tuple[str, str, Decimal], set[str]] = {}
        for (edition, item, setting), price in prices.monthly.items():
            editions.setdefault((item, setting, price), set()).add(edition)
        self._editions = editions
        self._by_id: dict[int, tuple[BillLine, str, str]] = {}
        """id(line) → (the line, kept so its id is not reused; its FOCUS text; its own text)."""
        self._by_value: dict[tuple, tuple[BillLine, str, str]] = {}
        """The same by the line's fields: lines alike from different plans are made once."""

    def header(self) -> str:
        return csv_line(COLUMNS) + "\n"

    def lines(self, apps: Iterable[tuple[str, int, str, list[BillLine]]]) -> Iterator[str]:
        """The header, then the rows of (account, app ID, app name, lines), in the order given."""
        yield self.header()
        head = ""
        account_of = None
        by_id = self._by_id
        for account, app_id, name, lines in apps:
            if account != account_of:
                account_of = account
                head = f"{cell(account)},{cell(account)},{self._period},"
            app = f",{app_id},{cell(name)},{app_id},"
            for line in lines:
                known = by_id.get(id(line)) or self._line(line)
                yield f"{head}{known[1]}{app}{known[2]}"

    def _line(self, line: BillLine) -> tuple[BillLine, str, str]:
        if len(self._by_id) > 50_000:
            self._by_id.clear()
        key = (line.item, line.setting, line.unit_price, line.days, line.amount)
        known = self._by_value.get(key)
        if known is None:
            if len(self._by_value) > 50_000:
                self._by_value.clear()
            own = csv_line((line.item, line.setting, str(line.days), self._bill.state)) + "\n"
            known = self._by_value[key] = (line, f"{csv_line(self.line_fields(line))},{self._fixed}", own)
        self._by_id[id(line)] = (line, known[1], known[2])
        return known

    def line_fields(self, line: BillLine) -> tuple[str, ...]:
        """The `_LINE` columns of one line."""
        amount = f"{line.amount:.2f}"
        unit = _OVERAGE_UNITS.get(line.item)
        if unit is not None:
            overage = self._prices.dau if line.item == DAU_OVERAGE else self._prices.groups
            blocks = _blocks(line, overage.blocks(int(line.setting)))
            price = f"{line.unit_price:.2f}"
            return (
                USAGE,
                USAGE_BASED,
                describe(line, blocks),
                *(amount,) * 4,
                f"{blocks}.0",
                f"{overage.block:,} {unit}",
                price,
                price,
                f"{int(line.setting)}.0",
                unit,
                line.item,
                line.item,
            )
        daily = str((line.unit_price / self._bill.days).quantize(UNIT_PRICE_PLACES, ROUND_HALF_UP))
        sku = f"{line.item}:{line.setting}"
        return (
            PURCHASE,
            RECURRING,
            describe(line),
            *(amount,) * 4,
            f"{line.days}.0",
            "Days",
            daily,
            daily,
            "",
            "",
            sku,
            self._price_id(line, sku),
        )

    def _price_id(self, line: BillLine, sku: str) -> str:
        """The price list's entry of a package line: its edition's, for a value-added setting
        (the price list prices them per edition); the one edition that lists it at the line's
        price, else the SKU itself (an edition line, or a price list changed since)."""
        if line.item == EDITION:
            return sku
        editions = self._editions.get((line.item, line.setting, line.unit_price), ())
        return f"{next(iter(editions))}/{sku}" if len(editions) == 1 else sku


def _blocks(line: BillLine, counted: int) -> int:
    """An overage line's started blocks: its amount over its block price (what was billed, even
    under an older price list), or the blocks its peak counts under today's list."""
    if line.unit_price > 0:
        whole = line.amount / line.unit_price
        if whole == whole.to_integral_value():
            return int(whole)
    return counted
