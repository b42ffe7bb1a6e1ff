"""Who is operating. Never taken from options or environment variables:

- on SQLite (one person, embedded): the login name of the user the process runs as, from its uid;
- on PostgreSQL (team mode): the database user the connection is logged in as (`current_user`),
  which the server has authenticated.
"""

from __future__ import annotations

import os
import pwd

from sqlalchemy.engine import Engine

from imtui.persistence.identity import database_user


def os_user() -> str:
    """The OS account of this process, never taken from options or environment variables."""
    uid = os.getuid()
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid:{uid}"


def actor_of(engine: Engine) -> str:
    """The actor recorded in the audit trail for a run on this database."""
    if engine.dialect.name == "postgresql":
        return database_user(engine)
    return os_user()
