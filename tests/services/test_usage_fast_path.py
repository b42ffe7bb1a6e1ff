"""The quick reader of plain CSV blocks (`usage_fast.plain_block`) must reach exactly the
verdict of the `csv` module's reader on any file: the same records gathered, the same bad rows
with the same line numbers and reasons, the same refusal of the whole file. Files mix plain rows
with every kind of mess, and the blocks are made tiny so the hand-over from the quick path to the
`csv` path happens anywhere in a file."""

from __future__ import annotations

import io
from datetime import date
from unittest import mock

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from imtui.domain.errors import InvalidInput
from imtui.domain.usage import COLUMNS, MOST, AppDays, ImportRules
from imtui.services import usage_fast, usage_files
from imtui.services.usage_files import read_csv
from imtui.services.usage_gather import Gathered

TODAY = date(2026, 11, 30)
APPS = {
    1400000001: AppDays(date(2026, 10, 1), None),
    1400000002: AppDays(date(2026, 11, 10), date(2026, 11, 20)),
    1400000003: AppDays(date(2026, 11, 1), None, ((date(2026, 11, 5), date(2026, 11, 7)),)),
}
TABLE = (
    sorted(APPS),
    [APPS[a].created.toordinal() for a in sorted(APPS)],
    [APPS[a].purged.toordinal() if APPS[a].purged else 0 for a in sorted(APPS)],
    {1400000003},
)

dates = st.one_of(
    st.dates(date(2026, 9, 28), date(2026, 12, 3)).map(date.isoformat),
    st.sampled_from(["2026-11-31", "2026-1-05", "2026/11/05", "20261105", " 2026-11-05", "0000-00-00", ""]),
)
apps = st.one_of(
    st.sampled_from([str(a) for a in APPS]),
    st.sampled_from(["1400000009", "0400000001", "140000000", "14000000011", "1400000001 ", "x"]),
)
figures = st.one_of(
    st.integers(0, 30).map(str),
    st.integers(0, MOST + 5).map(str),
    st.sampled_from(["007", "+5", "-1", "1.5", "1e3", '"1,000"', "", " 5", "99999999999"]),
)


@st.composite
def rows(draw, names: tuple[str, ...]) -> bytes:
    kind = draw(st.sampled_from(["plain"] * 6 + ["blank", "spaces", "short", "quoted", "latin1", "newline"]))
    cells = {"date": draw(dates), "app_id": draw(apps)}
    cells.update({name: draw(figures) for name in COLUMNS[2:]})
    line = ",".join(cells[n] for n in names)
    if kind == "blank":
        line = ""
    elif kind == "spaces":
        line = "   "
    elif kind == "short":
        line = line.rsplit(",", 1)[0]
    elif kind == "quoted":
        line = ",".join(f'"{cells[n]}"' for n in names)
    elif kind == "newline":
        line = line.replace(",", ',"a\nb",', 1)
    data = line.encode()
    if kind == "latin1":
        data = data + "é".encode("latin-1")
    return data


@st.composite
def files(draw) -> bytes:
    names = tuple(draw(st.permutations(COLUMNS)))
    newline = draw(st.sampled_from([b"\n", b"\r\n"]))
    body = draw(st.lists(rows(names), max_size=30))
    bom = draw(st.booleans())
    end = draw(st.sampled_from([newline, b"", newline * 3]))
    head = ("\ufeff" if bom else "").encode() + ",".join(names).encode()
    return newline.join([head, *body]) + end


def verdict(data: bytes) -> tuple:
    gathered = Gathered(ImportRules(APPS, TODAY, {"2026-10": "2026-11-03"}), TABLE)
    try:
        read_csv(io.BytesIO(data), gathered)
    except InvalidInput as refused:
        return ("refused", refused.message)  # the one line a refused file is told
    if gathered.bad_count:  # refused: what is told is the bad rows
        return ("bad", gathered.bad, gathered.bad_count)
    matrix = [gathered.months(0, len(gathered.keys)).tolist()] if gathered.keys else []
    return ("read", gathered.rows, gathered.keys, matrix)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(files(), st.integers(1, 400))
def test_the_quick_path_reaches_the_verdict_of_the_csv_path(data, block):
    with mock.patch.object(usage_fast, "plain_header", lambda head: None):
        slow = verdict(data)
    with mock.patch.object(usage_fast, "FAST_BYTES", block):
        fast = verdict(data)
    assert fast == slow


def test_plain_files_are_read_by_the_quick_path():
    """A clean export never touches the `csv` module (else the million-row import is slow)."""
    lines = [",".join(COLUMNS)] + [f"2026-11-{d:02d},1400000001,{d},2,1,1,1" for d in range(1, 29)]
    with mock.patch.object(usage_files, "_read_csv_rows", side_effect=AssertionError("slow path")):
        with mock.patch.object(usage_fast, "FAST_BYTES", 100):
            assert verdict(("\r\n".join(lines) + "\r\n\r\n").encode())[1] == 28
