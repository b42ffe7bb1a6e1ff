"""The control plane's shared secret: from the environment, or from a file only its owner can read."""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path

from imtui.config import environment


class TokenError(Exception):
    """The token could not be read safely (missing, empty, or readable by others)."""


def read_token_file(path: str | Path) -> str:
    """The token in `path`, refused unless the file is the current user's and no one else's."""
    p = Path(path).expanduser()
    try:
        info = p.stat()
        text = p.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise TokenError(f"cannot read the control plane token file {p}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise TokenError(f"the control plane token file {p} is not UTF-8 text") from None
    if info.st_mode & (stat.S_IRWXG | stat.S_IRWXO) or info.st_uid != os.getuid():
        raise TokenError(f"the control plane token file {p} must be yours and readable by you only (chmod 600 {p})")
    if not text:
        raise TokenError(f"the control plane token file {p} is empty")
    return text


def token_from_env(default_file: Path) -> str:
    """$IMTUI_CONTROL_PLANE_TOKEN, else the file named by $IMTUI_CONTROL_PLANE_TOKEN_FILE, else `default_file`."""
    env = environment()
    token = (env.control_plane_token or "").strip()
    if token:
        return token
    return read_token_file(env.control_plane_token_file or default_file)


def create_token_file(path: Path) -> str:
    """A new random token in a file only its owner can read (kept if it already exists)."""
    if path.exists():
        return read_token_file(path)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    token = secrets.token_urlsafe(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(token + "\n")
    return token
