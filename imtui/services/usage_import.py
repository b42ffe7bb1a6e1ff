"""Importing a usage file (domain.md §6): read and checked whole first, then written in short
transactions, so a halt or reactivate never waits for an import.

Reading holds no lock and no transaction: rows are read in chunks in bounded memory (a line over
`LINE_LIMIT` is a bad row, read past without being held); each chunk's cells become NumPy arrays,
so the common case (well-formed rows the rules accept) is checked and gathered column by column.
Each distinct date and app of the file is looked at once (the rules of `domain.usage.ImportRules`).
A row that fails any check takes the slow path, which asks the domain why, one row at a time; so a
bad row is explained exactly as a one-row file would explain it. Good records are gathered in one
matrix of packed months (a row per app and month). Only when every row was good is anything
written: a chunk of packed months per transaction, each merged with what is stored at that moment.
"""

from __future__ import annotations

import csv
import heapq
import io
import json
from array import array
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from datetime import date, datetime, timedelta
from functools import partial
from itertools import islice
from typing import BinaryIO

import numpy as np

from imtui.domain.audit import DONE, AuditEntry
from imtui.domain.calendar import zone
from imtui.domain.errors import InvalidInput, Refused
from imtui.domain.timeline import check_not_before
from imtui.domain.usage import (
    COLUMNS,
    FIELDS,
    MOST,
    AppDays,
    BadRow,
    ImportRules,
    parse_app_id,
    parse_count,
)
from imtui.domain.usage_file import LINE_LIMIT, MESSAGE_LIMIT, SHOWN_BAD_ROWS, ImportSummary, UsageRefused
from imtui.persistence.repos.usage import MISSING
from imtui.services import usage_fast
from imtui.services.context import ServiceContext, no_cyclic_gc

CSV, JSONL = "csv", "jsonl"
SLOTS = 31
"""Days a packed month has room for (see `persistence.repos.usage`)."""
SIZE = SLOTS * len(FIELDS)
UNTOUCHED = -2
"""A day the file has no record for (in the gathered matrix)."""
CHUNK = 25_000
"""Rows checked at once (bounds the memory rows take while they are read)."""
WRITE_CHUNK = 4_096
"""Packed months read, merged and written in one transaction (small, since a halt issued meanwhile
may have to wait for it)."""
READ_CHARS = LINE_LIMIT + 2
"""Characters a line is read in at most (a line of `LINE_LIMIT` bytes and its CR LF)."""
LONG_LINE = f"longer than 64 KiB ({LINE_LIMIT:,} bytes); a usage row is far shorter"
LONG_DIGITS = 20
"""A figure of more digits than this is out of range whatever its value (read without `int`,
which refuses 4,300 digits and more)."""
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
        if not len(good):
            return
        # good rows are gathered even in a refused file: a later row for the same app and day is
        # a bad row too, listed in its place
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
        again = seen | ~once
        for i in np.flatnonzero(again):
            j = good[i]
            app_id, when = int(app_ids[j]), self._day_values[day_codes[j]]
            self.refuse(lines[j], 2, f"a second record for app {app_id} on {when} (one record per app and day)")
        if again.any():
            good, cells_at, block_of = good[~again], cells_at[~again], block_of[~again]
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
            values = [_count(f, c) for f, c in zip(FIELDS, cells)]
            self.rules.check(app_id, day, month, values)
        except BadRow as bad:
            self.refuse(line, bad.code, bad.message)
            return
        raise AssertionError(f"line {line} was refused without a reason")  # the two paths disagree

    def refuse(self, line: int, code: int, message: str) -> None:
        """Counts a bad row; the first ones (by line) are kept with why."""
        if len(message) > MESSAGE_LIMIT:
            message = message[:MESSAGE_LIMIT] + "…"
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
            except (OverflowError, ValueError):
                pass  # a number far out of range (or of thousands of digits): cell by cell
        values[f], column_ok = _figure_cells(column, n)
        ok &= column_ok
    return values, ok


def _figure_cells(column: list, n: int) -> tuple[np.ndarray, np.ndarray]:
    """One figure column cell by cell (some cell is not plain digits)."""
    values = np.zeros(n, dtype=np.int64)
    ok = np.zeros(n, dtype=bool)
    for i, cell in enumerate(column):
        try:
            values[i] = _count("figure", cell)
            ok[i] = True
        except BadRow:
            pass
    return values, ok


