"""A DataTable refilled whole whose columns are sized with the rows, not after them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from rich.cells import cell_len
from rich.text import Text
from textual.widgets import DataTable

Row = tuple[Sequence[str | Text], str | None]
"""A row's cells and its key."""


class FittedTable(DataTable):
    """A DataTable that `refill` fills, each column exactly as wide as its label or widest cell.

    Textual sizes an auto-width column only when the table next idles, and a frame drawn before
    that caches the new cells cut to the old widths and keeps showing them: with keys typed ahead,
    a budget of 12,345.67 set on the Accounts screen showed as "12,345" until the next sort.
    Widths given with the rows leave nothing to catch up."""

    def __init__(self, *labels: str, **kwargs) -> None:
        super().__init__(**kwargs)
        self.labels = labels

    def refill(self, rows: Iterable[Row]) -> None:
        """Replaces every row (the cursor goes back to the first)."""
        rows = list(rows)
        widths = [cell_len(label) for label in self.labels]
        for cells, _ in rows:
            for i, cell in enumerate(cells):
                widths[i] = max(widths[i], cell_len(cell.plain if isinstance(cell, Text) else cell))
        self.clear(columns=True)
        for label, width in zip(self.labels, widths, strict=True):
            self.add_column(label, width=width)
        for cells, key in rows:
            self.add_row(*cells, key=key)
