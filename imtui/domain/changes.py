"""Upgrade and modify feature configuration (domain.md §4): what may change, when, and to what.

The once-per-month rule lives here (`check_locks`, `unlock_date`): within one calendar month of
the billing time zone, each item of one app can be changed at most once. Each check raises the
error whose exit code the contract gives, in the order domain.md fixes, so the same request
always gets the same answer.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from imtui.domain.calendar import Month, local_date
from imtui.domain.editions import (
    EDITION,
    HISTORY_DAYS,
    ITEMS,
    LIVE_GROUPS,
    OFFERED,
    PACKAGE_ITEMS,
    PAID_EDITIONS,
    TRIAL,
    UNLIMITED,
    VALUE_ITEMS,
    Package,
    default_package,
    default_value,
    label,
    offers,
    rank,
)
from imtui.domain.errors import InvalidInput, Refused
from imtui.domain.lifecycle import DEACTIVATED, PURGED
from imtui.domain.prices import PriceList

UPGRADE, MODIFY = "upgrade", "modify"


# --- once per month ---------------------------------------------------------------------------


def unlock_date(changed_at: datetime, tz: str) -> str:
    """The date an item changed at `changed_at` can be changed again: the 1st of the next month."""
    nxt = Month.of(changed_at, tz).next()
    return f"{nxt.key}-01"


def locked_items(changes_this_month: Mapping[str, datetime]) -> list[str]:
    """Items whose one change of the month is used, in contract order."""
    return [item for item in ITEMS if item in changes_this_month]


def check_locks(app_id: int, counted: list[str], changes_this_month: Mapping[str, datetime], tz: str) -> None:
    """Once per month: refuses (exit 3) a request that would change an item already changed this
    month, naming each such item and the date it unlocks."""
    blocked = [item for item in counted if item in changes_this_month]
    if blocked:
        parts = [f"{item} was already changed on {local_date(changes_this_month[item], tz)}" for item in blocked]
        again = unlock_date(changes_this_month[blocked[0]], tz)
        raise Refused(
            f"app {app_id}: {'; '.join(parts)}; "
            f"{'it' if len(blocked) == 1 else 'they'} can be changed again from {again}"
        )


# --- upgrade and modify -------------------------------------------------------------------------


@dataclass(frozen=True)
class ChangeRequest:
    """What an operator asks for; `None` means the item is not mentioned."""

    edition: str | None = None
    live_unlimited: bool | None = None
    groups_per_user: int | None = None
    members_per_group: int | None = None
    history_days: int | None = None

    def describe(self) -> str:
        """The request as the command-line options that express it."""
        parts = []
        if self.edition is not None:
            parts.append(f"--edition {self.edition}")
        if self.live_unlimited is not None:
            parts.append("--live-unlimited" if self.live_unlimited else "--no-live-unlimited")
        for item in ("groups_per_user", "members_per_group", "history_days"):
            value = getattr(self, item)
            if value is not None:
                parts.append(f"--{item.replace('_', '-')} {value}")
        return " ".join(parts)


@dataclass(frozen=True)
class ChangePlan:
    """The outcome of a valid upgrade or modification, before it is carried out."""

    before: Package
    after: Package
    counted: tuple[str, ...]
    """Items that use their once-per-month change."""
    changed: tuple[str, ...] = field(default=())
    """Items whose value differs (counted changes plus rises an edition change brings)."""

    @property
    def nothing_to_change(self) -> bool:
        return not self.changed and not self.counted

    def describe(self) -> str:
        """`edition pro → flagship, live_groups 50 → unlimited`, or `nothing to change`."""
        if self.nothing_to_change:
            return "nothing to change"
        return ", ".join(
            f"{item} {label(item, self.before.value(item))} → {label(item, self.after.value(item))}"
            for item in ITEMS
            if item in self.changed or item in self.counted
        )


def _requested_values(request: ChangeRequest, edition: str) -> dict[str, Any]:
    """The item values a request names, checked against the edition the app will have (exit 2)."""
    values: dict[str, Any] = {}
    if request.live_unlimited is not None:
        if request.live_unlimited:
            values[LIVE_GROUPS] = UNLIMITED
        else:
            limited = [v for v in OFFERED[edition][LIVE_GROUPS] if v is not UNLIMITED]
            if not limited:
                raise InvalidInput(f"{edition} includes unlimited live-broadcast groups; it cannot be turned off")
            values[LIVE_GROUPS] = limited[0]
    for item in ("groups_per_user", "members_per_group", "history_days"):
        value = getattr(request, item)
        if value is None:
            continue
        if not offers(edition, item, value):
            allowed = ", ".join(label(item, v) for v in OFFERED[edition][item])
            raise InvalidInput(f"{edition} does not offer {item} {value}; allowed: {allowed}")
        values[item] = value
    return values


def _check_edition_value(edition: str | None, allowed: tuple[str, ...], verb: str) -> None:
    if edition is not None and edition not in allowed:
        raise InvalidInput(f"{verb} cannot choose edition {edition!r}; allowed: {', '.join(allowed)}")


def plan_upgrade(
    app_id: int,
    status: str,
    current: Package,
    request: ChangeRequest,
) -> ChangePlan:
    """Trial → pro or flagship, with the value-added items chosen in the same step.

    Decision (domain.md §4): the upgrade counts as this month's change of every package item;
    history retention counts only when set to another value than the new edition's default.
    """
    check_status_active(app_id, status)
    if current.edition != TRIAL:
        raise Refused(
            f"app {app_id} is already {current.edition}; upgrade is only for trial apps "
            "(use modify to change its configuration)"
        )
    if request.edition is None:
        raise InvalidInput("upgrade needs --edition pro or --edition flagship")
    _check_edition_value(request.edition, PAID_EDITIONS, "upgrade")
    values = _requested_values(request, request.edition)
    after = default_package(request.edition).with_values(**values)
    counted = list(PACKAGE_ITEMS)
    if after.history_days != default_value(request.edition, HISTORY_DAYS):
        counted.append(HISTORY_DAYS)
    changed = tuple(item for item in ITEMS if after.value(item) != current.value(item))
    return ChangePlan(current, after, tuple(counted), changed)


def check_status_active(app_id: int, status: str) -> None:
    """Package changes need an active app."""
    if status == DEACTIVATED:
        raise Refused(f"app {app_id} is deactivated; reactivate it before changing its package")
    if status == PURGED:
        raise Refused(f"app {app_id} was purged; its package can no longer be changed")


_MUST_CHOOSE = object()


def plan_modify(
    app_id: int,
    status: str,
    current: Package,
    request: ChangeRequest,
    changes_this_month: Mapping[str, datetime],
    prices: PriceList,
    tz: str,
) -> ChangePlan:
    """Modify feature configuration of a pro or flagship app (domain.md §4, order of checks)."""
    check_status_active(app_id, status)
    if current.edition == TRIAL:
        raise Refused(
            f"app {app_id} is trial; a trial app cannot change only its configuration "
            "(use upgrade to choose pro or flagship)"
        )
    _check_edition_value(request.edition, PAID_EDITIONS, "modify")
    target = request.edition or current.edition
    values = _requested_values(request, target)

    after_values: dict[str, Any] = {EDITION: target}
    counted: list[str] = []
    needs_choice: list[str] = []
    if target != current.edition:
        counted.append(EDITION)
    for item in VALUE_ITEMS:
        cur = current.value(item)
        default = default_value(target, item)
        if target == current.edition or rank(cur) == rank(default):
            baseline = cur
        elif rank(cur) < rank(default):
            baseline = default  # rises with the edition change; not a monthly change
        else:
            baseline = _MUST_CHOOSE  # above the new edition's default
        if item in values:
            new = values[item]
            if new != (cur if baseline is _MUST_CHOOSE else baseline):
                counted.append(item)
        elif baseline is _MUST_CHOOSE:
            needs_choice.append(item)
            new = cur
        else:
            new = baseline
        after_values[item] = new

    if needs_choice:
        choices = "; ".join(
            f"{item} (" + ", ".join(f"{label(item, v)}: {p}" for v, p in prices.choices(target, item)) + ")"
            for item in needs_choice
        )
        raise Refused(f"app {app_id}: changing {current.edition} → {target} needs an explicit choice for {choices}")
    check_locks(app_id, counted, changes_this_month, tz)
    after = Package(**after_values)
    changed = tuple(item for item in ITEMS if after.value(item) != current.value(item))
    return ChangePlan(current, after, tuple(i for i in ITEMS if i in counted), changed)


def plan_change(
    kind: str,
    app_id: int,
    status: str,
    current: Package,
    request: ChangeRequest,
    changes_this_month: Mapping[str, datetime],
    prices: PriceList,
    tz: str,
) -> ChangePlan:
    """The verdict on an upgrade or a modification of one app (raises when refused)."""
    if kind == UPGRADE:
        return plan_upgrade(app_id, status, current, request)
    return plan_modify(app_id, status, current, request, changes_this_month, prices, tz)
