"""Fixtures for the async service layer: a FixedClock, a real SQLite database per test, the
simulated control plane (no latency) and the services built from them. With IMTUI_TEST_DB_URL
set the database is a fresh PostgreSQL database per test instead (see tests/support/dbs.py)."""

from __future__ import annotations

import pytest

from imtui.clock import FixedClock
from imtui.domain.calendar import parse_instant
from imtui.services.control_plane import SimulatedControlPlane
from tests.support.dbs import drop_db, migrated_db_url
from tests.support.services import open_test_services

TZ = "Asia/Shanghai"
ACTOR = "tester"


@pytest.fixture
def start_at() -> str:
    """The clock's starting instant (read in the billing zone); override by parametrizing."""
    return "2026-11-02T09:00:00"


@pytest.fixture
def clock(start_at: str) -> FixedClock:
    return FixedClock(parse_instant(start_at, TZ))


@pytest.fixture
def db_path(tmp_path):
    """A SQLite file, or a fresh PostgreSQL database when IMTUI_TEST_DB_URL is set."""
    url = migrated_db_url(tmp_path)
    yield url
    drop_db(url)


@pytest.fixture
def cp() -> SimulatedControlPlane:
    return SimulatedControlPlane(latency=0)


@pytest.fixture
def make_services(db_path, clock, cp):
    """Builds (more) services on the test's database; every one is closed at teardown.

    A second call simulates a second process on the same database file."""
    built = []

    def make(*, read_only: bool = False, clock_=None, cp_=None, actor: str = ACTOR):
        svc = open_test_services(db_path, clock_ or clock, cp_ or cp, actor=actor, read_only=read_only)
        built.append(svc)
        return svc

    yield make
    for svc in built:
        svc.close()


@pytest.fixture
def services(make_services):
    return make_services()
