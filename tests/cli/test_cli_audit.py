"""`audit`: shape, order, actor, refusals, limits."""

from __future__ import annotations

import csv
import io

import pytest

from tests.support.cli import ACTIONS, AUDIT_KEYS, FIRST, expected_actor, parse_local

A = str(FIRST)


@pytest.fixture
def history(cli):
    cli.create("chat-prod", "acme", now="2026-11-02T09:00:00+08:00")
    cli.run("apps", "upgrade", A, "--edition", "pro", now="2026-11-03T09:00:00+08:00").ok()
    assert cli.run("apps", "modify", A, "--groups-per-user", "1000", now="2026-11-04T09:00:00+08:00").rc == 3
    cli.run("apps", "halt", A, "--reason", "unpaid invoices", "--yes", now="2026-11-05T09:00:00+08:00").ok()
    cli.run("apps", "reactivate", A, now="2026-11-06T09:00:00+08:00").ok()
    return cli


def test_audit_shape_and_order(history):
    trail = history.audit(now="2026-11-07T09:00:00+08:00")
    assert [(e["action"], e["result"]) for e in trail] == [
        ("reactivate", "done"),
        ("halt", "done"),
        ("bind", "done"),  # the first halt bound the database to its platform (cli.md)
        ("modify", "refused"),
        ("upgrade", "done"),
        ("create", "done"),
    ]
    for e in trail:
        assert list(e) == AUDIT_KEYS
        assert e["action"] in ACTIONS
        assert e["result"] in ("done", "refused")
        assert e["app_id"] == (None if e["action"] == "bind" else FIRST)
        assert isinstance(e["detail"], str) and e["detail"] and "\n" not in e["detail"]
    ats = [parse_local(e["at"]) for e in trail]
    assert ats == sorted(ats, reverse=True)
    assert [e["at"][:10] for e in trail] == [
        "2026-11-06",
        "2026-11-05",
        "2026-11-05",
        "2026-11-04",
        "2026-11-03",
        "2026-11-02",
    ]


def test_audit_details(history):
    by_action = {e["action"]: e for e in history.audit(now="2026-11-07T09:00:00+08:00")}
    assert "trial" in by_action["upgrade"]["detail"] and "→" in by_action["upgrade"]["detail"]
    assert "unpaid invoices" in by_action["halt"]["detail"]
    refused = by_action["modify"]["detail"]
    assert "groups_per_user" in refused and "2026-11-03" in refused and "2026-12-01" in refused


def test_actor_is_the_os_login_name(history, monkeypatch):
    monkeypatch.setenv("USER", "mallory")
    monkeypatch.setenv("LOGNAME", "mallory")
    monkeypatch.setenv("USERNAME", "mallory")
    history.run("apps", "modify", A, "--history-days", "30", now="2026-11-08T09:00:00+08:00").ok()
    trail = history.audit()
    assert {e["actor"] for e in trail} == {expected_actor(history.db)}


def test_refusals_are_audited_without_moving_the_latest_instant(cli):
    cli.create("chat-prod", "acme", now="2026-11-02T09:00:00+08:00")
    r = cli.run("apps", "modify", A, "--history-days", "30", now="2026-11-10T09:00:00+08:00")
    assert r.rc == 3  # trial app
    entry = cli.audit("--limit", "1", now="2026-11-10T09:01:00+08:00")[0]
    assert (entry["action"], entry["result"], entry["app_id"]) == ("modify", "refused", FIRST)
    assert entry["at"].startswith("2026-11-10T09:00:0")
    assert entry["detail"] == r.err.strip()
    # an operation between the done one and the refused one is still allowed
    cli.run("apps", "upgrade", A, "--edition", "pro", now="2026-11-05T09:00:00+08:00").ok()


def test_invalid_value_is_audited_but_unparseable_command_is_not(cli):
    cli.create("chat-prod", "acme", now="2026-11-02T09:00:00+08:00")
    n = len(cli.audit())
    assert cli.run("apps", "upgrade", A, "--edition", "pro", "--groups-per-user", "700").rc == 2
    trail = cli.audit()
    assert len(trail) == n + 1
    assert (trail[0]["action"], trail[0]["result"]) == ("upgrade", "refused")
    assert "700" in trail[0]["detail"]
    assert cli.run("apps", "upgrade", A, "--edition", "pro", "--groups-per-user", "seven").rc == 2
    assert cli.run("apps", "upgrade", A, "--bogus").rc == 2
    assert len(cli.audit()) == n + 1


def test_create_refused_by_time_is_audited(cli):
    cli.create("a", "acme", now="2026-11-05T09:00:00+08:00")
    assert cli.run("apps", "create", "b", "--account", "acme", now="2026-11-04T09:00:00+08:00").rc == 3
    trail = cli.audit(now="2026-11-06T09:00:00+08:00")
    # audited at the instant of the request, which is older than the create: second, newest first
    assert [(e["action"], e["result"], e["app_id"]) for e in trail] == [
        ("create", "done", FIRST),
        ("create", "refused", None),
    ]
    assert trail[1]["at"].startswith("2026-11-04T09:00:0")
    assert "2026-11-05" in trail[1]["detail"]


def test_limit(history):
    trail = history.audit(now="2026-11-07T09:00:00+08:00")
    assert history.audit("--limit", "2") == trail[:2]
    assert history.audit("--limit", "1") == trail[:1]
    assert history.audit("--limit", "100") == trail
    for bad in ("0", "-1", "two"):
        r = history.run("audit", "--limit", bad)
        assert r.rc == 2
        r.one_line_error()


def test_app_filter(history):
    history.create("other", "globex", now="2026-11-07T09:00:00+08:00")
    trail = history.audit("--app", A)
    assert len(trail) == 5 and {e["app_id"] for e in trail} == {FIRST}
    other = history.audit("--app", str(FIRST + 1))
    assert [(e["action"], e["app_id"]) for e in other] == [("create", FIRST + 1)]
    r = history.run("audit", "--app", "1400009999")
    assert r.rc == 4
    r.one_line_error()
    r = history.run("audit", "--app", "xyz")
    assert r.rc == 2


def test_month_close_and_purge_are_audited(cli):
    cli.create("a", "acme", now="2026-11-02T09:00:00+08:00")
    cli.run("apps", "halt", A, "--reason", "project cancelled", "--yes").ok()
    trail = cli.audit(now="2027-02-15T09:00:00+08:00")
    actions = [e["action"] for e in trail]
    assert actions.count("close_month") == 3  # November, December, January
    assert actions.count("purge") == 1
    close = [e for e in trail if e["action"] == "close_month"]
    assert all(e["app_id"] is None for e in close)
    assert all(e["actor"] == expected_actor(cli.db) for e in trail)


def test_csv_and_table(history):
    r = history.run("audit", "--format", "csv", now="2026-11-07T09:00:00+08:00").ok()
    rows = list(csv.reader(io.StringIO(r.out)))
    assert rows[0] == AUDIT_KEYS
    assert len(rows) == 7  # with the first halt's `bind`
    assert rows[1][2] == "reactivate"
    r = history.run("audit").ok()
    assert r.out.splitlines()[0].split()[:3] == ["at", "actor", "action"]
