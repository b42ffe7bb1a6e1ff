"""An app as the domain sees it, its SDKAppID, and the account's 300-app limit (domain.md §1, §4)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from imtui.domain.editions import Package, billing_kind
from imtui.domain.errors import InvalidInput, Refused

FIRST_APP_ID = 1_400_000_000
"""New apps get SDKAppIDs from here up."""

MAX_APPS_PER_ACCOUNT = 300
"""Apps an account may hold that are not purged."""


@dataclass(frozen=True, slots=True)
class App:
    """One IM application: identity, package and status (a value, never a database row)."""

    app_id: int
    name: str
    account: str
    package: Package
    status: str
    created_at: datetime
    deactivated_at: datetime | None = None
    purge_at: datetime | None = None
    halt_reason: str | None = None
    version: int = 1
    """Bumped by every change; a write that expected another version is a conflict."""
    updated_by: str | None = None
    paid_since: datetime | None = None
    """The instant the app left trial (its upgrade); None while trial."""

    @property
    def edition(self) -> str:
        return self.package.edition

    @property
    def billing(self) -> str:
        return billing_kind(self.package.edition)

    def changed(self, **fields) -> App:
        """The app with some fields replaced and its version bumped."""
        return replace(self, version=self.version + 1, **fields)


def check_app_id(text: str | int) -> int:
    """An SDKAppID is a 10-digit integer."""
    value = str(text).strip()
    if not (value.isascii() and value.isdigit() and len(value) == 10 and value[0] != "0"):
        raise InvalidInput(f"{text!r} is not an SDKAppID (a 10-digit number such as 1400000001)")
    return int(value)


def check_can_create(account: str, apps_not_purged: int) -> None:
    """An account holds at most 300 apps that are not purged."""
    if apps_not_purged >= MAX_APPS_PER_ACCOUNT:
        raise Refused(
            f"account {account} already has {apps_not_purged} apps that are not purged; "
            f"the limit is {MAX_APPS_PER_ACCOUNT} (halted apps count until they are purged)"
        )


@dataclass(frozen=True, slots=True)
class AppEvent:
    """One entry of an app's history: its status and package from `at` on."""

    at: datetime
    kind: str
    actor: str
    status: str
    package: Package
