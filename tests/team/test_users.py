"""Test 3: the creator of a database is its admin, everyone else starts as a viewer; grant and
revoke are admin-only, audited (action grant/revoke), and an admin cannot revoke themselves."""

from __future__ import annotations

import pytest

from imtui.bootstrap import open_services
from imtui.clock import SystemClock
from imtui.config import Settings
from imtui.domain.changes import ChangeRequest
from imtui.domain.errors import InvalidInput, PermissionDenied
from tests.support.cli import InProcess
from tests.support.cli import expected_actor as me
from tests.support.dbs import drop_db, fresh_db_url


@pytest.fixture
def db(tmp_path):
    url = fresh_db_url(tmp_path)
    yield url
    drop_db(url)


def _others(db: str, actor: str):
    """Services for another user of the same database (the `actor` seam of open_services)."""
    return open_services(Settings(db=db, control_plane_latency=0), SystemClock(), actor=actor)


def _roles(run) -> dict[str, str]:
    return {u["name"]: u["role"] for u in run.json("users", "list")}


def test_the_creator_is_admin_and_others_start_as_viewers(db, capsys):
    run = InProcess(capsys, db)
    creator = me(db)
    users = run.json("users", "list")
    assert [(u["name"], u["role"], u["granted_by"]) for u in users] == [(creator, "admin", creator)]

    bob = _others(db, "bob")
    try:
        import asyncio

        assert asyncio.run(bob.users.me()).role == "viewer"
        # opening the database as a second user makes nobody else an admin
        assert _roles(run) == {creator: "admin"}
        with pytest.raises(PermissionDenied) as err:
            asyncio.run(bob.changes.create("x", "acme"))
        assert "user bob is a viewer; create needs the operator role" in err.value.message
        assert err.value.exit_code == 3
    finally:
        bob.close()


def test_grant_then_revoke_makes_the_user_a_viewer_again_and_both_are_audited(db, capsys):
    import asyncio

    run = InProcess(capsys, db)
    creator = me(db)
    granted = run.json("users", "grant", "bob", "operator")
    assert (granted["name"], granted["role"], granted["granted_by"]) == ("bob", "operator", creator)
    assert _roles(run) == {creator: "admin", "bob": "operator"}

    bob = _others(db, "bob")
    try:
        app = asyncio.run(bob.changes.create("bobs-chat", "acme"))
        assert app.updated_by == "bob"
    finally:
        bob.close()

    revoked = run.json("users", "revoke", "bob")
    assert (revoked["name"], revoked["role"]) == ("bob", "viewer")
    assert _roles(run).get("bob", "viewer") == "viewer"
    bob = _others(db, "bob")
    try:
        assert asyncio.run(bob.users.me()).role == "viewer"
        with pytest.raises(PermissionDenied):
            asyncio.run(bob.changes.upgrade(app.app_id, ChangeRequest(edition="pro")))
    finally:
        bob.close()

    trail = run.json("audit")
    mine = [(a["action"], a["result"]) for a in trail if a["actor"] == creator]
    assert ("grant", "done") in mine and ("revoke", "done") in mine
    grant = next(a for a in trail if a["action"] == "grant")
    revoke = next(a for a in trail if a["action"] == "revoke")
    assert "bob" in grant["detail"] and "viewer → operator" in grant["detail"]
    assert "bob" in revoke["detail"] and "operator → viewer" in revoke["detail"]
    assert grant["app_id"] is None and revoke["app_id"] is None


def test_an_admin_cannot_revoke_themselves(db, capsys):
    run = InProcess(capsys, db)
    creator = me(db)
    run.json("users", "list")
    r = run("users", "revoke", creator)
    assert r.rc == 2, r
    assert "cannot revoke" in r.one_line_error()
    assert _roles(run) == {creator: "admin"}
    refused = [a for a in run.json("audit") if a["action"] == "revoke"]
    assert [a["result"] for a in refused] == ["refused"]


def test_grant_to_an_unknown_role_exits_2_and_changes_nothing(db, capsys):
    import asyncio

    run = InProcess(capsys, db)
    creator = me(db)
    run.json("users", "list")
    r = run("users", "grant", "bob", "superuser")
    assert r.rc == 2, r
    r.one_line_error()
    assert _roles(run) == {creator: "admin"}
    # the service refuses it too (not only the command line's choices)
    admin = open_services(Settings(db=db), SystemClock())
    try:
        with pytest.raises(InvalidInput) as err:
            asyncio.run(admin.users.grant("bob", "superuser"))
        assert err.value.exit_code == 2
        assert "unknown role" in err.value.message
    finally:
        admin.close()
    assert _roles(run) == {creator: "admin"}


def test_only_an_admin_grants(db, capsys):
    import asyncio

    run = InProcess(capsys, db)
    run.json("users", "grant", "olive", "operator")
    olive = _others(db, "olive")
    try:
        with pytest.raises(PermissionDenied) as err:
            asyncio.run(olive.users.grant("olive", "admin"))
        assert "grant needs the admin role" in err.value.message
    finally:
        olive.close()
    assert _roles(run)["olive"] == "operator"
    refused = [a for a in run.json("audit") if a["result"] == "refused"]
    assert [(a["actor"], a["action"]) for a in refused] == [("olive", "grant")]
