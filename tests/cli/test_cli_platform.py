"""The platform a database belongs to (cli.md), from outside: the platform simulator and every
`imtui` step as separate real processes on one database (SQLite or PostgreSQL, whichever this
pass runs on).

The issue's scenario first: a halt through `--control-plane URL` is killed after the platform
stopped the app; a teammate's run without IMTUI_CONTROL_PLANE neither abandons the intent nor
starts the app again (`reconcile --fix` and halts are refused, exit 3, naming the platform); a
run through the right URL then records the halt."""

from __future__ import annotations

import json
import signal

import pytest
from sqlalchemy import text

from imtui.persistence.engine import make_engine
from tests.support.cli import FIRST, Result, parse_local, run_exe
from tests.support.dbs import drop_db, fresh_db_url
from tests.support.platform import Platform, dead_address

A, B, C = FIRST, FIRST + 1, FIRST + 2
T0 = "2026-11-20T09:00:00+08:00"


@pytest.fixture
def world(tmp_path):
    db = fresh_db_url(tmp_path)
    platform = Platform(tmp_path).start()
    steps = Steps(db, platform)
    for name in ("a", "b", "c"):
        steps.run("apps", "create", name, "--account", "acme").ok()
    yield steps
    platform.kill()
    drop_db(db)


class Steps:
    """`imtui --db DB --now NOW ...` as its own process, one minute after the step before; `url`
    True goes through the platform simulator, False through none (no IMTUI_CONTROL_PLANE)."""

    def __init__(self, db: str, platform: Platform):
        self.db, self.platform = db, platform
        self.minute = 0

    def run(self, *args: str, url: bool = False, **env: str) -> Result:
        self.minute += 1
        now = f"2026-11-20T10:{self.minute:02d}:00+08:00"
        extra = (
            self.platform.env(**env)
            if url
            else {"IMTUI_CONTROL_PLANE_TOKEN_FILE": str(self.platform.token_file), **env}
        )
        if not url:
            extra.pop("IMTUI_CONTROL_PLANE", None)
        return run_exe(["--db", self.db, "--now", now, *args], env=extra, timeout=120)

    def query(self, sql: str) -> list[tuple]:
        engine = make_engine(self.db)
        try:
            with engine.connect() as conn:
                return [tuple(r) for r in conn.execute(text(sql))]
        finally:
            engine.dispose()

    def status(self, app_id: int) -> str:
        return self.query(f"SELECT status FROM apps WHERE app_id = {app_id}")[0][0]

    def audit(self, action: str) -> list[tuple]:
        return self.query(f"SELECT actor, app_id, result, detail FROM audit WHERE action = '{action}' ORDER BY id")

    @property
    def identity(self) -> str:
        status, body = self.platform.request("GET", "/v1/identity")
        assert status == 200, body
        return body["platform"]


def halt(*ids: int, reason: str = "incident 42") -> list[str]:
    return ["apps", "halt", *map(str, ids), "--reason", reason, "--yes", "--format", "json"]


def test_a_halt_killed_after_the_platform_acted_is_not_undone_by_a_run_through_no_platform(world):
    ident, url = world.identity, world.platform.url
    killed = world.run(*halt(A), url=True, IMTUI_CRASH_AT="after-confirm:1")
    assert killed.rc == -signal.SIGKILL, killed
    assert world.platform.stopped() == {A}
    assert world.query("SELECT app_id, state FROM intents") == [(A, "pending")]
    [bind] = world.audit("bind")  # bound before any call
    assert bind[2] == "done" and bind[3].startswith(f"bound to platform {ident} ({url})")

    # a teammate without IMTUI_CONTROL_PLANE: reads go on, with a note; nothing is settled
    listed = world.run("apps", "list", "--format", "json")
    assert listed.rc == 0, listed
    assert {a["app_id"]: a["status"] for a in listed.json}[A] == "active"  # as it was: not known yet
    assert f"belongs to platform {ident} ({url})" in listed.err and "not known yet" in listed.err
    assert world.query("SELECT state FROM intents") == [("pending",)]
    assert world.audit("recover") == []

    fix = world.run("reconcile", "--fix")
    assert fix.rc == 3, fix
    assert fix.one_line_error().startswith(f"this database belongs to platform {ident} ({url})")
    assert "set IMTUI_CONTROL_PLANE" in fix.err and "imtui platform bind URL" in fix.err
    assert [r[2] for r in world.audit("reconcile")] == ["refused"]
    assert world.run("reconcile").rc == 3

    other = world.run(*halt(B))
    assert other.rc == 3, other
    [result] = other.json
    assert not result["ok"] and f"belongs to platform {ident}" in result["error"]
    assert world.status(B) == "active"
    assert ("halt", B, "refused") in [("halt", r[1], r[2]) for r in world.audit("halt")]

    # the platform was asked nothing: it still has A stopped, stopped once
    assert world.platform.stopped() == {A}
    assert [(e["app_id"], e["action"]) for e in world.platform.log()] == [(A, "stop")]
    assert world.query("SELECT state FROM intents") == [("pending",)]

    # through its own platform the halt is recorded as done
    shown = world.run("apps", "show", str(A), "--format", "json", url=True)
    assert shown.rc == 0 and shown.json["status"] == "deactivated", shown
    assert shown.err == ""
    assert world.query("SELECT state FROM intents") == [("done",)]
    assert [(r[1], r[2]) for r in world.audit("recover")] == [(A, "done")]
    found = world.run("reconcile", "--format", "json", url=True)
    assert found.rc == 0 and found.json["drift"] == [], found


