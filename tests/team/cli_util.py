"""In-process `imtui` runs (as the test process's own identity) for the team tests."""

from __future__ import annotations

import json
import os
import pwd
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import make_url

from imtui.cli import main


@dataclass
class Out:
    rc: int
    out: str
    err: str

    @property
    def json(self) -> Any:
        return json.loads(self.out)

    def ok(self) -> "Out":
        assert self.rc == 0, f"exit {self.rc}; stderr={self.err!r}; stdout={self.out!r}"
        return self

    def one_line(self) -> str:
        assert "Traceback" not in self.err
        lines = [ln for ln in self.err.splitlines() if ln.strip()]
        assert len(lines) == 1, f"expected one line on stderr, got {self.err!r}"
        return lines[0]


class InProcess:
    """`imtui --db DB ...` in this process, on the real clock (no --now)."""

    def __init__(self, capsys, db: str):
        self.capsys = capsys
        self.db = db

    def __call__(self, *argv: str) -> Out:
        self.capsys.readouterr()
        rc = main(["--db", self.db, *argv])
        cap = self.capsys.readouterr()
        return Out(rc, cap.out, cap.err)

    def json(self, *argv: str) -> Any:
        return self(*argv, "--format", "json").ok().json


def me(db: str) -> str:
    """Who this process is on that database: the OS login on SQLite, the URL's user on PostgreSQL."""
    if "://" in db:
        return make_url(db).username
    return pwd.getpwuid(os.getuid()).pw_name
