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
import heapq
import io
import json
import re
from array import array
from collections.abc import Iterator
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
FAST_BYTES = 1 << 22
"""Bytes of whole lines the fast path reads at once (about 100,000 rows)."""
DIGITS = b"0123456789"
_LONE_CR = re.compile(r"(?<=\r)(?!\n)")
TO_COMMAS = bytes.maketrans(b"-\n", b",,")
BLOCK = 4_096
"""Packed months a block of the gathered matrix holds (grown a block at a time, never copied)."""


class Gathered:
    """Good records by (app, month) in one matrix; bad rows counted, the first ones explained."""

    def __init__(self, rules: ImportRules, apps: tuple[list[int], list[int], list[int], set[int]]):
        self.rules = rules
        self.apps = _AppTable(rules, *apps)
        self.keys: list[tuple[int, str]] = []
        """The gathered (app, month) pairs, in the order of the matrix's rows."""
        self.blocks: list[np.ndarray] = []
        """The matrix of packed months, `BLOCK` rows a block (grown a block at a time, never copied)."""
        self.rows = 0
        self._bad: list[tuple[int, int, str]] = []
        """The first bad rows by line as a heap (-line, exit code, why): rows are not always
        refused in line order (a chunk's rows of the wrong width come first)."""
        self.bad_count = 0
        self._rows_of: dict[int, int] = {}
        self._months: dict[str, int] = {}
        self._days: dict[object, int] = {}
        self._day = _Facts("ok", "ordinal", "open", "slot", "month")
        self._day_values: list[date | None] = []
        self._app_ids: dict[object, int] = {}

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

    @staticmethod
    def _app_id(text) -> int:
        try:
            return parse_app_id(text)
        except BadRow:
            return 0  # no app has it: the row is explained on the slow path

    # --- a chunk of rows --------------------------------------------------------------------------

    def add(self, lines: list[int], dates: list, apps: list, figures: list[list]) -> None:
        """Checks and gathers a chunk of cells: line numbers, date cells, app cells, five figure
        columns."""
        if not lines:
            return
        day_codes = _codes(dates, self._days, self._new_day)
        app_ids = _codes(apps, self._app_ids, self._app_id)
        values, figures_ok = _figures(figures, len(lines))
        self._gather(
            lines, day_codes, app_ids, values, figures_ok, lambda i: (dates[i], apps[i], [c[i] for c in figures])
        )

    def add_numbers(self, first_line: int, days: np.ndarray, app_ids: np.ndarray, values: np.ndarray) -> None:
        """Checks and gathers a chunk already read as numbers (the fast path): rows on the lines
        from `first_line` on, dates as YYYYMMDD, app IDs, the five figures (a row each)."""
        found, inverse = np.unique(days, return_inverse=True)
        texts = [f"{d // 10000:04d}-{d // 100 % 100:02d}-{d % 100:02d}" for d in found.tolist()]
        day_codes = _codes(texts, self._days, self._new_day)[inverse.reshape(-1)]
        lines = range(first_line, first_line + len(app_ids))

        def cells(i: int) -> tuple:
            return texts[inverse[i]], str(app_ids[i]), [str(v) for v in values[:, i].tolist()]

        self._gather(lines, day_codes, app_ids, values, (values <= MOST).all(axis=0), cells)

    def _gather(self, lines, day_codes: np.ndarray, app_ids: np.ndarray, values, figures_ok, cells) -> None:
        """The rules over a chunk at once; a refused row is explained from its `cells(i)`."""
        day = self._day.arrays()
        exists, first, last, halted = self.apps.find(app_ids)
        day_ord = day["ordinal"][day_codes]
        ok = (
            (day["ok"][day_codes] == 1)
            & exists
            & figures_ok
            & (day["open"][day_codes] == 1)
            & (first <= day_ord)
            & (day_ord <= last)
        )
        for i in np.flatnonzero(ok & halted & (values != 0).any(axis=0)):
            if self.rules.apps[int(app_ids[i])].halted_on(self._day_values[day_codes[i]]):
                ok[i] = False
        for i in np.flatnonzero(~ok):
            self._explain(lines[i], *cells(i))
        good = np.flatnonzero(ok)
        if self.bad_count or not len(good):
            return  # a refused file: only bad rows matter from now on
        rows = self._rows(app_ids[good], day["month"][day_codes[good]])
        cells_at = rows * SIZE + day["slot"][day_codes[good]]
        block_of = rows // BLOCK
        blocks = np.unique(block_of).tolist()
        seen = np.zeros(len(good), dtype=bool)
        for b in blocks:
            here = block_of == b
            seen[here] = self.blocks[b].reshape(-1)[cells_at[here] - b * BLOCK * SIZE] != UNTOUCHED
        once = np.zeros(len(good), dtype=bool)
        once[np.unique(cells_at, return_index=True)[1]] = True
        for i in np.flatnonzero(seen | ~once):
            j = good[i]
            app_id, when = int(app_ids[j]), self._day_values[day_codes[j]]
            self._refuse(lines[j], 2, f"a second record for app {app_id} on {when} (one record per app and day)")
        if self.bad_count:
            return
        for b in blocks:
            here = block_of == b
            flat = self.blocks[b].reshape(-1)
            at = cells_at[here] - b * BLOCK * SIZE
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
        """Why the rules refuse one row (as a one-row file would be told)."""
        line = int(line)
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
        if len(self._bad) < SHOWN_BAD_ROWS:
            heapq.heappush(self._bad, (-line, code, message))
        elif line < -self._bad[0][0]:
            heapq.heapreplace(self._bad, (-line, code, message))

    @property
    def bad(self) -> list[tuple[int, int, str]]:
        """The first bad rows of the file (line, exit code, why), in line order."""
        return sorted((-line, code, message) for line, code, message in self._bad)

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


