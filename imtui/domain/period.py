"""The billing period "now" falls in, built once from the clock and passed down (domain.md §5)."""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from datetime import date, datetime

from imtui.domain.calendar import Month, day_bounds, zone


@dataclass(frozen=True, slots=True)
class BillingPeriod:
    """A calendar month of the billing time zone seen from an instant `now`.

    `today` is the 0-based day of the month `now` falls on (clamped into the month when `now` lies
    outside it, so a past month's period has its last day as "today")."""

    now: datetime
    tz: str
    month: Month
    start: datetime
    """00:00 on the 1st, as a UTC instant."""
    end: datetime
    """00:00 on the 1st of the next month (exclusive)."""
    today: int
    days: int
    """Days in the month."""

    @classmethod
    def of(cls, now: datetime, tz: str) -> BillingPeriod:
        """The period of the month `now` falls in."""
        return cls.for_month(Month.of(now, tz), now, tz)

    @classmethod
    def for_month(cls, month: Month, now: datetime, tz: str) -> BillingPeriod:
        """Any month, seen from `now`."""
        bounds = day_bounds(month, tz)
        today = min(max(bisect_right(bounds, now) - 1, 0), month.days - 1)
        return cls(now, tz, month, bounds[0], bounds[-1], today, month.days)

    @property
    def bounds(self) -> tuple[datetime, ...]:
        """The instants each day starts at, plus the month's end."""
        return day_bounds(self.month, self.tz)

    @property
    def key(self) -> str:
        return self.month.key

    def date(self, day: int) -> date:
        """The calendar date of a 0-based day of the month."""
        return date(self.month.year, self.month.month, day + 1)

    @property
    def today_date(self) -> date:
        return self.now.astimezone(zone(self.tz)).date()

    def previous(self) -> BillingPeriod:
        return BillingPeriod.for_month(self.month.previous(), self.now, self.tz)
