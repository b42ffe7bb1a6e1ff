"""`apps upgrade` / `apps modify`: the worked example, value checks, locks and refusals."""

from __future__ import annotations

import csv
import io

import pytest

from tests.support.cli import APP_KEYS, BILL_KEYS, FIRST, assert_instant

APP = str(FIRST)


@pytest.fixture
def pro_app(cli):
    """The worked example: created 2026-11-02, upgraded to pro with 2000 members on 2026-11-16 10:00."""
    cli.create("chat-prod", "acme", now="2026-11-02T09:00:00+08:00")
    r = cli.run(
        "apps",
        "upgrade",
        APP,
        "--edition",
        "pro",
        "--members-per-group",
        "2000",
        "--format",
        "json",
        now="2026-11-16T10:00:00",
    )
    r.ok()
    return cli


def test_upgrade_prints_the_app(pro_app):
    app = pro_app.show(FIRST)
    assert list(app) == APP_KEYS
    assert app["edition"] == "pro" and app["billing"] == "postpaid"
    assert (app["live_groups"], app["groups_per_user"], app["members_per_group"], app["history_days"]) == (
        50,
        500,
        2000,
        7,
    )


def test_worked_example_november_bill(pro_app):
    r = pro_app.run("bills", "--month", "2026-11", "--format", "json", now="2026-12-03T00:00:05+08:00").ok()
    bill = r.json
    assert list(bill) == BILL_KEYS
    assert_instant(bill["issued_at"], "2026-12-03T00:00:05")
    assert bill == {
        "month": "2026-11",
        "currency": "USD",
        "state": "issued",
        "issued_at": bill["issued_at"],
        "total": "345.00",
        "projected_total": "345.00",
        "accounts": [
            {
                "account": "acme",
                "total": "345.00",
                "projected_total": "345.00",
                "apps": [
                    {
                        "app_id": FIRST,
                        "total": "345.00",
                        "projected_total": "345.00",
                        "lines": [
                            {"item": "edition", "setting": "pro", "days": 15, "amount": "225.00"},
                            {"item": "members_per_group", "setting": "2000", "days": 15, "amount": "120.00"},
                        ],
                    }
                ],
            }
        ],
    }
    # key order of nested objects as in cli.md
    acc = bill["accounts"][0]
    assert list(acc) == ["account", "total", "projected_total", "apps"]
    assert list(acc["apps"][0]) == ["app_id", "total", "projected_total", "lines"]
    assert list(acc["apps"][0]["lines"][0]) == ["item", "setting", "days", "amount"]


def test_worked_example_csv(pro_app):
    r = pro_app.run("bills", "--month", "2026-11", "--format", "csv", now="2026-12-03T00:00:05+08:00").ok()
    assert r.out.splitlines() == [
        "month,account,app_id,item,setting,days,amount",
        f"2026-11,acme,{FIRST},edition,pro,15,225.00",
        f"2026-11,acme,{FIRST},members_per_group,2000,15,120.00",
    ]


def test_worked_example_december_unchanged(pro_app):
    bill = pro_app.run("bills", "--month", "2026-12", "--format", "json", now="2027-01-03T00:00:05+08:00").ok().json
    assert bill["state"] == "issued"
    assert bill["total"] == bill["projected_total"] == "689.98"
    assert bill["accounts"][0]["apps"][0]["lines"] == [
        {"item": "edition", "setting": "pro", "days": 31, "amount": "449.99"},
        {"item": "members_per_group", "setting": "2000", "days": 31, "amount": "239.99"},
    ]


def test_worked_example_change_to_flagship_in_december(pro_app):
    r = pro_app.run("apps", "modify", APP, "--edition", "flagship", "--format", "json", now="2026-12-11T12:00:00")
    app = r.ok().json
    # rises to the flagship defaults by themselves; members per group 2000 is the flagship default
    assert (
        app["edition"],
        app["live_groups"],
        app["groups_per_user"],
        app["members_per_group"],
        app["history_days"],
    ) == ("flagship", None, 1000, 2000, 30)
    assert app["locked_items"] == ["edition"]
    bill = pro_app.run("bills", "--month", "2026-12", "--format", "json", now="2027-01-03T00:00:05+08:00").ok().json
    lines = bill["accounts"][0]["apps"][0]["lines"]
    assert {"item": "edition", "setting": "pro", "days": 10, "amount": "145.16"} in lines
    assert {"item": "edition", "setting": "flagship", "days": 21, "amount": "609.67"} in lines
    assert {"item": "members_per_group", "setting": "2000", "days": 11, "amount": "85.16"} in lines
    assert len(lines) == 3
    assert bill["total"] == "839.99"


