"""`usage import`, `usage show` and `review` as scripts use them (cli.md): JSON shapes, the bad
rows on standard error, exit codes; one process per step."""

from __future__ import annotations

import csv
import io
import json

import pytest

from tests.support.cli import FIRST, MONEY, run_exe
from tests.support.dbs import clone_db, drop_db, migrated_db_url

HEADER = "date,app_id,dau,groups,live_groups,max_groups_per_user,max_members_per_group"
IMPORT_KEYS = ["rows", "apps", "inserted", "replaced", "unchanged"]
REVIEW_KEYS = ["app_id", "name", "account", "edition", "headroom", "uses", "suggestions", "note"]
USE_KEYS = ["item", "kind", "peak", "allowance", "use_pct"]
SUGGESTION_KEYS = ["item", "from", "to", "monthly_delta", "reason", "unlocks_on"]


def step(db, now, *args, input=None):
    return run_exe(["--db", db, "--now", now, *args], input=input)


@pytest.fixture(scope="module")
def fleet_template(tmp_path_factory):
    """Two pro apps (the first with paid live groups) with 30 days of usage, built once per module
    with one process per step; each test gets a copy."""
    tmp_path = tmp_path_factory.mktemp("usage-fleet")
    db = migrated_db_url(tmp_path)
    step(db, "2026-10-01T09:00:00+08:00", "apps", "create", "busy", "--account", "acme").ok()
    step(db, "2026-10-01T09:01:00+08:00", "apps", "create", "idle", "--account", "acme").ok()
    step(db, "2026-10-01T10:00:00+08:00", "apps", "upgrade", str(FIRST), "--edition", "pro", "--live-unlimited").ok()
    step(db, "2026-10-01T10:01:00+08:00", "apps", "upgrade", str(FIRST + 1), "--edition", "pro").ok()
    rows = [HEADER]
    for day in range(1, 31):
        rows.append(f"2026-11-{day:02d},{FIRST},{20000 + day},90000,{10 + day % 5},480,100")
        rows.append(f"2026-11-{day:02d},{FIRST + 1},50,60,1,2,3")
    path = tmp_path / "november.csv"
    path.write_text("\n".join(rows) + "\n")
    r = step(db, "2026-11-30T20:00:00+08:00", "usage", "import", str(path), "--format", "json").ok()
    assert json.loads(r.out) == {"rows": 60, "apps": 2, "inserted": 60, "replaced": 0, "unchanged": 0}
    yield db
    drop_db(db)


@pytest.fixture
def fleet(fleet_template, tmp_path):
    db = clone_db(fleet_template, tmp_path)
    yield db
    drop_db(db)


def test_import_prints_its_counts_and_reads_standard_input(fleet):
    jsonl = "\n".join(
        json.dumps(
            {
                "date": "2026-11-30",
                "app_id": FIRST + 1,
                "dau": 51,
                "groups": 60,
                "live_groups": 1,
                "max_groups_per_user": 2,
                "max_members_per_group": 3,
                "source": "x",
            }
        )
        for _ in range(1)
    )
    r = step(
        fleet,
        "2026-11-30T21:00:00+08:00",
        "usage",
        "import",
        "-",
        "--input-format",
        "jsonl",
        "--format",
        "json",
        input=jsonl,
    )
    r.ok()
    assert list(json.loads(r.out)) == IMPORT_KEYS and json.loads(r.out)["replaced"] == 1
    assert r.err.strip() == "note: ignored the column(s) source"
    table = step(
        fleet,
        "2026-11-30T21:01:00+08:00",
        "usage",
        "import",
        "-",
        input=HEADER + f"\n2026-11-30,{FIRST + 1},51,60,1,2,3\n",
    ).ok()
    assert "unchanged  1" in table.out


def test_a_refused_import_lists_bad_rows_with_line_numbers_and_exits_with_the_first_code(fleet, tmp_path):
    path = tmp_path / "bad.csv"
    rows = [HEADER, f"2026-11-29,{FIRST},1,1,1,1,1", "2026-11-29,1400009999,1,1,1,1,1"]
    rows += [f"2026-11-{d:02d},{FIRST},-{d},1,1,1,1" for d in range(1, 25)]
    path.write_text("\n".join(rows))
    r = step(fleet, "2026-11-30T22:00:00+08:00", "usage", "import", str(path))
    assert r.rc == 4 and r.out == ""
    lines = r.err.strip().splitlines()
    assert lines[0] == "line 3: app 1400009999 does not exist"
    assert lines[1].startswith("line 4: dau must be a whole number")
    assert lines[-1] == "… and 5 more" and len(lines) == 21
    show = step(fleet, "2026-11-30T22:01:00+08:00", "usage", "show", str(FIRST), "--format", "json").ok().json
    assert show["days"][28]["dau"] == 20029  # nothing of the refused file landed


