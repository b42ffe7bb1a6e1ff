"""Time only moves forward for a database (cli.md): nothing takes effect before its latest instant,
so a clock set back can never rewrite a bill or undo a purge."""

from __future__ import annotations

from datetime import datetime

from imtui.domain.calendar import iso_local
from imtui.domain.errors import Refused


def check_not_before(now: datetime, latest: datetime | None, tz: str) -> None:
    """Refuses (exit 3) an operation at an instant earlier than the database's latest."""
    if latest is not None and now < latest:
        raise Refused(
            f"the clock reads {iso_local(now, tz)}, earlier than {iso_local(latest, tz)} when "
            "something last took effect in this database; operations cannot be back-dated"
        )


def effective_instant(confirmed: datetime, latest: datetime | None) -> datetime:
    """When something the platform already did is written down: at its own instant, or at the
    database's latest instant if that has moved past it meanwhile (never back-dated)."""
    return confirmed if latest is None or confirmed >= latest else latest