def test_worked_example_deactivated_in_january(pro_app):
    r = pro_app.run(
        "apps", "halt", APP, "--reason", "customer asked to stop service", "--yes", now="2027-01-10T09:00:00+08:00"
    )
    r.ok()
    app = pro_app.show(FIRST, now="2027-01-10T09:01:00+08:00")
    assert_instant(app["purge_at"], "2027-04-10T09:00:0")
    bill = pro_app.run("bills", "--month", "2027-01", "--format", "json", now="2027-02-03T00:00:05+08:00").ok().json
    assert bill["total"] == "222.58"
    assert bill["accounts"][0]["apps"][0]["lines"] == [
        {"item": "edition", "setting": "pro", "days": 10, "amount": "145.16"},
        {"item": "members_per_group", "setting": "2000", "days": 10, "amount": "77.42"},
    ]
    # a month spent wholly deactivated costs nothing: February's bill is 0.00
    feb = pro_app.run("bills", "--month", "2027-02", "--format", "json", now="2027-03-03T00:00:05+08:00").ok().json
    assert (feb["state"], feb["total"], feb["accounts"]) == ("issued", "0.00", [])


# --- invalid values (exit 2) -----------------------------------------------------------------------


def test_upgrade_groups_per_user_700_exits_2(cli):
    cli.create(now="2026-11-02T09:00:00+08:00")
    r = cli.run("apps", "upgrade", APP, "--edition", "pro", "--groups-per-user", "700")
    assert r.rc == 2
    msg = r.one_line_error()
    assert "700" in msg and "500" in msg and "1000" in msg  # lists the allowed values
    assert cli.show(FIRST)["edition"] == "trial"


def test_modify_groups_per_user_700_exits_2(pro_app):
    r = pro_app.run("apps", "modify", APP, "--groups-per-user", "700", now="2026-12-02T09:00:00+08:00")
    assert r.rc == 2
    r.one_line_error()
    assert pro_app.show(FIRST)["groups_per_user"] == 500


@pytest.mark.parametrize(
    "opt,value", [("--members-per-group", "6000"), ("--history-days", "45"), ("--groups-per-user", "3000")]
)
def test_values_are_checked_against_the_target_edition(pro_app, opt, value):
    r = pro_app.run("apps", "modify", APP, opt, value, now="2026-12-02T09:00:00+08:00")
    assert r.rc == 2
    assert value in r.one_line_error()


def test_modify_edition_trial_exits_2(pro_app):
    r = pro_app.run("apps", "modify", APP, "--edition", "trial", now="2026-12-02T09:00:00+08:00")
    assert r.rc == 2
    r.one_line_error()
    assert pro_app.show(FIRST)["edition"] == "pro"


@pytest.mark.parametrize("edition", ["trial", "ultimate"])
def test_upgrade_to_an_edition_not_offered_exits_2(cli, edition):
    cli.create(now="2026-11-02T09:00:00+08:00")
    r = cli.run("apps", "upgrade", APP, "--edition", edition)
    assert r.rc == 2
    r.one_line_error()


def test_upgrade_needs_edition(cli):
    cli.create(now="2026-11-02T09:00:00+08:00")
    r = cli.run("apps", "upgrade", APP)
    assert r.rc == 2
    r.one_line_error()


def test_no_live_unlimited_on_flagship_exits_2(cli):
    cli.create(now="2026-11-02T09:00:00+08:00")
    cli.run("apps", "upgrade", APP, "--edition", "flagship").ok()
    r = cli.run("apps", "modify", APP, "--no-live-unlimited", now="2026-12-02T09:00:00+08:00")
    assert r.rc == 2
    r.one_line_error()
    assert cli.show(FIRST)["live_groups"] is None


