"""`apps list`, `apps show`, `apps create`: shapes, filters, formats and errors (cli.md)."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest

from tests.support.cli import APP_KEYS, FIRST, assert_instant, parse_local


@pytest.fixture
def fleet(cli):
    """Four apps: trial (acme), pro (acme), flagship (globex, default), trial halted (globex)."""
    cli.create("chat-prod", "acme", now="2026-11-02T09:00:00+08:00")
    cli.create("support-eu", "acme")
    cli.create("Live-Asia", "globex")
    cli.create("game-dev", "globex")
    cli.run("apps", "upgrade", str(FIRST + 1), "--edition", "pro").ok()
    cli.run("apps", "upgrade", str(FIRST + 2), "--edition", "flagship").ok()
    cli.run("apps", "halt", str(FIRST + 3), "--reason", "project cancelled", "--yes").ok()
    return cli


# --- create ---------------------------------------------------------------------------------------


def test_create_prints_a_trial_app(cli):
    r = cli.run(
        "apps", "create", "chat-prod", "--account", "acme", "--format", "json", now="2026-11-02T09:00:00+08:00"
    ).ok()
    app = r.json
    assert list(app) == APP_KEYS
    assert app["app_id"] == FIRST
    assert app["name"] == "chat-prod"
    assert app["account"] == "acme"
    assert app["edition"] == "trial"
    assert app["billing"] == "free"
    assert app["status"] == "active"
    assert (app["live_groups"], app["groups_per_user"], app["members_per_group"], app["history_days"]) == (
        10,
        50,
        20,
        7,
    )
    assert_instant(app["created_at"], "2026-11-02T09:00:0")
    assert app["deactivated_at"] is None and app["purge_at"] is None
    assert app["locked_items"] == []
    assert r.err == ""


def test_create_ids_ascend_and_account_is_created_on_first_use(cli):
    a = cli.create("one", "new-account")
    b = cli.create("two", "new-account")
    assert (a["app_id"], b["app_id"]) == (FIRST, FIRST + 1)
    assert [x["account"] for x in cli.list("--account", "new-account")] == ["new-account", "new-account"]


def test_create_table_and_csv_formats(cli):
    r = cli.run("apps", "create", "chat", "--account", "acme").ok()
    assert "app_id" in r.out and str(FIRST) in r.out and "trial" in r.out
    r = cli.run("apps", "create", "chat2", "--account", "acme", "--format", "csv").ok()
    rows = list(csv.reader(io.StringIO(r.out)))
    assert rows[0] == APP_KEYS
    assert len(rows) == 2
    assert rows[1][0] == str(FIRST + 1)


def test_create_empty_name_is_invalid(cli):
    r = cli.run("apps", "create", "   ", "--account", "acme")
    assert r.rc == 2
    r.one_line_error()


def test_create_without_account_is_a_usage_error(cli):
    r = cli.run("apps", "create", "chat")
    assert r.rc == 2
    assert "--account" in r.one_line_error()


def test_the_301st_app_of_an_account_is_refused(cli):
    """300 apps not purged per account: the demo fills one account, we top it up to 300."""
    cli.run("demo", "--apps", "300", "--accounts", "1", "--seed", "3", now="2026-11-02T09:00:00+08:00").ok()
    apps = cli.list("--account", "acme", now="2026-11-02T10:00:00+08:00")
    assert len(apps) == 300
    not_purged = [a for a in apps if a["status"] != "purged"]
    # purged apps no longer count toward the 300: there is room for exactly that many more
    for i in range(300 - len(not_purged)):
        cli.run("apps", "create", f"extra-{i}", "--account", "acme").ok()
    r = cli.run("apps", "create", "one-too-many", "--account", "acme")
    assert r.rc == 3
    msg = r.one_line_error()
    assert "300" in msg
    assert len([a for a in cli.list("--account", "acme") if a["status"] != "purged"]) == 300
    audit = cli.audit("--limit", "1")
    assert audit[0]["action"] == "create" and audit[0]["result"] == "refused"
    # another account is not affected
    cli.run("apps", "create", "elsewhere", "--account", "globex").ok()


# --- show -----------------------------------------------------------------------------------------


def test_show_json_shape_of_a_default_flagship_app(fleet):
    app = fleet.show(FIRST + 2)
    assert list(app) == APP_KEYS
    assert app == {
        "app_id": FIRST + 2,
        "name": "Live-Asia",
        "account": "globex",
        "edition": "flagship",
        "billing": "postpaid",
        "status": "active",
        "live_groups": None,
        "groups_per_user": 1000,
        "members_per_group": 2000,
        "history_days": 30,
        "created_at": app["created_at"],
        "deactivated_at": None,
        "purge_at": None,
        "locked_items": ["edition", "live_groups", "groups_per_user", "members_per_group"],
    }
    assert_instant(app["created_at"], "2026-11-02T09:0")


def test_show_pro_app_live_groups_is_a_number(fleet):
    app = fleet.show(FIRST + 1)
    assert app["edition"] == "pro" and app["billing"] == "postpaid"
    assert (app["live_groups"], app["groups_per_user"], app["members_per_group"], app["history_days"]) == (
        50,
        500,
        200,
        7,
    )


def test_show_purge_at_only_while_deactivated(fleet):
    app = fleet.show(FIRST + 3)
    assert app["status"] == "deactivated"
    deactivated = parse_local(app["deactivated_at"])
    assert parse_local(app["purge_at"]) - deactivated == timedelta(days=90)
    assert app["billing"] == "free"
    fleet.run("apps", "reactivate", str(FIRST + 3)).ok()
    app = fleet.show(FIRST + 3)
    assert app["status"] == "active"
    assert app["purge_at"] is None and app["deactivated_at"] is None


def test_locked_items_follow_contract_order_and_clear_next_month(cli):
    cli.create(now="2026-11-02T09:00:00+08:00")
    cli.run(
        "apps", "upgrade", str(FIRST), "--edition", "pro", "--history-days", "90", "--members-per-group", "2000"
    ).ok()
    assert cli.show(FIRST)["locked_items"] == [
        "edition",
        "live_groups",
        "groups_per_user",
        "members_per_group",
        "history_days",
    ]
    assert cli.show(FIRST, now="2026-12-01T00:00:01+08:00")["locked_items"] == []
    cli.run("apps", "modify", str(FIRST), "--history-days", "30", "--live-unlimited").ok()
    assert cli.show(FIRST)["locked_items"] == ["live_groups", "history_days"]


def test_upgrade_without_history_choice_does_not_lock_history(cli):
    cli.create(now="2026-11-02T09:00:00+08:00")
    app = cli.run("apps", "upgrade", str(FIRST), "--edition", "flagship", "--format", "json").ok().json
    assert app["history_days"] == 30
    assert app["locked_items"] == ["edition", "live_groups", "groups_per_user", "members_per_group"]


def test_now_without_offset_is_read_in_shanghai(cli):
    app = cli.create(now="2026-11-02T09:00:00")
    assert_instant(app["created_at"], "2026-11-02T09:00:0")


def test_now_in_utc_is_shown_in_shanghai(cli):
    app = cli.create(now="2026-11-02T01:00:00+00:00")
    assert_instant(app["created_at"], "2026-11-02T09:00:0")


def test_show_table_and_csv(fleet):
    r = fleet.run("apps", "show", str(FIRST + 2)).ok()
    assert "live_groups" in r.out and "unlimited" in r.out and "flagship" in r.out
    r = fleet.run("apps", "show", str(FIRST + 2), "--format", "csv").ok()
    rows = list(csv.reader(io.StringIO(r.out)))
    assert rows[0] == APP_KEYS
    row = dict(zip(rows[0], rows[1]))
    assert row["locked_items"] == "edition;live_groups;groups_per_user;members_per_group"
    assert row["live_groups"] == ""
    assert len(rows) == 2


def test_show_unknown_app_exits_4(fleet):
    r = fleet.run("apps", "show", "1400009999")
    assert r.rc == 4
    assert "1400009999" in r.one_line_error()
    assert r.out == ""


@pytest.mark.parametrize("bad", ["12", "abc", "14000000001", "0140000000", "1400000000.0", "-1400000000"])
def test_show_malformed_id_exits_2(cli, bad):
    r = cli.run("apps", "show", bad)
    assert r.rc == 2
    r.one_line_error()
    assert r.out == ""


# --- list -----------------------------------------------------------------------------------------


def ids(apps):
    return [a["app_id"] for a in apps]


def test_list_json_is_an_array_of_app_records(fleet):
    apps = fleet.list()
    assert ids(apps) == [FIRST, FIRST + 1, FIRST + 2, FIRST + 3]
    for app in apps:
        assert list(app) == APP_KEYS
        assert app == fleet.show(app["app_id"]) | {"locked_items": app["locked_items"]}


def test_list_filters(fleet):
    assert ids(fleet.list("--status", "active")) == [FIRST, FIRST + 1, FIRST + 2]
    assert ids(fleet.list("--status", "deactivated")) == [FIRST + 3]
    assert ids(fleet.list("--status", "purged")) == []
    assert ids(fleet.list("--edition", "trial")) == [FIRST, FIRST + 3]
    assert ids(fleet.list("--edition", "pro")) == [FIRST + 1]
    assert ids(fleet.list("--edition", "flagship")) == [FIRST + 2]
    assert ids(fleet.list("--account", "acme")) == [FIRST, FIRST + 1]
    assert ids(fleet.list("--account", "globex")) == [FIRST + 2, FIRST + 3]
    assert ids(fleet.list("--search", "live")) == [FIRST + 2]  # case-insensitive name match
    assert ids(fleet.list("--search", "GLOBEX")) == [FIRST + 2, FIRST + 3]  # account name
    assert ids(fleet.list("--search", str(FIRST + 1))) == [FIRST + 1]  # the SDKAppID
    assert ids(fleet.list("--search", "no-such-thing")) == []
    assert ids(fleet.list("--account", "globex", "--status", "active", "--edition", "flagship")) == [FIRST + 2]


def test_list_csv_one_row_per_app(fleet):
    r = fleet.run("apps", "list", "--format", "csv").ok()
    rows = list(csv.reader(io.StringIO(r.out)))
    assert rows[0] == APP_KEYS
    assert [int(row[0]) for row in rows[1:]] == [FIRST, FIRST + 1, FIRST + 2, FIRST + 3]
    by_id = {int(row[0]): dict(zip(rows[0], row)) for row in rows[1:]}
    assert by_id[FIRST + 1]["locked_items"] == "edition;live_groups;groups_per_user;members_per_group"
    assert by_id[FIRST]["locked_items"] == ""
    assert by_id[FIRST + 2]["live_groups"] == ""
    assert by_id[FIRST + 3]["status"] == "deactivated"


def test_list_table_for_people(fleet):
    r = fleet.run("apps", "list").ok()
    lines = r.out.splitlines()
    assert lines[0].split()[0] == "app_id"
    assert len(lines) == 5
    assert "unlimited" in r.out


def test_list_empty(cli):
    assert cli.list() == []
    r = cli.run("apps", "list", "--format", "csv").ok()
    assert r.out.strip().split(",") == APP_KEYS


def test_list_unknown_account_exits_4(fleet):
    r = fleet.run("apps", "list", "--account", "acmee")
    assert r.rc == 4
    assert "acmee" in r.one_line_error()
    assert r.out == ""


@pytest.mark.parametrize(
    "opt,value",
    [("--status", "halted"), ("--status", "Active"), ("--edition", "ultimate"), ("--edition", "enterprise")],
)
def test_list_invalid_status_or_edition_exits_2(fleet, opt, value):
    r = fleet.run("apps", "list", opt, value)
    assert r.rc == 2
    assert value in r.one_line_error()


def test_list_invalid_format_exits_2(fleet):
    r = fleet.run("apps", "list", "--format", "yaml")
    assert r.rc == 2
    r.one_line_error()
