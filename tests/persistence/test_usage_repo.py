"""Usage records stored packed by app and month: what is written reads back exactly, and the
peaks kept for billing are those of the domain's rule (trial days never count)."""

from __future__ import annotations

from array import array
from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from imtui.domain.calendar import Month
from imtui.domain.headroom import WindowPeaks
from imtui.domain.lifecycle import new_app
from imtui.persistence.database import Database
from imtui.persistence.repos.usage import MISSING, SLOTS, empty
from tests.support.dbs import drop_db, fresh_db_url
from tests.support.oracles import paid_peaks
from tests.support.services import at

APP = 1400000000
NOV = Month(2026, 11)


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    url = fresh_db_url(tmp_path_factory.mktemp("usage"))
    database = Database(url)
    database.migrate()
    with database.uow(write=True) as uow:
        account = uow.accounts.ensure("acme", at("2026-10-01T00:00"))
        uow.apps.add(new_app(APP, "chat", "acme", at("2026-10-01T00:00"), "ops"), account)
        uow.commit()
    yield database
    database.close()
    drop_db(url)


def _month(records: dict[int, tuple[int, ...]]) -> array:
    days = empty()
    for day, values in records.items():
        for f, value in enumerate(values):
            days[f * SLOTS + day] = value
    return days


records = st.dictionaries(st.integers(0, 29), st.tuples(*[st.integers(0, 1_000_000_000)] * 5), max_size=30)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(records=records, paid_from=st.one_of(st.none(), st.integers(1, 30)))
def test_peaks_kept_for_billing_follow_the_domain_rule(db, records, paid_from):
    paid_day = None if paid_from is None else date(2026, 11, paid_from)
    with db.uow(write=True) as uow:
        uow.usage.store({(APP, NOV.key): _month(records)}, {APP: paid_day})
        got = uow.usage.month_peaks(NOV).get(APP)
        back = uow.usage.records(APP, date(2026, 11, 1), date(2026, 11, 30))
    days = [(records[i][0], records[i][1]) if i in records else None for i in range(30)]
    assert got == paid_peaks(days, None if paid_from is None else paid_from - 1)
    assert back == {date(2026, 11, i + 1): values for i, values in records.items()}


def test_windows_span_two_months(db):
    with db.uow(write=True) as uow:
        uow.usage.store(
            {
                (APP, "2026-10"): _month({30: (50, 500, 4, 40, 150)}),  # Oct 31
                (APP, NOV.key): _month({0: (70, 600, 9, 30, 120), 1: (60, 900, 2, 20, 110)}),
            },
            {APP: None},
        )
        week, month = uow.usage.windows(date(2026, 11, 2))[APP]
    assert week == WindowPeaks(70, 900, 9, 40, 150, 898, 3)
    assert month.days == 3 and month.max_members_per_group == 150
    assert MISSING == -1
