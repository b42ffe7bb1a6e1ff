"""`usage import` against hostile input (issue 19.4): columns or keys named twice, names that would
drive the terminal, lines of any length, JSON nested deep and figures of thousands of digits: each
a numbered bad row or a one-line refusal, audited, in bounded memory; every bad row listed in line
order (second records for an app and day among them), the exit code the first one's."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.support.cli import FIRST, IMTUI_EXE, clean_env, run_exe

HEADER = "date,app_id,dau,groups,live_groups,max_groups_per_user,max_members_per_group"
NOW = "2026-11-20T10:00:00+08:00"
GOOD = f"2026-11-05,{FIRST},10,20,1,2,3"


def step(db, now, *args, input=None):
    return run_exe(["--db", db, "--now", now, *args], input=input)


@pytest.fixture
def app(db):
    step(db, "2026-11-02T09:00:00+08:00", "apps", "create", "chat", "--account", "acme").ok()
    return db


def _import(db, tmp_path, data: bytes | str, name: str = "u.csv"):
    path = tmp_path / name
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return step(db, NOW, "usage", "import", str(path))


def _nothing_imported(db) -> None:
    assert step(db, NOW, "usage", "show", str(FIRST), "--format", "json").ok().json["days"] == []


def _refusals(db) -> list[dict]:
    trail = step(db, NOW, "audit", "--format", "json").ok().json
    return [r for r in trail if r["action"] == "usage_import" and r["result"] == "refused"]


def test_a_header_naming_a_column_twice_is_refused(app, tmp_path):
    r = _import(app, tmp_path, HEADER + ",dau\n" + GOOD + ",99\n")
    assert r.rc == 2 and "'dau' twice" in r.one_line_error()
    _nothing_imported(app)


def test_a_json_line_naming_a_key_twice_is_a_bad_row(app, tmp_path):
    line = f'{{"date": "2026-11-05", "app_id": {FIRST}, "dau": 1, "dau": 7, "groups": 1, "live_groups": 1, '
    line += '"max_groups_per_user": 1, "max_members_per_group": 1}'
    r = _import(app, tmp_path, line + "\n", "u.jsonl")
    assert r.rc == 2 and r.lines() == ["line 1: names the key 'dau' twice (which one holds the figure?)"]
    _nothing_imported(app)


def test_column_names_reach_the_terminal_escaped(app, tmp_path):
    evil = "\x1b]0;PWNED\x07"
    r = _import(app, tmp_path, f"{HEADER},{evil}\n{GOOD},x\n")
    assert r.rc == 0, r
    assert "\x1b" not in r.err and "\x07" not in r.err
    assert r.err.strip() == "note: ignored the column(s) \\x1b]0;PWNED\\x07"


def test_a_line_over_64_kib_is_a_numbered_bad_row(app, tmp_path):
    long = f"2026-11-06,{FIRST},{'1' * 70_000},1,1,1,1"
    r = _import(app, tmp_path, "\n".join([HEADER, GOOD, long, GOOD.replace("11-05", "11-07")]) + "\n")
    assert r.rc == 2 and r.lines() == ["line 3: longer than 64 KiB (65,536 bytes); a usage row is far shorter"]
    _nothing_imported(app)
    exactly = f"2026-11-06,{FIRST},1,1,1,1,1" + " " * (65_536 - 31)  # 64 KiB to the byte, then CR LF
    assert len(exactly.encode()) == 65_536
    r = _import(app, tmp_path, "\r\n".join([HEADER, exactly + " ", GOOD]) + "\r\n")
    assert r.rc == 2 and r.lines() == ["line 2: longer than 64 KiB (65,536 bytes); a usage row is far shorter"]
    r = _import(app, tmp_path, "\r\n".join([HEADER, exactly, GOOD]) + "\r\n")
    assert r.rc == 0 and "inserted   2" in r.out, r


def test_json_lines_over_64_kib_and_a_quote_left_open(app, tmp_path):
    long = json.dumps({"date": "2026-11-05", "pad": "x" * 70_000})
    r = _import(app, tmp_path, "\n".join([long, long]) + "\n", "u.jsonl")
    assert r.rc == 2 and [ln.split(":")[0] for ln in r.lines()] == ["line 1", "line 2"]
    open_quote = HEADER + "\n" + GOOD + ',"\n' + "\n".join("y" * 1000 for _ in range(100)) + "\n"
    r = _import(app, tmp_path, open_quote)
    assert r.rc == 2 and "quote left open" in r.one_line_error()
    _nothing_imported(app)


def test_endless_input_is_read_in_bounded_memory(app, tmp_path):
    """A 200 MB line after the header, and a file without a newline at all: refused, and the
    process never holds the line (its peak memory is measured from a parent of its own)."""
    path = tmp_path / "long.csv"
    with open(path, "wb") as f:
        f.write((HEADER + "\n" + GOOD + "\n").encode())
        chunk = b"9" * (1 << 20)
        for _ in range(200):
            f.write(chunk)
        f.write(b"\n")
    flat = tmp_path / "flat.csv"
    with open(flat, "wb") as f:
        for _ in range(50):
            f.write(b"\0" * (1 << 20))
    measure = (
        "import resource, subprocess, sys\n"
        "r = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
        "print(r.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024)\n"
        "print(r.stderr, end='')\n"
    )
    for target, first_line in ((path, "line 3: longer than 64 KiB"), (flat, "line 1: the header is longer")):
        done = subprocess.run(
            [sys.executable, "-c", measure, str(IMTUI_EXE), "--db", app, "--now", NOW, "usage", "import", str(target)],
            capture_output=True,
            text=True,
            env=clean_env(),
            timeout=60,
        )
        code, peak_mib = map(int, done.stdout.splitlines()[0].split())
        assert code == 2 and done.stdout.splitlines()[1].startswith(first_line), done.stdout
        assert peak_mib < 180, f"peak {peak_mib} MiB reading {target.name}"
    _nothing_imported(app)


def test_deep_json_and_huge_figures_are_numbered_bad_rows_and_audited(app, tmp_path):
    deep = f'{{"date": "2026-11-05", "app_id": {FIRST}, "dau": {"[" * 30_000}1{"]" * 30_000}}}'
    fields = ', "groups": 1, "live_groups": 1, "max_groups_per_user": 1, "max_members_per_group": 1}'
    huge = f'{{"date": "2026-11-06", "app_id": {FIRST}, "dau": {"9" * 5000}{fields}'
    shallow = f'{{"date": "2026-11-07", "app_id": {FIRST}, "dau": [[1]]{fields}'
    r = _import(app, tmp_path, "\n".join([deep, huge, shallow]) + "\n", "u.jsonl")
    assert r.rc == 2 and "unexpectedly" not in r.err, r
    assert r.lines() == [
        "line 1: not a usage record: its JSON is nested too deeply",
        "line 2: dau must be a whole number of digits from 0 to 1,000,000,000, not a number of 5,000 digits",
        "line 3: dau must be a whole number of digits, not a JSON array",
    ]
    r = _import(app, tmp_path, f"{HEADER}\n2026-11-05,{FIRST},1,{'7' * 4400},1,1,1\n")
    assert r.rc == 2 and r.lines() == [
        "line 2: groups must be a whole number of digits from 0 to 1,000,000,000, not a number of 4,400 digits"
    ]
    assert len(_refusals(app)) == 2
    _nothing_imported(app)


def test_every_bad_row_is_listed_in_line_order_with_the_first_ones_code(app, tmp_path):
    rows = [HEADER, GOOD, GOOD, "2026-11-05,1400009999,1,1,1,1,1", f"2026-12-01,{FIRST},1,1,1,1,1", GOOD]
    r = _import(app, tmp_path, "\n".join(rows) + "\n")
    assert r.rc == 2, r
    assert r.lines() == [
        f"line 3: a second record for app {FIRST} on 2026-11-05 (one record per app and day)",
        "line 4: app 1400009999 does not exist",
        "line 5: 2026-12-01 is after today (2026-11-20); usage comes after the day",
        f"line 6: a second record for app {FIRST} on 2026-11-05 (one record per app and day)",
    ]
    later = [HEADER, f"2026-12-01,{FIRST},1,1,1,1,1", GOOD, GOOD]
    assert _import(app, tmp_path, "\n".join(later) + "\n").rc == 3
    _nothing_imported(app)