class _AppTable:
    """Every app's window (`ImportRules.windows`) and whether it has days deactivated whole, by
    ascending ID: a chunk's apps are looked up at once."""

    def __init__(self, rules: ImportRules, ids: list[int], created: list[int], purged: list[int], halted: set[int]):
        self.ids = np.array(ids, dtype=np.int64)
        self.first, self.last = rules.windows(np.array(created, dtype=np.int64), np.array(purged, dtype=np.int64))
        self.halted = np.isin(self.ids, np.fromiter(halted, dtype=np.int64, count=len(halted)))

    def find(self, app_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Per app ID: whether the app exists, its first and last days, whether it has days
        deactivated whole."""
        if not len(self.ids):
            nothing = np.zeros(len(app_ids), dtype=np.int64)
            return nothing.astype(bool), nothing, nothing - 1, nothing.astype(bool)
        at = np.minimum(np.searchsorted(self.ids, app_ids), len(self.ids) - 1)
        exists = self.ids[at] == app_ids
        return exists, self.first[at], self.last[at], self.halted[at] & exists


def _codes(cells: list, known: dict, make) -> np.ndarray:
    """The code (or value) `make` gives each cell, made once for each distinct cell."""
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
    """Reads a CSV usage file (any column order; extra columns ignored); returns those columns.

    A file whose header names just the seven columns is read a block of whole lines at a time
    as numbers (`_plain_block`) while its lines are plain (digits where the numbers go, nothing
    quoted or spaced); from the first block that is not, the rest goes through the `csv` module
    line by line, which reads every CSV and explains every bad row."""
    head = stream.readline()
    plain = _plain_header(head)
    if plain is None:
        return _read_csv_rows(_Prefixed(head, stream), gathered)
    line = 1  # lines read so far
    while block := stream.read(FAST_BYTES):
        if not block.endswith(b"\n"):
            block += stream.readline()  # up to the end of the line (or of the file)
        numbers = _plain_block(block, plain)
        if numbers is None:
            _read_csv_rows(_Prefixed(block, stream), gathered, plain, line)
            break
        days, app_ids, values = numbers
        gathered.add_numbers(line + 1, days, app_ids, values)
        line += block.count(b"\n")
    return ()


def _plain_header(head: bytes) -> tuple[str, ...] | None:
    """The columns of a header that names just the seven columns, unquoted (None otherwise)."""
    try:
        text = head.decode("utf-8-sig").rstrip("\r\n")
    except UnicodeDecodeError:
        return None
    names = tuple(text.split(","))
    return names if sorted(names) == sorted(COLUMNS) else None


def _plain_block(block: bytes, names: tuple[str, ...]):
    """A block of whole lines of plain rows as numbers (dates as YYYYMMDD, app IDs, the figures
    a row each), or None when some line is not plain: blank lines at its end aside, every line
    holds each column's digits in the shape the rules ask for (a date `YYYY-MM-DD`, an app ID of
    ten digits not starting with 0, one to ten digits a figure), commas between, nothing else."""
    body = block.rstrip(b"\r\n")
    if b"\r" in body:
        body = body.replace(b"\r\n", b"\n")
    shape = b",".join(b"--" if n == "date" else b"" for n in names)
    n = body.count(b"\n") + 1
    if not body or body.translate(None, DIGITS) != b"\n".join([shape] * n):
        return None
    # the separators are right; now the digits between them
    fields = len(names) + 2  # a date is three numbers
    chars = np.frombuffer(body, dtype=np.uint8)
    ends = np.flatnonzero(chars < ord("0"))
    ends = np.append(ends, len(body)).reshape(n, fields)
    starts = np.empty_like(ends)
    starts[:, 1:] = ends[:, :-1] + 1
    starts[:, 0] = np.append(0, ends[:-1, -1] + 1)
    widths = ends - starts
    low, high, at = _widths(names)
    if (widths < low).any() or (widths > high).any() or (chars[starts[:, at["app_id"]]] == ord("0")).any():
        return None
    numbers = np.fromstring(body.translate(TO_COMMAS), dtype=np.int64, sep=",").reshape(n, fields)
    date = at["date"]
    days = numbers[:, date] * 10000 + numbers[:, date + 1] * 100 + numbers[:, date + 2]
    values = numbers[:, [at[f] for f in FIELDS]].T
    return days, numbers[:, at["app_id"]].copy(), np.ascontiguousarray(values)


def _widths(names: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray, dict[str, int]]:
    """The fewest and most digits of each number of a plain line, and where each column's first
    number is."""
    low, high, at = [], [], {}
    for name in names:
        at[name] = len(low)
        if name == "date":
            low += [4, 2, 2]
            high += [4, 2, 2]
        elif name == "app_id":
            low.append(10)
            high.append(10)
        else:
            low.append(1)
            high.append(10)
    return np.array(low), np.array(high), at


class _Prefixed(io.RawIOBase):
    """Bytes already read, then the rest of a stream: what the `csv` path reads from."""

    def __init__(self, first: bytes, rest: BinaryIO):
        self._first, self._at, self._rest = memoryview(first), 0, rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if self._at < len(self._first):
            n = min(len(buffer), len(self._first) - self._at)
            buffer[:n] = self._first[self._at : self._at + n]
            self._at += n
            return n
        data = self._rest.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def text_lines(stream: BinaryIO, before: int = 0) -> Iterator[str]:
    """The lines of a byte stream as text (a byte-order mark at its start dropped), decoded a
    line at a time so that a line that is not UTF-8 is named exactly; a lone CR ends a line, as
    in universal newlines. `before`: lines of the file already read."""
    line = before
    for data in stream:
        try:
            text = data.decode("utf-8-sig" if line == 0 else "utf-8")
        except UnicodeDecodeError:
            raise InvalidInput(f"line {line + 1}: the usage file is not UTF-8 text") from None
        if "\r" in text.rstrip("\r\n"):
            for piece in _LONE_CR.split(text):
                if piece:
                    line += 1
                    yield piece
        else:
            line += 1
            yield text


def _read_csv_rows(
    raw: _Prefixed, gathered: Gathered, names: tuple[str, ...] | None = None, before: int = 0
) -> tuple[str, ...]:
    """Reads CSV with the `csv` module: the header first (`names` None), or data rows that come
    after `before` lines of the file whose header named `names`."""
    reader = csv.reader(text_lines(io.BufferedReader(raw), before))
    try:
        if names is None:
            header = next(reader, None)
            if header is None:
                raise InvalidInput("the usage file is empty")
            names = tuple(h.strip() for h in header)
            missing = [c for c in COLUMNS if c not in names]
            if missing:
                raise InvalidInput(
                    f"line 1: the header lacks the column{'s' if len(missing) > 1 else ''} {', '.join(missing)} "
                    f"(a usage file's columns: {','.join(COLUMNS)})"
                )
        at = [names.index(c) for c in COLUMNS]
        width = len(names)
        while True:
            start = reader.line_num + before
            rows = list(islice(reader, CHUNK))
            if not rows:
                break
            lines = _line_numbers(rows, start, reader.line_num + before)
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
    except csv.Error as exc:
        raise InvalidInput(f"line {reader.line_num + before}: the usage file is not CSV ({exc})") from None
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
    for line, raw in enumerate(text_lines(stream), 1):
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
    if not seen_any:
        raise InvalidInput("the usage file is empty")
    if chunk:
        gathered.add([ln for ln, _ in chunk], *_columns([c for _, c in chunk], list(range(7))))
    return tuple(sorted(ignored))


def _text(value) -> object:
    """A JSON integer as the digits a CSV cell would hold; anything else as it is."""
    return str(value) if type(value) is int else value
