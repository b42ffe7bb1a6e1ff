from __future__ import annotations

import pytest

from tests.robustness.harness import TALLY
from tests.support.dbs import ON_POSTGRES, drop_db, migrated_db_url


@pytest.fixture(autouse=True)
def _no_env_defaults(monkeypatch):
    """Tests pass --db and --now themselves; the environment must not leak in."""
    for key in ("IMTUI_DB", "IMTUI_NOW", "IMTUI_BILLING_TZ"):
        monkeypatch.delenv(key, raising=False)


@pytest.fixture
def db(tmp_path):
    url = migrated_db_url(tmp_path)
    yield url
    drop_db(url)


def pytest_sessionfinish(session):
    """A pytest-xdist worker hands its tally to the controller, which prints the summary."""
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput["robustness_tally"] = dict(TALLY)


def pytest_testnodedown(node, error):
    TALLY.update(getattr(node, "workeroutput", {}).get("robustness_tally", {}))


def pytest_terminal_summary(terminalreporter):
    if not TALLY:
        return
    where = "PostgreSQL" if ON_POSTGRES else "SQLite"
    terminalreporter.section(f"robustness figures ({where})")
    for key in sorted(TALLY):
        terminalreporter.write_line(f"{key}: {TALLY[key]}")
