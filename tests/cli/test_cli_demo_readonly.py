"""`demo` and `--read-only`."""

from __future__ import annotations

from collections import Counter

import pytest

from tests.support.cli import APP_KEYS, FIRST, Cli

NOW = "2026-11-02T09:00:00+08:00"
LATER = "2026-11-02T12:00:00+08:00"


def test_demo_default_500_apps(cli):
    r = cli.run("demo", now=NOW).ok()
    assert "500" in r.out
    apps = cli.list(now=LATER)
    assert len(apps) == 500
    assert [a["app_id"] for a in apps] == list(range(FIRST, FIRST + 500))
    assert all(list(a) == APP_KEYS for a in apps)
    statuses = Counter(a["status"] for a in apps)
    editions = Counter(a["edition"] for a in apps)
    assert statuses["active"] > 0 and statuses["deactivated"] > 0 and statuses["purged"] > 0
    assert set(editions) == {"trial", "pro", "flagship"}
    assert all(n <= 300 for n in Counter(a["account"] for a in apps).values())
    # a few months of history: issued bills of past months with money in them; on the 2nd the
    # last month is still a draft (its usage may arrive until the 3rd)
    b = cli.run("bills", "--month", "2026-09", "--format", "json").ok().json
    assert b["state"] == "issued" and b["total"] != "0.00"
    b = cli.run("bills", "--month", "2026-10", "--format", "json").ok().json
    assert b["state"] == "draft" and b["total"] != "0.00" and b["issued_at"] is None
    assert cli.run("bills", "--format", "json").ok().json["state"] == "open"
    # every app record is consistent with the contract
    for a in apps:
        assert a["billing"] == ("free" if a["edition"] == "trial" else "postpaid")
        assert (a["purge_at"] is not None) == (a["status"] == "deactivated")


def test_demo_options(cli):
    r = cli.run("demo", "--apps", "50", "--accounts", "3", "--seed", "7", now=NOW).ok()
    assert "50" in r.out
    apps = cli.list(now=LATER)
    assert len(apps) == 50
    assert len({a["account"] for a in apps}) == 3


def test_demo_is_deterministic_for_a_seed(capsys, tmp_path):
    """Same seed and --now on fresh databases: identical fleets, whichever way the command is run
    (in-process when everything is already imported, or as a fresh process that imports first)."""
    from tests.support.cli import run_exe

    demo = ["demo", "--apps", "50", "--accounts", "3", "--seed", "7"]
    out = []
    for name in ("one.db", "two.db"):
        c = Cli(capsys, tmp_path / name)
        c.run(*demo, now=NOW).ok()
        out.append(c.run("apps", "list", "--format", "json", now=LATER).ok().out)
    fresh = str(tmp_path / "fresh.db")
    assert run_exe(["--db", fresh, "--now", NOW, *demo]).rc == 0
    c = Cli(capsys, fresh)
    out.append(c.run("apps", "list", "--format", "json", now=LATER).ok().out)
    assert out[0] == out[1]
    assert out[0] == out[2]
    c = Cli(capsys, tmp_path / "three.db")
    c.run(*demo[:-1], "8", now=NOW).ok()
    assert c.run("apps", "list", "--format", "json", now=LATER).ok().out != out[0]


def test_demo_on_a_non_empty_database_exits_3(cli):
    cli.create("mine", "acme", now=NOW)
    r = cli.run("demo", "--apps", "10")
    assert r.rc == 3
    r.one_line_error()
    assert len(cli.list()) == 1


def test_demo_twice_exits_3(cli):
    cli.run("demo", "--apps", "10", now=NOW).ok()
    r = cli.run("demo", "--apps", "10", now=LATER)
    assert r.rc == 3
    assert len(cli.list()) == 10


@pytest.mark.parametrize(
    "opts",
    [["--apps", "0"], ["--apps", "ten"], ["--accounts", "0"], ["--seed", "x"], ["--apps", "700", "--accounts", "2"]],
)
def test_demo_invalid_options_exit_2(cli, opts):
    r = cli.run("demo", *opts, now=NOW)
    assert r.rc == 2
    r.one_line_error()
    assert cli.list(now=LATER) == []


# --- read-only ----------------------------------------------------------------------------------


def test_read_only_changes_nothing(cli):
    cli.create("a", "acme", now=NOW)
    cli.create("b", "acme")
    cli.run("apps", "upgrade", str(FIRST + 1), "--edition", "pro").ok()
    cli.run("apps", "halt", str(FIRST + 1), "--reason", "unpaid invoices", "--yes").ok()
    before = cli.run("apps", "list", "--format", "json", now="2026-11-03T09:00:00+08:00").ok().out
    audit_before = cli.audit()
    ro = ("--read-only",)
    attempts = [
        ("apps", "create", "c", "--account", "acme"),
        ("apps", "create", "c", "--account", "new-account"),
        ("apps", "upgrade", str(FIRST), "--edition", "flagship"),
        ("apps", "modify", str(FIRST + 1), "--history-days", "30"),
        ("apps", "halt", str(FIRST), "--reason", "x", "--yes"),
        ("apps", "reactivate", str(FIRST + 1)),
        ("demo", "--apps", "5"),
    ]
    for args in attempts:
        r = cli.run(*args, globals_=ro)
        assert r.rc == 3, (args, r)
        assert "read-only" in r.one_line_error()
        assert r.out == ""
    # reads work in a read-only run
    assert cli.run("apps", "list", "--format", "json", globals_=ro).ok().out == before
    cli.run("apps", "show", str(FIRST), globals_=ro).ok()
    cli.run("bills", globals_=ro).ok()
    cli.run("audit", globals_=ro).ok()
    after = cli.run("apps", "list", "--format", "json", now="2026-11-03T10:00:00+08:00").ok().out
    assert after == before
    assert cli.audit() == audit_before
    r = cli.run("apps", "list", "--account", "new-account")
    assert r.rc == 4  # the account was not created either


def test_reading_records_nothing_and_may_look_back(cli):
    cli.create("a", "acme", now=NOW)
    cli.run("apps", "upgrade", str(FIRST), "--edition", "pro", now="2026-11-10T09:00:00+08:00").ok()
    trail = cli.audit(now="2026-11-10T09:05:00+08:00")
    for args in (
        ("apps", "list"),
        ("apps", "show", str(FIRST)),
        ("bills",),
        ("audit",),
        ("apps", "list", "--format", "csv"),
        ("bills", "--format", "json"),
    ):
        cli.run(*args, now="2026-11-11T09:00:00+08:00").ok()
        # a clock behind the database's latest instant may still read
        cli.run(*args, now="2026-11-03T09:00:00+08:00").ok()
    assert cli.audit(now="2026-11-12T09:00:00+08:00") == trail
