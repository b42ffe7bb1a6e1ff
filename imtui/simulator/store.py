"""The platform's own record of which apps are serving, kept apart from imtui's database.

Every stop or start carries an idempotency key: the first request with a key acts and is
remembered; a repeat returns what the first did and acts again never. `resolve` answers what
became of a key and, if no request with it has arrived, fences the key so a late one cannot act:
that is how imtui settles an intent whose call it never saw answered. An app the platform has not
heard of is serving (apps serve from their creation). The log holds one line per action carried out.
The store also keeps the platform's identity: made once (a random id) and the same for as long as
the store lives, across restarts, so imtui can tell one platform from another.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path

from imtui.clock import SystemClock

STOP, START = "stop", "start"
DONE, CANCELLED = "done", "cancelled"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS apps (app_id INTEGER PRIMARY KEY, serving INTEGER NOT NULL, changed_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS operations (
    key TEXT PRIMARY KEY, app_id INTEGER, action TEXT, state TEXT NOT NULL, at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS log (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, key TEXT NOT NULL,
    app_id INTEGER NOT NULL, action TEXT NOT NULL, serving_before INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


class StoreError(Exception):
    """The store cannot be opened or written (a directory, not SQLite, not writable...)."""


class KeyMismatch(Exception):
    """An idempotency key was used again for another app or action."""


class KeyCancelled(Exception):
    """The key was fenced by `resolve` before its request arrived; nothing was done."""


@dataclass(frozen=True)
class Operation:
    """One activation or deactivation as the platform recorded it under its key (the answer's JSON)."""

    key: str
    app_id: int | None
    action: str | None
    state: str
    at: str
    serving: bool | None = None
    replayed: bool = False

    def json(self) -> dict:
        return asdict(self)


def _now() -> str:
    return SystemClock().now().isoformat()


class Store:
    """SQLite, one connection guarded by a lock (the server is one process); each action and
    its record are one transaction, committed before the answer is sent."""

    def __init__(self, path: str | Path):
        path = Path(path)
        db = None
        try:
            if path.is_dir():
                raise StoreError(f"the store {path} is a directory, not a file")
            if not path.exists():  # made readable by its owner only (its WAL and SHM files follow)
                os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
            db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
            db.execute("PRAGMA busy_timeout=5000")
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(_SCHEMA)
            db.execute("BEGIN IMMEDIATE")  # it can be written, not only read
            db.execute("INSERT INTO meta VALUES ('platform', ?) ON CONFLICT (name) DO NOTHING", (uuid.uuid4().hex,))
            db.execute("COMMIT")
            self.identity: str = db.execute("SELECT value FROM meta WHERE name = 'platform'").fetchone()[0]
        except (OSError, sqlite3.Error) as exc:
            if db is not None:
                db.close()
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            raise StoreError(f"cannot use {path} as the control plane's store: {reason}") from None
        self._db = db
        self._lock = threading.Lock()

    def close(self) -> None:
        self._db.close()

    def act(self, key: str, app_id: int, action: str) -> Operation:
        """Stops or starts the app once per key."""
        with self._lock:
            db = self._db
            db.execute("BEGIN IMMEDIATE")
            try:
                row = db.execute("SELECT app_id, action, state, at FROM operations WHERE key = ?", (key,)).fetchone()
                if row is not None:
                    db.execute("ROLLBACK")
                    if row[2] == CANCELLED:
                        raise KeyCancelled(f"key {key} was cancelled before this request arrived; nothing was done")
                    if (row[0], row[1]) != (app_id, action):
                        raise KeyMismatch(f"key {key} was used for {row[1]} app {row[0]}")
                    return Operation(key, app_id, action, DONE, row[3], self.serving(app_id), replayed=True)
                at = _now()
                before = self.serving(app_id)
                after = action == START
                db.execute(
                    "INSERT INTO apps (app_id, serving, changed_at) VALUES (?, ?, ?) "
                    "ON CONFLICT (app_id) DO UPDATE SET serving = excluded.serving, changed_at = excluded.changed_at",
                    (app_id, int(after), at),
                )
                db.execute("INSERT INTO operations VALUES (?, ?, ?, ?, ?)", (key, app_id, action, DONE, at))
                db.execute(
                    "INSERT INTO log (at, key, app_id, action, serving_before) VALUES (?, ?, ?, ?, ?)",
                    (at, key, app_id, action, int(before)),
                )
                db.execute("COMMIT")
            except BaseException:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise
        return Operation(key, app_id, action, DONE, at, after)

    def resolve(self, key: str) -> Operation:
        """What became of a key; an unknown key is fenced (cancelled) so it never acts later."""
        with self._lock:
            self._db.execute(
                "INSERT INTO operations (key, state, at) VALUES (?, ?, ?) ON CONFLICT (key) DO NOTHING",
                (key, CANCELLED, _now()),
            )
            app_id, action, state, at = self._db.execute(
                "SELECT app_id, action, state, at FROM operations WHERE key = ?", (key,)
            ).fetchone()
        serving = self.serving(app_id) if app_id is not None else None
        return Operation(key, app_id, action, state, at, serving)

    def serving(self, app_id: int) -> bool:
        row = self._db.execute("SELECT serving FROM apps WHERE app_id = ?", (app_id,)).fetchone()
        return True if row is None else bool(row[0])

    def stopped(self) -> list[int]:
        """Every app that is not serving (all others are)."""
        return [r[0] for r in self._db.execute("SELECT app_id FROM apps WHERE serving = 0 ORDER BY app_id")]

    def log(self, app_id: int | None = None) -> list[dict]:
        sql = "SELECT seq, at, key, app_id, action, serving_before FROM log"
        rows = self._db.execute(
            sql + (" WHERE app_id = ?" if app_id is not None else "") + " ORDER BY seq",
            (app_id,) if app_id is not None else (),
        )
        names = ("seq", "at", "key", "app_id", "action", "serving_before")
        return [dict(zip(names, r, strict=True)) for r in rows]
