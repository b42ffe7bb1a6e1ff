"""Errors: exit codes, one line on stderr, no traceback; bad databases; usage errors."""

from __future__ import annotations

import pytest

from imtui.cli import main
from tests.support.cli import FIRST, Result

NOW = "2026-11-02T09:00:00+08:00"


def run_raw(capsys, *argv) -> Result:
    capsys.readouterr()
    rc = main(list(argv))
    cap = capsys.readouterr()
    return Result(rc, cap.out, cap.err)


def test_db_is_a_directory_exits_1(capsys, tmp_path):
    r = run_raw(capsys, "--db", str(tmp_path), "--now", NOW, "apps", "list")
    assert r.rc == 1
    msg = r.one_line_error()
    assert "directory" in msg
    assert r.out == ""


def test_db_is_not_a_database_exits_1(capsys, tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("these are not the tables you are looking for\n" * 20)
    r = run_raw(capsys, "--db", str(path), "--now", NOW, "apps", "list")
    assert r.rc == 1
    assert "not a SQLite database" in r.one_line_error()
    assert path.read_text().startswith("these are not")  # left as it was


def test_db_url_that_is_not_a_url_exits_1(capsys):
    r = run_raw(capsys, "--db", "nosuchdriver+x://", "--now", NOW, "apps", "list")
    assert r.rc == 1
    r.one_line_error()


def test_db_in_an_unwritable_place_exits_1(capsys, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    r = run_raw(capsys, "--db", str(blocker / "sub" / "imtui.db"), "--now", NOW, "apps", "list")
    assert r.rc == 1
    r.one_line_error()


@pytest.mark.parametrize(
    "argv",
    [
        ["--bogus", "apps", "list"],
        ["apps", "list", "--bogus"],
        ["apps", "frobnicate"],
        ["nosuchcommand"],
        ["apps"],
        ["apps", "show"],
        ["bills", "--month"],
        ["apps", "halt", "--reason", "x", "--yes"],
    ],
)
def test_usage_errors_exit_2(capsys, tmp_path, argv):
    r = run_raw(capsys, "--db", str(tmp_path / "x.db"), "--now", NOW, *argv)
    assert r.rc == 2
    r.one_line_error()
    assert r.out == ""


@pytest.mark.parametrize("now", ["yesterday-ish", "2026-13-45T99:00", "tomorrow"])
def test_malformed_now_exits_2(capsys, tmp_path, now):
    r = run_raw(capsys, "--db", str(tmp_path / "x.db"), "--now", now, "apps", "list")
    assert r.rc == 2
    r.one_line_error()


def test_every_failure_is_one_line_without_traceback(cli):
    cli.create("a", "acme", now=NOW)
    cases = [
        (("apps", "show", "1400009999"), 4),
        (("apps", "show", "12"), 2),
        (("apps", "list", "--account", "nobody"), 4),
        (("apps", "list", "--status", "zombie"), 2),
        (("apps", "modify", str(FIRST), "--history-days", "30"), 3),
        (("apps", "upgrade", str(FIRST), "--edition", "pro", "--history-days", "45"), 2),
        (("bills", "--month", "2030-01"), 4),
        (("audit", "--app", "1400009999"), 4),
    ]
    for args, code in cases:
        r = cli.run(*args)
        assert r.rc == code, (args, r)
        line = r.one_line_error()
        assert line[0].isalnum(), line
        assert r.out == "", (args, r.out)
