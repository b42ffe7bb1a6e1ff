"""Reading a usage file fast: a million rows in a few seconds, in bounded memory.

Rows are read in chunks; each chunk's cells become NumPy arrays, so the common case (well-formed
rows the rules accept) is checked and gathered column by column. Each distinct date and app of
the file is looked at once (the rules of `domain.usage.ImportRules`). A row that fails any check
takes the slow path, which asks the domain why, one row at a time; so a bad row is explained
exactly as a one-row file would explain it. Good records are gathered in one matrix of packed
months (a row per app and month), merged with what is stored only when every row was good.
"""

from __future__ import annotations

import csv
import io
import json
from array import array
from datetime import date
from itertools import islice
from typing import BinaryIO

import numpy as np

from imtui.domain.errors import InvalidInput
from imtui.domain.usage import (
    COLUMNS,
    FIELDS,
    MOST,
    BadRow,
    ImportRules,
    halted_on,
    parse_app_id,
    parse_count,
    parse_counts,
)
from imtui.services.usage import SHOWN_BAD_ROWS

SLOTS = 31
"""Days a packed month has room for (see `persistence.repos.usage`)."""
SIZE = SLOTS * len(FIELDS)
UNTOUCHED = -2
"""A day the file has no record for (in the gathered matrix)."""
CHUNK = 25_000
"""Rows checked at once (bounds the memory rows take while they are read)."""
BLOCK = 4_096
"""Packed months a block of the gathered matrix holds (grown a block at a time, never copied)."""


