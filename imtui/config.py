"""Typed settings, each with a line a user can read; built once by the entry point."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path


def data_dir() -> Path:
    """Where imtui keeps its default database: `$XDG_DATA_HOME/imtui` or `~/.local/share/imtui`."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "imtui"


def config_dir() -> Path:
    """Where the keymap lives: `$XDG_CONFIG_HOME/imtui` or `~/.config/imtui`."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "imtui"


NOTIFY_TIMEOUT = 5.0
"""Seconds one attempt to deliver to a webhook may take (signals.md §3)."""


def notify_timeout_from_env() -> float:
    """`IMTUI_NOTIFY_TIMEOUT` in seconds, else 5. A malformed value is NaN here, refused (exit 2)
    by `check --notify` only, so it never stands in the way of anything else."""
    text = os.environ.get("IMTUI_NOTIFY_TIMEOUT", "").strip()
    if not text:
        return NOTIFY_TIMEOUT
    try:
        return float(text)
    except ValueError:
        return float("nan")


def default_db() -> str:
    return str(data_dir() / "imtui.db")


@dataclass(frozen=True)
class Settings:
    """The settings of one run (command line, environment, defaults), typed and read once."""

    db: str = field(default_factory=default_db)
    """SQLite file path or SQLAlchemy URL of the database."""
    billing_tz: str = "Asia/Shanghai"
    """Time zone whose calendar days and months bills are computed in."""
    read_only: bool = False
    """When true, nothing can be changed in this run."""
    now: datetime | None = None
    """`--now`: the instant this run acts at (simulation, drills, tests); None for the real clock."""
    price_list: str | None = None
    """A replacement price list file of the shape of the shipped `prices.json`."""
    control_plane_url: str | None = None
    """The platform's control plane over HTTP (`http://host:port`, `unix:///path`); None for the
    embedded simulator."""
    control_plane_latency: float = 0.1
    """Seconds the simulated control plane takes per activation or deactivation."""
    bulk_concurrency: int = 16
    """How many apps a bulk operation sends to the control plane at once."""
    refresh_seconds: float = 2.0
    """How often the dashboard polls for changes made by others."""
    keymap: Path = field(default_factory=lambda: config_dir() / "keymap.toml")
    """File that remaps the dashboard's keys (binding id = "key")."""
    notify_secret: str | None = field(default_factory=lambda: os.environ.get("IMTUI_NOTIFY_SECRET") or None, repr=False)
    """`IMTUI_NOTIFY_SECRET`: `check --notify` signs each message with it (HMAC-SHA256) when set."""
    notify_timeout: float = field(default_factory=lambda: notify_timeout_from_env())
    """Seconds one attempt of `check --notify` may take (`IMTUI_NOTIFY_TIMEOUT`, default 5)."""
