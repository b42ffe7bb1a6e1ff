"""True subprocess runs of the installed entry point, as a script or cron job would."""

from __future__ import annotations

import json

from tests.support.cli import FIRST, os_login, run_exe

NOW = "2026-11-02T09:00:00+08:00"


def test_script_create_show_and_streams(tmp_path):
    db = str(tmp_path / "imtui.db")
    r = run_exe(["--db", db, "--now", NOW, "apps", "create", "chat-prod", "--account", "acme", "--format", "json"])
    assert r.rc == 0, r.err
    assert r.err == ""
    assert json.loads(r.out)["app_id"] == FIRST
    r = run_exe(
        ["--db", db, "--now", "2026-11-02T09:05:00", "apps", "show", str(FIRST), "--format", "json"], module=True
    )
    assert r.rc == 0, r.err
    assert json.loads(r.out)["name"] == "chat-prod"
    assert r.err == ""


def test_script_errors_go_to_stderr_with_exit_codes(tmp_path):
    db = str(tmp_path / "imtui.db")
    assert run_exe(["--db", db, "--now", NOW, "apps", "create", "a", "--account", "acme"]).rc == 0
    cases = [
        (["apps", "show", "1400009999"], 4),
        (["apps", "show", "abc"], 2),
        (["apps", "list", "--nope"], 2),
        (["apps", "modify", str(FIRST), "--history-days", "30"], 3),
    ]
    for i, (args, code) in enumerate(cases):
        r = run_exe(["--db", db, "--now", f"2026-11-02T10:0{i}:00+08:00", *args], module=bool(i % 2))
        assert r.rc == code, (args, r)
        assert r.out == ""
        assert "Traceback" not in r.err
        assert len(r.err.strip().splitlines()) == 1, r.err


def test_script_bad_db_exits_1_without_traceback(tmp_path):
    r = run_exe(["--db", str(tmp_path), "--now", NOW, "apps", "list"])
    assert r.rc == 1
    assert "Traceback" not in r.err and r.out == ""
    assert len(r.err.strip().splitlines()) == 1
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"\x00\x01garbage" * 100)
    r = run_exe(["--db", str(junk), "--now", NOW, "bills"], module=True)
    assert r.rc == 1
    assert "Traceback" not in r.err and r.out == ""
    assert len(r.err.strip().splitlines()) == 1


def test_halt_without_yes_when_stdin_is_not_a_terminal(tmp_path):
    db = str(tmp_path / "imtui.db")
    assert run_exe(["--db", db, "--now", NOW, "apps", "create", "a", "--account", "acme"]).rc == 0
    r = run_exe(["--db", db, "--now", "2026-11-02T09:10:00+08:00", "apps", "halt", str(FIRST), "--reason", "x"])
    assert r.rc == 2
    assert "--yes" in r.err and "Traceback" not in r.err
    assert r.out == ""
    # piping "yes" in does not count as confirmation either
    r = run_exe(
        ["--db", db, "--now", "2026-11-02T09:11:00+08:00", "apps", "halt", str(FIRST), "--reason", "x"], input="yes\n"
    )
    assert r.rc == 2
    assert "Traceback" not in r.err
    r2 = run_exe(["--db", db, "--now", "2026-11-02T09:12:00+08:00", "apps", "show", str(FIRST), "--format", "json"])
    assert json.loads(r2.out)["status"] == "active"
    # and nothing was audited as a halt that happened
    r3 = run_exe(["--db", db, "--now", "2026-11-02T09:13:00+08:00", "audit", "--format", "json"])
    assert [e for e in json.loads(r3.out) if e["action"] == "halt" and e["result"] == "done"] == []


def test_halt_with_yes_in_a_script(tmp_path):
    db = str(tmp_path / "imtui.db")
    for i in range(2):
        assert (
            run_exe(
                ["--db", db, "--now", f"2026-11-02T09:0{i}:00+08:00", "apps", "create", f"a{i}", "--account", "acme"]
            ).rc
            == 0
        )
    r = run_exe(
        [
            "--db",
            db,
            "--now",
            "2026-11-02T09:10:00+08:00",
            "apps",
            "halt",
            str(FIRST),
            str(FIRST + 1),
            "1400009999",
            "--reason",
            "security incident",
            "--yes",
            "--format",
            "json",
        ]
    )
    assert r.rc == 4
    assert [x["ok"] for x in json.loads(r.out)] == [True, True, False]
    assert "Traceback" not in r.err


def test_actor_cannot_be_spoofed_through_the_environment(tmp_path):
    db = str(tmp_path / "imtui.db")
    spoof = {"USER": "mallory", "LOGNAME": "mallory", "USERNAME": "mallory", "SUDO_USER": "mallory"}
    r = run_exe(["--db", db, "--now", NOW, "apps", "create", "a", "--account", "acme"], env=spoof)
    assert r.rc == 0, r.err
    r = run_exe(
        ["--db", db, "--now", "2026-11-02T09:01:00+08:00", "apps", "modify", str(FIRST), "--history-days", "30"],
        env=spoof,
    )
    assert r.rc == 3
    r = run_exe(["--db", db, "--now", "2026-11-02T09:02:00+08:00", "audit", "--format", "json"], env=spoof)
    trail = json.loads(r.out)
    assert [e["result"] for e in trail] == ["refused", "done"]
    assert {e["actor"] for e in trail} == {os_login()}


def test_environment_variables_for_db_and_now(tmp_path):
    db = str(tmp_path / "env.db")
    r = run_exe(
        ["apps", "create", "a", "--account", "acme", "--format", "json"],
        env={"IMTUI_DB": db, "IMTUI_NOW": "2026-11-02T09:00:00"},
    )
    assert r.rc == 0, r.err
    assert json.loads(r.out)["created_at"].startswith("2026-11-02T09:00:0")
    r = run_exe(["--db", db, "--now", "2026-11-02T09:30:00+08:00", "apps", "list", "--format", "json"])
    assert [a["app_id"] for a in json.loads(r.out)] == [FIRST]


def test_output_piped_to_a_closed_reader_ends_quietly(tmp_path):
    import subprocess

    from tests.support.cli import IMTUI_EXE

    db = str(tmp_path / "imtui.db")
    assert run_exe(["--db", db, "--now", NOW, "demo", "--apps", "200"]).rc == 0
    proc = subprocess.run(
        f"'{IMTUI_EXE}' --db '{db}' --now 2026-11-02T10:00:00+08:00 apps list | head -n 1",
        shell=True,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.stdout.startswith("app_id")
    assert "Traceback" not in proc.stderr
