"""Hostile usage files: whatever bytes arrive, `imtui usage import` imports them or refuses them
with a clear message (bad rows numbered), never crashes, and a refused file changes nothing."""

from __future__ import annotations

import json
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.robustness.harness import TALLY, run

APP = 1400000000
NOW = "2026-11-20T10:00:00+08:00"
HEADER = "date,app_id,dau,groups,live_groups,max_groups_per_user,max_members_per_group"
GOOD = f"2026-11-05,{APP},10,20,1,2,3"


@pytest.fixture
def fleet(db):
    run(db, "2026-11-02T09:00:00+08:00", "apps", "create", "chat", "--account", "acme").ok()
    run(db, "2026-11-02T09:01:00+08:00", "apps", "upgrade", str(APP), "--edition", "pro").ok()
    return db


def _records(db: str) -> str:
    return run(db, NOW, "usage", "show", str(APP), "--format", "json").ok().out


def _check(db: str, tmp_path, data: bytes, name: str = "hostile.csv") -> int:
    """Imports `data`; the outcome is an import or a clear refusal that changed nothing."""
    before = _records(db)
    path = tmp_path / name
    path.write_bytes(data)
    r = run(db, NOW, "usage", "import", str(path))
    TALLY["hostile usage files"] += 1
    assert r.rc in {0, 2, 3, 4}, r
    assert "Traceback" not in r.err and "unexpectedly" not in r.err, r.err
    if r.rc:
        lines = r.err.strip().splitlines()
        assert lines and all(ln.strip() for ln in lines)
        assert len(lines) <= 21 and (len(lines) == 1 or all(ln.startswith(("line ", "… and")) for ln in lines)), lines
        assert _records(db) == before
        TALLY["hostile usage files refused"] += 1
    return r.rc


CELL = st.one_of(
    st.sampled_from(
        [
            "",
            "0",
            "7",
            "-1",
            "+3",
            "1.5",
            "1,000",
            "1e9",
            "10000000000",
            "٣",
            " 9 ",
            "\x00",
            '"',
            "2026-11-05",
            str(APP),
            "1400009999",
            "NaN",
            "null",
            "true",
        ]
    ),
    st.text(max_size=12),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.lists(CELL, min_size=0, max_size=9), max_size=6), header=st.booleans())
def test_random_rows_are_imported_or_refused_cleanly(fleet, tmp_path, rows, header):
    lines = ([HEADER] if header else []) + [",".join(cells) for cells in rows]
    _check(fleet, tmp_path, "\n".join(lines).encode("utf-8", "surrogatepass"))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=400))
def test_random_bytes_are_refused_cleanly(fleet, tmp_path, data):
    _check(fleet, tmp_path, HEADER.encode() + b"\n" + data)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    values=st.lists(
        st.one_of(
            st.none(),
            st.booleans(),
            st.integers(),
            st.floats(),
            st.text(max_size=5),
            st.lists(st.integers(), max_size=2),
        ),
        min_size=7,
        max_size=7,
    )
)
def test_random_json_values_are_refused_or_imported_cleanly(fleet, tmp_path, values):
    keys = HEADER.split(",")
    _check(fleet, tmp_path, json.dumps(dict(zip(keys, values))).encode(), "hostile.jsonl")


@pytest.mark.parametrize(
    "data, code",
    [
        (HEADER.encode() + b"\n" + GOOD.encode() + b"\x00\n", 2),  # a NUL byte
        (HEADER.encode() + b"\n" + b"x" * 200_000 + b"\n", 2),  # one enormous line
        (HEADER.encode() + b'\n"2026-11-05\n",' + str(APP).encode() + b",1,1,1,1,1\n", 0),  # a quoted newline: blank
        (HEADER.encode() + b"\n" + GOOD.encode() + b"\n" + GOOD.encode() + b"\n", 2),  # the same day twice
        (b"\xef\xbb\xbf" + HEADER.encode() + b"\r\n" + GOOD.encode() + b"\r\n\r\n", 0),  # BOM, CRLF, blank end
        (HEADER.encode() + b"\n" + GOOD.replace("10,", "99999999999999999999999999,").encode() + b"\n", 2),
        (HEADER.replace("dau", "DAU").encode() + b"\n" + GOOD.encode() + b"\n", 2),  # a misspelt column
    ],
    ids=["nul", "huge-line", "quoted-newline", "twice", "bom-crlf", "huge-number", "misspelt-header"],
)
def test_pinned_hostile_files(fleet, tmp_path, data, code):
    assert _check(fleet, tmp_path, data) == code


def test_a_million_rows_most_of_them_repeats_are_refused_whole(fleet, tmp_path):
    """A million rows of which all but 19 repeat an app and day already given: the whole file is
    read and refused, the first 20 bad rows listed and the rest counted; nothing is written."""
    rng = random.Random(1)
    days = [f"2026-11-{d:02d}" for d in range(2, 21)]
    lines = [HEADER]
    lines += [f"{days[i % len(days)]},{APP},{rng.randrange(10**6)},1,1,1,1" for i in range(999_999)]
    lines.append(f"2026-11-21,{APP},1,1,1,1,1")  # and one after today
    rc = _check(fleet, tmp_path, ("\n".join(lines) + "\n").encode())
    assert rc == 2  # the first bad row (line 21) is a second record of an app and day
    TALLY["rows in the largest hostile usage file"] = 1_000_000
