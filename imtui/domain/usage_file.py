"""What reading a usage file yields (domain.md §6): its summary, or its refusal with the bad rows.

Owned by the reader (`services.usage_import`) and shown by the command line, so neither has to
import the other's module for them (and the command line does not load NumPy to name them)."""

from __future__ import annotations

from dataclasses import dataclass

from imtui.domain.errors import ImtuiError

SHOWN_BAD_ROWS = 20
"""A refused file lists this many bad rows, then how many more."""
LINE_LIMIT = 64 * 1024
"""The longest line (in bytes, its line break aside) a usage file may hold: a longer one is a bad
row, read past without being held, so an import's memory never grows with its input's lines."""
MESSAGE_LIMIT = 300
"""The longest explanation of one bad row (a row may quote a cell of 64 KiB)."""


class UsageRefused(ImtuiError):
    """A usage file with bad rows: nothing was imported. `lines` says what is wrong, row by row
    (the first ones in line order, then how many more); the exit code is the first row's."""

    def __init__(self, bad: list[tuple[int, int, str]], count: int):
        self.lines = [f"line {line}: {message}" for line, _, message in bad[:SHOWN_BAD_ROWS]]
        if count > SHOWN_BAD_ROWS:
            self.lines.append(f"… and {count - SHOWN_BAD_ROWS} more")
        super().__init__(
            f"the usage file was refused, nothing was imported: {count} bad row"
            f"{'s' if count > 1 else ''} ({self.lines[0]})"
        )
        self.exit_code = bad[0][1]


@dataclass(frozen=True)
class ImportSummary:
    """What an import did: records read, apps they belong to, and how many were new, replaced
    or identical to what was stored."""

    rows: int
    apps: int
    inserted: int
    replaced: int
    unchanged: int
    ignored: tuple[str, ...] = ()
    """Columns (or JSON fields) of the file that are not part of a record."""