def _count(field: str, cell: object) -> int:
    """`domain.usage.parse_count`, but a cell of many characters is refused without being
    turned into a number (`int` refuses 4,300 digits and more, and takes long before that)."""
    if isinstance(cell, str) and len(cell) > LONG_DIGITS:
        text = cell.strip()
        if len(text) > LONG_DIGITS:
            digits = text.isascii() and text.isdigit()
            if digits and len(text.lstrip("0")) <= LONG_DIGITS:
                return parse_count(field, text.lstrip("0") or "0")
            what = f"a number of {len(text):,} digits" if digits else f"a text of {len(text):,} characters"
            raise BadRow(2, f"{field} must be a whole number of digits from 0 to {MOST:,}, not {what}")
    return parse_count(field, cell)


# --- reading the two formats ------------------------------------------------------------------


def read_csv(stream: BinaryIO, gathered: Gathered) -> tuple[str, ...]:
    """Reads a CSV usage file (any column order; extra columns ignored); returns those columns.

    A file whose header names just the seven columns goes the quick way (`usage_fast`) while its
    lines are plain; from the first block that is not, the rest goes through the `csv` module
    line by line, which reads every CSV and explains every bad row."""
    head = stream.readline(READ_CHARS)
    plain = usage_fast.plain_header(head)
    if plain is None:
        return _read_csv_rows(_Prefixed(head, stream), gathered)
    rest = usage_fast.read_plain(stream, plain, gathered)
    if rest is not None:
        block, line = rest
        _read_csv_rows(_Prefixed(block, stream), gathered, plain, line)
    return ()


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


class Lines:
    """The lines of a byte stream as text, each at most `LINE_LIMIT` bytes: a longer one is read
    past without being held, handed to `too_long` and replaced by a blank line (so memory never
    grows with a line, and line numbers stay right). A line ends at LF, CR LF or a lone CR; a
    byte-order mark at the file's start is dropped; a line that is not UTF-8 refuses the file,
    naming it. `before`: lines of the file already read.

    `row_limit`: for CSV, where a quoted cell may span lines, the characters read since the
    reader last took a row (`row_taken`) may not pass `LINE_LIMIT` either (a quote left open
    would otherwise gather the rest of the file into one row)."""

    def __init__(
        self, stream: BinaryIO, before: int = 0, too_long: Callable[[int], None] | None = None, row_limit=False
    ):
        encoding = "utf-8-sig" if before == 0 else "utf-8"
        self._text = io.TextIOWrapper(stream, encoding=encoding, errors="surrogateescape", newline="")
        self.line = before
        self._too_long = too_long
        self._row_limit = row_limit
        self._since_row = 0
        self._cut_cr = False  # the last piece ended at the read limit on a CR (its LF may follow)

    def __iter__(self) -> Lines:
        return self

    def row_taken(self) -> None:
        self._since_row = 0

    def _read(self) -> str:
        piece = self._text.readline(READ_CHARS)
        if self._cut_cr and piece == "\n":
            piece = self._text.readline(READ_CHARS)  # the LF of a CR LF split by the read limit
        self._cut_cr = len(piece) == READ_CHARS and piece.endswith("\r")
        return piece

    def __next__(self) -> str:
        piece = self._read()
        if not piece:
            raise StopIteration
        self.line += 1
        ended = piece.endswith(("\n", "\r"))
        body = piece.rstrip("\r\n")
        if (
            not ended
            and len(piece) == READ_CHARS
            or len(body) > LINE_LIMIT
            or not body.isascii()
            and len(body.encode("utf-8", "surrogateescape")) > LINE_LIMIT
        ):
            while not ended and piece:  # read past the rest of the line, a piece at a time
                piece = self._read()
                ended = piece.endswith(("\n", "\r"))
            if self._too_long is not None:
                self._too_long(self.line)
            return "\n"
        if not body.isascii():
            try:
                body.encode("utf-8")
            except UnicodeEncodeError:
                raise InvalidInput(f"line {self.line}: the usage file is not UTF-8 text") from None
        if self._row_limit:
            self._since_row += len(piece)
            if self._since_row > READ_CHARS:
                raise InvalidInput(
                    f"line {self.line}: a row runs on over several lines past 64 KiB (a quote left open?)"
                )
        return piece

    def close(self) -> None:
        """Lets go of the stream without closing it."""
        self._text.detach()


