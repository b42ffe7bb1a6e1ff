"""Shell completion (bash and zsh, through argcomplete): subcommands, options, and app IDs and
account names read from the database the command line names."""

from __future__ import annotations

import os
import subprocess

import pytest

from tests.support.cli import IMTUI_EXE, ROOT, clean_env, run_exe


def complete(line: str, tmp_path, shell: str = "bash") -> list[str]:
    """What the shell would offer for `line` (the cursor at its end), as argcomplete answers it."""
    out = tmp_path / "completions"
    env = clean_env(
        {
            "_ARGCOMPLETE": "1",
            "_ARGCOMPLETE_SHELL": shell,
            "COMP_LINE": line,
            "COMP_POINT": str(len(line)),
            "_ARGCOMPLETE_STDOUT_FILENAME": str(out),
            "_ARGCOMPLETE_IFS": "\n",
        }
    )
    subprocess.run([str(IMTUI_EXE)], env=env, cwd=str(ROOT), stdin=subprocess.DEVNULL, timeout=60, check=False)
    words = out.read_text().split("\n") if out.exists() else []
    return [(w.split(":", 1)[0] if shell == "zsh" else w).strip() for w in words if w.strip()]


@pytest.fixture
def fleet(tmp_path):
    db = str(tmp_path / "fleet.db")
    for name, account in (("chat", "acme"), ("crm", "globex"), ("live", "acme")):
        r = run_exe(["--db", db, "--now", "2026-11-02T09:00:00+08:00", "apps", "create", name, "--account", account])
        assert r.rc == 0, r
    return db


@pytest.mark.parametrize("shell", ["bash", "zsh"])
def test_subcommands_and_options(tmp_path, shell):
    assert {"apps", "bills", "audit", "demo", "users"} <= set(complete("imtui ", tmp_path, shell))
    assert {"halt", "reactivate", "modify", "upgrade"} <= set(complete("imtui apps ", tmp_path, shell))
    assert "--reason" in complete("imtui apps halt --r", tmp_path, shell)


@pytest.mark.parametrize("shell", ["bash", "zsh"])
def test_app_ids_and_accounts_come_from_the_database(fleet, tmp_path, shell):
    ids = complete(f"imtui --db {fleet} apps halt 14000000", tmp_path, shell)
    assert ids == ["1400000000", "1400000001", "1400000002"]
    assert complete(f"imtui --db {fleet} apps list --account gl", tmp_path, shell) == ["globex"]


def test_a_missing_database_completes_nothing_and_is_not_created(tmp_path):
    missing = tmp_path / "nothing-here.db"
    assert complete(f"imtui --db {missing} apps show 14", tmp_path) == []
    assert not missing.exists()


def test_readme_registration_commands_work():
    """The README's `register-python-argcomplete` lines print a completion script for each shell."""
    bindir = IMTUI_EXE.parent
    for shell in ("bash", "zsh"):
        r = subprocess.run(
            [str(bindir / "register-python-argcomplete"), "--shell", shell, "imtui"],
            capture_output=True,
            text=True,
            env=dict(os.environ),
            timeout=60,
        )
        assert r.returncode == 0 and "imtui" in r.stdout, r.stderr
