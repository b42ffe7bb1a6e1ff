"""`imtui check` (signals.md §2, cli.md): every kind of signal from a real database, one process per
step at exact `--now` instants; the JSON, CSV and table shapes, `--fail-on` and exit 6, `--account`,
the thresholds per run; drift with a platform apart from imtui, and without it reachable."""

from __future__ import annotations

import csv
import io
import json

import pytest

from tests.support.cli import FIRST, run_exe
from tests.support.dbs import clone_db, drop_db, migrated_db_url
from tests.support.platform import Platform

SIGNAL_KEYS = ["key", "kind", "severity", "subject", "since", "figures", "text"]
NOV20 = "2026-11-20T12:00:00+08:00"
A, B, C = FIRST, FIRST + 1, FIRST + 2
"""acme's pro apps `a` and `b`, beta's app `c` (halted on 1 October: purged 30 December 10:00)."""


def step(db: str, now: str, *args: str, env: dict | None = None, read_only: bool = False):
    return run_exe(["--now", now, *(["--read-only"] if read_only else []), *args], env={"IMTUI_DB": db, **(env or {})})


def check(db: str, now: str, *args: str, code: int | None = None, **kw) -> dict:
    r = step(db, now, "check", *args, "--format", "json", **kw)
    if code is not None:
        assert r.rc == code, r
    assert r.rc in (0, 6), r
    return r.json


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("check")
    db = migrated_db_url(tmp)
    step(db, "2026-10-01T09:00:00+08:00", "apps", "create", "a", "--account", "acme").ok()
    step(db, "2026-10-01T09:00:00+08:00", "apps", "create", "b", "--account", "acme").ok()
    step(db, "2026-10-01T09:00:00+08:00", "apps", "create", "c", "--account", "beta").ok()
    step(db, "2026-10-01T10:00:00+08:00", "apps", "upgrade", str(A), "--edition", "pro").ok()
    step(db, "2026-10-01T10:00:00+08:00", "apps", "upgrade", str(B), "--edition", "pro").ok()
    step(db, "2026-10-01T10:00:00+08:00", "apps", "halt", str(C), "--reason", "unused", "--yes").ok()
    rows = ["date,app_id,dau,groups,live_groups,max_groups_per_user,max_members_per_group"]
    for d in range(1, 21):
        # a: 5,000 a day, 23,456 on the 20th (2 DAU blocks, a spike); at its 200 members per group on the 15th
        rows.append(f"2026-11-{d:02d},{A},{5000 if d < 20 else 23456},90000,10,100,{200 if d == 15 else 150}")
        # b: 1,000 a day, 3,500 on the 20th (a spike: 3.5 × and 2,500 above)
        rows.append(f"2026-11-{d:02d},{B},{1000 if d < 20 else 3500},10,1,2,3")
    path = tmp / "november.csv"
    path.write_text("\n".join(rows) + "\n")
    step(db, NOV20, "usage", "import", str(path)).ok()
    yield db
    drop_db(db)


@pytest.fixture
def fleet(template, tmp_path):
    db = clone_db(template, tmp_path)
    yield db
    drop_db(db)


def test_every_usage_signal_with_its_key_since_and_figures(fleet):
    out = check(fleet, NOV20, code=6)
    assert list(out) == ["at", "signals"] and out["at"] == NOV20
    signals = out["signals"]
    assert all(list(s) == SIGNAL_KEYS for s in signals)
    assert [(s["key"], s["severity"], s["since"]) for s in signals] == [
        (f"limit_reached:{A}", "critical", "2026-11-15T00:00:00+08:00"),
        (f"overage_started:{A}:2026-11", "warning", "2026-11-20T00:00:00+08:00"),
        (f"usage_spike:{A}", "warning", "2026-11-20T00:00:00+08:00"),
        (f"usage_spike:{B}", "warning", "2026-11-20T00:00:00+08:00"),
    ]
    limit, overage, spike_a, spike_b = signals
    assert limit["subject"] == {"app_id": A} and limit["kind"] == "limit_reached"
    assert limit["figures"] == {
        "item": "members_per_group",
        "peak": 200,
        "allowance": 200,
        "use_pct": 100,
        "items": ["members_per_group"],
    }
    assert limit["text"].startswith(f"App {A} (a, account acme) is at its members per group limit")
    assert overage["figures"] == {
        "month": "2026-11",
        "blocks": 2,
        "dau_peak": 23456,
        "dau_blocks": 2,
        "groups_peak": 90000,
        "groups_blocks": 0,
        "amount": "899.98",
    }
    assert spike_b["figures"] == {"day": "2026-11-20", "dau": 3500, "median": 1000, "ratio": "3.50", "days": 7}
    # the day at the limit leaves the 7 days' window after the 21st; a spike is a spike of the
    # latest recorded day while that is one of the last 7 days; the overage stays all month
    keys = lambda now: [s["key"] for s in check(fleet, now)["signals"]]  # noqa: E731
    assert keys("2026-11-21T23:59:59+08:00")[0] == f"limit_reached:{A}"
    assert keys("2026-11-22T00:00:00+08:00") == [f"overage_started:{A}:2026-11", f"usage_spike:{A}", f"usage_spike:{B}"]
    assert keys("2026-11-27T00:00:00+08:00") == [f"overage_started:{A}:2026-11"]