def _read_csv_rows(
    raw: _Prefixed, gathered: Gathered, names: tuple[str, ...] | None = None, before: int = 0
) -> tuple[str, ...]:
    """Reads CSV with the `csv` module: the header first (`names` None), or data rows that come
    after `before` lines of the file whose header named `names`."""

    lines = Lines(io.BufferedReader(raw), before, partial(_csv_line_too_long, gathered), row_limit=True)
    reader = csv.reader(lines)

    def taken() -> Iterator[list[str]]:
        for row in reader:
            lines.row_taken()
            yield row

    rows_of = taken()
    try:
        if names is None:
            names = _header(rows_of)
        at = [names.index(c) for c in COLUMNS]
        width = len(names)
        while True:
            start = reader.line_num + before
            rows = list(islice(rows_of, CHUNK))
            if not rows:
                break
            line_numbers = _line_numbers(rows, start, reader.line_num + before)
            if set(map(len, rows)) != {width}:
                line_numbers, rows = _of_width(width, line_numbers, rows, gathered)
            if rows:
                gathered.add(line_numbers, *_columns(rows, at))
    except csv.Error as exc:
        raise InvalidInput(f"line {reader.line_num + before}: the usage file is not CSV ({exc})") from None
    finally:
        lines.close()
    return tuple(n for n in names if n not in COLUMNS)


def _csv_line_too_long(gathered: Gathered, line: int) -> None:
    """A CSV line past 64 KiB: a refused row, or the whole file when it is the header."""
    if line == 1:
        raise InvalidInput(f"line 1: the header is {LONG_LINE}")
    gathered.refuse(line, 2, LONG_LINE)


def _header(rows_of: Iterator[list[str]]) -> tuple[str, ...]:
    """The column names of a CSV file's first row, checked (`_check_header`)."""
    header = next(rows_of, None)
    if header is None:
        raise InvalidInput("the usage file is empty")
    names = tuple(h.strip() for h in header)
    _check_header(names)
    return names


def _of_width(
    width: int, line_numbers: list[int], rows: list[list[str]], gathered: Gathered
) -> tuple[list[int], list[list[str]]]:
    """The rows of a chunk with `width` cells and their lines; any other row is refused unless
    it is blank."""
    keep = []
    for line, cells in zip(line_numbers, rows):
        if len(cells) == width:
            keep.append((line, cells))
        elif any(c.strip() for c in cells):
            gathered.refuse(line, 2, f"expected {width} columns, found {len(cells)}")
    return [ln for ln, _ in keep], [c for _, c in keep]


def _check_header(names: tuple[str, ...]) -> None:
    """Refuses a header that names a column twice or lacks one of the seven."""
    twice = [n for n, k in Counter(names).items() if k > 1 and n]
    if twice:
        raise InvalidInput(f"line 1: the header names the column {twice[0]!r} twice (which one holds the figures?)")
    missing = [c for c in COLUMNS if c not in names]
    if missing:
        raise InvalidInput(
            f"line 1: the header lacks the column{'s' if len(missing) > 1 else ''} {', '.join(missing)} "
            f"(a usage file's columns: {','.join(COLUMNS)})"
        )


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


class _Twice(ValueError):
    """A JSON object that names a key twice."""


class _Shown:
    """A JSON value that cannot be a cell (an array, an object), shown by its kind: never held
    whole in a message, never printed deeply nested."""

    def __init__(self, kind: str):
        self.kind = kind

    def __repr__(self) -> str:
        return f"a JSON {self.kind}"


def _object(pairs: list[tuple[str, object]]) -> dict:
    """A JSON object, refused when it names a key twice."""
    obj = dict(pairs)
    if len(obj) < len(pairs):
        raise _Twice(next(k for k, n in Counter(k for k, _ in pairs).items() if n > 1))
    return obj


def _integer(digits: str) -> int | str:
    """A JSON integer; one of very many digits stays text (refused as out of range, not read)."""
    return int(digits) if len(digits) <= LONG_DIGITS else digits


