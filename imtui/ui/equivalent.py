"""The command line a dashboard confirmation is the twin of (cli.md: it runs as printed).

Every app ID is written out (a long list wraps, never `…`), and every value is shell-quoted, so
pasting the line into a shell does exactly what confirming the dialog does.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterable

from textual.containers import VerticalScroll

from imtui.domain.changes import ChangeRequest

PROMPT = "$ "


class CommandBox(VerticalScroll, can_focus=False):
    """Holds a dialog's equivalent command (`#command`): a few lines high, a longer one scrolls
    with the mouse wheel; never focused, so the dialog's keys are what they were."""

    DEFAULT_CSS = """
    CommandBox {
        height: auto;
        max-height: 3;
    }
    """


def _line(args: Iterable[str]) -> str:
    return PROMPT + shlex.join(["imtui", *args])


def change_command(kind: str, app_ids: Iterable[int], request: ChangeRequest) -> str:
    """`$ imtui apps upgrade|modify ID... OPTIONS` for the upgrade and modify forms."""
    return _line(["apps", kind, *map(str, app_ids), *shlex.split(request.describe())])


def halt_command(app_ids: Iterable[int], reason: str) -> str:
    """`$ imtui apps halt ID... --reason REASON --yes` for the halt dialog (the reason as typed,
    blanks at its ends dropped as the dialog drops them; empty, it is refused as the dialog
    refuses it). A reason that starts with `-` is joined to its option (`--reason=-x`), or it
    would be read as an option of its own."""
    reason = reason.strip()
    option = ["--reason=" + reason] if reason.startswith("-") else ["--reason", reason]
    return _line(["apps", "halt", *map(str, app_ids), *option, "--yes"])


def reactivate_command(app_ids: Iterable[int]) -> str:
    """`$ imtui apps reactivate ID...` for the reactivate confirmation (a signal's remedy)."""
    return _line(["apps", "reactivate", *map(str, app_ids)])


def budget_command(account: str | None, amount: str, warn_at: str) -> str:
    """`$ imtui budgets set ACCOUNT AMOUNT [--warn-at PCT]` (`--fleet AMOUNT` for the fleet) for
    the budget dialog, or `$ imtui budgets remove ACCOUNT` when the amount is empty. The values
    as typed, blanks at their ends dropped as the dialog drops them; an account whose name starts
    with `-` follows `--`, or it would be read as an option."""
    amount, warn_at = amount.strip(), warn_at.strip()
    options = ["--warn-at", warn_at] if amount and warn_at else []
    if account is None:
        target = ["--fleet"]
    elif account.startswith("-"):
        target = ["--", account]
    else:
        target = [account]
    if not amount:
        return _line(["budgets", "remove", *target])
    return _line(["budgets", "set", *options, *target, amount])
