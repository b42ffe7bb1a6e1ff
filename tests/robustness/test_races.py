"""Races between real `imtui` processes released at the same moment (2 and 10 of them), on the
database the suite runs on (SQLite, or PostgreSQL when IMTUI_TEST_DB_URL is set)."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from datetime import datetime

import pytest
from sqlalchemy import text

from imtui.persistence.engine import make_engine
from tests.robustness.harness import TALLY, apps_list, audit, launch_together, run

WRITERS = [2, 10]
CREATED = "2026-11-02T09:00:00+08:00"


def _g(db: str, now: str) -> list[str]:
    return ["--db", db, "--now", now]


def _no_lock_noise(results) -> None:
    for r in results:
        assert "database is locked" not in r.err and "database is locked" not in r.out, r.err
        assert "Traceback" not in r.err and "Traceback" not in r.out, r.err


def _create(db: str, n: int, account: str = "acme", start_minute: int = 0) -> list[int]:
    ids = []
    for i in range(n):
        now = f"2026-11-02T{9 + (start_minute + i) // 60:02d}:{(start_minute + i) % 60:02d}:00+08:00"
        ids.append(
            run(db, now, "apps", "create", f"app-{account}-{i}", "--account", account, "--format", "json")
            .ok()
            .json["app_id"]
        )
    return ids


# --- the same modify of the same item of the same app -------------------------------------------


@pytest.mark.parametrize("writers", WRITERS)
def test_same_modify_from_many_processes_changes_the_item_once(db, writers):
    (app_id,) = _create(db, 1)
    run(db, "2026-11-02T10:00:00+08:00", "apps", "upgrade", str(app_id), "--edition", "pro").ok()
    # December: November's changes are unlocked again; each writer a slightly different instant.
    argvs = [
        [*_g(db, f"2026-12-05T10:00:{i:02d}+08:00"), "apps", "modify", str(app_id), "--members-per-group", "2000"]
        for i in range(writers)
    ]
    results = launch_together(argvs)
    TALLY["concurrent writers: same modify"] += writers
    _no_lock_noise(results)

    changed = [r for r in results if r.rc == 0 and "nothing to change" not in r.err]
    unchanged = [r for r in results if r.rc == 0 and "nothing to change" in r.err]
    refused = [r for r in results if r.rc != 0]
    assert len(changed) == 1, [(r.rc, r.err) for r in results]
    for r in refused:
        assert r.rc in (3, 5), (r.rc, r.err)
        r.one_line_error()
        assert r.out == ""
    # A writer that saw the change already made asks for no change: by the spec that succeeds and
    # says "nothing to change" (it is not a second change).
    for r in unchanged:
        assert r.err.strip() == f"app {app_id}: nothing to change", r.err
    TALLY[f"same modify x{writers}: changed"] += len(changed)
    TALLY[f"same modify x{writers}: nothing to change (exit 0)"] += len(unchanged)
    TALLY[f"same modify x{writers}: refused/conflict (exit 3/5)"] += len(refused)

    shown = run(db, "2026-12-05T11:00:00+08:00", "apps", "show", str(app_id), "--format", "json").ok().json
    assert shown["members_per_group"] == 2000
    assert shown["locked_items"] == ["members_per_group"]
    trail = audit(db, "2026-12-05T11:00:01+08:00", "--app", str(app_id))
    modifies = [e for e in trail if e["action"] == "modify" and e["result"] == "done"]
    real = [e for e in modifies if e["detail"] != "nothing to change"]
    assert len(real) == 1, modifies
    assert "members_per_group" in real[0]["detail"] and "2000" in real[0]["detail"]
    assert len(modifies) - len(real) == len(unchanged)
    assert len([e for e in trail if e["action"] == "modify" and e["result"] == "refused"]) == len(refused)


# --- the same bulk halt of the same 20 apps ------------------------------------------------------


@pytest.mark.parametrize("writers", WRITERS)
def test_same_bulk_halt_from_many_processes_halts_each_app_once(db, writers):
    ids = _create(db, 20)
    argvs = [
        [
            *_g(db, f"2026-11-10T10:00:{i:02d}+08:00"),
            "apps",
            "halt",
            *map(str, ids),
            "--reason",
            f"race {i}",
            "--yes",
            "--format",
            "json",
        ]
        for i in range(writers)
    ]
    results = launch_together(argvs)
    TALLY["concurrent writers: same bulk halt"] += writers
    _no_lock_noise(results)

    winners: dict[int, int] = defaultdict(int)
    for r in results:
        assert r.rc in (0, 3, 5), (r.rc, r.err)
        rows = json.loads(r.out)
        assert [row["app_id"] for row in rows] == ids
        failed = [row for row in rows if not row["ok"]]
        assert r.rc == (0 if not failed else r.rc)
        if failed:
            assert r.rc in (3, 5)
        for row in rows:
            if row["ok"]:
                winners[row["app_id"]] += 1
            else:
                assert row["error"] and "\n" not in row["error"]
                assert "locked" not in row["error"] or "database" not in row["error"]
        # standard error: one sentence per refused app, nothing else
        assert r.err.splitlines() == [row["error"] for row in failed], r.err
    assert dict(winners) == {a: 1 for a in ids}, winners

    after = {a["app_id"]: a for a in apps_list(db, "2026-11-10T11:00:00+08:00")}
    assert all(after[a]["status"] == "deactivated" for a in ids)
    trail = audit(db, "2026-11-10T11:00:01+08:00")
    done = Counter(e["app_id"] for e in trail if e["action"] == "halt" and e["result"] == "done")
    assert done == Counter({a: 1 for a in ids})
    refused = [e for e in trail if e["action"] == "halt" and e["result"] == "refused"]
    assert len(refused) == 20 * (writers - 1)


# --- month close from many processes --------------------------------------------------------------


def _november_fleet(db: str) -> None:
    a = _create(db, 3, "acme")
    g = _create(db, 2, "globex", start_minute=10)
    _create(db, 1, "initech", start_minute=20)  # trial only: a bill of 0.00
    run(
        db, "2026-11-16T10:00:00+08:00", "apps", "upgrade", str(a[0]), "--edition", "pro", "--members-per-group", "2000"
    ).ok()
    run(db, "2026-11-16T10:01:00+08:00", "apps", "upgrade", str(a[1]), "--edition", "flagship").ok()
    run(db, "2026-11-16T10:02:00+08:00", "apps", "upgrade", str(g[0]), "--edition", "pro", "--history-days", "90").ok()
    run(db, "2026-11-20T10:00:00+08:00", "apps", "halt", str(g[0]), "--reason", "unpaid", "--yes").ok()


@pytest.mark.parametrize("writers", WRITERS)
def test_month_close_from_many_processes_issues_one_bill_per_account(db, writers):
    _november_fleet(db)
    argvs = [
        [*_g(db, f"2026-12-0{3 + i % 3}T00:00:{i:02d}+08:00"), "bills", "--month", "2026-11", "--format", "json"]
        for i in range(writers)
    ]
    results = launch_together(argvs)
    TALLY["concurrent writers: month close"] += writers
    _no_lock_noise(results)
    for r in results:
        assert r.rc == 0, (r.rc, r.err)
        assert r.err == ""
    bills = [r.json for r in results]
    first = bills[0]
    assert first["state"] == "issued" and first["month"] == "2026-11"
    assert first["total"] == first["projected_total"]
    assert first["total"] != "0.00"
    for b in bills[1:]:
        assert b == first  # same totals, same lines, same issued_at: one close, read by all
    accounts = [a["account"] for a in first["accounts"]]
    assert len(accounts) == len(set(accounts))
    again = run(db, "2026-12-05T10:00:00+08:00", "bills", "--month", "2026-11", "--format", "json").ok().json
    assert again == first

    closes = [
        e for e in audit(db, "2026-12-05T10:00:01+08:00") if e["action"] == "close_month" and "2026-11" in e["detail"]
    ]
    assert len(closes) == 1, closes
    assert closes[0]["result"] == "done"

    engine = make_engine(db)
    try:
        with engine.connect() as conn:
            per_account = conn.execute(
                text("SELECT account_id, COUNT(*) FROM bills WHERE month = '2026-11' GROUP BY account_id")
            ).all()
            n_accounts = conn.execute(text("SELECT COUNT(*) FROM accounts")).scalar_one()
            closes_rows = conn.execute(text("SELECT COUNT(*) FROM month_closes WHERE month = '2026-11'")).scalar_one()
    finally:
        engine.dispose()
    assert len(per_account) == n_accounts == 3
    assert all(count == 1 for _, count in per_account)
    assert closes_rows == 1


@pytest.mark.parametrize("writers", WRITERS)
def test_month_draft_from_many_processes_drafts_once(db, writers):
    """Released together on the 1st and the 2nd, every process sees one draft of November."""
    _november_fleet(db)
    argvs = [
        [*_g(db, f"2026-12-0{1 + i % 2}T00:00:{i:02d}+08:00"), "bills", "--month", "2026-11", "--format", "json"]
        for i in range(writers)
    ]
    results = launch_together(argvs)
    TALLY["concurrent writers: month draft"] += writers
    _no_lock_noise(results)
    for r in results:
        assert r.rc == 0, (r.rc, r.err)
    bills = [r.json for r in results]
    assert {(b["state"], b["issued_at"]) for b in bills} == {("draft", None)}
    assert all(b == bills[0] for b in bills)
    engine = make_engine(db)
    try:
        with engine.connect() as conn:
            drafts = conn.execute(text("SELECT COUNT(*) FROM month_drafts WHERE month = '2026-11'")).scalar_one()
            issued = conn.execute(text("SELECT COUNT(*) FROM bills WHERE month = '2026-11'")).scalar_one()
    finally:
        engine.dispose()
    assert (drafts, issued) == (1, 0)


# --- time only moves forward, also under concurrent bulk halts of different apps ---------------------


def test_concurrent_bulk_halts_never_back_date(db):
    """A slow bulk halt at an early instant must not commit after a quicker one at a later instant
    (`--now` differs per process): the spec refuses an operation earlier than the database's
    latest instant (exit 3), so the database's history never goes back in time.

    The slow halt (300 apps, ~19 rounds of control-plane calls) and the quick one (80 apps, ~5
    rounds) are released together, so the quick one commits while the slow one is still calling
    the control plane, after both have checked the latest instant."""
    run(db, "2026-11-10T09:00:00+08:00", "demo", "--apps", "500", "--seed", "7").ok()
    active = [a["app_id"] for a in apps_list(db, "2026-11-10T09:30:00+08:00", "--status", "active")]
    assert len(active) >= 380
    slow, quick = active[:300], active[300:380]
    results = launch_together(
        [
            [
                *_g(db, "2026-11-10T10:00:01+08:00"),
                "apps",
                "halt",
                *map(str, slow),
                "--reason",
                "slow",
                "--yes",
                "--format",
                "json",
            ],
            [
                *_g(db, "2026-11-10T10:05:00+08:00"),
                "apps",
                "halt",
                *map(str, quick),
                "--reason",
                "quick",
                "--yes",
                "--format",
                "json",
            ],
        ]
    )
    TALLY["concurrent writers: back-dating check"] += 2
    _no_lock_noise(results)
    for r in results:
        assert r.rc in (0, 3), (r.rc, r.err[:500])
    engine = make_engine(db)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT id, at FROM audit WHERE action = 'halt' AND result = 'done' "
                    "AND (detail LIKE '%reason: slow%' OR detail LIKE '%reason: quick%') ORDER BY id"
                )
            ).all()
    finally:
        engine.dispose()
    ats = [at if isinstance(at, datetime) else datetime.fromisoformat(str(at)) for _, at in rows]
    back = [(a, b) for a, b in zip(ats, ats[1:]) if b < a]
    assert not back, (
        "a bulk halt committed records at an instant earlier than one already committed "
        f"(commit order): {back[0][0]} then {back[0][1]}; exit codes {[r.rc for r in results]}"
    )


# --- the control plane agrees with the database after a lost race ---------------------------------


def test_losing_bulk_halt_leaves_the_service_stopped(db):
    """Two operators halt the same apps at the same moment, sharing one (simulated) control plane
    and one real database. The loser's deactivations are redundant; undoing them by *activating*
    the apps would restart the service of apps the database says are deactivated. For every app
    the control plane's last word must match the database: stopped."""
    import asyncio

    from imtui.bootstrap import open_services
    from imtui.clock import FixedClock
    from imtui.config import Settings
    from imtui.domain.calendar import parse_instant
    from imtui.services.control_plane import SimulatedControlPlane

    ids = _create(db, 8)
    plane = SimulatedControlPlane(latency=0.05)
    at = parse_instant("2026-11-10T10:00:00+08:00", "Asia/Shanghai")
    one = open_services(Settings(db=db), FixedClock(at), plane)
    two = open_services(Settings(db=db), FixedClock(at), plane)
    try:

        async def both():
            return await asyncio.gather(
                one.lifecycle.halt(ids, "operator one"), two.lifecycle.halt(ids, "operator two")
            )

        first, second = asyncio.run(both())
    finally:
        one.close()
        two.close()
    TALLY["concurrent writers: control-plane agreement"] += 2
    won = {r.app_id for r in first + second if r.ok}
    assert won == set(ids), [r.error for r in first + second][:2]
    after = {a["app_id"]: a["status"] for a in apps_list(db, "2026-11-10T11:00:00+08:00")}
    assert all(after[a] == "deactivated" for a in ids)
    last = {}
    for action, app_id in plane.calls:
        last[app_id] = action
    restarted = sorted(a for a in ids if last.get(a) != "deactivate")
    assert not restarted, (
        f"{len(restarted)} apps deactivated in the database but left running by the control plane "
        f"(the losing halt 'reverted' them with activate): {restarted}"
    )
