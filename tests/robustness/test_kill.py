"""SIGKILL in the middle of a bulk halt of ~450 apps, at a point chosen from a seed; then a new
process must find the database consistent and usable with no manual step."""

from __future__ import annotations

import random
import signal
import subprocess
import tempfile
from collections import Counter
from datetime import datetime

import pytest

from tests.robustness.harness import IMTUI_EXE, ROOT, TALLY, apps_list, audit, clean_env, run

SEEDS = [1, 2, 3, 4, 5]
DEMO_AT = "2026-11-20T10:00:00+08:00"
HALT_AT = "2026-11-20T11:00:00+08:00"


def _done_halts_since(trail: list[dict], since: str, ids: set[int]) -> Counter:
    t0 = datetime.fromisoformat(since)
    return Counter(
        e["app_id"] for e in trail
        if e["action"] == "halt" and e["result"] == "done" and e["app_id"] in ids
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


@pytest.mark.parametrize("seed", SEEDS)
def test_sigkill_during_bulk_halt_leaves_every_app_all_or_nothing(db, seed):
    rng = random.Random(seed)
    delay = rng.uniform(0.2, 3.0)
    run(db, DEMO_AT, "demo", "--apps", "500", "--seed", str(seed)).ok()
    targets = [a["app_id"] for a in apps_list(db, "2026-11-20T10:30:00+08:00", "--status", "active")]
    assert len(targets) > 300
    ids = set(targets)

    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(
            [str(IMTUI_EXE), "--db", db, "--now", HALT_AT, "apps", "halt", *map(str, targets),
             "--reason", f"kill drill {seed}", "--yes"],
            stdin=subprocess.DEVNULL, stdout=out, stderr=err, cwd=str(ROOT), env=clean_env(),
        )
        try:
            rc = proc.wait(timeout=delay)  # the fault's moment: a join with a timeout, not a sleep
            killed = False
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
            rc = proc.wait(timeout=30)
            killed = True
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

    # The rest can be halted by simply running the halt again.
    second = run(db, "2026-11-20T12:05:00+08:00", "apps", "halt", *map(str, still_active),
                 "--reason", f"kill drill {seed}, second try", "--yes", "--format", "json")
    second.ok()
    assert all(row["ok"] for row in second.json)
    assert _check_invariant(db, "2026-11-20T12:10:00+08:00", "2026-11-20T12:10:01+08:00", ids) == []
    bills = run(db, "2026-11-20T12:11:00+08:00", "bills", "--format", "json").ok().json
    assert bills["state"] == "open"