def test_live_unlimited_on_flagship_changes_nothing(cli):
    cli.create(now="2026-11-02T09:00:00+08:00")
    cli.run("apps", "upgrade", APP, "--edition", "flagship").ok()
    r = cli.run("apps", "modify", APP, "--live-unlimited", "--format", "json", now="2026-12-02T09:00:00+08:00")
    assert r.rc == 0
    assert r.json["live_groups"] is None
    assert "nothing to change" in r.err


@pytest.mark.parametrize("value", ["abc", "1e3", "-500", "5.5"])
def test_malformed_number_exits_2_and_is_not_audited(pro_app, value):
    before = pro_app.audit(now="2026-12-02T09:00:00+08:00")
    r = pro_app.run("apps", "modify", APP, "--groups-per-user", value)
    assert r.rc == 2
    r.one_line_error()
    assert pro_app.audit() == before


def test_live_unlimited_and_no_live_unlimited_together_exit_2(pro_app):
    r = pro_app.run("apps", "modify", APP, "--live-unlimited", "--no-live-unlimited", now="2026-12-02T09:00:00+08:00")
    assert r.rc == 2
    r.one_line_error()


# --- refusals (exit 3) -------------------------------------------------------------------------------


def test_modify_of_a_trial_app_exits_3(cli):
    cli.create(now="2026-11-02T09:00:00+08:00")
    r = cli.run("apps", "modify", APP, "--history-days", "7")
    assert r.rc == 3
    assert "upgrade" in r.one_line_error()
    assert cli.show(FIRST)["edition"] == "trial"


def test_upgrade_of_a_pro_app_exits_3(pro_app):
    r = pro_app.run("apps", "upgrade", APP, "--edition", "flagship", now="2026-12-02T09:00:00+08:00")
    assert r.rc == 3
    r.one_line_error()
    assert pro_app.show(FIRST)["edition"] == "pro"


def test_second_change_in_the_month_exits_3_naming_item_and_dates(pro_app):
    """The cli.md example message, for the item the upgrade locked."""
    r = pro_app.run("apps", "modify", APP, "--members-per-group", "200", now="2026-11-20T09:00:00+08:00")
    assert r.rc == 3
    assert r.one_line_error() == (
        f"app {FIRST}: members_per_group was already changed on 2026-11-16; it can be changed again from 2026-12-01"
    )
    assert pro_app.show(FIRST)["members_per_group"] == 2000
    assert r.out == ""


def test_history_once_per_month(pro_app):
    pro_app.run("apps", "modify", APP, "--history-days", "30", now="2026-12-05T10:00:00+08:00").ok()
    r = pro_app.run("apps", "modify", APP, "--history-days", "90", now="2026-12-20T10:00:00+08:00")
    assert r.rc == 3
    msg = r.one_line_error()
    assert "history_days" in msg and "2026-12-05" in msg and "2027-01-01" in msg
    assert pro_app.show(FIRST)["history_days"] == 30
    # a request with one locked item is refused as a whole
    r = pro_app.run("apps", "modify", APP, "--history-days", "90", "--live-unlimited")
    assert r.rc == 3
    assert pro_app.show(FIRST)["live_groups"] == 50
    # other items are free
    assert pro_app.run("apps", "modify", APP, "--live-unlimited", "--format", "json").ok().json["live_groups"] is None
    # from the 1st of the next month it can change again
    pro_app.run("apps", "modify", APP, "--history-days", "90", now="2027-01-01T00:00:01+08:00").ok()
    assert pro_app.show(FIRST)["history_days"] == 90


def test_request_that_changes_nothing(pro_app):
    r = pro_app.run(
        "apps", "modify", APP, "--members-per-group", "2000", "--format", "json", now="2026-11-20T09:00:00+08:00"
    )
    assert r.rc == 0  # setting a locked item to its current value is no change, never blocked
    assert list(r.json) == APP_KEYS
    assert r.json["members_per_group"] == 2000
    assert "nothing to change" in r.err
    entry = pro_app.audit("--limit", "1")[0]
    assert (entry["action"], entry["result"]) == ("modify", "done")
    assert "nothing to change" in entry["detail"]


