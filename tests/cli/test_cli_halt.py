"""`apps halt` and `apps reactivate`: single and bulk, confirmation, read-only, purge after 90 days."""

from __future__ import annotations

import io
import sys

import pytest

from tests.support.cli import BULK_KEYS, FIRST, assert_instant, parse_local

A, B, C = str(FIRST), str(FIRST + 1), str(FIRST + 2)
UNKNOWN = "1400009999"


@pytest.fixture
def three(cli):
    cli.create("a", "acme", now="2026-11-02T09:00:00+08:00")
    cli.create("b", "acme")
    cli.create("c", "globex")
    cli.run("apps", "upgrade", B, "--edition", "pro", "--history-days", "90").ok()
    return cli


def test_halt_one_app(three):
    r = three.run("apps", "halt", A, "--reason", "abuse report under review", "--yes", now="2026-11-05T10:00:00+08:00")
    assert r.rc == 0
    assert r.out.strip() == f"app {A}: done"
    app = three.show(FIRST)
    assert app["status"] == "deactivated"
    assert_instant(app["deactivated_at"], "2026-11-05T10:00:0")
    assert_instant(app["purge_at"], "2027-02-03T10:00:0")
    entry = three.audit("--app", A, "--limit", "1")[0]
    assert (entry["action"], entry["result"], entry["app_id"]) == ("halt", "done", FIRST)
    assert "abuse report under review" in entry["detail"]


def test_bulk_halt_json(three):
    r = three.run("apps", "halt", A, B, C, "--reason", "security incident", "--yes", "--format", "json")
    assert r.rc == 0
    res = r.json
    assert res == [{"app_id": FIRST + i, "ok": True, "error": None} for i in range(3)]
    assert all(list(x) == BULK_KEYS for x in res)
    assert {a["status"] for a in three.list()} == {"deactivated"}


def test_bulk_halt_exit_code_of_first_failure_and_every_app_tried(three):
    three.run("apps", "halt", B, "--reason", "unpaid invoices", "--yes").ok()
    r = three.run("apps", "halt", A, B, UNKNOWN, C, "--reason", "security incident", "--yes", "--format", "json")
    assert r.rc == 3  # B (already deactivated) fails first
    res = r.json
    assert [x["app_id"] for x in res] == [FIRST, FIRST + 1, 1400009999, FIRST + 2]
    assert [x["ok"] for x in res] == [True, False, False, True]
    assert res[0]["error"] is None and res[3]["error"] is None
    assert str(FIRST + 1) in res[1]["error"] and "1400009999" in res[2]["error"]
    assert "Traceback" not in r.err
    assert [three.show(FIRST + i)["status"] for i in range(3)] == ["deactivated"] * 3
    refused = [e for e in three.audit() if e["result"] == "refused"]
    assert {e["app_id"] for e in refused} == {FIRST + 1, 1400009999}
    assert all(e["action"] == "halt" for e in refused)


def test_bulk_halt_unknown_first_exits_4(three):
    r = three.run("apps", "halt", UNKNOWN, A, "--reason", "project cancelled", "--yes", "--format", "json")
    assert r.rc == 4
    assert [x["ok"] for x in r.json] == [False, True]
    assert three.show(FIRST)["status"] == "deactivated"


def test_bulk_halt_table_reports_each_app(three):
    r = three.run("apps", "halt", A, UNKNOWN, "--reason", "project cancelled", "--yes")
    assert r.rc == 4
    lines = r.out.splitlines()
    assert lines[0] == f"app {A}: done"
    assert lines[1].startswith(f"app {UNKNOWN}:") and "done" not in lines[1]


def test_bulk_failure_in_table_format_is_also_reported_on_stderr(three):
    """cli.md: an error prints one plain sentence on standard error (whatever the format)."""
    r = three.run("apps", "halt", A, UNKNOWN, "--reason", "project cancelled", "--yes")
    assert r.rc == 4
    assert UNKNOWN in r.err
    assert "Traceback" not in r.err


def test_bulk_halt_csv(three):
    r = three.run("apps", "halt", A, UNKNOWN, "--reason", "project cancelled", "--yes", "--format", "csv")
    assert r.rc == 4
    lines = r.out.splitlines()
    assert lines[0] == "app_id,ok,error"
    assert lines[1] == f"{A},true,"
    assert lines[2].startswith(f"{UNKNOWN},false,")


def test_halt_without_yes_and_stdin_not_a_terminal_exits_2(three, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO("yes\n"))
    r = three.run("apps", "halt", A, "--reason", "project cancelled")
    assert r.rc == 2
    msg = r.one_line_error()
    assert "--yes" in msg
    assert three.show(FIRST)["status"] == "active"


def test_halt_needs_a_reason(three):
    r = three.run("apps", "halt", A, "--yes")
    assert r.rc == 2
    r.one_line_error()
    r = three.run("apps", "halt", A, "--reason", "  ", "--yes")
    assert r.rc == 2
    r.one_line_error()
    assert three.show(FIRST)["status"] == "active"


