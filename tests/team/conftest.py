"""Fixtures for the team-mode tests: a second identity for the whole session (an OS user on
SQLite, a database role on PostgreSQL), removed at the end."""

from __future__ import annotations

import pytest

from tests.support.dbs import ON_POSTGRES
from tests.team.team_util import make_db_role, make_os_user, remove_db_role, remove_os_user


@pytest.fixture(autouse=True)
def _no_env_defaults(monkeypatch):
    """The in-process CLI runs must not pick up a database or clock from the environment."""
    for name in ("IMTUI_DB", "IMTUI_NOW", "IMTUI_BILLING_TZ"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="session")
def other_user():
    """The second identity: `.name` is what the audit trail must show for its runs."""
    user = make_db_role() if ON_POSTGRES else make_os_user()
    try:
        yield user
    finally:
        # databases made for it are dropped by module/function fixtures before this runs
        (remove_db_role if ON_POSTGRES else remove_os_user)(user)
