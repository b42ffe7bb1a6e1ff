"""The quick path of a CSV usage file: plain blocks of whole lines read straight as numbers.

A file whose header names just the seven columns is read a block of whole lines at a time while
its lines are plain (digits where the numbers go, nothing quoted or spaced): a million rows in a
few seconds. From the first block that is not plain, the caller reads the rest with the `csv`
module, which reads every CSV and explains every bad row (`usage_files`)."""

from __future__ import annotations

from typing import BinaryIO, Protocol

import numpy as np

from imtui.domain.usage import COLUMNS, FIELDS
from imtui.domain.usage_file import LINE_LIMIT

FAST_BYTES = 1 << 22
"""Bytes of whole lines the fast path reads at once (about 100,000 rows)."""
DIGITS = b"0123456789"
TO_COMMAS = bytes.maketrans(b"-\n", b",,")


class Sink(Protocol):
    """Where the numbers of plain rows go (`usage_gather.Gathered`)."""

    def add_numbers(self, first_line: int, days: np.ndarray, app_ids: np.ndarray, values: np.ndarray) -> None: ...


def plain_header(head: bytes) -> tuple[str, ...] | None:
    """The columns of a header that names just the seven columns, unquoted (None otherwise)."""
    try:
        text = head.decode("utf-8-sig").rstrip("\r\n")
    except UnicodeDecodeError:
        return None
    names = tuple(text.split(","))
    return names if sorted(names) == sorted(COLUMNS) else None


def read_plain(stream: BinaryIO, names: tuple[str, ...], sink: Sink) -> tuple[bytes, int] | None:
    """Reads plain blocks after the header into `sink`; at the first block that is not plain,
    returns it (with the lines read before it) for the `csv` path to read it and the rest. A
    block ends at a line's end, read at most `LINE_LIMIT` bytes on (a longer line is not plain)."""
    line = 1  # lines read so far
    while block := stream.read(FAST_BYTES):
        if not block.endswith(b"\n"):
            tail = stream.readline(LINE_LIMIT + 2)  # up to the end of the line (or of the file)
            block += tail
            if len(tail) == LINE_LIMIT + 2 and not tail.endswith(b"\n"):
                return block, line  # a line too long: the `csv` path refuses it (and reads past it)
        numbers = plain_block(block, names)
        if numbers is None:
            return block, line
        days, app_ids, values = numbers
        sink.add_numbers(line + 1, days, app_ids, values)
        line += block.count(b"\n")
    return None


def plain_block(block: bytes, names: tuple[str, ...]):
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
