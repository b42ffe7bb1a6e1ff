"""Opening a database: the clock it runs on is settled at creation, on every backend; the zone a
new database stores is one bills can be computed in; instants and zones as parsed."""

from __future__ import annotations

import pytest

from imtui.clock import FixedClock, OffsetClock, SystemClock
from imtui.domain.calendar import check_zone, parse_instant
from imtui.domain.errors import InvalidInput, Refused, Unavailable
from imtui.persistence.database import Database
from imtui.services.opening import REAL_CLOCK_NOW_REFUSED, check_stored_zone, open_database
from tests.support.dbs import drop_db, fresh_db_url

TZ = "Asia/Shanghai"


@pytest.fixture
def database(tmp_path):
    url = fresh_db_url(tmp_path)
    db = Database(url)
    yield db
    db.close()
    drop_db(url)


def test_a_real_clock_database_refuses_any_other_clock(database):
    tz, clock = open_database(database, SystemClock(), TZ, simulation=False)
    assert tz == TZ
    with database.uow() as uow:
        latest, counter = uow.meta.latest, uow.meta.counter()
    for other in (FixedClock(parse_instant("2031-01-01", TZ)), OffsetClock(parse_instant("2031-01-01", TZ))):
        with pytest.raises(Refused) as refused:
            open_database(database, other, TZ, simulation=True)
        assert refused.value.message == REAL_CLOCK_NOW_REFUSED
    with database.uow() as uow:
        assert (uow.meta.latest, uow.meta.counter(), uow.meta.simulation) == (latest, counter, False)
    open_database(database, SystemClock(), TZ, simulation=False)  # the real clock still opens it


def test_a_simulation_database_takes_any_clock(database):
    open_database(database, FixedClock(parse_instant("2026-11-02T09:00", TZ)), TZ, simulation=True)
    open_database(database, FixedClock(parse_instant("2031-01-01", TZ)), TZ, simulation=True)
    with database.uow() as uow:
        assert uow.meta.simulation


def test_a_new_database_never_stores_an_unknown_zone(database):
    with pytest.raises(InvalidInput):
        open_database(database, SystemClock(), "Asia/Shangai", simulation=False)
    with database.uow() as uow:
        assert uow.meta.billing_tz is None


def test_a_stored_unknown_zone_names_the_repair():
    check_stored_zone("Asia/Shanghai")
    with pytest.raises(Unavailable) as bad:
        check_stored_zone("Europe/Berln")
    assert "UPDATE meta SET value = 'Europe/Berlin' WHERE key = 'billing_tz'" in bad.value.message


@pytest.mark.parametrize(
    "text",
    ["9999-12-31T20:00:00", "1969-12-31T23:59:59Z", "0001-01-01T00:00:00+00:00", "9999-01-01", "1900-06-01"],
)
def test_instants_outside_1970_to_9998_are_invalid(text):
    with pytest.raises(InvalidInput) as bad:
        parse_instant(text, TZ)
    assert "outside the years 1970-9998" in bad.value.message


@pytest.mark.parametrize("text", ["1970-01-01T00:00:00Z", "9998-12-31T23:59:59Z", "2026-11-02T09:00"])
def test_instants_inside_the_years_parse(text):
    assert 1970 <= parse_instant(text, TZ).year <= 9998


def test_zones():
    assert check_zone("UTC") == "UTC"
    with pytest.raises(InvalidInput) as bad:
        check_zone("Asia/Shangai")
    assert bad.value.message == 'unknown time zone "Asia/Shangai" (did you mean "Asia/Shanghai"?)'
    with pytest.raises(InvalidInput) as bad:
        check_zone("../../etc/passwd")
    assert bad.value.message == 'unknown time zone "../../etc/passwd"'
