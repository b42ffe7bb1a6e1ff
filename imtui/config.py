"""Typed settings, each with a line a user can read; built once by the entry point."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from imtui.domain.errors import InvalidInput


@dataclass(frozen=True)
class Environment:
    """Every variable imtui reads from its environment, read here and nowhere else (the platform
    simulator, a program of its own, reads its own). Each is the raw text (None when unset); the
    code that uses one checks it and says what is wrong with it in one line."""

    db: str | None
    """`IMTUI_DB`: the database when `--db` is not given."""
    now: str | None
    """`IMTUI_NOW`: the instant to act at when `--now` is not given (simulated time)."""
    control_plane: str | None
    """`IMTUI_CONTROL_PLANE`: the platform's control plane URL when `--control-plane` is not given."""
    control_plane_timeout: str | None
    """`IMTUI_CONTROL_PLANE_TIMEOUT`: seconds one request to the control plane may take."""
    control_plane_ca: str | None
    """`IMTUI_CONTROL_PLANE_CA`: the CA file an `https://` control plane is verified against."""
    control_plane_token: str | None
    """`IMTUI_CONTROL_PLANE_TOKEN`: the control plane's shared secret."""
    control_plane_token_file: str | None
    """`IMTUI_CONTROL_PLANE_TOKEN_FILE`: the file holding that secret (mode 600)."""
    billing_tz: str | None
    """`IMTUI_BILLING_TZ`: the billing time zone of a database being created."""
    notify_secret: str | None
    """`IMTUI_NOTIFY_SECRET`: the key `check --notify` signs its messages with."""
    notify_timeout: str | None
    """`IMTUI_NOTIFY_TIMEOUT`: seconds one webhook delivery may take."""
    no_color: bool
    """`NO_COLOR` is set: the dashboard uses the ANSI theme."""
    completing: bool
    """`_ARGCOMPLETE` is set: the shell asks for completions, not for a command."""
    data_home: str | None
    """`XDG_DATA_HOME`: where the default database's folder goes."""
    config_home: str | None
    """`XDG_CONFIG_HOME`: where the keymap's folder goes."""


def environment() -> Environment:
    """The environment as it is now (cheap: read again each time, so a test may change it)."""
    get = os.environ.get
    return Environment(
        db=get("IMTUI_DB"),
        now=get("IMTUI_NOW"),
        control_plane=get("IMTUI_CONTROL_PLANE"),
        control_plane_timeout=get("IMTUI_CONTROL_PLANE_TIMEOUT"),
        control_plane_ca=get("IMTUI_CONTROL_PLANE_CA"),
        control_plane_token=get("IMTUI_CONTROL_PLANE_TOKEN"),
        control_plane_token_file=get("IMTUI_CONTROL_PLANE_TOKEN_FILE"),
        billing_tz=get("IMTUI_BILLING_TZ"),
        notify_secret=get("IMTUI_NOTIFY_SECRET"),
        notify_timeout=get("IMTUI_NOTIFY_TIMEOUT"),
        no_color="NO_COLOR" in os.environ,
        completing="_ARGCOMPLETE" in os.environ,
        data_home=get("XDG_DATA_HOME"),
        config_home=get("XDG_CONFIG_HOME"),
    )


def crash_point() -> str | None:
    """`IMTUI_CRASH_AT`: a crash point for drills and tests (`services.crashpoints`); read alone
    at every crash point, so it stays one lookup."""
    return os.environ.get("IMTUI_CRASH_AT")


def data_dir() -> Path:
    """Where imtui keeps its default database: `$XDG_DATA_HOME/imtui` or `~/.local/share/imtui`."""
    base = environment().data_home or str(Path.home() / ".local" / "share")
    return Path(base) / "imtui"


def config_dir() -> Path:
    """Where the keymap lives: `$XDG_CONFIG_HOME/imtui` or `~/.config/imtui`."""
    base = environment().config_home or str(Path.home() / ".config")
    return Path(base) / "imtui"


NOTIFY_TIMEOUT = 5.0
"""Seconds one attempt to deliver to a webhook may take (signals.md §3)."""


def notify_timeout_from_env() -> float:
    """`IMTUI_NOTIFY_TIMEOUT` in seconds, else 5. A malformed value is NaN here, refused (exit 2)
    by `check --notify` only, so it never stands in the way of anything else."""
    text = (environment().notify_timeout or "").strip()
    if not text:
        return NOTIFY_TIMEOUT
    try:
        return float(text)
    except ValueError:
        return float("nan")


DEFAULT_BILLING_TZ = "Asia/Shanghai"
"""The billing time zone of a database created without `IMTUI_BILLING_TZ` (the console's)."""
MOST_CONCURRENCY = 256
"""The most apps a bulk operation may have in flight with the control plane at once."""


def default_db() -> str:
    return str(data_dir() / "imtui.db")


@dataclass(frozen=True)
class Settings:
    """The settings of one run (command line, environment, defaults), typed and read once."""

    db: str = field(default_factory=default_db)
    """SQLite file path or SQLAlchemy URL of the database."""
    billing_tz: str = DEFAULT_BILLING_TZ
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
    notify_secret: str | None = field(default_factory=lambda: environment().notify_secret or None, repr=False)
    """`IMTUI_NOTIFY_SECRET`: `check --notify` signs each message with it (HMAC-SHA256) when set."""
    notify_timeout: float = field(default_factory=lambda: notify_timeout_from_env())
    """Seconds one attempt of `check --notify` may take (`IMTUI_NOTIFY_TIMEOUT`, default 5)."""

    def __post_init__(self) -> None:
        if not (isinstance(self.bulk_concurrency, int) and 1 <= self.bulk_concurrency <= MOST_CONCURRENCY):
            raise InvalidInput(f"bulk_concurrency must be a whole number from 1 to {MOST_CONCURRENCY}")
        if not (math.isfinite(self.refresh_seconds) and 0 < self.refresh_seconds <= 86_400):
            raise InvalidInput("refresh_seconds must be a number of seconds above 0, at most a day")
