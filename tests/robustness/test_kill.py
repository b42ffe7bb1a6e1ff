"""SIGKILL in the middle of a bulk halt of ~450 apps, at a point chosen from a seed; then a new
process must find the database consistent and usable with no manual step."""

from __future__ import annotations

import random
import signal
import subprocess
import tempfile
import time
from collections import Counter
from datetime import datetime

import pytest

from tests.robustness.harness import TALLY, apps_list, audit, run
from tests.support.cli import start_exe
from tests.support.dbs import drop_db, fresh_db_url

SEEDS = [1, 2, 3, 4, 5]
"""Kill moments uniform in 0.2–3 s after the start (a ~450-app halt takes ~3.5 s: start-up, then
~29 rounds of 16 control-plane calls of 0.1 s, then the database write)."""
LATE_SEEDS = [11, 12, 13]
"""Kill moments around the end of a measured uninterrupted halt (its last 0.4 s, or just after):
the end of the control-plane calls, the database write and its commit."""
DEMO_AT = "2026-11-20T10:00:00+08:00"
HALT_AT = "2026-11-20T11:00:00+08:00"


def _done_halts_since(trail: list[dict], since: str, ids: set[int]) -> Counter:
    t0 = datetime.fromisoformat(since)
    return Counter(
        e["app_id"]
        for e in trail
        if e["action"] == "halt"
        and e["result"] == "done"
        and e["app_id"] in ids
        and datetime.fromisoformat(e["at"]) >= t0
    )


def _check_invariant(db: str, now_list: str, now_audit: str, ids: set[int]) -> list[int]:
    """Every targeted app is deactivated with exactly one `done` halt since HALT_AT, or active
    with none; returns the ones still active."""
    apps = {a["app_id"]: a for a in apps_list(db, now_list)}
    done = _done_halts_since(audit(db, now_audit), HALT_AT, ids)
    still_active = []
    for app_id in sorted(ids):
        status = apps[app_id]["status"]
        if status == "active":
            assert done[app_id] == 0, (app_id, done[app_id])
            assert apps[app_id]["deactivated_at"] is None and apps[app_id]["purge_at"] is None
            still_active.append(app_id)
        else:
            assert status == "deactivated", (app_id, status)
            assert done[app_id] == 1, (app_id, done[app_id])
            assert apps[app_id]["deactivated_at"] is not None and apps[app_id]["purge_at"] is not None
    return still_active


def _demo_targets(db: str, seed: int) -> list[int]:
    run(db, DEMO_AT, "demo", "--apps", "500", "--seed", str(seed)).ok()
    targets = [a["app_id"] for a in apps_list(db, "2026-11-20T10:30:00+08:00", "--status", "active")]
    assert len(targets) > 300
    return targets


def _start_halt(db: str, targets: list[int], reason: str, out, err):
    return start_exe(
        ["--db", db, "--now", HALT_AT, "apps", "halt", *map(str, targets), "--reason", reason, "--yes"],
        stdout=out,
        stderr=err,
    )


@pytest.fixture(scope="module")
def full_halt_seconds(tmp_path_factory) -> float:
    """How long an uninterrupted halt of a demo fleet's active apps takes here, start to exit."""
    db = fresh_db_url(tmp_path_factory.mktemp("calibrate"))
    try:
        targets = _demo_targets(db, 99)
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            started = time.monotonic()
            proc = _start_halt(db, targets, "calibration", out, err)
            assert proc.wait(timeout=120) == 0
            seconds = time.monotonic() - started
            TALLY["uninterrupted ~450-app halt, measured (ms)"] = round(seconds * 1000)
            return seconds
    finally:
        drop_db(db)


@pytest.mark.parametrize("seed,late", [(s, False) for s in SEEDS] + [(s, True) for s in LATE_SEEDS])
def test_sigkill_during_bulk_halt_leaves_every_app_all_or_nothing(db, seed, late, request):
    rng = random.Random(seed)
    if late:
        full = request.getfixturevalue("full_halt_seconds")
        delay = rng.uniform(max(full - 0.4, 0.2), full + 0.05)
    else:
        delay = rng.uniform(0.2, 3.0)
    targets = _demo_targets(db, seed)
    ids = set(targets)

    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = _start_halt(db, targets, f"kill drill {seed}", out, err)
        try:
            rc = proc.wait(timeout=delay)  # the fault's moment: a join with a timeout, not a sleep
            killed = False
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
            rc = proc.wait(timeout=30)
            killed = rc == -signal.SIGKILL  # not when it exited on its own just before the signal
        err.seek(0)
        stderr = err.read().decode("utf-8", "replace")
    if killed:
        assert rc == -signal.SIGKILL
        TALLY["SIGKILLs injected into a bulk halt"] += 1
    else:
        assert rc == 0, stderr
        TALLY["bulk halts that finished before their kill"] += 1

    # A new process: no recovery step, the invariant holds.
    still_active = _check_invariant(db, "2026-11-20T12:00:00+08:00", "2026-11-20T12:00:01+08:00", ids)
    TALLY["apps left halted by a killed bulk halt"] += len(ids) - len(still_active)
    TALLY["apps left active by a killed bulk halt"] += len(still_active)
    if not killed:
        assert still_active == []
        return
    if not still_active:  # killed after its commit: every app halted, nothing left to do
        TALLY["SIGKILLs that landed after the commit"] += 1
        return
    if len(still_active) < len(ids):
        TALLY["SIGKILLs that left a partly applied halt"] += 1

    # The rest can be halted by simply running the halt again.
    second = run(
        db,
        "2026-11-20T12:05:00+08:00",
        "apps",
        "halt",
        *map(str, still_active),
        "--reason",
        f"kill drill {seed}, second try",
        "--yes",
        "--format",
        "json",
    )
    second.ok()
    assert all(row["ok"] for row in second.json)
    assert _check_invariant(db, "2026-11-20T12:10:00+08:00", "2026-11-20T12:10:01+08:00", ids) == []
    bills = run(db, "2026-11-20T12:11:00+08:00", "bills", "--format", "json").ok().json
    assert bills["state"] == "open"