class Gathered:
    """Good records by (app, month) in one matrix; bad rows counted, the first ones explained."""

    def __init__(self, rules: ImportRules):
        self.rules = rules
        self.keys: list[tuple[int, str]] = []
        """The gathered (app, month) pairs, in the order of the matrix's rows."""
        self.blocks: list[np.ndarray] = []
        """The matrix of packed months, `BLOCK` rows a block (grown a block at a time, never copied)."""
        self.rows = 0
        self.bad: list[tuple[int, int, str]] = []
        """The first bad rows (line, exit code, why), in line order."""
        self.bad_count = 0
        self._rows_of: dict[int, int] = {}
        self._months: dict[str, int] = {}
        self._days: dict[object, int] = {}
        self._day = _Facts("ok", "ordinal", "open", "slot", "month")
        self._day_values: list[date | None] = []
        self._apps: dict[object, int] = {}
        self._app = _Facts("ok", "app_id", "first", "last", "halted")
        self._halted: list[tuple] = []

    # --- distinct dates and apps, each looked at once ------------------------------------------

    def _new_day(self, text) -> int:
        try:
            day, month, slot, open_month = self.rules.day(text)
            month_code = self._months.setdefault(month, len(self._months))
            facts, value = (1, day.toordinal(), int(open_month), slot, month_code), day
        except BadRow:
            facts, value = (0, 0, 0, 0, 0), None
        self._day_values.append(value)
        return self._day.add(facts)

    def _new_app(self, text) -> int:
        try:
            app_id = parse_app_id(text)
            window = self.rules.window(app_id)
        except BadRow:
            app_id, window = 0, None
        if window is None:
            facts, halted = (0, app_id, 0, -1, 0), ()
        else:
            first, last, halted = window
            facts = (1, app_id, first.toordinal(), last.toordinal(), int(bool(halted)))
        self._halted.append(halted)
        return self._app.add(facts)

    # --- a chunk of rows --------------------------------------------------------------------------

    def add(self, lines: list[int], dates: list, apps: list, figures: list[list]) -> None:
        """Checks and gathers a chunk: line numbers, date cells, app cells, five figure columns."""
        n = len(lines)
        if not n:
            return
        day_codes = _codes(dates, self._days, self._new_day)
        app_codes = _codes(apps, self._apps, self._new_app)
        day, app = self._day.arrays(), self._app.arrays()
        values, figures_ok = _figures(figures, n)
        day_ord = day["ordinal"][day_codes]
        ok = (
            (day["ok"][day_codes] == 1)
            & (app["ok"][app_codes] == 1)
            & figures_ok
            & (day["open"][day_codes] == 1)
            & (app["first"][app_codes] <= day_ord)
            & (day_ord <= app["last"][app_codes])
        )
        for i in np.flatnonzero(ok & (app["halted"][app_codes] == 1) & (values != 0).any(axis=0)):
            if halted_on(self._halted[app_codes[i]], self._day_values[day_codes[i]]):
                ok[i] = False
        for i in np.flatnonzero(~ok):
            self._explain(lines[i], dates[i], apps[i], [column[i] for column in figures])
        good = np.flatnonzero(ok)
        if self.bad_count or not len(good):
            return  # a refused file: only bad rows matter from now on
        rows = self._rows(app["app_id"][app_codes[good]], day["month"][day_codes[good]])
        cells = rows * SIZE + day["slot"][day_codes[good]]
        block_of = rows // BLOCK
        blocks = np.unique(block_of).tolist()
        seen = np.zeros(len(good), dtype=bool)
        for b in blocks:
            here = block_of == b
            seen[here] = self.blocks[b].reshape(-1)[cells[here] - b * BLOCK * SIZE] != UNTOUCHED
        first = np.zeros(len(good), dtype=bool)
        first[np.unique(cells, return_index=True)[1]] = True
        for i in np.flatnonzero(seen | ~first):
            j = good[i]
            app_id, when = int(app["app_id"][app_codes[j]]), self._day_values[day_codes[j]]
            self._refuse(lines[j], 2, f"a second record for app {app_id} on {when} (one record per app and day)")
        if self.bad_count:
            return
        for b in blocks:
            here = block_of == b
            flat = self.blocks[b].reshape(-1)
            at = cells[here] - b * BLOCK * SIZE
            for f in range(len(FIELDS)):
                flat[at + f * SLOTS] = values[f, good[here]]
        self.rows += len(good)

    def _rows(self, app_ids: np.ndarray, month_codes: np.ndarray) -> np.ndarray:
        """The matrix row of each record's (app, month), making rows for new ones."""
        pairs, inverse = np.unique(app_ids * 4096 + month_codes, return_inverse=True)
        get = self._rows_of.get
        found = [get(p, -1) for p in pairs.tolist()]
        if -1 in found:
            months = {code: month for month, code in self._months.items()}
            for i, p in enumerate(pairs.tolist()):
                if found[i] < 0:
                    found[i] = self._rows_of[p] = len(self.keys)
                    self.keys.append((p // 4096, months[p % 4096]))
            while len(self.keys) > len(self.blocks) * BLOCK:
                self.blocks.append(np.full((BLOCK, SIZE), UNTOUCHED, dtype="<i4"))
        return np.array(found, dtype=np.int64)[inverse.reshape(-1)]

    def _explain(self, line: int, day_text, app_text, cells: list) -> None:
        """Why the rules refuse one row (the slow path, as a one-row file would be told)."""
        try:
            day, month, _, _ = self.rules.day(day_text)
            app_id = parse_app_id(app_text)
            values = parse_counts(cells)
            self.rules.check(app_id, day, month, values)
        except BadRow as bad:
            self._refuse(line, bad.code, bad.message)
            return
        raise AssertionError(f"line {line} was refused without a reason")  # the two paths disagree

    def _refuse(self, line: int, code: int, message: str) -> None:
        self.bad_count += 1
        if len(self.bad) < SHOWN_BAD_ROWS:
            self.bad.append((line, code, message))

    def months(self, start: int, end: int) -> np.ndarray:  # noqa: D401
        """The packed months of the gathered keys `start` to `end` (in the order of `keys`)."""
        first, last = start // BLOCK, (end - 1) // BLOCK
        if first == last:
            return self.blocks[first][start - first * BLOCK : end - first * BLOCK]
        return np.concatenate([self.blocks[b] for b in range(first, last + 1)])[
            start - first * BLOCK : end - first * BLOCK
        ]


class _Facts:
    """Integer facts of the distinct dates (or apps) of a file, as growing columns that a chunk
    reads as NumPy arrays without copying."""

    def __init__(self, *names: str):
        self.names = names
        self.columns = {name: array("q") for name in names}

    def add(self, facts: tuple[int, ...]) -> int:
        for name, value in zip(self.names, facts):
            self.columns[name].append(value)
        return len(self.columns[self.names[0]]) - 1

    def arrays(self) -> dict[str, np.ndarray]:
        return {name: np.frombuffer(column, dtype=np.int64) for name, column in self.columns.items()}


def _codes(cells: list, known: dict, make) -> np.ndarray:
    """The code of each cell's value, making codes for values not seen before."""
    get = known.get
    try:
        codes = [get(c, -1) for c in cells]
    except TypeError:  # a JSON value that is no text (a list, an object): each one its own
        return np.array([make(c) for c in cells], dtype=np.int64)
    if -1 in codes:
        for c in {c for code, c in zip(codes, cells) if code < 0}:
            known[c] = make(c)
        codes = [get(c) for c in cells]
    return np.array(codes, dtype=np.int64)


def _figures(columns: list[list], n: int) -> tuple[np.ndarray, np.ndarray]:
    """The five figures of a chunk as integers, and which rows hold five plain numbers in range
    (the same verdict as `domain.usage.parse_count`, cell by cell). A column of plain digits
    throughout (the common case) is checked at once."""
    values = np.zeros((len(FIELDS), n), dtype=np.int64)
    ok = np.ones(n, dtype=bool)
    for f, column in enumerate(columns):
        try:
            joined = "".join(column)
        except TypeError:
            joined = None
        if joined is not None and joined.isdigit() and joined.isascii() and "" not in column:
            try:
                values[f] = np.fromiter(map(int, column), dtype=np.int64, count=n)
                ok &= values[f] <= MOST
                continue
            except OverflowError:
                pass  # a number far out of range: cell by cell
        values[f], column_ok = _figure_cells(column, n)
        ok &= column_ok
    return values, ok


def _figure_cells(column: list, n: int) -> tuple[np.ndarray, np.ndarray]:
    """One figure column cell by cell (some cell is not plain digits)."""
    values = np.zeros(n, dtype=np.int64)
    ok = np.zeros(n, dtype=bool)
    for i, cell in enumerate(column):
        try:
            values[i] = parse_count("figure", cell)
            ok[i] = True
        except BadRow:
            pass
    return values, ok


# --- reading the two formats ------------------------------------------------------------------


def read_csv(stream: BinaryIO, gathered: Gathered) -> tuple[str, ...]:
    """Reads a CSV usage file (any column order; extra columns ignored); returns those columns."""
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
    reader = csv.reader(text)
    try:
        header = next(reader, None)
        if header is None:
            raise InvalidInput("the usage file is empty")
        names = [h.strip() for h in header]
        missing = [c for c in COLUMNS if c not in names]
        if missing:
            raise InvalidInput(
                f"line 1: the header lacks the column{'s' if len(missing) > 1 else ''} {', '.join(missing)} "
                f"(a usage file's columns: {','.join(COLUMNS)})"
            )
        at = [names.index(c) for c in COLUMNS]
        width = len(names)
        while True:
            start = reader.line_num
            rows = list(islice(reader, CHUNK))
            if not rows:
                break
            lines = _line_numbers(rows, start, reader.line_num)
            if set(map(len, rows)) != {width}:
                keep = []
                for line, cells in zip(lines, rows):
                    if len(cells) == width:
                        keep.append((line, cells))
                    elif any(c.strip() for c in cells):
                        gathered._refuse(line, 2, f"expected {width} columns, found {len(cells)}")
                lines, rows = [ln for ln, _ in keep], [c for _, c in keep]
            if rows:
                gathered.add(lines, *_columns(rows, at))
    except UnicodeDecodeError:
        raise InvalidInput(f"line {reader.line_num + 1}: the usage file is not UTF-8 text") from None
    except csv.Error as exc:
        raise InvalidInput(f"line {reader.line_num}: the usage file is not CSV ({exc})") from None
    return tuple(n for n in names if n not in COLUMNS)


def _line_numbers(rows: list[list[str]], start: int, end: int) -> list[int]:
    """The line each row of a chunk ends on (a quoted cell may span lines)."""
    if end - start == len(rows):
        return list(range(start + 1, end + 1))
    lines, line = [], start
    for cells in rows:
        line += 1 + sum(c.count("\n") for c in cells)
        lines.append(line)
    return lines


def _columns(rows: list[list], at: list[int]) -> tuple[list, list, list[list]]:
    """Dates, apps and the five figure columns of rows, by the positions of the columns."""
    columns = list(zip(*rows))
    return list(columns[at[0]]), list(columns[at[1]]), [list(columns[i]) for i in at[2:]]


def read_jsonl(stream: BinaryIO, gathered: Gathered) -> tuple[str, ...]:
    """Reads a JSON lines usage file (one object a line); returns the fields it ignored."""
    ignored: set[str] = set()
    line = 0
    seen_any = False
    chunk: list[tuple[int, list]] = []
    try:
        for line, raw in enumerate(io.TextIOWrapper(stream, encoding="utf-8-sig"), 1):
            if not raw.strip():
                continue
            seen_any = True
            try:
                obj = json.loads(raw)
            except ValueError:
                obj = None
            if not isinstance(obj, dict):
                gathered._refuse(line, 2, "not a JSON object")
                continue
            missing = [c for c in COLUMNS if c not in obj]
            if missing:
                gathered._refuse(line, 2, f"lacks {', '.join(missing)}")
                continue
            ignored.update(k for k in obj if k not in COLUMNS)
            chunk.append((line, [_text(obj[c]) for c in COLUMNS]))
            if len(chunk) == CHUNK:
                gathered.add([ln for ln, _ in chunk], *_columns([c for _, c in chunk], list(range(7))))
                chunk = []
    except UnicodeDecodeError:
        raise InvalidInput(f"line {line + 1}: the usage file is not UTF-8 text") from None
    if not seen_any:
        raise InvalidInput("the usage file is empty")
    if chunk:
        gathered.add([ln for ln, _ in chunk], *_columns([c for _, c in chunk], list(range(7))))
    return tuple(sorted(ignored))


def _text(value) -> object:
    """A JSON integer as the digits a CSV cell would hold; anything else as it is."""
    return str(value) if type(value) is int else value
