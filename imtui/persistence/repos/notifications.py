"""What each webhook was told (signals.md §3), per URL (by its hash) and signal key."""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from sqlalchemy import select

from imtui.persistence.repos import Repo, chunks
from imtui.persistence.tables import NotificationRow
from imtui.persistence.types import aware

_NOTIFIED = NotificationRow.__table__


class Notified(NamedTuple):
    """One signal a webhook was told of: its kind, account (None: the fleet's) and `since`."""

    kind: str
    account: str | None
    since: datetime


class NotificationRepo(Repo):
    """What each webhook was told, so a signal is sent once and its resolution once."""

    def of_url(self, url_key: str) -> dict[str, Notified]:
        """What the webhook whose URL hashes to `url_key` was told, by signal key."""
        rows = self.conn.execute(
            select(_NOTIFIED.c.signal_key, _NOTIFIED.c.kind, _NOTIFIED.c.account, _NOTIFIED.c.since).where(
                _NOTIFIED.c.url_key == url_key
            )
        )
        return {key: Notified(kind, account, aware(since)) for key, kind, account, since in rows}

    def told(
        self, url_key: str, signals: list[tuple[str, str, str | None, datetime]], resolved: list[str], at: datetime
    ) -> None:
        """Records a delivery: each (key, kind, account, since) sent is now what the webhook
        knows; each resolved key is forgotten (it was told once)."""
        keys = [s[0] for s in signals] + list(resolved)
        for part in chunks(keys):
            self.conn.execute(
                _NOTIFIED.delete().where(_NOTIFIED.c.url_key == url_key, _NOTIFIED.c.signal_key.in_(part))
            )
        self.insert_rows(
            _NOTIFIED,
            [
                {
                    "url_key": url_key,
                    "signal_key": key,
                    "kind": kind,
                    "account": account,
                    "since": since,
                    "notified_at": at,
                }
                for key, kind, account, since in signals
            ],
        )
