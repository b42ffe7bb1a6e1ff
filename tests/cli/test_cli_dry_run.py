"""`--dry-run` on upgrade, modify, halt and reactivate (cli.md): checks everything the real run
would (rules, locks, permissions, read-only, the clock, the guardrail, the platform binding),
prints what it would do (each app's monthly price before → after and the delta; the total in the
table; for halt the monthly cost that stops as a negative delta), changes nothing, audits
nothing, asks no platform to act, and exits as the real run would."""

from __future__ import annotations

import asyncio
import io
import sys

import pytest

from imtui.bootstrap import open_services
from imtui.clock import FixedClock
from imtui.config import Settings
from imtui.domain.calendar import parse_instant
from imtui.services.control_plane import SimulatedControlPlane
from tests.support.cli import BULK_KEYS, FIRST, MONEY, run_exe
from tests.support.dbs import drop_db, fresh_db_url
from tests.support.platform import Platform

A, B, C = str(FIRST), str(FIRST + 1), str(FIRST + 2)
UNKNOWN = "1400009999"
T0 = "2026-11-02T09:00:00+08:00"
DRY_KEYS = [*BULK_KEYS, "before", "after", "monthly_delta"]


@pytest.fixture
def trials(cli):
    cli.create("a", "acme", now=T0)
    cli.create("b", "acme")
    cli.create("c", "globex")
    return cli


@pytest.fixture
def pros(trials):
    """Three pro apps; b's history retention already changed this month (30 days)."""
    trials.run("apps", "upgrade", A, C, "--edition", "pro").ok()
    trials.run("apps", "upgrade", B, "--edition", "pro", "--history-days", "30").ok()
    return trials


def state(cli) -> tuple:
    """Everything a dry run must leave as it was: the apps and the whole audit trail."""
    return cli.list(), cli.audit("--limit", "10000")


# --- upgrade and modify ----------------------------------------------------------------------------


def test_upgrade_dry_run_table_each_app_and_the_total(trials):
    before = state(trials)
    r = trials.run("apps", "upgrade", A, B, UNKNOWN, "--edition", "pro", "--members-per-group", "2000", "--dry-run")
    assert r.rc == 4, r  # as the real run: the unknown app is the first failure
    change = "edition trial → pro, live_groups 10 → 50, groups_per_user 50 → 500, members_per_group 20 → 2000"
    assert r.out.splitlines() == [
        f"app {A}: would upgrade: {change}; monthly 0.00 → 689.98 (+689.98)",
        f"app {B}: would upgrade: {change}; monthly 0.00 → 689.98 (+689.98)",
        f"app {UNKNOWN}: no app {UNKNOWN}",
        "dry run: 2 of 3 apps would upgrade; monthly +1379.96 in total; nothing was changed",
    ]
    assert r.lines() == [f"no app {UNKNOWN}"]
    assert state(trials) == before


def test_modify_dry_run_json_and_csv(pros):
    before = state(pros)
    r = pros.run("apps", "modify", B, A, "--history-days", "90", "--dry-run", "--format", "json")
    assert r.rc == 3, r
    res = r.json
    assert all(list(x) == DRY_KEYS for x in res)
    assert res[0]["app_id"] == FIRST + 1 and res[0]["ok"] is False and "already changed" in res[0]["error"]
    assert (res[0]["before"], res[0]["after"], res[0]["monthly_delta"]) == (None, None, None)
    assert res[1] == {
        "app_id": FIRST,
        "ok": True,
        "error": None,
        "before": "449.99",
        "after": "629.98",
        "monthly_delta": "179.99",
    }
    r = pros.run("apps", "modify", A, "--history-days", "7", "--dry-run", "--format", "csv")
    assert r.rc == 0
    assert r.out.splitlines() == ["app_id,ok,error,before,after,monthly_delta", f"{A},true,,449.99,449.99,0.00"]
    r = pros.run("apps", "modify", A, "--history-days", "7", "--dry-run")
    assert r.out.splitlines()[0] == f"app {A}: nothing to change; monthly 449.99"
    assert state(pros) == before


def test_a_lowering_shows_a_negative_delta(pros):
    pros.at("2026-12-01T09:00:00+08:00")
    r = pros.run("apps", "modify", B, "--history-days", "7", "--dry-run", "--format", "json")
    assert r.rc == 0, r
    assert r.json[0]["monthly_delta"] == "-99.99"
    for x in r.json:
        assert all(MONEY.match(x[k]) for k in ("before", "after", "monthly_delta"))


