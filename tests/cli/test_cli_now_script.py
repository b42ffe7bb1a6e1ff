"""A drill script as runbooks write them: one `imtui` process per step on one database, each at
an exact `--now`. A subcommand acts at exactly its `--now` instant, so steps may repeat an instant,
and the two rules exact instants make visible hold: an operation at 00:00 belongs wholly to its
day, and an explicit value equal to an edition change's automatic rise is part of that change."""

from __future__ import annotations

from tests.support.cli import FIRST, run_exe


def step(db: str, now: str, *args: str, fmt: bool = True):
    r = run_exe(["--db", db, "--now", now, *args, *(("--format", "json") if fmt else ())])
    assert r.rc == 0, r
    return r.json if fmt else r


def test_two_processes_at_the_same_now_both_act_at_exactly_that_instant(db):
    now = "2026-11-02T09:00:00+08:00"
    a = step(db, now, "apps", "create", "a", "--account", "acme")
    b = step(db, now, "apps", "create", "b", "--account", "acme")
    assert (a["created_at"], b["created_at"]) == (now, now)
    trail = step(db, now, "audit")
    assert [e["at"] for e in trail] == [now, now]
    # the database's latest instant is exactly `now`: a step one microsecond earlier is refused
    r = run_exe(["--db", db, "--now", "2026-11-02T08:59:59.999999+08:00", "apps", "create", "c", "--account", "acme"])
    assert r.rc == 3 and "cannot be back-dated" in r.one_line_error()


def test_operations_at_midnight_belong_wholly_to_their_day(db):
    step(db, "2026-11-02T09:00:00+08:00", "apps", "create", "a", "--account", "acme")
    step(
        db,
        "2026-11-16T10:00:00+08:00",
        "apps",
        "upgrade",
        str(FIRST),
        "--edition",
        "pro",
        "--members-per-group",
        "2000",
    )
    # lowered at 00:00 on the 11th: the 11th is billed at the new (free) setting
    step(db, "2026-12-11T00:00:00+08:00", "apps", "modify", str(FIRST), "--members-per-group", "200")
    # halted at 00:00 on the 21st: the 21st is not billed
    step(db, "2026-12-21T00:00:00+08:00", "apps", "halt", str(FIRST), "--reason", "drill", "--yes")
    bill = step(db, "2027-01-05T00:00:00+08:00", "bills", "--month", "2026-12")
    (app,) = bill["accounts"][0]["apps"]
    assert app["lines"] == [
        {"item": "edition", "setting": "pro", "days": 20, "amount": "290.32"},  # 449.99 × 20 / 31
        {"item": "members_per_group", "setting": "2000", "days": 10, "amount": "77.42"},  # 239.99 × 10 / 31
    ]


def test_an_explicit_value_equal_to_the_automatic_rise_is_part_of_the_edition_change(db):
    step(db, "2026-11-02T09:00:00+08:00", "apps", "create", "b", "--account", "acme")
    step(db, "2026-11-16T10:00:00+08:00", "apps", "upgrade", str(FIRST), "--edition", "pro", "--history-days", "30")
    step(
        db, "2026-12-02T10:00:00+08:00", "apps", "modify", str(FIRST), "--history-days", "7"
    )  # history's change of December
    app = step(
        db, "2026-12-03T10:00:00+08:00", "apps", "modify", str(FIRST), "--edition", "flagship", "--history-days", "30"
    )
    assert (app["edition"], app["history_days"]) == ("flagship", 30)
    assert app["locked_items"] == ["edition", "history_days"]  # the rises used no monthly change
    # a real change of history this month is still refused
    r = run_exe(
        ["--db", db, "--now", "2026-12-04T10:00:00+08:00", "apps", "modify", str(FIRST), "--history-days", "90"]
    )
    assert r.rc == 3 and "history_days was already changed on 2026-12-02" in r.one_line_error()


def test_version(tmp_path):
    r = run_exe(["--version"])
    assert r.rc == 0 and r.out.startswith("imtui ") and r.out.split()[1][0].isdigit()
