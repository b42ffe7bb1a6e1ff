"""Helpers for driving the `imtui` command line end to end (in-process and as a subprocess)."""

from __future__ import annotations

import json
import os
import pwd
import re
import subprocess
import sys
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from imtui.cli import main

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = ROOT / ".venv" / "bin"
IMTUI_EXE = VENV_BIN / "imtui"
PYTHON = VENV_BIN / "python"

FIRST = 1400000000
"""The SDKAppID the first app of a fresh database gets."""

APP_KEYS = [
    "app_id", "name", "account", "edition", "billing", "status", "live_groups",
    "groups_per_user", "members_per_group", "history_days", "created_at", "deactivated_at",
    "purge_at", "locked_items",
]
AUDIT_KEYS = ["at", "actor", "action", "app_id", "result", "detail"]
BULK_KEYS = ["app_id", "ok", "error"]
BILL_KEYS = ["month", "currency", "state", "issued_at", "total", "projected_total", "accounts"]
ACTIONS = {"create", "upgrade", "modify", "halt", "reactivate", "purge", "close_month", "grant", "revoke"}

ISO_LOCAL = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?\+08:00$")
MONEY = re.compile(r"^-?\d+\.\d{2}$")


def os_login() -> str:
    return pwd.getpwuid(os.getuid()).pw_name


def parse_local(text: str) -> datetime:
    assert ISO_LOCAL.match(text), f"not ISO 8601 with +08:00: {text!r}"
    return datetime.fromisoformat(text)


def assert_instant(text: str | None, prefix: str) -> None:
    """An instant in the billing zone's offset that starts with the given local date-time."""
    assert text is not None
    assert ISO_LOCAL.match(text), f"not ISO 8601 with +08:00: {text!r}"
    assert text.startswith(prefix), f"{text!r} does not start with {prefix!r}"


@dataclass
class Result:
    rc: int
    out: str
    err: str

    @property
    def json(self) -> Any:
        return json.loads(self.out)

    def ok(self) -> Result:
        assert self.rc == 0, f"exit {self.rc}; stderr: {self.err!r}; stdout: {self.out!r}"
        return self

    def one_line_error(self) -> str:
        """The contract: one plain sentence on stderr, no traceback."""
        assert "Traceback" not in self.err and "Traceback" not in self.out
        lines = [ln for ln in self.err.splitlines() if ln.strip()]
        assert len(lines) == 1, f"expected one error line, got {self.err!r}"
        return lines[0]


class Cli:
    """Runs `imtui.cli.main` in-process against one database, moving `--now` forward.

    Every call gets `--db` and `--now`; without an explicit `now` the instant is one minute after
    the previous call's, so consecutive operations never go back in time.
    """

    def __init__(self, capsys, db: Path | str, start: str = "2026-11-02T09:00:00+08:00"):
        self.capsys = capsys
        self.db = str(db)
        self.cursor = datetime.fromisoformat(start)

    def at(self, now: str) -> None:
        self.cursor = datetime.fromisoformat(now)

    def run(self, *args: str, now: str | None = None, globals_: tuple[str, ...] = ()) -> Result:
        if now is None:
            self.cursor += timedelta(minutes=1)
            now_text = self.cursor.isoformat()
        else:
            now_text = now
            try:
                parsed = datetime.fromisoformat(now)
                if parsed.tzinfo is None:
                    from zoneinfo import ZoneInfo

                    parsed = parsed.replace(tzinfo=ZoneInfo("Asia/Shanghai"))
                self.cursor = parsed
            except ValueError:
                pass
        self.capsys.readouterr()
        rc = main(["--db", self.db, "--now", now_text, *globals_, *args])
        cap = self.capsys.readouterr()
        return Result(rc, cap.out, cap.err)

    # shortcuts -----------------------------------------------------------------------------------

    def create(self, name: str = "chat-prod", account: str = "acme", now: str | None = None) -> dict:
        return self.run("apps", "create", name, "--account", account, "--format", "json", now=now).ok().json

    def show(self, app_id: int, now: str | None = None) -> dict:
        return self.run("apps", "show", str(app_id), "--format", "json", now=now).ok().json

    def list(self, *filters: str, now: str | None = None) -> list[dict]:
        return self.run("apps", "list", *filters, "--format", "json", now=now).ok().json

    def audit(self, *opts: str, now: str | None = None) -> list[dict]:
        return self.run("audit", *opts, "--format", "json", now=now).ok().json


def run_exe(args: list[str], *, module: bool = False, env: dict | None = None, input: str | None = None,
            timeout: float = 60) -> Result:
    """A true subprocess: the installed `imtui` script, or `python -m imtui`."""
    cmd = [str(PYTHON), "-m", "imtui", *args] if module else [str(IMTUI_EXE), *args]
    full_env = dict(os.environ)
    full_env.pop("IMTUI_DB", None)
    full_env.pop("IMTUI_NOW", None)
    if env:
        full_env.update(env)
    kwargs = {"input": input} if input is not None else {"stdin": subprocess.DEVNULL}
    proc = subprocess.run(cmd, capture_output=True, text=True, env=full_env, timeout=timeout, cwd=str(ROOT),
                          **kwargs)
    return Result(proc.returncode, proc.stdout, proc.stderr)


__all__ = [name for name in dir() if not name.startswith("_")] + ["sys"]


def expected_actor(db) -> str:
    """The audited actor: the database user on PostgreSQL, the OS login name on SQLite."""
    from sqlalchemy.engine import make_url

    return make_url(str(db)).username if "://" in str(db) else os_login()
