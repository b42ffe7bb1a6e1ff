"""The one mapping between domain values and table columns (apps and events carry a package)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from imtui.domain.apps import App
from imtui.domain.editions import Package

PACKAGE_COLUMNS = ("edition", "live_groups", "groups_per_user", "members_per_group", "history_days")
"""A package's columns, in `Package` field order (apps and events both have them)."""


def package_columns(pkg: Package) -> dict[str, Any]:
    return {
        "edition": pkg.edition,
        "live_groups": pkg.live_groups,
        "groups_per_user": pkg.groups_per_user,
        "members_per_group": pkg.members_per_group,
        "history_days": pkg.history_days,
    }


def package_of(row: Mapping[str, Any]) -> Package:
    return Package(
        row["edition"],
        row["live_groups"],
        row["groups_per_user"],
        row["members_per_group"],
        row["history_days"],
    )


def app_columns(app: App, account_id: int) -> dict[str, Any]:
    """An app as a row of `apps`."""
    return {
        "app_id": app.app_id,
        "name": app.name,
        "account_id": account_id,
        **package_columns(app.package),
        "status": app.status,
        "created_at": app.created_at,
        "deactivated_at": app.deactivated_at,
        "purge_at": app.purge_at,
        "halt_reason": app.halt_reason,
        "version": app.version,
        "updated_by": app.updated_by,
        "paid_since": app.paid_since,
    }


def app_of(row: Mapping[str, Any], account: str) -> App:
    """A row of `apps` (and its account's name) as the domain's value."""
    return App(
        app_id=row["app_id"],
        name=row["name"],
        account=account,
        package=package_of(row),
        status=row["status"],
        created_at=row["created_at"],
        deactivated_at=row["deactivated_at"],
        purge_at=row["purge_at"],
        halt_reason=row["halt_reason"],
        version=row["version"],
        updated_by=row["updated_by"],
        paid_since=row["paid_since"],
    )


def event_columns(app: App, kind: str, at, actor: str) -> dict[str, Any]:
    """The app's state from `at` on, as a row of `events`."""
    return {
        "app_id": app.app_id,
        "at": at,
        "kind": kind,
        **package_columns(app.package),
        "status": app.status,
        "actor": actor,
    }
