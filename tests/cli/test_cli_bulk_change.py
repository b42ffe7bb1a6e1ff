"""`apps upgrade APP_ID...` / `apps modify APP_ID...` as bulk operations (cli.md), and the
guardrail `--max-monthly-delta` (signals.md §6).

Several IDs: a result per app, every app tried, exit 0 only when all succeeded, else the code of
the first app that failed in the order given; `--format json` an array of {app_id, ok, error}.
One ID: the app as before ("nothing to change" on standard error). The guardrail refuses a
request whose monthly price rises by more than AMOUNT summed over its apps: exit 3, nothing
changed, audited as a refusal, the rise stated."""

from __future__ import annotations

import pytest

from imtui.domain.changes import MODIFY, ChangeRequest
from imtui.services.changes import ChangeService
from tests.support.cli import APP_KEYS, BULK_KEYS, FIRST

A, B, C = str(FIRST), str(FIRST + 1), str(FIRST + 2)
UNKNOWN = "1400009999"
T0 = "2026-11-02T09:00:00+08:00"


@pytest.fixture
def trials(cli):
    """Three trial apps (a, b in acme; c in globex)."""
    cli.create("a", "acme", now=T0)
    cli.create("b", "acme")
    cli.create("c", "globex")
    return cli


@pytest.fixture
def pros(trials):
    """The three apps upgraded to pro; b's history retention already changed this month (30)."""
    trials.run("apps", "upgrade", A, C, "--edition", "pro").ok()
    trials.run("apps", "upgrade", B, "--edition", "pro", "--history-days", "30").ok()
    return trials


def packages(cli) -> dict[int, tuple]:
    return {
        a["app_id"]: (a["edition"], a["live_groups"], a["groups_per_user"], a["members_per_group"], a["history_days"])
        for a in cli.list()
    }


# --- several IDs: one bulk operation ---------------------------------------------------------------


def test_bulk_upgrade_json_one_result_per_app_in_order(trials):
    r = trials.run("apps", "upgrade", C, A, B, "--edition", "pro", "--members-per-group", "2000", "--format", "json")
    assert r.rc == 0, r
    assert r.json == [{"app_id": int(x), "ok": True, "error": None} for x in (C, A, B)]
    assert all(list(x) == BULK_KEYS for x in r.json)
    assert set(packages(trials).values()) == {("pro", 50, 500, 2000, 7)}
    done = [e for e in trials.audit() if e["action"] == "upgrade"]
    assert sorted(e["app_id"] for e in done) == [FIRST, FIRST + 1, FIRST + 2]
    assert all(e["result"] == "done" and "trial → pro" in e["detail"] for e in done)


def test_bulk_modify_every_app_tried_exit_code_of_the_first_failure(pros):
    """b's history is locked this month (3), the unknown app does not exist (4): the first
    failure in the order given decides the exit code; a and c are modified all the same."""
    before = pros.audit()
    r = pros.run("apps", "modify", A, B, UNKNOWN, C, "--history-days", "90", "--format", "json")
    assert r.rc == 3, r
    res = r.json
    assert [x["app_id"] for x in res] == [FIRST, FIRST + 1, 1400009999, FIRST + 2]
    assert [x["ok"] for x in res] == [True, False, False, True]
    assert "history_days was already changed" in res[1]["error"] and "2026-12-01" in res[1]["error"]
    assert res[2]["error"] == f"no app {UNKNOWN}"
    assert {k: v[4] for k, v in packages(pros).items()} == {FIRST: 90, FIRST + 1: 30, FIRST + 2: 90}
    new = pros.audit()[: len(pros.audit()) - len(before)]
    assert sorted((e["app_id"], e["result"]) for e in new) == [
        (FIRST, "done"),
        (FIRST + 1, "refused"),
        (FIRST + 2, "done"),
        (1400009999, "refused"),
    ]
    # the errors also reach standard error, one plain line each
    assert "Traceback" not in r.err
    assert [ln for ln in r.lines()] == [res[1]["error"], res[2]["error"]]

    r = pros.run("apps", "modify", UNKNOWN, B, "--history-days", "180")
    assert r.rc == 4  # the unknown app comes first this time