def test_halt_read_only_exits_3(three):
    r = three.run("apps", "halt", A, "--reason", "project cancelled", "--yes", globals_=("--read-only",))
    assert r.rc == 3
    assert "read-only" in r.one_line_error()
    assert three.show(FIRST)["status"] == "active"


def test_halt_malformed_id_exits_2(three):
    r = three.run("apps", "halt", A, "123", "--reason", "x", "--yes")
    assert r.rc == 2
    r.one_line_error()
    assert three.show(FIRST)["status"] == "active"


def test_reactivate_keeps_package_and_locks(three):
    before = three.show(FIRST + 1)
    three.run("apps", "halt", B, "--reason", "unpaid invoices", "--yes").ok()
    r = three.run("apps", "reactivate", B, "--format", "json")
    assert r.rc == 0
    assert r.json == [{"app_id": FIRST + 1, "ok": True, "error": None}]
    after = three.show(FIRST + 1)
    assert after == before  # same package, status active, no dates, same locks
    entry = three.audit("--limit", "1")[0]
    assert (entry["action"], entry["result"]) == ("reactivate", "done")


def test_reactivate_does_not_use_a_monthly_change(cli):
    cli.create("a", "acme", now="2026-11-02T09:00:00+08:00")
    cli.run("apps", "upgrade", A, "--edition", "pro").ok()
    cli.run("apps", "halt", A, "--reason", "unpaid invoices", "--yes", now="2026-12-03T09:00:00+08:00").ok()
    cli.run("apps", "reactivate", A).ok()
    assert cli.show(FIRST)["locked_items"] == []
    cli.run("apps", "modify", A, "--history-days", "30").ok()


def test_reactivate_an_active_app_exits_3(three):
    r = three.run("apps", "reactivate", A)
    assert r.rc == 3
    assert f"app {A}" in r.out
    r = three.run("apps", "reactivate", A, "--format", "json")
    assert r.rc == 3
    assert r.json[0]["ok"] is False and r.json[0]["error"]


def test_bulk_reactivate_mixed(three):
    three.run("apps", "halt", A, C, "--reason", "security incident", "--yes").ok()
    r = three.run("apps", "reactivate", A, B, UNKNOWN, C, "--format", "json")
    assert r.rc == 3
    assert [x["ok"] for x in r.json] == [True, False, False, True]
    assert [three.show(FIRST + i)["status"] for i in range(3)] == ["active"] * 3


def test_reactivate_read_only_exits_3(three):
    three.run("apps", "halt", A, "--reason", "security incident", "--yes").ok()
    r = three.run("apps", "reactivate", A, globals_=("--read-only",))
    assert r.rc == 3
    r.one_line_error()
    assert three.show(FIRST)["status"] == "deactivated"


def test_purge_after_90_days(three):
    three.run(
        "apps", "halt", A, "--reason", "customer asked to stop service", "--yes", now="2026-11-05T10:00:00+08:00"
    ).ok()
    purge_at = parse_local(three.show(FIRST)["purge_at"])
    # one minute before: still deactivated and reactivatable in principle
    app = three.show(FIRST, now="2027-02-03T09:59:00+08:00")
    assert app["status"] == "deactivated"
    # just after the purge instant: purged, purge_at no longer shown, reactivation refused
    app = three.show(FIRST, now="2027-02-03T10:01:00+08:00")
    assert app["status"] == "purged"
    assert app["purge_at"] is None
    r = three.run("apps", "reactivate", A)
    assert r.rc == 3
    assert "purged" in r.out
    r = three.run("apps", "reactivate", A, "--format", "json")
    assert r.rc == 3
    assert "purged" in r.json[0]["error"]
    r = three.run("apps", "halt", A, "--reason", "again", "--yes")
    assert r.rc == 3
    r = three.run("apps", "modify", A, "--history-days", "30")
    assert r.rc == 3
    assert [a["app_id"] for a in three.list("--status", "purged")] == [FIRST]
    purge = [e for e in three.audit("--app", A) if e["action"] == "purge"]
    assert len(purge) == 1 and purge[0]["result"] == "done"
    assert parse_local(purge[0]["at"]) == purge_at  # takes effect at the purge instant, however late


def test_purge_happens_exactly_once_and_late(three):
    three.run(
        "apps", "halt", A, "--reason", "customer asked to stop service", "--yes", now="2026-11-05T10:00:00+08:00"
    ).ok()
    three.run("audit", now="2027-06-01T00:00:00+08:00").ok()
    three.run("audit", now="2027-06-02T00:00:00+08:00").ok()
    assert len([e for e in three.audit("--app", A) if e["action"] == "purge"]) == 1
    # the purge took effect at its instant (the database's latest instant moved past it)
    r = three.run("apps", "create", "x", "--account", "acme", now="2027-02-03T09:00:00+08:00")
    assert r.rc == 3
