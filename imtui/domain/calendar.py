"""Calendar months and days in the billing time zone."""

from __future__ import annotations

import re
from bisect import bisect_right
from calendar import monthrange
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo

import pendulum

from imtui.domain.errors import InvalidInput

UTC = timezone.utc
_MONTH_RE = re.compile(r"^(\d{4})-(\d{2})$")


@dataclass(frozen=True, order=True, slots=True)
class Month:
    """One calendar month, e.g. `Month(2026, 11)`, written `2026-11`."""

    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> Month:
        match = _MONTH_RE.match(text.strip())
        if not match or not 1 <= int(match.group(2)) <= 12:
            raise InvalidInput(f"month {text!r} is not of the form YYYY-MM")
        return cls(int(match.group(1)), int(match.group(2)))

    @classmethod
    def of(cls, instant: datetime, tz: str) -> Month:
        """The month an instant falls in, in the billing time zone."""
        local = instant.astimezone(zone(tz))
        return cls(local.year, local.month)

    @property
    def key(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    def __str__(self) -> str:
        return self.key

    def next(self) -> Month:
        return Month(self.year + (self.month == 12), self.month % 12 + 1)

    def previous(self) -> Month:
        return Month(self.year - (self.month == 1), (self.month - 2) % 12 + 1)

    @property
    def days(self) -> int:
        return _days_in(self.year, self.month)

    def start(self, tz: str) -> datetime:
        """00:00 on the 1st in the billing time zone, as a UTC instant."""
        return day_bounds(self, tz)[0]

    def end(self, tz: str) -> datetime:
        """00:00 on the 1st of the next month, as a UTC instant (exclusive end)."""
        return day_bounds(self, tz)[-1]


@lru_cache(maxsize=1024)
def _days_in(year: int, month: int) -> int:
    return monthrange(year, month)[1]


@lru_cache(maxsize=64)
def zone(tz: str) -> ZoneInfo:
    """The billing time zone as a tzinfo (cached: looking a zone up is slow)."""
    return ZoneInfo(tz)


@lru_cache(maxsize=256)
def day_bounds(month: Month, tz: str) -> tuple[datetime, ...]:
    """The UTC instants at which each day of the month starts, plus the month's end."""
    first = pendulum.datetime(month.year, month.month, 1, tz=tz)
    bounds = [first.add(days=i) for i in range(month.days + 1)]
    return tuple(datetime.fromtimestamp(b.timestamp(), UTC) for b in bounds)


def day_index(month: Month, tz: str, instant: datetime) -> int:
    """0-based day of the month an instant falls on (clamped to the month)."""
    bounds = day_bounds(month, tz)
    return min(max(bisect_right(bounds, instant) - 1, 0), month.days - 1)


def local_date(instant: datetime, tz: str) -> str:
    """The calendar date of an instant in the billing time zone, `YYYY-MM-DD`."""
    return instant.astimezone(zone(tz)).date().isoformat()


def iso_local(instant: datetime | None, tz: str) -> str | None:
    """ISO 8601 with the billing time zone's offset, as the JSON contract shows instants."""
    if instant is None:
        return None
    return instant.astimezone(zone(tz)).isoformat()


def to_utc(instant: datetime) -> datetime:
    """The same instant as a plain `datetime` in UTC; refuses naive datetimes."""
    if instant.tzinfo is None:
        raise ValueError("naive datetime: every instant must carry its time zone")
    return datetime.fromtimestamp(instant.timestamp(), UTC).replace(microsecond=instant.microsecond)


def parse_instant(text: str, tz: str) -> datetime:
    """Parses ISO 8601; without an offset it is read in the billing time zone."""
    try:
        parsed = pendulum.parse(text.strip(), tz=tz, strict=False)
    except Exception:  # noqa: BLE001  (pendulum raises several kinds for malformed text)
        raise InvalidInput(f"{text!r} is not an ISO 8601 date or instant") from None
    if not isinstance(parsed, pendulum.DateTime):
        if isinstance(parsed, pendulum.Date):
            parsed = pendulum.datetime(parsed.year, parsed.month, parsed.day, tz=tz)
        else:
            raise InvalidInput(f"{text!r} is not an ISO 8601 date or instant")
    return to_utc(parsed)
