"""The audit trail's words: every operation, done or refused, is one entry (cli.md `audit`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

DONE, REFUSED = "done", "refused"


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """Who did what, when, to which app, with what result; `detail` is one human sentence."""

    at: datetime
    actor: str
    action: str
    app_id: int | None
    result: str
    detail: str
