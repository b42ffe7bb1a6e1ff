"""Who is operating: the login name of the user the process runs as, from the process's uid."""

from __future__ import annotations

import os
import pwd


def os_user() -> str:
    """The OS account of this process, never taken from options or environment variables."""
    uid = os.getuid()
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid:{uid}"
