"""Running `imtui` the way scripts do: in this process, or as a real process (one per step).

One result type for every way of running it: `Result(rc, out, err)`.
"""

from __future__ import annotations

import contextlib
import io
import json
import locale
import os
import pwd
import re
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from imtui.cli import main
from tests.support import forkserver

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = ROOT / ".venv" / "bin"
IMTUI_EXE = VENV_BIN / "imtui"
PYTHON = VENV_BIN / "python"

FIRST = 1400000000
"""The SDKAppID the first app of a fresh database gets."""

APP_KEYS = [
    "app_id",
    "name",
    "account",
    "edition",
    "billing",
    "status",
    "live_groups",
    "groups_per_user",
    "members_per_group",
    "history_days",
    "created_at",
    "deactivated_at",
    "purge_at",
    "locked_items",
]
AUDIT_KEYS = ["at", "actor", "action", "app_id", "result", "detail"]
BULK_KEYS = ["app_id", "ok", "error"]
BILL_KEYS = ["month", "currency", "state", "issued_at", "total", "projected_total", "accounts"]
ACTIONS = {
    "create",
    "upgrade",
    "modify",
    "halt",
    "reactivate",
    "purge",
    "close_month",
    "usage_import",
    "grant",
    "revoke",
    "bind",
    "budget",
    "notify",
}

ISO_LOCAL = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?\+08:00$")
MONEY = re.compile(r"^-?\d+\.\d{2}$")
ENV_KEYS = (
    "IMTUI_DB",
    "IMTUI_NOW",
    "IMTUI_BILLING_TZ",
    "IMTUI_CONTROL_PLANE",
    "IMTUI_CONTROL_PLANE_TOKEN",
    "IMTUI_CONTROL_PLANE_TOKEN_FILE",
    "IMTUI_CONTROL_PLANE_TIMEOUT",
    "IMTUI_CONTROL_PLANE_CA",
    "IMTUI_CRASH_AT",
    "IMTUI_NOTIFY_SECRET",
    "IMTUI_NOTIFY_TIMEOUT",
)


@dataclass
class Result:
    """What one run of `imtui` did: its exit code and both output streams."""

    rc: int
    out: str
    err: str

    @property
    def json(self) -> Any:
        return json.loads(self.out)

    def ok(self) -> Result:
        assert self.rc == 0, str(self)
        return self

    def lines(self) -> list[str]:
        """The non-blank lines of standard error."""
        return [ln for ln in self.err.splitlines() if ln.strip()]

    def one_line_error(self) -> str:
        """The contract for a failure: one plain sentence on standard error, no traceback."""
        assert "Traceback" not in self.err and "Traceback" not in self.out, self.err
        lines = self.lines()
        assert len(lines) == 1, f"expected one error line, got {self.err!r}"
        return lines[0]

    def __str__(self) -> str:
        return f"exit {self.rc}; stderr={self.err!r}; stdout={self.out[:2000]!r}"


def os_login() -> str:
    return pwd.getpwuid(os.getuid()).pw_name


def expected_actor(db) -> str:
    """The audited actor: the database user on PostgreSQL, the OS login name on SQLite."""
    from sqlalchemy.engine import make_url

    return make_url(str(db)).username if "://" in str(db) else os_login()


def parse_local(text: str) -> datetime:
    assert ISO_LOCAL.match(text), f"not ISO 8601 with +08:00: {text!r}"
    return datetime.fromisoformat(text)


def assert_instant(text: str | None, prefix: str) -> None:
    """An instant in the billing zone's offset that starts with the given local date-time."""
    assert text is not None
    assert ISO_LOCAL.match(text), f"not ISO 8601 with +08:00: {text!r}"
    assert text.startswith(prefix), f"{text!r} does not start with {prefix!r}"


def clean_env(extra: dict | None = None) -> dict[str, str]:
    """This process's environment without any IMTUI_* setting that would leak into a run."""
    env = {k: v for k, v in os.environ.items() if k not in ENV_KEYS}
    env.update(extra or {})
    return env