def test_bulk_modify_table_and_csv(pros):
    pros.at("2026-12-01T09:00:00+08:00")  # the upgrade used November's change of every package item
    r = pros.run("apps", "modify", A, B, "--groups-per-user", "1000")
    assert r.rc == 0, r
    assert r.out.splitlines() == [f"app {A}: done", f"app {B}: done"]
    r = pros.run("apps", "modify", A, B, C, "--groups-per-user", "1000", "--format", "csv")
    assert r.rc == 0, r  # a and b already have 1000: nothing to change is not a failure
    assert r.out.splitlines() == ["app_id,ok,error", f"{A},true,", f"{B},true,", f"{C},true,"]
    r = pros.run("apps", "modify", A, B, "--groups-per-user", "1000")
    assert r.out.splitlines() == [f"app {A}: nothing to change", f"app {B}: nothing to change"]
    assert r.rc == 0


def test_bulk_a_trial_app_among_pro_apps_is_refused_alone(pros):
    pros.create("d", "acme")
    D = str(FIRST + 3)
    r = pros.run("apps", "modify", D, A, "--history-days", "180", "--format", "json")
    assert r.rc == 3
    assert [x["ok"] for x in r.json] == [False, True]
    assert "trial" in r.json[0]["error"]
    assert packages(pros)[FIRST][4] == 180


def test_an_id_given_twice_is_changed_once_and_reported_each_time(pros):
    r = pros.run("apps", "modify", A, A, "--history-days", "90", "--format", "json")
    assert r.rc == 0, r
    assert r.json == [{"app_id": FIRST, "ok": True, "error": None}] * 2
    assert [e["action"] for e in pros.audit("--app", A)].count("modify") == 1


def test_bulk_read_only_is_refused_whole(pros):
    r = pros.run("apps", "modify", A, C, "--history-days", "90", globals_=("--read-only",))
    assert r.rc == 3
    assert "read-only" in r.one_line_error()
    assert r.out == ""


# --- one ID: today's output -----------------------------------------------------------------------


def test_one_id_prints_the_app(trials):
    r = trials.run("apps", "upgrade", A, "--edition", "flagship", "--format", "json")
    assert r.rc == 0 and r.err == ""
    assert list(r.json) == APP_KEYS and r.json["edition"] == "flagship"
    r = trials.run("apps", "modify", A, "--history-days", "30")
    assert r.rc == 0
    assert r.out.splitlines()[0].split() == ["app_id", A]
    assert r.lines() == [f"app {A}: nothing to change"]


def test_one_id_refused_is_one_line_with_its_code(pros):
    r = pros.run("apps", "modify", B, "--history-days", "90")
    assert r.rc == 3
    assert r.one_line_error().startswith(f"app {B}: history_days was already changed on 2026-11-")
    assert r.out == ""
    r = pros.run("apps", "upgrade", UNKNOWN, "--edition", "pro")
    assert r.rc == 4
    assert r.one_line_error() == f"no app {UNKNOWN}"


# --- the guardrail ----------------------------------------------------------------------------------


def test_guardrail_refuses_a_rise_above_the_amount_and_changes_nothing(trials):
    """Two flagship upgrades raise the monthly price by 2 × 899.99 = 1,799.98 > 1,000.00."""
    before, trail = packages(trials), trials.audit()
    r = trials.run("apps", "upgrade", A, B, "--edition", "flagship", "--max-monthly-delta", "1000", "--format", "json")
    assert r.rc == 3
    assert r.one_line_error() == (
        "the monthly price would rise by 1,799.98, more than --max-monthly-delta 1,000.00; nothing changed"
    )
    assert r.out == ""
    assert packages(trials) == before
    new = trials.audit()[: len(trials.audit()) - len(trail)]
    assert sorted((e["action"], e["app_id"], e["result"]) for e in new) == [
        ("upgrade", FIRST, "refused"),
        ("upgrade", FIRST + 1, "refused"),
    ]
    assert all("1,799.98" in e["detail"] and "--max-monthly-delta 1,000.00" in e["detail"] for e in new)


