"""Gathering a usage file's records (domain.md §6): each chunk of rows checked and gathered column
by column with NumPy, for the readers of `usage_files`.

Each distinct date and app of the file is looked at once (the rules of
`domain.usage.ImportRules`). A row that fails any check takes the slow path, which asks the
domain why, one row at a time; so a bad row is explained exactly as a one-row file would explain
it. Good records are gathered in one matrix of packed months (a row per app and month)."""

from __future__ import annotations

import heapq
from array import array
from datetime import date

import numpy as np

from imtui.domain.usage import FIELDS, MOST, BadRow, ImportRules, parse_app_id, parse_count
from imtui.domain.usage_file import MESSAGE_LIMIT, SHOWN_BAD_ROWS

SLOTS = 31
"""Days a packed month has room for (see `persistence.repos.usage`)."""
SIZE = SLOTS * len(FIELDS)
UNTOUCHED = -2
"""A day the file has no record for (in the gathered matrix)."""
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
