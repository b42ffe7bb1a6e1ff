"""Calendar months and days in the billing time zone."""

from __future__ import annotations

import re
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


FIRST_YEAR, LAST_YEAR = 1970, 9998
"""The years an instant may fall in: months, days and purges around them stay computable."""


def parse_instant(text: str, tz: str) -> datetime:
    """Parses ISO 8601; without an offset it is read in the billing time zone. An instant outside
    the years 1970-9998 (as written or in UTC) is invalid input, like malformed text."""
    try:
        parsed = pendulum.parse(text.strip(), tz=tz, strict=False)
    except Exception:  # noqa: BLE001  (pendulum raises several kinds for malformed text)
        raise InvalidInput(f"{text!r} is not an ISO 8601 date or instant") from None
    if not isinstance(parsed, pendulum.DateTime):
        if isinstance(parsed, pendulum.Date):
            parsed = pendulum.datetime(parsed.year, parsed.month, parsed.day, tz=tz)
        else:
            raise InvalidInput(f"{text!r} is not an ISO 8601 date or instant")
    try:
        instant = to_utc(parsed)
    except (OverflowError, ValueError, OSError):
        instant = None
    if (
        instant is None
        or not FIRST_YEAR <= min(instant.year, parsed.year) <= max(instant.year, parsed.year) <= LAST_YEAR
    ):
        raise InvalidInput(f"{text!r} is outside the years {FIRST_YEAR}-{LAST_YEAR}")
    return instant


def check_zone(name: str) -> str:
    """The name of a time zone the zone database knows; InvalidInput (exit 2) naming it otherwise,
    with the closest known name when one is close."""
    if is_zone(name):
        return name
    close = closest_zone(name)
    hint = f' (did you mean "{close}"?)' if close else ""
    raise InvalidInput(f"unknown time zone {shown_zone(name)}{hint}")


def is_zone(name: str) -> bool:
    try:
        zone(name)
        pendulum.timezone(name)
    except Exception:  # noqa: BLE001  (unknown: ZoneInfoNotFoundError; malformed: ValueError, ...)
        return False
    return True


def closest_zone(name: str) -> str | None:
    """The known zone name closest to a misspelt one (`Asia/Shangai` → `Asia/Shanghai`), if any."""
    from difflib import get_close_matches
    from zoneinfo import available_timezones

    if len(name) > 64:
        return None
    close = get_close_matches(name, sorted(available_timezones()), n=1)
    return close[0] if close else None


def shown_zone(name: str) -> str:
    """A zone name as a message quotes it: in double quotes, control characters escaped, cut short."""
    text = "".join(c if c.isprintable() else repr(c)[1:-1] for c in name[:64])
    return f'"{text}{"…" if len(name) > 64 else ""}"'