def test_fail_on_and_account_scope(fleet):
    assert step(fleet, NOV20, "check", "--fail-on", "never").rc == 0
    assert step(fleet, NOV20, "check", "--fail-on", "warning").rc == 6
    assert step(fleet, "2026-11-23T00:00:00+08:00", "check").rc == 0  # warnings only: under critical
    assert step(fleet, "2026-11-23T00:00:00+08:00", "check", "--fail-on", "warning").rc == 6
    assert step(fleet, "2026-12-01T00:00:00+08:00", "check", "--fail-on", "warning").rc == 0  # nothing in December
    assert check(fleet, NOV20, "--account", "beta", code=0)["signals"] == []
    assert len(check(fleet, NOV20, "--account", "acme", code=6)["signals"]) == 4
    r = step(fleet, NOV20, "check", "--account", "nobody")
    assert r.rc == 4 and "no account named 'nobody'" in r.one_line_error() and r.out == ""


def test_purge_soon_and_the_thresholds_of_a_run(fleet):
    # c was halted at 2026-10-01 10:00 and is purged at 2026-12-30 10:00
    near = "2026-12-23T10:00:00+08:00"
    just_before = "2026-12-23T09:59:59+08:00"
    assert check(fleet, just_before, "--account", "beta", code=0)["signals"] == []
    (purge,) = check(fleet, near, "--account", "beta", code=6)["signals"]
    assert (purge["key"], purge["severity"], purge["since"]) == (f"purge_soon:{C}", "critical", near)
    assert purge["figures"] == {"deactivated_at": "2026-10-01T10:00:00+08:00", "purge_at": "2026-12-30T10:00:00+08:00"}
    assert purge["text"].endswith(f"To keep it: imtui apps reactivate {C}")
    (wide,) = check(fleet, NOV20, "--account", "beta", "--purge-days", "90")["signals"]
    assert wide["since"] == "2026-10-01T10:00:00+08:00"  # the window opened before the halt
    # thresholds change the spikes too
    keys = [s["key"] for s in check(fleet, NOV20, "--spike-ratio", "4")["signals"]]
    assert f"usage_spike:{A}" in keys and f"usage_spike:{B}" not in keys  # 4.69 × and 3.5 ×
    keys = [s["key"] for s in check(fleet, NOV20, "--spike-min", "2501")["signals"]]
    assert f"usage_spike:{A}" in keys and f"usage_spike:{B}" not in keys  # 2,500 above is not 2,501
    for bad in (("--spike-ratio", "0.5"), ("--spike-min", "x"), ("--purge-days", "0"), ("--fail-on", "info")):
        r = step(fleet, NOV20, "check", *bad)
        assert r.rc == 2 and r.out == "", (bad, r)


def test_budget_signals_through_check(fleet):
    step(fleet, NOV20, "budgets", "set", "acme", "100").ok()  # acme's November is well over 100
    step(fleet, NOV20, "budgets", "set", "--fleet", "100000", "--warn-at", "1").ok()
    out = check(fleet, NOV20, code=6)["signals"]
    budgets = [s for s in out if s["kind"].startswith("budget")]
    assert [(s["key"], s["subject"]) for s in budgets] == [
        ("budget_over:acme:2026-11", {"account": "acme"}),
        ("budget_warning:fleet:2026-11", {"fleet": True}),
    ]
    over = budgets[0]
    # two pro apps cost 2 × 449.99 / 30 a day: 90.00 through the 3rd, 120.00 through the 4th
    assert over["since"] == "2026-11-04T00:00:00+08:00"
    bill = json.loads(step(fleet, NOV20, "bills", "--account", "acme", "--format", "json").ok().out)
    assert over["figures"]["month_to_date"] == bill["total"]
    assert over["figures"]["projected"] == bill["projected_total"]
    assert [s["kind"] for s in check(fleet, NOV20, "--account", "acme")["signals"]][0] == "budget_over"
    assert not any(s["kind"].startswith("budget") for s in check(fleet, NOV20, "--account", "beta")["signals"])


def test_csv_and_table(fleet):
    r = step(fleet, NOV20, "check", "--format", "csv")
    assert r.rc == 6
    rows = list(csv.DictReader(io.StringIO(r.out)))
    assert list(rows[0]) == ["key", "kind", "severity", "app_id", "account", "fleet", "since", "figures", "text"]
    assert rows[0]["key"] == f"limit_reached:{A}" and rows[0]["account"] == "acme" and rows[0]["fleet"] == "false"
    assert json.loads(rows[1]["figures"])["amount"] == "899.98"
    table = step(fleet, NOV20, "check").out.splitlines()
    assert table[0].split() == ["severity", "kind", "subject", "since", "text"]
    assert table[1].startswith("critical  limit_reached") and f"app {A}" in table[1]
    assert step(fleet, NOV20, "check", "--account", "beta").out.strip() == "no signals"


