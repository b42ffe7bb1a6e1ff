"""Team mode: on PostgreSQL the actor is the database user, "now" is the server's clock, and a
shared database that was not created for simulation refuses `--now`. Database errors become
one-line messages on both databases."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from imtui.bootstrap import open_services
from imtui.clock import FixedClock, ServerClock, SystemClock
from imtui.config import Settings
from imtui.domain.errors import Refused, Unavailable
from tests.support.dbs import ON_POSTGRES
from tests.support.services import at, trail

postgres_only = pytest.mark.skipif(
    not ON_POSTGRES, reason="team mode needs PostgreSQL (set IMTUI_TEST_DB_URL; scripts/test does)"
)
UTC = timezone.utc


def test_server_clock_reads_the_server_once_and_runs_on():
    calls = []
    server = datetime(2030, 1, 1, 12, tzinfo=UTC)

    def read():
        calls.append(1)
        return server

    clock = ServerClock(read)
    first = clock.now()
    second = clock.now()
    assert len(calls) == 1
    assert abs(first - server) < timedelta(seconds=1)
    assert second >= first  # runs on from the server's reading, never backwards


def test_server_clock_refuses_a_naive_time():
    with pytest.raises(ValueError):
        ServerClock(lambda: datetime(2030, 1, 1))


def test_an_unreachable_server_is_one_plain_line():
    url = "postgresql+psycopg://nobody:x@127.0.0.1:1/nothing"
    with pytest.raises(Unavailable) as err:
        open_services(Settings(db=url), SystemClock())
    message = err.value.message
    assert "\n" not in message
    assert message.startswith("cannot reach the database server")
    assert "refused" in message.lower()


@postgres_only
def test_the_actor_is_the_database_user_and_now_is_the_servers(db_path, make_services):
    from sqlalchemy.engine import make_url

    svc = open_services(Settings(db=db_path), SystemClock())
    try:
        assert svc.actor == make_url(db_path).username
        assert isinstance(svc.clock, ServerClock)
        assert abs(svc.now() - datetime.now(UTC)) < timedelta(minutes=5)
    finally:
        svc.close()


@postgres_only
async def test_now_is_refused_on_a_shared_database_not_created_for_simulation(db_path):
    real = open_services(Settings(db=db_path), SystemClock())
    try:
        app = await real.changes.create("chat", "acme")
        assert [r.actor for r in await trail(real)] == [real.actor]
    finally:
        real.close()
    with pytest.raises(Refused) as err:
        open_services(Settings(db=db_path), FixedClock(at("2030-01-01T00:00:00")))
    assert err.value.message == "this database runs on the real clock; --now is only for databases created with --now"
    again = open_services(Settings(db=db_path), SystemClock())  # the real clock is still fine
    try:
        assert (await again.apps.show(app.app_id)).name == "chat"
    finally:
        again.close()


@postgres_only
async def test_a_database_created_for_simulation_accepts_now(db_path):
    for _ in range(2):
        svc = open_services(Settings(db=db_path), FixedClock(at("2026-11-02T09:00:00")))
        try:
            assert svc.now() == at("2026-11-02T09:00:00")
        finally:
            svc.close()