def read_jsonl(stream: BinaryIO, gathered: Gathered) -> tuple[str, ...]:
    """Reads a JSON lines usage file (one object a line); returns the fields it ignored."""
    ignored: set[str] = set()
    seen_any = False
    chunk: list[tuple[int, list]] = []
    lines = Lines(stream, too_long=lambda line: gathered.refuse(line, 2, LONG_LINE))
    try:
        for raw in lines:
            line = lines.line
            if not raw.strip():
                continue
            seen_any = True
            obj = _json_record(raw, line, gathered)
            if obj is None:
                continue
            ignored.update(k for k in obj if k not in COLUMNS)
            chunk.append((line, [_text(obj[c]) for c in COLUMNS]))
            if len(chunk) == CHUNK:
                gathered.add([ln for ln, _ in chunk], *_columns([c for _, c in chunk], list(range(7))))
                chunk = []
    finally:
        lines.close()
    if not seen_any and not gathered.bad_count:
        raise InvalidInput("the usage file is empty")
    if chunk:
        gathered.add([ln for ln, _ in chunk], *_columns([c for _, c in chunk], list(range(7))))
    return tuple(sorted(ignored))


def _json_record(raw: str, line: int, gathered: Gathered) -> dict | None:
    """One JSON line as a usage record (an object with the seven keys), or None with the line
    refused."""
    try:
        obj = json.loads(raw, object_pairs_hook=_object, parse_int=_integer)
    except _Twice as twice:
        gathered.refuse(line, 2, f"names the key {twice.args[0]!r} twice (which one holds the figure?)")
        return None
    except RecursionError:
        gathered.refuse(line, 2, "not a usage record: its JSON is nested too deeply")
        return None
    except ValueError:
        obj = None
    if not isinstance(obj, dict):
        gathered.refuse(line, 2, "not a JSON object")
        return None
    missing = [c for c in COLUMNS if c not in obj]
    if missing:
        gathered.refuse(line, 2, f"lacks {', '.join(missing)}")
        return None
    return obj


def _text(value) -> object:
    """A JSON integer as the digits a CSV cell would hold; an array or object by its kind;
    anything else as it is."""
    if type(value) is int:
        return str(value)
    if isinstance(value, list | dict):
        return _Shown("array" if isinstance(value, list) else "object")
    return value


# --- the import: checked whole without a lock, then written in short transactions ---------------


def input_format(name: str, chosen: str | None) -> str:
    """CSV or JSON lines: as chosen, else from the file's extension, else CSV."""
    if chosen:
        return chosen
    return JSONL if name.lower().endswith((".jsonl", ".ndjson")) else CSV


