"""Halt, reactivate and purge: an app's status over its life (domain.md §4).

active --halt--> deactivated --reactivate (within 90 days)--> active
                 deactivated --90 × 24 hours--> purged (unrecoverable; no longer counts toward 300)

Decision: a deactivated app can be reactivated, unchanged, within 90 × 24 hours of its
deactivation instant; at that instant exactly it is purged, whatever process looks first.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from imtui.domain.apps import App
from imtui.domain.calendar import iso_local, to_utc
from imtui.domain.editions import TRIAL, default_package
from imtui.domain.errors import InvalidInput, Refused
from imtui.domain.text import MAX_REASON, check_text

ACTIVE, DEACTIVATED, PURGED = "active", "deactivated", "purged"
STATUSES = (ACTIVE, DEACTIVATED, PURGED)
HALT, REACTIVATE, PURGE = "halt", "reactivate", "purge"

PURGE_AFTER = timedelta(days=90)
"""Decision: a deactivated app becomes unrecoverable exactly 90 × 24 hours after deactivation."""


def purge_instant(deactivated_at: datetime) -> datetime:
    """The exact instant a deactivated app is purged (90 × 24 hours, whatever the time zone)."""
    return to_utc(deactivated_at) + PURGE_AFTER


def check_reason(reason: str) -> str:
    """A halt needs a reason: one line of at most 500 characters."""
    if not reason.strip():
        raise InvalidInput("a halt needs a reason (--reason TEXT)")
    return check_text("reason", reason, MAX_REASON)


def check_can_halt(app_id: int, status: str, purge_at: datetime | None, tz: str) -> None:
    """Only an active app can be deactivated."""
    if status == DEACTIVATED:
        raise Refused(f"app {app_id} is already deactivated; it will be purged on {iso_local(purge_at, tz)}")
    if status == PURGED:
        raise Refused(f"app {app_id} was purged; its data and service cannot be recovered")


def check_can_reactivate(app_id: int, status: str) -> None:
    """Only a deactivated app that is not yet purged can be reactivated."""
    if status == ACTIVE:
        raise Refused(f"app {app_id} is already active; there is nothing to reactivate")
    if status == PURGED:
        raise Refused(f"app {app_id} was purged 90 days after deactivation and cannot be reactivated")


def check_can(action: str, app: App, tz: str) -> None:
    """Whether `halt` or `reactivate` may be done to the app now (exit 3 if not)."""
    if action == HALT:
        check_can_halt(app.app_id, app.status, app.purge_at, tz)
    else:
        check_can_reactivate(app.app_id, app.status)


def new_app(app_id: int, name: str, account: str, at: datetime, actor: str) -> App:
    """An app's first transition, into being: trial and active, with the trial values."""
    return App(app_id, name, account, default_package(TRIAL), ACTIVE, at, updated_by=actor)


def halted(app: App, at: datetime, reason: str, actor: str) -> App:
    """The app deactivated at `at`: its service stopped, its purge 90 days later."""
    return app.changed(
        status=DEACTIVATED,
        deactivated_at=at,
        purge_at=purge_instant(at),
        halt_reason=reason,
        updated_by=actor,
    )


def reactivated(app: App, actor: str) -> App:
    """The app active again with the package it had (not a modification)."""
    return app.changed(status=ACTIVE, deactivated_at=None, purge_at=None, halt_reason=None, updated_by=actor)


def purged(app: App, actor: str) -> App:
    """The app unrecoverable; it keeps its deactivation instant for the record."""
    return app.changed(status=PURGED, updated_by=actor)


def after(action: str, app: App, at: datetime, reason: str | None, actor: str) -> App:
    """The app after `halt` or `reactivate` at `at`."""
    return halted(app, at, reason or "", actor) if action == HALT else reactivated(app, actor)


def describe(action: str, app: App, tz: str) -> str:
    """The audit sentence of a done halt or reactivation (`app` is the app after it)."""
    if action == HALT:
        return f"halted: active → deactivated; reason: {app.halt_reason}; purge on {iso_local(app.purge_at, tz)}"
    return "reactivated: deactivated → active, package unchanged"


def target_status(action: str) -> str:
    """The status an action leaves an app in."""
    return DEACTIVATED if action == HALT else ACTIVE


def status_before(action: str) -> str:
    """The status an app must have for the action."""
    return ACTIVE if action == HALT else DEACTIVATED