def test_guardrail_one_app_and_the_amount_exactly_reached(trials):
    r = trials.run("apps", "upgrade", A, "--edition", "pro", "--max-monthly-delta", "449.98")
    assert r.rc == 3
    assert "rise by 449.99, more than --max-monthly-delta 449.98" in r.one_line_error()
    r = trials.run("apps", "upgrade", A, "--edition", "pro", "--max-monthly-delta", "449.99", "--format", "json")
    assert r.rc == 0, r  # a rise of exactly AMOUNT is allowed
    assert r.json["edition"] == "pro"


def test_guardrail_sums_only_the_apps_that_would_change(pros):
    """b is locked (refused anyway) and a already has 90 days: only c's rise counts (179.99 − 0)."""
    pros.run("apps", "modify", A, "--history-days", "90").ok()
    r = pros.run("apps", "modify", A, B, C, "--history-days", "90", "--max-monthly-delta", "179.99", "--format", "json")
    assert r.rc == 3  # b's own refusal
    assert [x["ok"] for x in r.json] == [True, False, True]
    assert packages(pros)[FIRST + 2][4] == 90


def test_guardrail_the_rise_is_net_a_lowering_offsets_a_rise(pros):
    """Decision: the rise is the net sum. In December a (90 days) → 30 saves 80.00 while c
    (7 days) → 30 adds 99.99: the request rises by 19.99, not 99.99."""
    pros.run("apps", "modify", A, "--history-days", "90").ok()
    pros.at("2026-12-01T09:00:00+08:00")
    r = pros.run("apps", "modify", A, C, "--history-days", "30", "--max-monthly-delta", "19.98")
    assert r.rc == 3
    assert r.one_line_error() == (
        "the monthly price would rise by 19.99, more than --max-monthly-delta 19.98; nothing changed"
    )
    r = pros.run("apps", "modify", A, C, "--history-days", "30", "--max-monthly-delta", "19.99")
    assert r.rc == 0, r
    assert {k: v[4] for k, v in packages(pros).items()} == {FIRST: 30, FIRST + 1: 30, FIRST + 2: 30}


def test_guardrail_lowering_always_passes_even_at_zero(cli):
    cli.create("a", "acme", now="2026-11-02T09:00:00+08:00")
    cli.run("apps", "upgrade", A, "--edition", "pro", "--history-days", "360").ok()
    r = cli.run("apps", "modify", A, "--history-days", "7", "--max-monthly-delta", "0", now="2026-12-01T09:00:00+08:00")
    assert r.rc == 0, r
    assert cli.show(FIRST)["history_days"] == 7


@pytest.mark.parametrize(
    "amount", ["-1", "-0.01", "abc", "1.234", "1,000", "1e3", "nan", "inf", "", " ", "0x10", "１０"]
)
def test_guardrail_invalid_amount_exits_2(trials, amount):
    r = trials.run("apps", "upgrade", A, "--edition", "pro", f"--max-monthly-delta={amount}")
    assert r.rc == 2, r
    assert "--max-monthly-delta" in r.one_line_error()
    assert packages(trials)[FIRST][0] == "trial"


def test_guardrail_changes_apps_only_as_they_were_judged(pros, monkeypatch):
    """Someone else changes c between the guardrail's look and the change: c is refused as a
    conflict (exit 5) instead of being changed on a package the guardrail never priced."""
    judge = ChangeService.dry_run

    async def judged_then_raced(self, kind, app_ids, request, limit=None):
        found = await judge(self, kind, app_ids, request, limit)
        await self._change(MODIFY, FIRST + 2, ChangeRequest(members_per_group=2000), None)  # the other writer
        return found

    monkeypatch.setattr(ChangeService, "dry_run", judged_then_raced)
    pros.at("2026-12-01T09:00:00+08:00")
    r = pros.run("apps", "modify", A, C, "--groups-per-user", "1000", "--max-monthly-delta", "1000", "--format", "json")
    assert r.rc == 5, r
    assert [x["ok"] for x in r.json] == [True, False]
    assert r.json[1]["error"].startswith(f"app {C} was changed by ") and "--max-monthly-delta" in r.json[1]["error"]
    assert packages(pros)[FIRST + 2][2] == 500
