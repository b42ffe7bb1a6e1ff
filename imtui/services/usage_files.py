"""Reading a usage file in its two formats, CSV and JSON lines, in bounded memory: rows are read in
chunks and handed to `usage_gather.Gathered`; a line over `LINE_LIMIT` is a bad row, read past
without being held. A CSV file of plain lines goes the quick way (`usage_fast`)."""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from collections.abc import Callable, Iterator
from functools import partial
from itertools import islice
from typing import BinaryIO

from imtui.domain.errors import InvalidInput
from imtui.domain.usage import COLUMNS
from imtui.domain.usage_file import LINE_LIMIT
from imtui.services import usage_fast
from imtui.services.usage_gather import LONG_DIGITS, Gathered

CSV, JSONL = "csv", "jsonl"
CHUNK = 25_000
"""Rows checked at once (bounds the memory rows take while they are read)."""
READ_CHARS = LINE_LIMIT + 2
"""Characters a line is read in at most (a line of `LINE_LIMIT` bytes and its CR LF)."""
LONG_LINE = f"longer than 64 KiB ({LINE_LIMIT:,} bytes); a usage row is far shorter"


def input_format(name: str, chosen: str | None) -> str:
    """CSV or JSON lines: as chosen, else from the file's extension, else CSV."""
    if chosen:
        return chosen
    return JSONL if name.lower().endswith((".jsonl", ".ndjson")) else CSV


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
