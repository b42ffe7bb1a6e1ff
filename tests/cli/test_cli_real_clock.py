"""The real clock cannot be forged (cli.md "Simulation and real time"): a database created
without `--now` refuses `--now` and `IMTUI_NOW` on every backend (exit 3) before anything happens
(no catch-up, no purge, no month close, no audit), a read-only run and the dashboard included;
instants outside the years 1970-9998 are invalid input (2) and break nothing."""

from __future__ import annotations

import pytest

from imtui.cli import main
from tests.support.cli import FIRST, Cli, InProcess, Result
from tests.support.dbs import drop_db, fresh_db_url

REFUSED = "this database runs on the real clock; --now is only for databases created with --now"
FUTURE = "2031-01-01T00:00:00+08:00"


@pytest.fixture
def url(tmp_path):
    url = fresh_db_url(tmp_path)
    yield url
    drop_db(url)


@pytest.fixture
def real(capsys, url) -> InProcess:
    """A database created on the real clock with one halted app (purged 90 days later)."""
    run = InProcess(capsys, url)
    app = run.json("apps", "create", "chat-prod", "--account", "acme")
    assert app["app_id"] == FIRST
    run("apps", "halt", str(FIRST), "--reason", "incident 42", "--yes").ok()
    return run


def _state(run: InProcess) -> tuple:
    return run.json("apps", "show", str(FIRST))["status"], run.json("audit", "--limit", "1000")


@pytest.mark.parametrize(
    "argv",
    [
        ("--read-only", "--now", FUTURE, "apps", "list"),
        ("--now", FUTURE, "apps", "list"),
        ("--now", FUTURE, "bills"),
        ("--now", FUTURE, "apps", "reactivate", str(FIRST)),
        ("--now", "2020-01-01T00:00:00+08:00", "apps", "show", str(FIRST)),  # the past as well
        ("--now", FUTURE),  # the dashboard
    ],
    ids=["read-only-list", "list", "bills", "reactivate", "past", "dashboard"],
)
def test_now_on_a_real_clock_database_is_refused_before_anything_happens(real, argv):
    before = _state(real)
    r = real(*argv)
    assert r.rc == 3, str(r)
    assert r.one_line_error() == REFUSED
    assert r.out == ""
    assert _state(real) == before  # not purged, nothing audited
    assert before[0] == "deactivated"


def test_imtui_now_counts_as_now(real, monkeypatch):
    before = _state(real)
    monkeypatch.setenv("IMTUI_NOW", FUTURE)
    r = real("--read-only", "apps", "list")
    assert (r.rc, r.one_line_error()) == (3, REFUSED)
    monkeypatch.delenv("IMTUI_NOW")
    assert _state(real) == before


def test_a_database_created_with_now_takes_now(capsys, url):
    cli = Cli(capsys, url)
    cli.create()
    cli.run("apps", "list", now="2031-01-01T00:00:00+08:00").ok()
    r = cli.run("apps", "list", "--format", "json", now="2031-01-02T00:00:00+08:00").ok()
    assert [a["status"] for a in r.json] == ["active"]


def _raw(capsys, *argv: str) -> Result:
    capsys.readouterr()
    rc = main(list(argv))
    cap = capsys.readouterr()
    return Result(rc, cap.out, cap.err)


@pytest.mark.parametrize(
    "now",
    ["9999-12-31T20:00:00", "9999-01-01T00:00:00+00:00", "1969-12-31T23:59:59+00:00", "0001-01-01", "10000-01-01"],
)
def test_instants_outside_1970_to_9998_are_invalid_and_break_nothing(capsys, url, now):
    cli = Cli(capsys, url)
    cli.create(now="2026-11-02T09:00:00+08:00")
    r = _raw(capsys, "--db", url, "--now", now, "apps", "list")
    assert r.rc == 2, str(r)
    assert r.one_line_error().startswith("--now: ")
    r = _raw(capsys, "--db", url, "--now", now, "apps", "create", "late", "--account", "acme")
    assert r.rc == 2, str(r)
    # the database still works at an ordinary instant, its latest instant untouched
    assert [a["name"] for a in cli.list(now="2026-11-02T10:00:00+08:00")] == ["chat-prod"]
    cli.run("apps", "create", "next", "--account", "acme", now="2026-11-02T10:01:00+08:00").ok()


@pytest.mark.parametrize("now", ["1970-01-01T00:00:00+00:00", "9998-12-31T23:59:59+00:00"])
def test_the_edges_of_the_years_are_accepted(capsys, url, now):
    # each on its own database: from 1970 to 9998 a database would close every month between
    assert _raw(capsys, "--db", url, "--now", now, "apps", "create", "edge", "--account", "acme").rc == 0
    assert _raw(capsys, "--db", url, "--now", now, "bills").rc == 0


def test_an_out_of_range_now_creates_no_database(capsys, tmp_path, monkeypatch):
    path = tmp_path / "never.db"
    monkeypatch.setenv("IMTUI_NOW", "9999-12-31T20:00:00")
    r = _raw(capsys, "--db", str(path), "apps", "list")
    assert r.rc == 2 and "outside the years 1970-9998" in r.one_line_error()
    assert not path.exists()
