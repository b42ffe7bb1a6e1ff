from __future__ import annotations

import pytest

from tests.support.cli import Cli
from tests.support.dbs import drop_db, migrated_db_url


@pytest.fixture(autouse=True)
def _no_env_defaults(monkeypatch):
    """Tests pass --db and --now themselves; the environment must not leak in."""
    monkeypatch.delenv("IMTUI_DB", raising=False)
    monkeypatch.delenv("IMTUI_NOW", raising=False)
    monkeypatch.delenv("IMTUI_BILLING_TZ", raising=False)


@pytest.fixture
def db(tmp_path):
    url = migrated_db_url(tmp_path)
    yield url
    drop_db(url)


@pytest.fixture
def cli(capsys, db) -> Cli:
    return Cli(capsys, db)
