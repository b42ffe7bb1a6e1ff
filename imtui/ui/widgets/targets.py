"""The apps an operation's confirmation names, one line each (the halt and reactivate dialogs)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from textual.widgets import Static

from imtui.services.fleet import FleetRow
from imtui.ui import format as fmt

SHOWN = 12
"""Apps listed by name; the rest are counted."""


def target_lines(targets: list[FleetRow], last: Callable[[FleetRow], str]) -> Iterator[Static]:
    """Each target's ID, name, account and edition, then `last` of it (its price, its status)."""
    for t in targets[:SHOWN]:
        yield Static(
            f"{t.app_id}  {fmt.printable(t.name)[:24]:<24} {fmt.printable(t.account)[:12]:<12} "
            f"{t.edition:<8} {last(t)}",
            markup=False,
        )
    if len(targets) > SHOWN:
        yield Static(f"… and {len(targets) - SHOWN} more")
