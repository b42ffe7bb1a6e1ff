"""Test 2: identity cannot be spoofed. Environment variables (USER, LOGNAME, USERNAME, IMTUI_*,
PG*) and options change neither the audited actor nor the role."""

from __future__ import annotations

import pytest

from tests.support.cli import InProcess
from tests.support.cli import expected_actor as me
from tests.support.dbs import drop_db, fresh_db_url
from tests.team.team_util import creator_name, discard_team_db, new_team_db, open_as_creator

SPOOF = {
    "USER": "root",
    "LOGNAME": "root",
    "USERNAME": "root",
    "SUDO_USER": "root",
    "IMTUI_USER": "root",
    "IMTUI_ACTOR": "root",
    "IMTUI_ROLE": "admin",
    "IMTUI_AS": "root",
    "PGUSER": "postgres",
}


@pytest.fixture
def viewer_db(other_user):
    db = new_team_db(other_user)
    try:
        open_as_creator(db)
        r = db.as_admin("apps", "create", "victim", "--account", "acme", "--format", "json")
        assert r.rc == 0, str(r)
        import json

        db.app_id = json.loads(r.out)["app_id"]
        yield db
    finally:
        discard_team_db(db)


def _spoof_env(db) -> dict:
    """Every name-bearing variable says "I am the creator" (and PG* carry the creator's login)."""
    creator = creator_name(db)
    env = {key: creator for key in SPOOF}
    env["IMTUI_ROLE"] = "admin"
    env["PGPASSWORD"] = "imtui"
    return env


@pytest.mark.parametrize(
    "argv",
    [
        ("apps", "halt", "{app}", "--reason", "spoof", "--yes"),
        ("apps", "modify", "{app}", "--history-days", "30"),
        ("apps", "create", "sneaky", "--account", "acme"),
        ("users", "grant", "{me}", "admin"),
    ],
    ids=["halt", "modify", "create", "grant-self-admin"],
)
def test_a_viewer_pretending_to_be_the_admin_through_the_environment_is_refused(viewer_db, other_user, argv):
    db = viewer_db
    name = other_user.name
    argv = [a.format(app=db.app_id, me=name) for a in argv]
    before = db.snapshot()
    last = db.max_audit_id()
    r = db.as_user(*argv, env=_spoof_env(db))
    assert r.rc == 3, str(r)
    lines = r.lines()
    assert len(lines) == 1 and f"user {name} is a viewer" in lines[0], str(r)
    assert db.snapshot() == before
    records = db.audit_since(last)
    assert records and all(a["actor"] == name and a["result"] == "refused" for a in records), records
    assert db.role_of(name) in (None, "viewer")


@pytest.mark.parametrize(
    "globals_",
    [("--user", "root"), ("--actor", "root"), ("--as", "root"), ("--role", "admin")],
    ids=lambda g: g[0],
)
def test_no_option_chooses_the_actor_or_role(viewer_db, other_user, globals_):
    db = viewer_db
    before = db.snapshot()
    last = db.max_audit_id()
    r = db.as_user("apps", "halt", str(db.app_id), "--reason", "x", "--yes", globals_=globals_)
    assert r.rc == 2, str(r)  # an unknown option: a usage error, nothing attempted
    assert "Traceback" not in r.err and len(r.lines()) == 1
    assert db.snapshot() == before
    assert db.audit_since(last) == []
    # nor does it work after the subcommand
    r = db.as_user("apps", "halt", str(db.app_id), "--reason", "x", "--yes", *globals_)
    assert r.rc == 2, str(r)
    assert db.snapshot() == before


def test_a_viewers_reads_are_allowed_and_its_spoofed_env_does_not_make_it_admin(viewer_db, other_user):
    db = viewer_db
    r = db.as_user("users", "list", "--format", "json", env=_spoof_env(db))
    assert r.rc == 0, str(r)
    import json

    listed = {u["name"]: u["role"] for u in json.loads(r.out)}
    assert listed == {creator_name(db): "admin"}


def test_the_creators_runs_are_audited_as_the_creator_whatever_the_environment(tmp_path, capsys, monkeypatch):
    db = fresh_db_url(tmp_path)
    try:
        creator = me(db)
        for key, _value in SPOOF.items():
            monkeypatch.setenv(key, "mallory" if key != "IMTUI_ROLE" else "viewer")
        if "://" not in db:
            monkeypatch.delenv("PGUSER", raising=False)
        run = InProcess(capsys, db)
        app = run.json("apps", "create", "chat", "--account", "acme")
        run("apps", "halt", str(app["app_id"]), "--reason", "spoofed env", "--yes").ok()
        trail = run.json("audit")
        assert {a["actor"] for a in trail} == {creator}
        users = {u["name"]: u["role"] for u in run.json("users", "list")}
        assert users == {creator: "admin"}
        assert "mallory" not in run("audit").out
    finally:
        drop_db(db)
