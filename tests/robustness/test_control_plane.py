"""The control plane across a network, proved from outside: the platform simulator and imtui as
separate real processes on one database (SQLite or PostgreSQL, whichever this pass runs on).

- imtui is SIGKILLed at each phase of a halt and of a 500-app bulk halt (intents written and no
  call yet; the platform confirmed and nothing written; the write not yet committed), over 24
  seeds: after the next start no app's status differs from the platform's, every intent is
  settled and audited, and the platform's own log shows one action per key;
- the platform is killed and restarted mid-bulk, and injects refused, reset, dropped, slow,
  failing and hanging requests: clear per-app results, nothing half-done, the rest goes on;
- requests without or with a wrong token are refused and change nothing;
- another writer flips apps on the platform: `reconcile` finds them, `--fix` repairs them.
"""

from __future__ import annotations

import json
import random
import signal
import subprocess
import tempfile
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import text

from imtui.persistence.engine import make_engine
from tests.robustness.harness import TALLY
from tests.support.cli import IMTUI_EXE, Result, clean_env, run_exe, start_exe
from tests.support.dbs import clone_db, drop_db, fresh_db_url
from tests.support.platform import Platform, owner_only, wait_until

DEMO_AT = "2026-11-20T10:00:00+08:00"
HALT_AT = "2026-11-20T11:00:00+08:00"
LATER = "2026-11-20T12:00:00+08:00"
BULK = 500
PHASES = ("before-call", "after-confirm", "during-write")
KILL_SEEDS = range(24)


def imtui(db: str, platform: Platform, *args: str, now: str = LATER, timeout: float = 120, **env: str) -> Result:
    """`imtui --db DB --now NOW ARGS...` as its own process, talking to `platform`."""
    return run_exe(["--db", db, "--now", now, *args], env=platform.env(**env), timeout=timeout)


def halt_args(app_ids: list[int], reason: str) -> list[str]:
    return ["apps", "halt", *map(str, app_ids), "--reason", reason, "--yes", "--format", "json"]


def query(db: str, sql: str) -> list[tuple]:
    engine = make_engine(db)
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(text(sql))]
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    """A demo fleet (once per module) and a platform store that already agrees with it."""
    folder = tmp_path_factory.mktemp("fleet")
    db = fresh_db_url(folder)
    platform = Platform(folder).start()
    try:
        r = imtui(db, platform, "demo", "--apps", "700", "--seed", "3", now=DEMO_AT)
        assert r.rc == 0, r.err
        r = imtui(db, platform, "reconcile", "--fix", "--format", "json", now=DEMO_AT)
        assert r.rc == 0, r.err
        active = [
            a["app_id"]
            for a in json.loads(
                imtui(db, platform, "apps", "list", "--status", "active", "--format", "json", now=DEMO_AT).out
            )
        ]
    finally:
        platform.stop()
    assert len(active) > BULK
    yield db, platform.store, platform.token_file, active
    drop_db(db)


@pytest.fixture
def world(fleet, tmp_path):
    """This test's own copy of the fleet and of the platform's store, and its platform process."""
    template, store, token_file, active = fleet
    db = clone_db(template, tmp_path)
    copy = tmp_path / "platform.sqlite"
    copy.write_bytes(Path(store).read_bytes())
    (tmp_path / "platform.token").write_text(token_file.read_text())
    (tmp_path / "platform.token").chmod(0o600)
    platform = Platform(tmp_path, store=copy, allow_faults=True).start()  # the drills below inject faults
    yield db, platform, active
    platform.kill()
    drop_db(db)


def assert_agrees(db: str, platform: Platform) -> None:
    """No app's status differs from the platform's, and nothing is left unsettled (`reconcile`
    in a process of its own, which first settles what a dead process left)."""
    r = imtui(db, platform, "reconcile", "--format", "json")
    assert r.rc == 0, r.err
    found = json.loads(r.out)
    assert found["drift"] == [], found["drift"][:5]
    TALLY["apps checked against the platform"] += found["checked"]
    assert query(db, "SELECT COUNT(*) FROM intents WHERE state = 'pending'") == [(0,)]


def assert_one_action_per_key(platform: Platform) -> None:
    log = platform.log()
    keys = Counter(e["key"] for e in log)
    assert max(keys.values(), default=1) == 1, keys.most_common(3)


