"""Drift: an app whose service the platform runs otherwise than imtui's status says.

imtui is the record: an active app must be served, a deactivated or purged one must not. The
platform is asked for the apps it does not serve; every other app it serves. An app with a halt
or reactivation still being settled is not drift yet (its intent decides it).
"""

from __future__ import annotations

from dataclasses import dataclass

STOP, START = "stop", "start"


@dataclass(frozen=True)
class Drift:
    """An app whose status in imtui differs from what the platform serves, and what would fix it."""

    app_id: int
    status: str
    """imtui's status of the app."""
    serving: bool
    """Whether the platform serves it."""

    @property
    def fix(self) -> str:
        """What makes the platform match imtui: a halted app is stopped again, never the
        other way round."""
        return START if not self.serving else STOP


def drifted(not_active: dict[int, str], stopped: set[int], known: set[int], settling: set[int]) -> list[Drift]:
    """The apps whose platform state differs from imtui's status, in app order.

    `not_active`: imtui's deactivated and purged apps with their status; `stopped`: the
    platform's; `known`: those of `stopped` that exist in imtui (the platform may run apps of
    other tools)."""
    out = [Drift(a, status, True) for a, status in not_active.items() if a not in stopped]
    out += [Drift(a, "active", False) for a in (stopped & known) - not_active.keys()]
    return sorted((d for d in out if d.app_id not in settling), key=lambda d: d.app_id)