def test_an_intent_waiting_more_than_10_minutes(fleet):
    halted_at = "2026-11-20T13:00:00+08:00"
    killed = step(
        fleet, halted_at, "apps", "halt", str(B), "--reason", "x", "--yes", env={"IMTUI_CRASH_AT": "before-call"}
    )
    assert killed.rc != 0  # killed after writing its intent, before asking the platform
    # a read-only run settles nothing: the intent stays pending
    assert check(fleet, "2026-11-20T13:10:00+08:00", "--account", "acme", read_only=True)["signals"][0]["kind"] != (
        "intent_stuck"
    )
    out = check(fleet, "2026-11-20T13:10:01+08:00", "--account", "acme", read_only=True, code=6)["signals"]
    stuck = [s for s in out if s["kind"] == "intent_stuck"]
    assert [(s["key"], s["since"]) for s in stuck] == [(f"intent_stuck:{B}", "2026-11-20T13:10:00+08:00")]
    assert stuck[0]["figures"]["action"] == "halt" and stuck[0]["figures"]["minutes"] == 10
    # any run that may write settles it (the embedded platform never received it): no longer stuck
    out = check(fleet, "2026-11-20T13:11:00+08:00", "--account", "acme")["signals"]
    assert not any(s["kind"] == "intent_stuck" for s in out)


def test_drift_with_a_platform_and_without_it_reachable(tmp_path):
    db = migrated_db_url(tmp_path)
    platform = Platform(tmp_path).start()
    now = "2026-11-02T09:00:00+08:00"
    try:
        env = platform.env(IMTUI_CONTROL_PLANE_TIMEOUT="0.5")
        first = json.loads(
            step(db, now, "apps", "create", "chat", "--account", "acme", "--format", "json", env=env).ok().out
        )
        step(
            db, now, "apps", "halt", str(first["app_id"]), "--reason", "x", "--yes", env=env
        ).ok()  # binds the database
        assert check(db, now, env=env, code=0)["signals"] == []
        platform.flip(first["app_id"], "start", "another-tool-1")  # served behind imtui's back
        later = "2026-11-02T10:00:00+08:00"
        (drift,) = check(db, later, env=env, code=6)["signals"]
        assert (drift["key"], drift["severity"]) == (f"drift:{first['app_id']}", "critical")
        assert drift["since"] == now  # imtui's status was set by the halt
        assert drift["figures"] == {"status": "deactivated", "platform": "serving", "fix": "stop"}
        platform.kill()
        r = step(db, later, "check", "--format", "json", env=env)
        assert r.rc == 0, r  # drift left out, nothing else wrong
        assert json.loads(r.out)["signals"] == []
        assert "Traceback" not in r.err and "note: drift was not checked" in r.err
        # without the control plane configured, drift is not asked at all (but the platform binding is said)
        r = step(db, later, "check", "--format", "json")
        assert r.rc == 0 and json.loads(r.out)["signals"] == []
    finally:
        platform.stop()


def test_a_limit_reached_for_months_is_so_since_its_first_day(db):
    """The chain of days at a limit is followed back month by month past the 14 days read at once;
    a gap of more than 7 days breaks it."""
    for app in ("a", "b"):
        step(db, "2026-09-01T09:00:00+08:00", "apps", "create", app, "--account", "acme").ok()
    step(db, "2026-09-01T10:00:00+08:00", "apps", "upgrade", str(A), "--edition", "pro").ok()
    step(db, "2026-09-01T10:00:00+08:00", "apps", "upgrade", str(B), "--edition", "pro").ok()
    header = "date,app_id,dau,groups,live_groups,max_groups_per_user,max_members_per_group\n"
    hits = {  # the days each app was at its 200 members per group
        A: {"2026-09": (5, 12, 19, 26), "2026-10": (3, 10, 17, 24, 31), "2026-11": (7, 14)},
        B: {"2026-09": (), "2026-10": (17, 24), "2026-11": (8, 14)},  # 24 Oct → 8 Nov: 15 days
    }
    ends = {"2026-09": "2026-09-30T20:00:00+08:00", "2026-10": "2026-10-31T20:00:00+08:00", "2026-11": NOV20}
    for month, last in (("2026-09", 30), ("2026-10", 31), ("2026-11", 20)):
        rows = [
            f"{month}-{d:02d},{app},10,10,1,1,{200 if d in hits[app][month] else 10}"
            for app in (A, B)
            for d in range(1, last + 1)
        ]
        r = run_exe(
            ["--now", ends[month], "usage", "import", "-"], env={"IMTUI_DB": db}, input=header + "\n".join(rows) + "\n"
        )
        assert r.rc == 0, r
    limits = {s["key"]: s["since"] for s in check(db, NOV20)["signals"] if s["kind"] == "limit_reached"}
    assert limits == {
        f"limit_reached:{A}": "2026-09-05T00:00:00+08:00",  # every hit at most 7 days after the one before
        f"limit_reached:{B}": "2026-11-08T00:00:00+08:00",
    }