def test_a_halt_through_no_platform_on_a_bound_database_is_refused_and_changes_nothing(world):
    ident = world.identity
    world.run(*halt(A), url=True).ok()
    before = (world.query("SELECT app_id, status, version FROM apps ORDER BY app_id"), world.platform.log())
    for args in (halt(B, C), ["apps", "reactivate", str(A), "--format", "json"]):
        r = world.run(*args)
        assert r.rc == 3, r
        assert all(not x["ok"] and f"this database belongs to platform {ident}" in x["error"] for x in r.json)
    r = world.run("apps", "halt", str(B), "--reason", "x", "--yes")
    assert r.rc == 3 and r.one_line_error().startswith(f"this database belongs to platform {ident}")
    assert (world.query("SELECT app_id, status, version FROM apps ORDER BY app_id"), world.platform.log()) == before
    assert len(world.audit("bind")) == 1


def test_a_database_of_the_embedded_platform_refuses_a_run_through_a_url(world):
    world.run(*halt(A)).ok()  # no IMTUI_CONTROL_PLANE: bound to the embedded platform
    assert json.loads(world.run("platform", "show", "--format", "json").ok().out)["platform"] == "embedded"
    r = world.run(*halt(B), url=True)
    assert r.rc == 3, r
    [result] = r.json
    assert "belongs to the embedded platform" in result["error"] and "unset IMTUI_CONTROL_PLANE" in result["error"]
    assert world.run("reconcile", url=True).rc == 3
    assert world.platform.log() == [] and world.status(B) == "active"

    # moved on purpose (admin: the database's creator), the URL run goes through
    moved = world.run("platform", "bind", world.platform.url, "--format", "json", url=True)
    assert moved.rc == 0, moved
    assert moved.json["platform"] == world.identity and moved.json["url"] == world.platform.url
    world.run(*halt(B), url=True).ok()
    assert world.platform.stopped() == {B}
    assert world.run(*halt(C)).rc == 3  # and now the embedded one is refused


def test_platform_show_and_bind(world):
    ident, url = world.identity, world.platform.url
    shown = world.run("platform", "show", "--format", "json")
    assert shown.rc == 0 and shown.json == {"platform": None, "url": None, "bound_at": None}
    table = world.run("platform", "show").ok()
    assert table.out.split()[0] == "platform"

    bound = world.run("platform", "bind", url, "--format", "json")  # the token from the env
    assert bound.rc == 0, bound
    assert (bound.json["platform"], bound.json["url"]) == (ident, url)
    parse_local(bound.json["bound_at"])
    assert world.run("platform", "show", "--format", "json").ok().json == bound.json
    [(_, app_id, result, detail)] = world.audit("bind")
    assert (app_id, result) == (None, "done") and detail == f"bound to platform {ident} ({url})"

    again = world.run("platform", "bind", url)
    assert again.rc == 0 and "nothing to change" in again.err
    assert len(world.audit("bind")) == 1

    csv = world.run("platform", "show", "--format", "csv").ok()
    assert csv.out.splitlines()[0] == "platform,url,bound_at"

    emb = world.run("platform", "bind", "embedded", "--format", "json").ok().json
    assert (emb["platform"], emb["url"]) == ("embedded", None)
    assert (
        world.audit("bind")[-1][3]
        == f"bound to the embedded platform (the simulator inside imtui, used without IMTUI_CONTROL_PLANE) (was platform {ident} ({url}))"
    )

    assert world.run("--read-only", "platform", "bind", url).rc == 3
    assert world.run("platform", "bind", "ftp://example.org").rc == 2
    assert world.run("platform", "bind").rc == 2
    with dead_address() as nobody:
        dead = world.run("platform", "bind", nobody, IMTUI_CONTROL_PLANE_TIMEOUT="0.2")
    assert dead.rc == 1 and dead.one_line_error().startswith("not done: the platform did not answer")
    assert world.run("platform", "show", "--format", "json").ok().json["platform"] == "embedded"


def test_when_the_platform_does_not_answer_apps_are_not_done_not_refused(world):
    world.run(*halt(A), url=True).ok()
    world.platform.kill()
    r = world.run(*halt(B, C), url=True, IMTUI_CONTROL_PLANE_TIMEOUT="0.2")
    assert r.rc == 1, r  # cli.md: 1, "anything else (... unreachable)"
    for x in r.json:
        assert not x["ok"] and x["error"].startswith("not done: the platform did not answer; nothing changed")
    table = world.run("apps", "halt", str(B), "--reason", "x", "--yes", url=True, IMTUI_CONTROL_PLANE_TIMEOUT="0.2")
    assert table.rc == 1 and table.out.startswith(f"app {B}: not done: the platform did not answer; nothing changed")
    assert (world.status(B), world.status(C)) == ("active", "active")
    assert world.query(f"SELECT COUNT(*) FROM intents WHERE app_id <> {A}") == [(0,)]


def test_another_platform_process_is_refused_and_a_restart_of_the_same_one_is_not(world, tmp_path):
    ident = world.identity
    world.run(*halt(A), url=True).ok()
    world.platform.kill()
    world.platform.start()  # the same store: the same platform
    assert world.identity == ident
    world.run(*halt(B), url=True).ok()

    (tmp_path / "other").mkdir()
    stranger = Platform(tmp_path / "other").start()  # a platform with a store of its own
    try:
        r = run_exe(["--db", world.db, "--now", "2026-11-20T11:00:00+08:00", *halt(C)], env=stranger.env(), timeout=120)
        assert r.rc == 3, r
        [result] = r.json
        other_ident = stranger.request("GET", "/v1/identity")[1]["platform"]
        assert other_ident != ident
        assert result["error"].startswith(f"this database belongs to platform {ident} ({world.platform.url}), ")
        assert f"not to platform {other_ident} at {stranger.url}" in result["error"]
        assert stranger.log() == [] and world.status(C) == "active"
    finally:
        stranger.kill()