@pytest.mark.parametrize(
    "content, code",
    [
        (b"", 2),
        (HEADER.encode(), 2),
        (b"\xff\xfe garbage", 2),
        (HEADER.encode() + b"\n2026-12-01,1400000000,1,1,1,1,1\n", 3),
    ],
)
def test_unusable_files_exit_with_one_plain_line(fleet, tmp_path, content, code):
    path = tmp_path / "x.csv"
    path.write_bytes(content)
    r = step(fleet, "2026-11-30T22:00:00+08:00", "usage", "import", str(path))
    assert r.rc == code
    assert "Traceback" not in r.err and len(r.err.strip().splitlines()) == 1


def test_a_missing_file_is_invalid_input(fleet, tmp_path):
    r = step(fleet, "2026-11-30T22:00:00+08:00", "usage", "import", str(tmp_path / "nowhere.csv"))
    assert r.rc == 2 and "cannot read" in r.one_line_error()


def test_usage_show_json_and_csv(fleet):
    r = step(
        fleet, "2026-12-01T08:00:00+08:00", "usage", "show", str(FIRST), "--month", "2026-11", "--format", "json"
    ).ok()
    view = r.json
    assert list(view) == ["app_id", "month", "peaks", "days"]
    assert view["peaks"] == {
        "dau": 20030,
        "groups": 90000,
        "live_groups": 14,
        "max_groups_per_user": 480,
        "max_members_per_group": 100,
    }
    assert view["days"][0] == {
        "date": "2026-11-01",
        "dau": 20001,
        "groups": 90000,
        "live_groups": 11,
        "max_groups_per_user": 480,
        "max_members_per_group": 100,
    }
    rows = list(
        csv.reader(
            io.StringIO(
                step(
                    fleet,
                    "2026-12-01T08:00:00+08:00",
                    "usage",
                    "show",
                    str(FIRST),
                    "--month",
                    "2026-11",
                    "--format",
                    "csv",
                )
                .ok()
                .out
            )
        )
    )
    assert rows[0] == HEADER.split(",") and len(rows) == 31
    empty = step(fleet, "2026-12-01T08:00:00+08:00", "usage", "show", str(FIRST), "--format", "json").ok().json
    assert empty["month"] == "2026-12" and empty["days"] == [] and set(empty["peaks"].values()) == {None}
    assert step(fleet, "2026-12-01T08:00:00+08:00", "usage", "show", "1400009999").rc == 4


def test_overage_lines_in_the_bill(fleet):
    bill = step(fleet, "2026-12-03T00:00:01+08:00", "bills", "--month", "2026-11", "--format", "json").ok().json
    (app,) = [a for a in bill["accounts"][0]["apps"] if a["app_id"] == FIRST]
    (line,) = [ln for ln in app["lines"] if ln["item"] == "dau_overage"]
    assert line == {"item": "dau_overage", "setting": "20030", "days": 30, "amount": "899.98"}  # 2 started blocks
    assert all(MONEY.match(ln["amount"]) for ln in app["lines"])


def test_review_json_shape_and_filters(fleet):
    reviews = step(fleet, "2026-11-30T23:00:00+08:00", "review", "--format", "json").ok().json
    assert [r["app_id"] for r in reviews] == [FIRST, FIRST + 1]
    busy, idle = reviews
    assert list(busy) == REVIEW_KEYS and list(busy["headroom"]) == USE_KEYS
    assert busy["headroom"] == {"item": "dau", "kind": "quota", "peak": 20030, "allowance": 10000, "use_pct": 200}
    assert busy["suggestions"] == [
        {
            "item": "live_groups",
            "from": None,
            "to": 50,
            "monthly_delta": "-449.99",
            "reason": "peak 14 in the last 30 days fits 50 (28% of it)",
            "unlocks_on": None,
        },
        {
            "item": "groups_per_user",
            "from": 500,
            "to": 1000,
            "monthly_delta": "449.99",
            "reason": "peak 480 of 500 in the last 7 days (96%)",
            "unlocks_on": None,
        },
    ]
    assert all(list(s) == SUGGESTION_KEYS for s in busy["suggestions"])
    assert idle["suggestions"] == [] and idle["note"] is None
    near = step(fleet, "2026-11-30T23:00:00+08:00", "review", "--near", "--format", "json").ok().json
    assert [r["app_id"] for r in near] == [FIRST]
    suggest = (
        step(fleet, "2026-11-30T23:00:00+08:00", "review", "--suggest", "--account", "acme", "--format", "json")
        .ok()
        .json
    )
    assert [r["app_id"] for r in suggest] == [FIRST]
    assert step(fleet, "2026-11-30T23:00:00+08:00", "review", "--account", "nobody").rc == 4


def test_review_csv_has_a_row_per_suggestion(fleet):
    out = step(fleet, "2026-11-30T23:00:00+08:00", "review", "--format", "csv").ok().out
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [(r["app_id"], r["item"], r["to"]) for r in rows] == [
        (str(FIRST), "live_groups", "50"),
        (str(FIRST), "groups_per_user", "1000"),
        (str(FIRST + 1), "", ""),
    ]
    assert rows[0]["from"] == "unlimited" and rows[0]["headroom_use_pct"] == "200"