class UsageImport:
    """One import of a usage file, at the run's instant `now`.

    1. What the rules need (apps, their days, issued months) is read in one short read
       transaction; the permission and the instant are checked there.
    2. The whole input is read and checked with no transaction open and no lock held.
    3. A file with a bad row is refused: nothing was written (all or nothing).
    4. The gathered packed months are written `WRITE_CHUNK` at a time, one short write
       transaction each, merged with what is stored at that moment (so a halt, an upgrade or
       another import between two chunks is never overwritten), each chunk's months checked
       again against the issued bills first.
    5. A last short transaction records the import in the audit trail.

    A halt or reactivate issued meanwhile waits at most one chunk's transaction."""

    def __init__(self, ctx: ServiceContext):
        self.ctx = ctx

    def run(self, stream: BinaryIO, name: str, fmt: str, now: datetime) -> ImportSummary:
        ctx = self.ctx
        with ctx.uow() as uow:
            ctx.require(uow, "usage_import")
            check_not_before(now, uow.meta.latest, ctx.tz)
            lives = Lives(uow.apps.lives(), uow.history.deactivations(), zone(ctx.tz))
            issued = {m: at.astimezone(zone(ctx.tz)).date().isoformat() for m, at in uow.bills.issued().items()}
        gathered = Gathered(ImportRules(lives, ctx.period(now).today_date, issued), lives.ordinals())
        with no_cyclic_gc():  # a million short-lived rows would set the collector off again and again
            ignored = (read_jsonl if fmt == JSONL else read_csv)(stream, gathered)
        if gathered.bad_count:
            raise UsageRefused(gathered.bad, gathered.bad_count)
        if not gathered.rows:
            raise InvalidInput("the usage file holds no records (only a header)")
        summary = self._write(gathered, set(issued), ignored)
        with ctx.uow(write=True) as uow:
            uow.audit.add(
                AuditEntry(
                    now,
                    ctx.actor,
                    "usage_import",
                    None,
                    DONE,
                    f"imported usage from {name}: {summary.rows} records of {summary.apps} apps; "
                    f"{summary.inserted} new, {summary.replaced} replaced, {summary.unchanged} unchanged",
                )
            )
            uow.meta.advance_latest(now)
            uow.meta.bump_counter()
            uow.commit()
        return summary

    def _write(self, gathered: Gathered, issued: set[str], ignored: tuple[str, ...]) -> ImportSummary:
        """Merges the gathered months into what is stored, `WRITE_CHUNK` packed months per short
        write transaction, counting new, replaced and unchanged records."""
        tz = zone(self.ctx.tz)
        counts = np.zeros(3, dtype="i8")
        keys = list(gathered.keys)
        for start in range(0, len(keys), WRITE_CHUNK):
            part = keys[start : start + WRITE_CHUNK]
            new = gathered.months(start, start + len(part))
            with self.ctx.uow(write=True) as uow:
                late = sorted({m for _, m in part if m not in issued} & set(uow.bills.issued()))
                if late:  # a month close ran meanwhile: what was written before stays (see report)
                    raise Refused(
                        f"the bill of {late[0]} was issued while the usage file was being imported; "
                        f"its usage can no longer change ({start} of {len(keys)} app months were written)"
                    )
                paid = {
                    a: at.astimezone(tz).date()
                    for a, at in uow.usage.paid_since(sorted({a for a, _ in part})).items()
                    if at is not None
                }
                old = uow.usage.load_matrix(part)
                touched = new[:, :SLOTS] != UNTOUCHED
                missing = old[:, :SLOTS] == MISSING
                shape = (len(part), len(FIELDS), SLOTS)
                same = (new.reshape(shape) == old.reshape(shape)).all(axis=1)
                unchanged = touched & ~missing & same
                counts += (
                    int((touched & missing).sum()),
                    int((touched & ~missing & ~same).sum()),
                    int(unchanged.sum()),
                )
                merged = np.where(np.tile(touched, len(FIELDS)), new, old)
                rows = np.flatnonzero((touched & ~unchanged).any(axis=1))
                uow.usage.store_matrix([part[i] for i in rows], merged[rows], paid)
                uow.commit()
        inserted, replaced, unchanged = (int(c) for c in counts)
        apps = len({app_id for app_id, _ in keys})
        return ImportSummary(inserted + replaced + unchanged, apps, inserted, replaced, unchanged, ignored)


class Lives(Mapping):
    """Each app's `AppDays`, made on first use."""

    def __init__(self, raw: dict, spans: dict, tz):
        self._raw, self._spans, self._tz, self._made = raw, spans, tz, {}

    def __getitem__(self, app_id: int) -> AppDays:
        made = self._made.get(app_id)
        if made is None:
            created, purge_at, _ = self._raw[app_id]
            halted = tuple(_whole_days(self._spans[app_id], self._tz)) if app_id in self._spans else ()
            purged = purge_at.astimezone(self._tz).date() if purge_at is not None else None
            made = self._made[app_id] = AppDays(created.astimezone(self._tz).date(), purged, halted)
        return made

    def ordinals(self) -> tuple[list[int], list[int], list[int], set[int]]:
        """Every app's ID (ascending), creation day and purge day (ordinals of the billing time
        zone's days; 0: not purged), and the apps with days deactivated whole: what an import's
        fast path looks apps up in."""
        tz, raw = self._tz, self._raw
        ids = sorted(raw)
        created = [raw[a][0].astimezone(tz).date().toordinal() for a in ids]
        purged = [p.astimezone(tz).date().toordinal() if (p := raw[a][1]) is not None else 0 for a in ids]
        return ids, created, purged, {a for a in self._spans if a in raw and self[a].halted}

    def __iter__(self):
        return iter(self._raw)

    def __len__(self) -> int:
        return len(self._raw)


def _whole_days(spans, tz) -> Iterator[tuple[date, date | None]]:
    """The runs of calendar days wholly inside deactivated spans (first, last or None)."""
    for start, end in spans:
        local = start.astimezone(tz)
        first = local.date() if local.time() == datetime.min.time() else local.date() + timedelta(days=1)
        last = None if end is None else end.astimezone(tz).date() - timedelta(days=1)
        if last is None or first <= last:
            yield first, last
