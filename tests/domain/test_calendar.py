"""Calendar months and days in the billing time zone (domain.md §5)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from imtui.domain.calendar import (
    Month,
    day_bounds,
    iso_local,
    local_date,
    parse_instant,
    to_utc,
)
from imtui.domain.errors import InvalidInput

TZ = "Asia/Shanghai"
UTC = timezone.utc


@pytest.mark.parametrize(
    "month, days",
    [("2026-02", 28), ("2028-02", 29), ("2026-11", 30), ("2026-12", 31), ("2100-02", 28), ("2000-02", 29)],
)
def test_days_in_month(month, days):
    assert Month.parse(month).days == days
    assert len(day_bounds(Month.parse(month), TZ)) == days + 1


@pytest.mark.parametrize(
    "month, nxt, prev",
    [("2026-12", "2027-01", "2026-11"), ("2027-01", "2027-02", "2026-12"), ("2026-06", "2026-07", "2026-05")],
)
def test_next_and_previous_month(month, nxt, prev):
    m = Month.parse(month)
    assert m.next().key == nxt
    assert m.previous().key == prev
    assert str(m) == month


@pytest.mark.parametrize("text", ["2026-13", "2026-00", "2026-1", "26-11", "2026/11", "", "x"])
def test_bad_month_is_invalid_input(text):
    with pytest.raises(InvalidInput):
        Month.parse(text)


def test_month_bounds_are_midnight_in_billing_time_zone():
    """November 2026 starts at 2026-10-31 16:00 UTC and ends at 2026-11-30 16:00 UTC."""
    m = Month(2026, 11)
    assert m.start(TZ) == datetime(2026, 10, 31, 16, tzinfo=UTC)
    assert m.end(TZ) == datetime(2026, 11, 30, 16, tzinfo=UTC)


@pytest.mark.parametrize(
    "instant, month",
    [
        (datetime(2026, 11, 30, 15, 59, 59, tzinfo=UTC), "2026-11"),
        (datetime(2026, 11, 30, 16, 0, 0, tzinfo=UTC), "2026-12"),
        (datetime(2026, 12, 31, 16, 0, 0, tzinfo=UTC), "2027-01"),
    ],
)
def test_month_of_instant_in_billing_time_zone(instant, month):
    assert Month.of(instant, TZ).key == month


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2026-11-16 10:00", datetime(2026, 11, 16, 2, tzinfo=UTC)),
        ("2026-11-16T10:00:00", datetime(2026, 11, 16, 2, tzinfo=UTC)),
        ("2026-11-16T10:00:00+08:00", datetime(2026, 11, 16, 2, tzinfo=UTC)),
        ("2026-11-16T02:00:00Z", datetime(2026, 11, 16, 2, tzinfo=UTC)),
        ("2026-11-16T10:00:00-05:00", datetime(2026, 11, 16, 15, tzinfo=UTC)),
        ("2026-11-16", datetime(2026, 11, 15, 16, tzinfo=UTC)),
    ],
)
def test_parse_instant(text, expected):
    """Without an offset, an instant is read in the billing time zone; the result is UTC."""
    parsed = parse_instant(text, TZ)
    assert parsed == expected
    assert parsed.utcoffset() == timedelta(0)


@pytest.mark.parametrize("text", ["yesterday", "2026-13-01", "", "10:00 tomorrow"])
def test_parse_instant_refuses_garbage(text):
    with pytest.raises(InvalidInput):
        parse_instant(text, TZ)


@pytest.mark.parametrize(
    "text, index",
    [
        ("2026-11-01 00:00:00", 0),
        ("2026-11-01 23:59:59", 0),
        ("2026-11-02 00:00:00", 1),
        ("2026-11-30 23:59:59", 29),
    ],
)
def test_day_bounds_start_each_day_at_midnight_in_the_billing_time_zone(text, index):
    bounds = day_bounds(Month(2026, 11), TZ)
    assert bounds[index] <= parse_instant(text, TZ) < bounds[index + 1]


def test_local_date_and_iso_local():
    instant = datetime(2026, 11, 30, 16, tzinfo=UTC)
    assert local_date(instant, TZ) == "2026-12-01"
    assert iso_local(instant, TZ) == "2026-12-01T00:00:00+08:00"
    assert iso_local(None, TZ) is None


def test_to_utc_refuses_naive_and_keeps_microseconds():
    with pytest.raises(ValueError):
        to_utc(datetime(2026, 11, 1))
    aware = datetime(2026, 11, 1, 8, 0, 0, 123456, tzinfo=timezone(timedelta(hours=8)))
    assert to_utc(aware) == datetime(2026, 11, 1, 0, 0, 0, 123456, tzinfo=UTC)