def test_empty_modify_changes_nothing(pro_app):
    r = pro_app.run("apps", "modify", APP, now="2026-11-20T09:00:00+08:00")
    assert r.rc == 0
    assert str(FIRST) in r.out
    assert "nothing to change" in r.err


def test_flagship_to_pro_needs_explicit_choices(cli):
    cli.create(now="2026-11-02T09:00:00+08:00")
    cli.run("apps", "upgrade", APP, "--edition", "flagship").ok()
    r = cli.run("apps", "modify", APP, "--edition", "pro", now="2026-12-02T09:00:00+08:00")
    assert r.rc == 3
    msg = r.one_line_error()
    for item in ("live_groups", "groups_per_user", "members_per_group", "history_days"):
        assert item in msg
    assert cli.show(FIRST)["edition"] == "flagship"
    # a partial choice is still refused as a whole
    r = cli.run("apps", "modify", APP, "--edition", "pro", "--live-unlimited", "--groups-per-user", "1000")
    assert r.rc == 3
    msg = r.one_line_error()
    assert "members_per_group" in msg and "history_days" in msg
    # with every choice it is done
    app = (
        cli.run(
            "apps",
            "modify",
            APP,
            "--edition",
            "pro",
            "--live-unlimited",
            "--groups-per-user",
            "1000",
            "--members-per-group",
            "200",
            "--history-days",
            "30",
            "--format",
            "json",
        )
        .ok()
        .json
    )
    assert (
        app["edition"],
        app["live_groups"],
        app["groups_per_user"],
        app["members_per_group"],
        app["history_days"],
    ) == ("pro", None, 1000, 200, 30)
    # keeping a value the new edition offers does not use the item's monthly change
    assert app["locked_items"] == ["edition", "members_per_group"]


def test_modify_of_a_deactivated_app_exits_3(pro_app):
    pro_app.run("apps", "halt", APP, "--reason", "unpaid invoices", "--yes", now="2026-12-02T09:00:00+08:00").ok()
    r = pro_app.run("apps", "modify", APP, "--history-days", "30")
    assert r.rc == 3
    assert "reactivate" in r.one_line_error()


def test_unknown_app_exits_4(cli):
    cli.create(now="2026-11-02T09:00:00+08:00")
    for cmd in (["upgrade", "1400009999", "--edition", "pro"], ["modify", "1400009999", "--history-days", "30"]):
        r = cli.run("apps", *cmd)
        assert r.rc == 4
        r.one_line_error()


def test_order_of_checks_unknown_app_before_invalid_value(cli):
    cli.create(now="2026-11-02T09:00:00+08:00")
    r = cli.run("apps", "modify", "1400009999", "--groups-per-user", "700")
    assert r.rc == 4


def test_order_of_checks_status_before_value(cli):
    cli.create(now="2026-11-02T09:00:00+08:00")
    r = cli.run("apps", "modify", APP, "--groups-per-user", "700")  # trial app
    assert r.rc == 3


def test_now_earlier_than_latest_instant_exits_3(pro_app):
    before = pro_app.list(now="2026-11-20T09:00:00+08:00")
    r = pro_app.run("apps", "modify", APP, "--history-days", "30", now="2026-11-10T09:00:00+08:00")
    assert r.rc == 3
    msg = r.one_line_error()
    assert "2026-11-10" in msg
    r = pro_app.run("apps", "create", "late", "--account", "acme", now="2026-11-16T09:59:00+08:00")
    assert r.rc == 3
    assert pro_app.list(now="2026-11-20T09:00:00+08:00") == before


def test_month_close_moves_the_latest_instant(pro_app):
    pro_app.run("bills", "--format", "json", now="2026-12-01T00:00:05+08:00").ok()  # November's draft
    r = pro_app.run("apps", "create", "late", "--account", "acme", now="2026-11-30T23:00:00+08:00")
    assert r.rc == 3
    r.one_line_error()


def test_upgrade_in_csv_and_table(cli):
    cli.create(now="2026-11-02T09:00:00+08:00")
    r = cli.run("apps", "upgrade", APP, "--edition", "pro", "--format", "csv").ok()
    rows = list(csv.reader(io.StringIO(r.out)))
    assert rows[0] == APP_KEYS and len(rows) == 2
    assert dict(zip(rows[0], rows[1]))["edition"] == "pro"