@pytest.mark.parametrize(
    "argv",
    [
        ["apps", "modify", A, B, C, "--history-days", "90"],  # b locked
        ["apps", "modify", UNKNOWN, A, "--history-days", "180"],  # unknown first
        ["apps", "upgrade", A, "--edition", "flagship"],  # not a trial app
        ["apps", "modify", A, "--groups-per-user", "700"],  # a value pro does not offer (2)
        ["apps", "modify", A, C, "--history-days", "360", "--max-monthly-delta", "500"],  # the guardrail
        ["apps", "modify", A, C, "--history-days", "360", "--max-monthly-delta", "799.98"],  # just allowed
        ["apps", "modify", C, "--live-unlimited"],  # one app, locked by its upgrade
    ],
)
def test_the_dry_run_exits_as_the_real_run(pros, argv):
    dry = pros.run(*argv, "--dry-run", now="2026-11-20T10:00:00+08:00")
    real = pros.run(*argv, now="2026-11-20T10:00:00+08:00")
    assert dry.rc == real.rc, (dry, real)
    assert "Traceback" not in dry.err + dry.out


def test_the_guardrail_in_a_dry_run_shows_the_figures_and_refuses(pros):
    before = state(pros)
    r = pros.run("apps", "modify", A, C, "--history-days", "360", "--max-monthly-delta", "500", "--dry-run")
    assert r.rc == 3
    assert r.out.splitlines()[-1] == "dry run: 2 of 2 apps would modify; monthly +799.98 in total; nothing was changed"
    assert r.lines() == [
        "the monthly price would rise by 799.98, more than --max-monthly-delta 500.00; nothing changed"
    ]
    assert state(pros) == before  # not even the refusal is audited


def test_dry_run_read_only_and_back_dated_are_refused_as_the_real_run(pros):
    before = state(pros)
    r = pros.run("apps", "modify", A, "--history-days", "90", "--dry-run", globals_=("--read-only",))
    assert r.rc == 3 and "read-only" in r.one_line_error()
    r = pros.run("apps", "modify", A, C, "--history-days", "90", "--dry-run", now="2026-11-01T09:00:00+08:00")
    assert r.rc == 3
    assert "earlier than" in r.lines()[0]
    assert state(pros) == before


def test_dry_run_of_a_viewer_is_refused_per_app_and_not_audited(pros):
    """Another user (a viewer by default) asks for a dry run through the services."""
    clock = FixedClock(parse_instant("2026-11-20T10:00:00+08:00", "Asia/Shanghai"))
    settings = Settings(db=pros.db, now=clock.now())
    services = open_services(settings, clock, SimulatedControlPlane(latency=0), actor="bob")
    try:
        from imtui.domain.changes import ChangeRequest

        dry = asyncio.run(services.changes.dry_run("modify", [FIRST, FIRST + 2], ChangeRequest(history_days=90)))
        halt = asyncio.run(services.lifecycle.dry_run("halt", [FIRST], "incident"))
    finally:
        services.close()
    assert dry.exit_code == 3 and halt.exit_code == 3
    assert all(not r.ok and "user bob is a viewer" in r.error for r in dry.results + halt.results)
    assert not [e for e in pros.audit() if e["actor"] == "bob"]


# --- halt and reactivate -------------------------------------------------------------------------------


def test_halt_dry_run_the_monthly_cost_that_stops(pros, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))  # not a terminal, no --yes: nothing to confirm
    called = []
    for name in ("deactivate", "activate"):
        monkeypatch.setattr(SimulatedControlPlane, name, lambda *a, **k: called.append(a))
    pros.run("apps", "modify", A, "--history-days", "90").ok()
    before = state(pros)
    r = pros.run("apps", "halt", A, B, UNKNOWN, "--reason", "incident 42", "--dry-run")
    assert r.rc == 4, r
    assert r.out.splitlines() == [
        f"app {A}: would halt: status active → deactivated; monthly 629.98 → 0.00 (-629.98)",
        f"app {B}: would halt: status active → deactivated; monthly 549.98 → 0.00 (-549.98)",
        f"app {UNKNOWN}: no app {UNKNOWN}",
        "dry run: 2 of 3 apps would halt; monthly -1179.96 in total; nothing was changed",
    ]
    r = pros.run("apps", "halt", A, "--reason", "incident 42", "--dry-run", "--format", "json")
    assert r.rc == 0
    assert r.json == [
        {"app_id": FIRST, "ok": True, "error": None, "before": "629.98", "after": "0.00", "monthly_delta": "-629.98"}
    ]
    assert called == []
    assert state(pros) == before


