"""Test 1: every operation × every role, run by a second identity (a second OS user on SQLite,
a second database role on PostgreSQL) on a database the test process created (and so
administers). Allowed → exit 0 and the change is made; refused → exit 3, one line naming the
role needed, nothing changed, and an audit record with result "refused". Reads: allowed to all."""

from __future__ import annotations

import json

import pytest

from imtui.domain.roles import NEEDS, ROLES, allows
from tests.team.team_util import READS, WRITES, World, build_world, discard_world


@pytest.fixture(scope="module")
def base_world(other_user):
    """Built once, step by step, by the creator; every role's world is a copy of it."""
    w = build_world(other_user, "viewer")
    yield w
    discard_world(w)


@pytest.fixture(scope="module", params=ROLES)
def world(request, other_user, base_world):
    w = build_world(other_user, request.param, base=base_world)
    yield w
    discard_world(w)


def _effect_done(op: str, w: World, name: str) -> None:
    """What an allowed operation must have changed."""
    db = w.main
    if op == "create":
        assert db.query("SELECT COUNT(*) FROM apps WHERE name = 'new-chat'")[0][0] == 1
    elif op == "upgrade":
        assert db.app(w.trial)["edition"] == "pro"
        assert db.app(w.trial)["updated_by"] == name
    elif op == "modify":
        assert db.app(w.pro)["history_days"] == 90
        assert db.app(w.pro)["updated_by"] == name
    elif op == "halt":
        assert db.app(w.active)["status"] == "deactivated"
    elif op == "reactivate":
        assert db.app(w.halted)["status"] == "active"
    elif op == "demo":
        assert w.empty.count_apps() == 3
    elif op == "users grant":
        assert db.role_of("carol") == "responder"
    elif op == "users revoke":
        assert db.role_of("dave") in (None, "viewer")
    else:  # pragma: no cover
        raise AssertionError(op)


@pytest.mark.parametrize("op", list(WRITES))
def test_write_operation(world, other_user, op):
    action, argv = WRITES[op]
    db = world.db_for(op)
    name = other_user.name
    before = db.snapshot()
    last_audit = db.max_audit_id()
    r = db.as_user(*argv(world))
    assert "Traceback" not in r.err, str(r)
    if allows(world.role, action):
        assert r.rc == 0, f"{world.role} may {op}: {r}"
        _effect_done(op, world, name)
        records = db.audit_since(last_audit)
        mine = [a for a in records if a["actor"] == name and a["action"] == action]
        if op != "demo":  # demo writes its generated history, not one record of its own
            assert mine and all(a["result"] == "done" for a in mine), records
        assert not [a for a in records if a["result"] == "refused"], records
    else:
        need = NEEDS[action]
        assert r.rc == 3, f"{world.role} may not {op}: {r}"
        lines = r.lines()
        assert len(lines) == 1, f"expected one line on stderr: {r}"
        assert f"needs the {need} role" in lines[0], lines[0]
        assert name in lines[0] and world.role in lines[0], lines[0]
        assert db.snapshot() == before, f"a refused {op} changed something"
        records = db.audit_since(last_audit)
        refused = [a for a in records if a["result"] == "refused"]
        assert refused, f"a refused {op} left no audit record with result 'refused': {records}"
        assert all(a["actor"] == name and a["action"] == action for a in refused), refused
        assert any(f"needs the {need} role" in a["detail"] for a in refused), refused
        assert not [a for a in records if a["result"] == "done"], records


@pytest.mark.parametrize("op", list(READS))
def test_read_operation(world, other_user, op):
    db = world.main
    before = db.snapshot()
    r = db.as_user(*READS[op](world))
    assert r.rc == 0, f"{world.role} may read ({op}): {r}"
    json.loads(r.out)  # the asked-for format, nothing else on stdout
    assert "Traceback" not in r.err
    refused = [a for a in db.audit_since(0) if a["actor"] == other_user.name and a["action"] not in NEEDS]
    assert not refused, f"a read was audited as an action: {refused}"
    # reads may do housekeeping, but change no app, user or account
    after = db.snapshot()
    for table in ("accounts", "apps", "users"):
        assert after[table] == before[table], table
