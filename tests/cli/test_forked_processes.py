"""The tests' fork server (`tests/support/forkserver.py`) must give what a real `imtui` process
gives: the same output, errors and exit codes for the same steps, standard input, the
environment, and a process that kills itself. A script's steps run both ways on two databases."""

from __future__ import annotations

import os
import signal
import subprocess

import pytest

from tests.support import forkserver
from tests.support.cli import IMTUI_EXE, ROOT, Result, clean_env, run_exe, run_process
from tests.support.dbs import drop_db, fresh_db_url

NOW = "2026-11-02T09:00:00+08:00"


def real(args: list[str], env: dict | None = None, input: str | None = None) -> Result:
    kwargs = {"input": input} if input is not None else {"stdin": subprocess.DEVNULL}
    proc = subprocess.run(
        [str(IMTUI_EXE), *args], capture_output=True, text=True, env=clean_env(env), cwd=str(ROOT), timeout=60, **kwargs
    )
    return Result(proc.returncode, proc.stdout, proc.stderr)


@pytest.fixture
def two_dbs(tmp_path):
    urls = [fresh_db_url(tmp_path / "forked"), fresh_db_url(tmp_path / "real")]
    yield urls
    for url in urls:
        drop_db(url)


def test_a_script_gives_the_same_results_forked_and_real(two_dbs):
    usage = "date,app_id,dau,groups,live_groups,max_groups_per_user,max_members_per_group\n"
    usage += "2026-11-02,1400000000,12,3,1,1,1\n"
    steps = [
        (["--version"], None, None),
        (["apps", "create", "chat-prod", "--account", "acme", "--format", "json"], None, None),
        (["apps", "show", "1400000000", "--format", "json"], None, None),
        (["apps", "show", "1400000099"], None, None),  # exit 4, one line on stderr
        (["apps", "upgrade", "1400000000", "--edition", "gold"], None, None),  # exit 2
        (["apps", "list", "--format", "csv"], {"NO_COLOR": "1", "COLUMNS": "50"}, None),
        (["usage", "import", "-"], None, usage),
        (["apps", "halt", "1400000000", "--reason", "drill"], None, "n\n"),  # not a terminal: refused
        (["audit", "--format", "json"], None, None),
        (["apps", "list"], {"IMTUI_NOW": "not a time"}, None),
    ]
    for args, env, stdin in steps:
        results = []
        for db, how in zip(two_dbs, (run_exe, real)):
            argv = ["--db", db, "--now", "2026-11-03T10:00:00+08:00", *args] if args[0] != "--version" else args
            kwargs = {"env": env, "input": stdin}
            result = how(argv, **kwargs)
            results.append((result.rc, result.out.replace(db, "DB"), result.err.replace(db, "DB")))
        assert results[0] == results[1], args


def test_a_process_that_kills_itself_is_reported_killed(two_dbs):
    run_exe(["--db", two_dbs[0], "--now", NOW, "apps", "create", "chat", "--account", "acme"]).ok()
    args = ["--db", two_dbs[0], "--now", NOW, "apps", "halt", "1400000000", "--reason", "x", "--yes"]
    killed = run_exe(args, env={"IMTUI_CRASH_AT": "before-call"})
    assert killed.rc == -signal.SIGKILL


def test_start_up_variables_directory_and_umask_are_the_requests_own(two_dbs, tmp_path):
    """A step with its own Python start-up variables (an output encoding), working directory and
    umask gives what a real process gives: it is forked from a server started with those."""
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "LANG": "C.UTF-8",
        "PYTHONIOENCODING": "ascii:backslashreplace",
    }
    if os.environ.get("PGPASSFILE"):  # the test role's password on PostgreSQL (tests/support/dbs.py)
        env["PGPASSFILE"] = os.environ["PGPASSFILE"]
    outcomes = []
    for db, forked in zip(two_dbs, (True, False)):
        seen = []
        for args in (["apps", "create", "café-прод", "--account", "acme"], ["apps", "list", "--format", "csv"]):
            argv = ["--db", db, "--now", NOW, *args]
            if forked:
                r = run_process(argv, env=env, cwd="/", umask=0o027)
            else:
                proc = subprocess.run(
                    [str(IMTUI_EXE), *argv], capture_output=True, text=True, env=env, cwd="/", umask=0o027, timeout=60
                )
                r = Result(proc.returncode, proc.stdout, proc.stderr)
            seen.append((r.rc, r.out.replace(db, "DB"), r.err.replace(db, "DB")))
        if "://" not in db:
            seen.append(oct(os.stat(db).st_mode))
        outcomes.append(seen)
    assert "caf\\xe9" in outcomes[0][1][1]
    assert outcomes[0] == outcomes[1]
    if not os.environ.get("IMTUI_TEST_NO_FORK"):
        assert any(("PYTHONIOENCODING", "ascii:backslashreplace") in key for key in forkserver._SERVERS)
