from __future__ import annotations

import pytest

from tests.cli.helpers import Cli


@pytest.fixture(autouse=True)
def _no_env_defaults(monkeypatch):
    """Tests pass --db and --now themselves; the environment must not leak in."""
    monkeypatch.delenv("IMTUI_DB", raising=False)
    monkeypatch.delenv("IMTUI_NOW", raising=False)
    monkeypatch.delenv("IMTUI_BILLING_TZ", raising=False)


@pytest.fixture
def db(tmp_path):
    return tmp_path / "imtui.db"


@pytest.fixture
def cli(capsys, db) -> Cli:
    return Cli(capsys, db)
