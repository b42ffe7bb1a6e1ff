"""Who is operating. Never taken from options or environment variables:

- on SQLite (one person, embedded): the login name of the user the process runs as, from its uid;
- on PostgreSQL (team mode): the database user the connection is logged in as (`current_user`),
  which the server has authenticated.
"""

from __future__ import annotations

import os
import pwd

from imtui.persistence.database import Database


def os_user() -> str:
    """The OS account of this process, never taken from options or environment variables."""
    uid = os.getuid()
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid:{uid}"


def actor_of(db: Database) -> str:
    """The actor recorded in the audit trail for a run on this database."""
    return db.login_user() if db.team else os_user()
