"""Usage records, their import rules and the overage they cost (domain.md §6).

A usage record is one app's statistics for one calendar day of the billing time zone: five
non-negative integers. Overage: on pro and flagship, each started block above the included quota
of the month's peak daily active users and of the month's peak groups costs a block price, over
the days on which the app was pro or flagship at any moment; not prorated.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from imtui.domain.billing import BillLine
from imtui.domain.errors import NotFound, Refused
from imtui.domain.prices import Overage, PriceList

DAU, GROUPS, LIVE_GROUPS = "dau", "groups", "live_groups"
MAX_GROUPS_PER_USER, MAX_MEMBERS_PER_GROUP = "max_groups_per_user", "max_members_per_group"
FIELDS = (DAU, GROUPS, LIVE_GROUPS, MAX_GROUPS_PER_USER, MAX_MEMBERS_PER_GROUP)
"""A record's figures, in the order of the contract's CSV."""
COLUMNS = ("date", "app_id", *FIELDS)
"""The columns of a usage file (CSV header, JSON lines keys)."""
MOST = 1_000_000_000
"""The largest figure a record may hold."""

DAU_OVERAGE, GROUPS_OVERAGE = "dau_overage", "groups_overage"

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True, slots=True)
class Peaks:
    """A month's peaks over the days an app was pro or flagship, and how many such days have a
    record (what overage is computed from)."""

    dau: int
    groups: int
    days: int


class BadRow(Exception):
    """One bad row of a usage file: its exit code (2 malformed, 3 refused by a rule, 4 unknown
    app) and a sentence."""

    def __init__(self, code: int, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


def parse_count(field: str, text: object) -> int:
    """A figure: plain digits (JSON integers too), at most 1,000,000,000. Signs, decimals,
    exponents and thousands separators are refused (exit 2)."""
    if isinstance(text, bool) or not isinstance(text, int | str):
        raise BadRow(2, f"{field} must be a whole number of digits, not {text!r}")
    if isinstance(text, str):
        digits = text.strip()
        if not (digits.isascii() and digits.isdigit()):
            raise BadRow(2, f"{field} must be a whole number of digits, not {text!r}")
        value = int(digits)
    else:
        value = text
    if not 0 <= value <= MOST:
        raise BadRow(2, f"{field} must be from 0 to {MOST:,}, not {value}")
    return value


def parse_day(text: object) -> date:
    """A date written `YYYY-MM-DD` (the billing time zone's calendar day); other shapes are refused."""
    day = text.strip() if isinstance(text, str) else None
    if day is None or not _DATE.fullmatch(day):
        raise BadRow(2, f"date must be written YYYY-MM-DD, not {text!r}")
    try:
        return date.fromisoformat(day)
    except ValueError:
        raise BadRow(2, f"{day} is not a calendar date") from None


def parse_app_id(text: object) -> int:
    value = text.strip() if isinstance(text, str) else text
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise BadRow(2, f"app_id must be an SDKAppID, not {text!r}")
    value = str(value)
    if not (value.isascii() and value.isdigit() and len(value) == 10 and value[0] != "0"):
        raise BadRow(2, f"app_id must be an SDKAppID (10 digits), not {text!r}")
    return int(value)


@dataclass(frozen=True, slots=True)
class AppDays:
    """What the import rules need to know of one app's days."""

    created: date
    purged: date | None
    """The day of its purge instant, if purged."""
    halted: tuple[tuple[date, date | None], ...] = ()
    """Runs of days (first, last; None: still) on which it was deactivated the whole day."""

    def halted_on(self, day: date) -> bool:
        return halted_on(self.halted, day)


class ImportRules:
    """The rules of domain.md §6 for the rows of one import, made quick for a million rows: each
    app's days and each day's facts are worked out once.

    A row is refused when its app does not exist (exit 4); when its day is after today, before the
    app's creation day or after its purge day, when its month's bill is issued, or when it reports
    usage for a day the app was deactivated all day (3); when it is malformed (2)."""

    def __init__(self, apps: Mapping[int, AppDays], today: date, issued: dict[str, str]):
        self.apps = apps
        self.today = today
        self.issued = issued
        """Months (`YYYY-MM`) whose bills are issued, with the date they were."""

    def day(self, text: object) -> tuple[date, str, int, bool]:
        """A row's date: (date, its month `YYYY-MM`, its 0-based day of the month, whether its
        month still takes usage)."""
        day = parse_day(text)
        month = f"{day.year:04d}-{day.month:02d}"
        return day, month, day.day - 1, month not in self.issued

    def windows(self, created, purged):
        """The days apps may have records for, first and last, for many apps at once (NumPy
        arrays of day ordinals of their creation and purge days; `purged` 0: not purged). A
        record inside its app's window, in a month that takes usage, and with no usage on a day
        deactivated whole, is accepted."""
        import numpy as np  # loaded when needed

        today = self.today.toordinal()
        return created, np.where(purged > 0, np.minimum(purged, today), today)

    def check(self, app_id: int, day: date, month: str, values: tuple[int, ...] | list[int]) -> None:
        """Raises `BadRow`, with its exit code and why, when the rules refuse a record."""
        app = self.apps.get(app_id)
        if app is None:
            raise BadRow(NotFound.exit_code, f"app {app_id} does not exist")
        if day > self.today:
            raise BadRow(Refused.exit_code, f"{day} is after today ({self.today}); usage comes after the day")
        if day < app.created:
            raise BadRow(Refused.exit_code, f"app {app_id} was created on {app.created}, after {day}")
        if app.purged is not None and day > app.purged:
            raise BadRow(Refused.exit_code, f"app {app_id} was purged on {app.purged}, before {day}")
        if month in self.issued:
            raise BadRow(
                Refused.exit_code,
                f"the bill of {month} was issued on {self.issued[month]}; its usage can no longer change",
            )
        if app.halted and any(values) and app.halted_on(day):
            raise BadRow(
                Refused.exit_code,
                f"app {app_id} was deactivated all day on {day} and cannot have had users (is the app ID right?)",
            )


def halted_on(runs: tuple[tuple[date, date | None], ...], day: date) -> bool:
    """Whether a day falls in one of an app's runs of days deactivated whole."""
    return any(first <= day and (last is None or day <= last) for first, last in runs)


def overage_lines(peaks: Peaks | None, prices: PriceList) -> list[BillLine]:
    """The month's overage lines: one per quota exceeded, `setting` the peak as digits, `days` the
    counted days with a record, amount the started blocks × the block price."""
    if peaks is None:
        return []
    lines = []
    for item, peak, price in ((DAU_OVERAGE, peaks.dau, prices.dau), (GROUPS_OVERAGE, peaks.groups, prices.groups)):
        blocks = price.blocks(peak)
        if blocks:
            lines.append(BillLine(item, str(peak), price.price, peaks.days, blocks * price.price))
    return lines


def overage_cost(peaks: Peaks | None, prices: PriceList) -> int:
    """The overage of a month in cents (0 when nothing is above the quotas)."""
    if peaks is None:
        return 0
    return sum(_cents(price, peak) for price, peak in ((prices.dau, peaks.dau), (prices.groups, peaks.groups)))


def _cents(price: Overage, peak: int) -> int:
    return price.blocks(peak) * int(price.price * 100)
