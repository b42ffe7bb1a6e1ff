"""Shared helpers of the robustness tests: run `imtui` in-process or as real processes released
at the same moment, and count what was tried (printed in the terminal summary)."""

from __future__ import annotations

import os
import select
import subprocess
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from tests.support.cli import IMTUI_EXE, PYTHON, ROOT, Result, clean_env, run_inprocess, start_exe

__all__ = ["IMTUI_EXE", "PYTHON", "ROOT", "Result", "clean_env"]

LAUNCHER = Path(__file__).with_name("launcher.py")

ALLOWED_CODES = {0, 2, 3, 4, 5}
"""Exit codes a user's input may legitimately produce (1 means a bug or an unreachable database)."""

TALLY: Counter = Counter()
"""What the suite tried: concurrent writers, processes killed, hostile inputs (see conftest)."""


def run(db: str, now: str, *args: str) -> Result:
    """`imtui --db DB --now NOW ARGS...` in this process."""
    return run_inprocess("--db", db, "--now", now, *args)


def audit(db: str, now: str, *opts: str) -> list[dict]:
    return run(db, now, "audit", "--limit", "1000000", "--format", "json", *opts).ok().json


def apps_list(db: str, now: str, *filters: str) -> list[dict]:
    return run(db, now, "apps", "list", *filters, "--format", "json").ok().json


def launch_together(argvs: Sequence[Sequence[str]], timeout: float = 120.0) -> list[Result]:
    """Starts one real process per argv (`imtui.cli.main(argv)` behind a barrier), releases them
    all at the same moment once every one is ready, and joins them."""
    ready_r, ready_w = os.pipe()
    go_r, go_w = os.pipe()
    env = clean_env()
    procs = []
    files = []
    try:
        for argv in argvs:
            out = tempfile.TemporaryFile()
            err = tempfile.TemporaryFile()
            files.append((out, err))
            proc = start_exe(list(argv), stdout=out, stderr=err, start_line=(ready_w, go_r))
            if proc is None:  # no fork server: a real interpreter that imports, then waits
                proc = subprocess.Popen(
                    [str(PYTHON), str(LAUNCHER), str(ready_w), str(go_r), *argv],
                    pass_fds=(ready_w, go_r),
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=err,
                    cwd=str(ROOT),
                    env=env,
                )
            procs.append(proc)
        os.close(ready_w)
        ready_w = -1
        os.close(go_r)
        go_r = -1
        got = 0
        deadline = time.monotonic() + timeout
        while got < len(procs):
            left = deadline - time.monotonic()
            readable, _, _ = select.select([ready_r], [], [], max(left, 0))
            assert readable, f"only {got} of {len(procs)} workers got ready within {timeout} s"
            chunk = os.read(ready_r, len(procs))
            assert chunk, f"a worker died before the start line ({got} of {len(procs)} ready)"
            got += len(chunk)
        os.close(go_w)  # the start signal: every worker's read returns at once
        go_w = -1
        TALLY["concurrent processes started"] += len(procs)
        results = []
        for proc, (out, err) in zip(procs, files):
            rc = proc.wait(timeout=max(deadline - time.monotonic(), 1))
            out.seek(0)
            err.seek(0)
            results.append(Result(rc, out.read().decode("utf-8", "replace"), err.read().decode("utf-8", "replace")))
        return results
    finally:
        for fd in (ready_r, ready_w, go_r, go_w):
            if fd >= 0:
                try:
                    os.close(fd)
                except OSError:
                    pass
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        for out, err in files:
            out.close()
            err.close()
