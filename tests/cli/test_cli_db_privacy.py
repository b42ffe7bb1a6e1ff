"""Smaller holes (issue 19 item 7): a database URL is never echoed with its password, a password in
`--db` is warned of (it is visible in the process list), database files and their folder are
their creator's alone, and a very long search is answered, not a database failure."""

from __future__ import annotations

import os
import shutil
import sqlite3
from pathlib import Path

import pytest

from imtui.cli import main
from imtui.persistence.database import Database
from tests.support.cli import Cli, Result, run_exe, run_process
from tests.support.dbs import drop_db, migrated_db_url, sqlite_only

NOW = "2026-11-02T09:00:00+08:00"
SECRET = "s3cret-Pw"
WARNING = (
    "warning: the password in --db is visible to other users in the process list; set the URL in IMTUI_DB "
    "instead, or keep the password in ~/.pgpass (or the file PGPASSFILE names)"
)
FIXTURE = Path(__file__).resolve().parents[1] / "data" / "main-0002.sqlite"


def _raw(capsys, *argv: str) -> Result:
    capsys.readouterr()
    rc = main(list(argv))
    cap = capsys.readouterr()
    return Result(rc, cap.out, cap.err)


# --- passwords -----------------------------------------------------------------------------------

MALFORMED = [
    f"postgresql+psycopg://u:{SECRET}@host:port/x",  # a port that is not a number
    f"postgresql+psycopg://u:{SECRET}@host:99999999999/x",
    f"postgresql+psycopg://u:{SECRET}@[::1/x",
    f"nosuchdriver://u:{SECRET}@host/x",
    f"://u:{SECRET}@",
    f"postgresql+psycopg://u:{SECRET}@127.0.0.1:1/x",  # nothing listens there
    f"postgresql+psycopg://u:{SECRET}@127.0.0.1:1/x?bogus=1",
    f"postgresql+psycopg://u:{SECRET}@h@st:5432/x",
]


@pytest.mark.parametrize("url", MALFORMED)
def test_a_bad_database_url_is_never_echoed_with_its_password(capsys, url):
    r = _raw(capsys, "--db", url, "--now", NOW, "apps", "list")
    assert r.rc == 1, str(r)
    line = r.one_line_error()
    assert SECRET not in line and SECRET not in r.out


@pytest.mark.parametrize("url", [MALFORMED[0], MALFORMED[2], MALFORMED[3], MALFORMED[4]])
def test_a_shown_url_has_its_password_masked(capsys, url):
    r = _raw(capsys, "--db", url, "--now", NOW, "apps", "list")
    assert ":***@" in r.one_line_error()


def test_a_password_on_the_command_line_is_warned_of(tmp_path):
    url = f"postgresql+psycopg://someone:{SECRET}@127.0.0.1:1/x"
    r = run_exe(["--db", url, "--now", NOW, "apps", "list"])
    assert r.rc == 1
    lines = r.lines()
    assert lines[0] == WARNING and len(lines) == 2, str(r)
    assert SECRET not in r.err
    r = run_exe([f"--db={url}", "apps", "list"])
    assert r.lines()[0] == WARNING


def test_no_warning_without_a_password_or_through_imtui_db(tmp_path):
    url = f"postgresql+psycopg://someone:{SECRET}@127.0.0.1:1/x"
    r = run_exe(["--now", NOW, "apps", "list"], env={"IMTUI_DB": url})
    assert r.rc == 1 and "warning" not in r.err and SECRET not in r.err
    r.one_line_error()
    r = run_exe(["--db", "postgresql+psycopg://someone@127.0.0.1:1/x", "--now", NOW, "apps", "list"])
    assert "warning" not in r.err
    r = run_exe(["--db", str(tmp_path / "a.db"), "--now", NOW, "apps", "list"]).ok()
    assert r.err == ""


# --- files ---------------------------------------------------------------------------------------


def _mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


@sqlite_only
@pytest.mark.parametrize("as_url", [False, True], ids=["path", "url"])
@pytest.mark.parametrize("umask", [0o022, 0o000])
def test_database_files_are_created_600_whatever_the_umask(tmp_path, umask, as_url):
    path = tmp_path / "private" / "imtui.db"
    db = f"sqlite:///{path}" if as_url else str(path)
    env = {k: v for k, v in os.environ.items() if not k.startswith("IMTUI_")}
    run_process(["--db", db, "--now", NOW, "apps", "create", "a", "--account", "acme"], env=env, umask=umask)
    assert _mode(path) == 0o600
    assert _mode(path.parent) == 0o700  # the folder imtui made
    db = Database(str(path))
    try:
        with db.uow() as uow:  # an open connection keeps -wal and -shm in place
            uow.meta.billing_tz  # noqa: B018
            for suffix in ("-wal", "-shm"):
                companion = Path(f"{path}{suffix}")
                assert companion.exists() and _mode(companion) == 0o600, suffix
    finally:
        db.close()


@sqlite_only
def test_the_default_data_folder_is_made_700(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("IMTUI_")}
    env["XDG_DATA_HOME"] = str(tmp_path / "xdg")
    r = run_process(["--now", NOW, "apps", "list"], env=env, umask=0o022)
    assert r.rc == 0, str(r)
    assert _mode(tmp_path / "xdg" / "imtui") == 0o700
    assert _mode(tmp_path / "xdg" / "imtui" / "imtui.db") == 0o600


@sqlite_only
def test_an_existing_database_keeps_its_mode(capsys, tmp_path):
    path = tmp_path / "shared.db"
    sqlite3.connect(path).close()
    os.chmod(path, 0o660)  # a team's choice: imtui leaves it
    assert _raw(capsys, "--db", str(path), "--now", NOW, "apps", "list").rc == 0
    assert _mode(path) == 0o660


@sqlite_only
def test_a_migration_backup_is_as_private_as_its_database(capsys, tmp_path):
    path = tmp_path / "old.db"
    shutil.copyfile(FIXTURE, path)
    os.chmod(path, 0o600)
    assert _raw(capsys, "--db", str(path), "--now", "2026-12-02T09:00:00+08:00", "apps", "list").rc == 0
    backups = list(tmp_path.glob("old.db.schema-*.bak"))
    assert backups and all(_mode(b) == 0o600 for b in backups)


# --- a very long search ----------------------------------------------------------------------------


@pytest.fixture
def db(tmp_path):
    url = migrated_db_url(tmp_path)
    yield url
    drop_db(url)


@pytest.mark.parametrize("size", [201, 60_000, 1_000_000])
def test_a_very_long_search_is_answered(capsys, db, size):
    cli = Cli(capsys, db)
    cli.create("x" * 200)  # the longest name there can be
    assert len(cli.list("--search", "x" * 200)) == 1
    r = cli.run("apps", "list", "--search", "x" * size)
    assert (r.rc, r.out.strip(), r.err) == (0, "nothing to show", "")
    assert cli.list("--search", "é" * size) == []
    r = cli.run("apps", "list", "--search", "x" * size, "--account", "nobody")
    assert r.rc == 4  # a typo in the account is still not passed over


def test_the_dashboard_filter_takes_a_very_long_text():
    from decimal import Decimal

    from imtui.services.fleet import FleetRow
    from imtui.ui.fleet_model import FleetModel

    model = FleetModel()
    row = FleetRow(1400000000, "x" * 200, "acme", "trial", "active", None, 50, 20, 7, None, None, Decimal(0))
    model.set_rows([row])
    model.text = "x" * 60_000
    model.apply()
    assert list(model.view) == []
    model.text = "x" * 200
    model.apply()
    assert len(model.view) == 1