def run_inprocess(*argv: str) -> Result:
    """`imtui ARGV...` in this process (output captured)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = main(list(argv))
    return Result(rc, out.getvalue(), err.getvalue())


def run_exe(
    args: list[str],
    *,
    module: bool = False,
    env: dict | None = None,
    input: str | None = None,
    timeout: float = 60,
) -> Result:
    """A true subprocess: the installed `imtui` script, or `python -m imtui` (forked from a
    process that has imported imtui already, see `forkserver`), in this environment plus `env`."""
    return run_process(args, env=clean_env(env), module=module, input=input, timeout=timeout)


def run_process(
    args: list[str],
    *,
    env: dict[str, str],
    cwd: str = str(ROOT),
    umask: int | None = None,
    module: bool = False,
    input: str | None = None,
    timeout: float = 60,
    as_user: Sequence[str] = (),
) -> Result:
    """`imtui ARGS` as its own process with exactly this environment, directory and umask.
    `as_user`: a command that runs it as another OS user (`setpriv ...`): always a real exec."""
    cmd = [*as_user, *([str(PYTHON), "-m", "imtui"] if module else [str(IMTUI_EXE)]), *args]
    argv0 = str(ROOT / "imtui" / "__main__.py") if module else str(IMTUI_EXE)
    encoding = locale.getpreferredencoding(False)  # what `text=True` decodes with
    with tempfile.TemporaryFile() as stdin, tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        stdin.write((input or "").encode(encoding))
        stdin.seek(0)
        source = stdin if input is not None else subprocess.DEVNULL
        with open(os.devnull, "rb") if source is subprocess.DEVNULL else contextlib.nullcontext(stdin) as given:
            forked = None
            if not as_user:
                forked = forkserver.spawn(
                    argv0, list(args), env=env, cwd=cwd, stdin=given, stdout=out, stderr=err, umask=umask
                )
        if forked is None:
            kwargs = {"input": input} if input is not None else {"stdin": subprocess.DEVNULL}
            proc = subprocess.run(
                cmd,
                capture_output=True,
                text=True,
                env=env,
                timeout=timeout,
                cwd=cwd,
                umask=-1 if umask is None else umask,
                **kwargs,
            )
            return Result(proc.returncode, proc.stdout, proc.stderr)
        try:
            rc = forked.wait(timeout)
        except subprocess.TimeoutExpired:
            forked.kill()
            forked.wait()
            raise subprocess.TimeoutExpired(cmd, timeout) from None
        return Result(rc, _text(out, encoding), _text(err, encoding))


def start_exe(args: list[str], *, stdout, stderr, env: dict | None = None, start_line=None):
    """`imtui ARGS` started as its own process that the caller waits for, kills or reads
    (`forkserver.Forked` or `subprocess.Popen`: `pid`, `wait`, `poll`, `kill`, `returncode`).
    `start_line`: see `forkserver.spawn`."""
    env = clean_env(env)
    with open(os.devnull, "rb") as devnull:
        forked = forkserver.spawn(
            str(IMTUI_EXE),
            list(args),
            env=env,
            cwd=str(ROOT),
            stdin=devnull,
            stdout=stdout,
            stderr=stderr,
            start_line=start_line,
        )
    if forked is not None:
        return forked
    if start_line is not None:
        return None  # the caller starts its own kind of process
    return subprocess.Popen(
        [str(IMTUI_EXE), *args], stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr, cwd=str(ROOT), env=env
    )


def _text(file, encoding: str) -> str:
    """A captured stream as `subprocess.run(text=True)` gives it (universal newlines)."""
    file.seek(0)
    wrapper = io.TextIOWrapper(file, encoding=encoding)
    try:
        return wrapper.read()
    finally:
        wrapper.detach()


class Cli:
    """Runs `imtui` in-process against one database, moving `--now` forward.

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
                    parsed = parsed.replace(tzinfo=ZoneInfo("Asia/Shanghai"))
                self.cursor = parsed
            except ValueError:
                pass
        self.capsys.readouterr()
        rc = main(["--db", self.db, "--now", now_text, *globals_, *args])
        cap = self.capsys.readouterr()
        return Result(rc, cap.out, cap.err)

    def create(self, name: str = "chat-prod", account: str = "acme", now: str | None = None) -> dict:
        return self.run("apps", "create", name, "--account", account, "--format", "json", now=now).ok().json

    def show(self, app_id: int, now: str | None = None) -> dict:
        return self.run("apps", "show", str(app_id), "--format", "json", now=now).ok().json

    def list(self, *filters: str, now: str | None = None) -> list[dict]:
        return self.run("apps", "list", *filters, "--format", "json", now=now).ok().json

    def audit(self, *opts: str, now: str | None = None) -> list[dict]:
        return self.run("audit", *opts, "--format", "json", now=now).ok().json


class InProcess:
    """`imtui --db DB ...` in this process, on the real clock (no --now)."""

    def __init__(self, capsys, db: str):
        self.capsys = capsys
        self.db = db

    def __call__(self, *argv: str) -> Result:
        self.capsys.readouterr()
        rc = main(["--db", self.db, *argv])
        cap = self.capsys.readouterr()
        return Result(rc, cap.out, cap.err)

    def json(self, *argv: str) -> Any:
        return self(*argv, "--format", "json").ok().json