def assert_intents_audited(db: str, since: str = HALT_AT) -> None:
    """Every intent is settled and its outcome is in the audit trail: a done intent by its halt
    (or by what recovery found), an abandoned or failed one by a refusal or recovery record."""
    intents = query(db, "SELECT key, app_id, state FROM intents")
    audit = query(db, "SELECT app_id, action, result FROM audit")
    by_app: dict[int, set[tuple[str, str]]] = {}
    for app_id, action, result in audit:
        by_app.setdefault(app_id, set()).add((action, result))
    for _, app_id, state in intents:
        seen = by_app.get(app_id, set())
        if state == "done":
            assert ("halt", "done") in seen or ("reactivate", "done") in seen, (app_id, seen)
        else:
            assert state in ("abandoned", "failed"), state
            assert ("recover", "refused") in seen or any(r == "refused" for _, r in seen), (app_id, seen)


# --- kill -9 of imtui at each phase --------------------------------------------------------------


@pytest.mark.parametrize("seed", KILL_SEEDS)
def test_sigkill_at_each_phase_then_the_next_start_settles_everything(world, seed):
    db, platform, active = world
    rng = random.Random(seed)
    phase = PHASES[seed % 3]
    bulk = seed % 2 == 0
    targets = rng.sample(active, BULK) if bulk else [rng.choice(active)]
    nth = {"before-call": 1, "after-confirm": rng.randint(1, len(targets)), "during-write": rng.randint(1, 2)}[phase]
    killed = imtui(db, platform, *halt_args(targets, f"kill {seed}"), now=HALT_AT, IMTUI_CRASH_AT=f"{phase}:{nth}")
    if killed.rc == -signal.SIGKILL:
        TALLY[f"imtui SIGKILLed at {phase} ({'bulk of 500' if bulk else 'one app'})"] += 1
    else:  # the n-th write never came: the halt finished by itself
        assert killed.rc == 0, killed.err
        TALLY["halts that finished before their crash point"] += 1

    # the next start settles what the killed process left behind: here `reconcile`, which then
    # compares every app with the platform
    assert_agrees(db, platform)
    assert_one_action_per_key(platform)
    assert_intents_audited(db)
    stops = Counter(e["app_id"] for e in platform.log() if e["action"] == "stop")
    assert all(stops[a] <= 1 for a in targets)  # no app was stopped twice
    status = dict(query(db, "SELECT app_id, status FROM apps"))
    halted = [a for a in targets if status[a] == "deactivated"]
    TALLY["apps halted by killed runs, recorded after recovery"] += len(halted)
    recovered = query(db, "SELECT COUNT(*) FROM audit WHERE action = 'recover'")[0][0]
    TALLY["intents settled by recovery"] += recovered
    if phase == "before-call" and killed.rc == -signal.SIGKILL:
        assert halted == [] and recovered == len(targets)  # nothing was asked; all abandoned
    if phase == "after-confirm" and killed.rc == -signal.SIGKILL:
        assert len(halted) >= nth  # what the platform confirmed is recorded


# --- the platform misbehaves ----------------------------------------------------------------------


def test_platform_killed_and_restarted_mid_bulk(world):
    db, platform, active = world
    targets = active[:300]
    platform.faults({"latency": 0.02})
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = start_exe(
            ["--db", db, "--now", HALT_AT, *halt_args(targets, "restart drill")],
            stdout=out,
            stderr=err,
            env=platform.env(),
        )
        assert wait_until(lambda: len(platform.log()) >= 40, timeout=60)  # the bulk is under way
        platform.kill()
        TALLY["platform killed mid-bulk"] += 1
        time.sleep(0.3)
        platform.start()
        platform.faults({"latency": 0.02})
        rc = proc.wait(timeout=120)
        out.seek(0)
        results = json.loads(out.read() or b"[]")
    assert rc in (0, 1)
    assert [r["app_id"] for r in results] == targets
    failed = [r for r in results if not r["ok"]]
    assert all("control plane" in r["error"] for r in failed)
    assert len(failed) < len(targets) - 40  # the rest of the bulk went on once it was back
    TALLY["apps refused while the platform was down"] += len(failed)
    assert_agrees(db, platform)
    assert_one_action_per_key(platform)