def test_halt_dry_run_checks_the_reason_and_read_only(pros):
    r = pros.run("apps", "halt", A, "--reason", " ", "--dry-run")
    assert r.rc == 2 and "reason" in r.one_line_error()
    r = pros.run("apps", "halt", A, "--reason", "x", "--dry-run", globals_=("--read-only",))
    assert r.rc == 3 and "read-only" in r.one_line_error()


def test_reactivate_dry_run_the_monthly_cost_that_resumes(pros):
    pros.run("apps", "halt", A, C, "--reason", "unpaid", "--yes").ok()
    before = state(pros)
    r = pros.run("apps", "reactivate", C, B, "--dry-run", "--format", "json")
    assert r.rc == 3
    assert r.json[0] == {
        "app_id": FIRST + 2,
        "ok": True,
        "error": None,
        "before": "0.00",
        "after": "449.99",
        "monthly_delta": "449.99",
    }
    assert r.json[1]["ok"] is False and "already active" in r.json[1]["error"]
    assert state(pros) == before
    assert pros.run("apps", "reactivate", C, B).rc == 3


def test_dry_run_totals_an_app_given_twice_once(pros):
    r = pros.run("apps", "halt", A, A, "--reason", "x", "--dry-run")
    assert r.rc == 0
    assert r.out.splitlines()[-1] == "dry run: 1 of 1 app would halt; monthly -449.99 in total; nothing was changed"


# --- the platform: checked, never asked to act, never bound ----------------------------------------


@pytest.fixture
def platform_world(tmp_path):
    db = fresh_db_url(tmp_path)
    platform = Platform(tmp_path).start()
    yield db, platform
    platform.kill()
    drop_db(db)


def test_dry_run_halt_checks_the_platform_binding_and_never_asks_it_to_act(platform_world):
    db, platform = platform_world
    minute = iter(range(1, 60))

    def run(*args, url=True):
        env = platform.env() if url else {"IMTUI_CONTROL_PLANE_TOKEN_FILE": str(platform.token_file)}
        env["IMTUI_DB"] = db  # a PostgreSQL URL's password stays out of the process list
        return run_exe(["--now", f"2026-11-20T10:{next(minute):02d}:00+08:00", *args], env=env)

    for name in ("a", "b"):
        run("apps", "create", name, "--account", "acme").ok()
    # an unbound database: a dry run through a platform checks, and binds nothing
    r = run("apps", "halt", A, "--reason", "drill", "--dry-run", "--format", "json")
    assert r.rc == 0, r
    assert r.json[0]["ok"] is True
    assert run("platform", "show", "--format", "json").ok().json["platform"] is None
    assert platform.log() == [] and platform.stopped() == set()
    # bound by a real halt of a; a dry run of b through the same platform: no call reaches it
    run("apps", "halt", A, "--reason", "incident", "--yes").ok()
    calls = len(platform.log())
    r = run("apps", "halt", B, "--reason", "incident", "--dry-run")
    assert r.rc == 0, r
    r = run("apps", "reactivate", A, "--dry-run")
    assert r.rc == 0, r
    assert len(platform.log()) == calls and platform.stopped() == {FIRST}
    # through no platform: refused as the real run is, naming the database's platform
    dry = run("apps", "halt", B, "--reason", "incident", "--dry-run", url=False)
    real = run("apps", "halt", B, "--reason", "incident", "--yes", url=False)
    assert dry.rc == real.rc == 3, (dry, real)
    assert "belongs to platform" in dry.lines()[0]
    shown = run("apps", "list", "--format", "json").ok().json
    assert {a["app_id"]: a["status"] for a in shown} == {FIRST: "deactivated", FIRST + 1: "active"}
    assert [e["action"] for e in run("audit", "--format", "json").ok().json].count("bind") == 1
