"""Editions, package items and the values each edition offers (domain.md §1-2)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

TRIAL, PRO, FLAGSHIP = "trial", "pro", "flagship"
EDITIONS = (TRIAL, PRO, FLAGSHIP)
PAID_EDITIONS = (PRO, FLAGSHIP)

EDITION = "edition"
LIVE_GROUPS = "live_groups"
GROUPS_PER_USER = "groups_per_user"
MEMBERS_PER_GROUP = "members_per_group"
HISTORY_DAYS = "history_days"
#: Every item, in the order the contract lists them (locked_items, bill lines).
ITEMS = (EDITION, LIVE_GROUPS, GROUPS_PER_USER, MEMBERS_PER_GROUP, HISTORY_DAYS)
#: The items other than the edition itself.
VALUE_ITEMS = ITEMS[1:]
#: The items an upgrade always counts as changed (Decision in domain.md §4).
PACKAGE_ITEMS = ITEMS[:4]

UNLIMITED = None
"""`live_groups` value meaning no limit (shown as `null` in JSON, "unlimited" to humans)."""

#: The values each edition offers for each item; the first one is the edition's default.
OFFERED: dict[str, dict[str, tuple[int | None, ...]]] = {
    TRIAL: {
        LIVE_GROUPS: (10,),
        GROUPS_PER_USER: (50,),
        MEMBERS_PER_GROUP: (20,),
        HISTORY_DAYS: (7,),
    },
    PRO: {
        LIVE_GROUPS: (50, UNLIMITED),
        GROUPS_PER_USER: (500, 1000),
        MEMBERS_PER_GROUP: (200, 2000),
        HISTORY_DAYS: (7, 30, 90, 180, 360),
    },
    FLAGSHIP: {
        LIVE_GROUPS: (UNLIMITED,),
        GROUPS_PER_USER: (1000, 3000),
        MEMBERS_PER_GROUP: (2000, 6000),
        HISTORY_DAYS: (30, 90, 180, 360),
    },
}


@dataclass(frozen=True, slots=True)
class Package:
    """An app's edition and its value-added settings."""

    edition: str
    live_groups: int | None
    groups_per_user: int
    members_per_group: int
    history_days: int

    def value(self, item: str) -> Any:
        return getattr(self, item)

    def with_values(self, **values: Any) -> Package:
        return replace(self, **values)


def default_value(edition: str, item: str) -> Any:
    """The value an item has by default on an edition."""
    if item == EDITION:
        return edition
    return OFFERED[edition][item][0]


def default_package(edition: str) -> Package:
    """The package an edition has with every item at its default."""
    return Package(edition, *(default_value(edition, item) for item in VALUE_ITEMS))


def offers(edition: str, item: str, value: Any) -> bool:
    """Whether an edition offers a value for an item."""
    if item == EDITION:
        return value in EDITIONS
    return value in OFFERED[edition][item]


def rank(value: Any) -> float:
    """Order of item values: unlimited is above every number."""
    return float("inf") if value is UNLIMITED else float(value)


def label(item: str, value: Any) -> str:
    """How a setting is named on bills and screens: `pro`, `unlimited`, `1000`, `90`."""
    if item == EDITION:
        return str(value)
    if value is UNLIMITED:
        return "unlimited"
    return str(value)


def billing_kind(edition: str) -> str:
    """`free` for trial, `postpaid` for the paid editions (the console's "Pro-postpaid")."""
    return "free" if edition == TRIAL else "postpaid"