@pytest.mark.parametrize(
    "mode,after",
    [("fail", False), ("reset", False), ("drop", False), ("drop", True), ("slow", False), ("hang", True)],
)
def test_faulty_requests_give_clear_results_and_nothing_half_done(world, mode, after):
    db, platform, active = world
    targets = active[:60]
    plan = {"mode": mode, "rate": 0.3, "after": after, "seconds": 0.6}
    platform.faults({"latency": 0.0, "seed": 7, "faults": [plan]})
    r = imtui(db, platform, *halt_args(targets, f"{mode} drill"), now=HALT_AT, IMTUI_CONTROL_PLANE_TIMEOUT="0.3")
    TALLY[f"bulk halts under injected {mode}{' after acting' if after else ''} faults"] += 1
    assert r.rc in (0, 1), r.err
    assert "Traceback" not in r.err
    results = json.loads(r.out)
    assert [x["app_id"] for x in results] == targets
    for x in results:
        assert x["ok"] or "control plane" in x["error"], x
    platform.faults({})
    assert_agrees(db, platform)  # the next start settles whatever is unknown
    assert_one_action_per_key(platform)
    assert_intents_audited(db)


def test_a_dead_platform_refuses_clearly_and_changes_nothing(world):
    db, platform, active = world
    platform.kill()
    targets = active[:40]
    r = imtui(db, platform, *halt_args(targets, "dead platform"), now=HALT_AT, IMTUI_CONTROL_PLANE_TIMEOUT="0.3")
    assert r.rc == 1
    results = json.loads(r.out)
    assert not any(x["ok"] for x in results)
    assert all("control plane" in x["error"] for x in results)
    platform.start()
    status = dict(query(db, "SELECT app_id, status FROM apps"))
    assert all(status[a] == "active" for a in targets)
    assert_agrees(db, platform)


# --- the token ------------------------------------------------------------------------------------


def test_requests_without_or_with_a_wrong_token_are_refused_and_change_nothing(world):
    db, platform, active = world
    app = active[0]
    before = (platform.stopped(), len(platform.log()))
    for token in (None, "wrong", ""):
        if token == "":
            continue
        status, body = platform.request("POST", f"/v1/apps/{app}/stop", token=token, headers={"Idempotency-Key": "k1"})
        assert status == 401 and "token" in body["error"]
        TALLY["requests refused for their token"] += 1
    assert (platform.stopped(), len(platform.log())) == before

    r = imtui(db, platform, *halt_args([app], "wrong token"), now=HALT_AT, IMTUI_CONTROL_PLANE_TOKEN="wrong")
    assert r.rc == 1
    [result] = json.loads(r.out)
    assert not result["ok"] and "token" in result["error"]
    assert (platform.stopped(), len(platform.log())) == before
    assert_agrees(db, platform)


def test_a_token_file_others_can_read_is_refused(world, tmp_path):
    db, platform, _ = world
    loose = tmp_path / "loose.token"
    loose.write_text(platform.token)
    loose.chmod(0o644)
    r = imtui(db, platform, "reconcile", IMTUI_CONTROL_PLANE_TOKEN_FILE=str(loose))
    assert r.rc == 2 and "chmod 600" in r.err
    assert owner_only(platform.token_file)
    served = subprocess.run(
        [
            str(IMTUI_EXE),
            "control-plane",
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--token-file",
            str(loose),
            "--store",
            str(tmp_path / "s.sqlite"),
        ],
        capture_output=True,
        text=True,
        env=clean_env(),
        timeout=30,
    )
    assert served.returncode == 2 and "chmod 600" in served.stderr


# --- drift ----------------------------------------------------------------------------------------


def test_another_writer_flips_apps_reconcile_finds_and_fix_repairs_them(world):
    db, platform, active = world
    halted = active[0]
    imtui(db, platform, *halt_args([halted], "drift drill"), now=HALT_AT).ok()
    running = active[1]
    platform.flip(halted, "start", "other-tool-1")
    platform.flip(running, "stop", "other-tool-2")
    TALLY["apps flipped behind imtui's back"] += 2

    found = json.loads(imtui(db, platform, "reconcile", "--format", "json").ok().out)
    assert {(d["app_id"], d["platform"], d["fix"]) for d in found["drift"]} == {
        (halted, "serving", "stop"),
        (running, "stopped", "start"),
    }
    fixed = json.loads(imtui(db, platform, "reconcile", "--fix", "--format", "json").ok().out)
    assert all(d["fixed"] for d in fixed["drift"])
    TALLY["drifted apps found and fixed"] += len(fixed["drift"])
    assert halted in platform.stopped() and running not in platform.stopped()
    trail = json.loads(imtui(db, platform, "audit", "--format", "json").ok().out)
    fixes = [e for e in trail if e["action"] == "reconcile" and e["at"] > HALT_AT]  # not the fleet's setup
    assert {e["app_id"] for e in fixes} == {halted, running} and all(e["result"] == "done" for e in fixes)
    assert_agrees(db, platform)
