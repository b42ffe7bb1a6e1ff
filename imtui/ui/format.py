"""Formatting for people: money, settings, status words with a symbol (never colour alone)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pendulum
from rich.text import Text

STATUS_TEXT = {"active": "● active", "deactivated": "■ halted", "purged": "✕ purged"}
STATUS_PLAIN = {"active": "+ active", "deactivated": "- halted", "purged": "x purged"}


def money(amount: Decimal | None, pending: str = "-") -> str:
    return pending if amount is None else f"{amount:,.2f}"


def setting(value: int | None) -> str:
    return "unlimited" if value is None else str(value)


def status(value: str, plain: bool = False) -> str:
    return (STATUS_PLAIN if plain else STATUS_TEXT).get(value, value)


def local_time(instant: datetime | None, tz: str, fmt: str = "YYYY-MM-DD HH:mm") -> str:
    if instant is None:
        return "-"
    return pendulum.instance(instant).in_timezone(tz).format(fmt)


def printable(text: str) -> str:
    """Stored text shown safely: control characters escaped."""
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)


def plain(text: object) -> Text:
    """A table cell or label from stored text: never parsed as markup."""
    return Text(printable(str(text)))


def package(pkg) -> str:
    """`pro · live 50 · 1000 groups/user · 200 members/group · 7 days history`."""
    return (
        f"{pkg.edition} · live {setting(pkg.live_groups)} · {pkg.groups_per_user} groups/user · "
        f"{pkg.members_per_group} members/group · {pkg.history_days} days history"
    )


SHORT_ITEMS = {
    "live_groups": "live",
    "groups_per_user": "grp/usr",
    "members_per_group": "mem/grp",
    "dau": "dau",
    "groups": "groups",
}


def headroom(value, status: str, loaded: bool = True) -> str:
    """`92% mem/grp`: an active app's highest use of a limit or quota; `-` without usage."""
    if status != "active":
        return ""
    if not loaded:
        return "…"
    if value is None or value.pct < 0:
        return "-"
    return f"{value.pct}% {SHORT_ITEMS.get(value.item, value.item)}"


def item_name(item: str) -> str:
    """A bill line's item as people read it (overage lines say they can only grow)."""
    if item.endswith("_overage"):
        return f"{item.removesuffix('_overage')} overage"
    return item


BUDGET_STATE = {"ok": "✓ ok", "forecast": "↗ forecast", "warning": "! warning", "over": "‼ over"}
"""A budget's state as a word with a symbol (signals.md §1)."""
SEVERITY = {"critical": "‼ critical", "warning": "! warning"}
"""A signal's severity as a word with a symbol."""


def budget_state(state: str | None) -> str:
    return "-" if state is None else BUDGET_STATE.get(state, state)


SIGNALS_COUNTING = ("counting signals… [!]", "signals…")
"""The summary line's signal part until the first count is in (full and short)."""


def signal_count(critical: int, total: int) -> tuple[str, str]:
    """The summary line's signal part, full and short: critical ones first, with a symbol."""
    if not total:
        return "no signals [!]", "no signals"
    noun = "signals" if total > 1 else "signal"
    if critical:
        return f"‼ {critical} critical of {total} {noun} [!]", f"‼ {critical}/{total} {noun}"
    return f"! {total} {noun} [!]", f"! {total} {noun}"


def signed(amount: Decimal) -> str:
    """An amount with its sign: `+449.99`, `-10.00`, `+0.00`."""
    return f"{'+' if amount >= 0 else ''}{money(amount)}"


def budget_line(status, this_month: Decimal, monthly: Decimal, over: bool, already: bool) -> str:
    """A change form's line for one budget it touches: the change's rise a month and this
    month's projection before → after; `over` the budget after the change (and `already`
    before it), a warning first (word and symbol)."""
    who = "the fleet" if status.account is None else printable(status.account)
    after = status.projected + this_month
    figures = (
        f"budget of {who} {money(status.amount)}: {signed(monthly)} a month, "
        f"projected this month {money(status.projected)} → {money(after)}"
    )
    if not over:
        return f"✓ within {figures}"
    return f"‼ over budget{' (already before this change)' if already else ''}: {figures}"
