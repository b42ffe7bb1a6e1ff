"""`imtui platform bind URL` moves a database to another platform: an admin's act, audited; a
second identity without the admin role is refused (exit 3, one line naming the role needed),
nothing changes and the refusal is audited under its name. `platform show` is a read for all."""

from __future__ import annotations

import json

from tests.team.team_util import discard_team_db, new_team_db, open_as_creator


def test_only_an_admin_moves_a_database_to_another_platform(other_user):
    db = new_team_db(other_user)
    try:
        open_as_creator(db)
        before, last = db.snapshot(), db.max_audit_id()
        r = db.as_user("platform", "bind", "embedded")
        assert r.rc == 3, str(r)
        line = r.one_line_error()
        assert "needs the admin role" in line and other_user.name in line
        assert db.snapshot() == before  # nothing bound
        records = db.audit_since(last)
        assert [(a["actor"], a["action"], a["result"]) for a in records] == [(other_user.name, "bind", "refused")]
        assert "needs the admin role" in records[0]["detail"]

        shown = db.as_user("platform", "show", "--format", "json")
        assert shown.rc == 0 and json.loads(shown.out) == {"platform": None, "url": None, "bound_at": None}

        assert db.as_admin("users", "grant", other_user.name, "admin").rc == 0
        last = db.max_audit_id()
        r = db.as_user("platform", "bind", "embedded", "--format", "json")
        assert r.rc == 0, str(r)
        assert json.loads(r.out)["platform"] == "embedded"
        done = db.audit_since(last)
        assert [(a["actor"], a["action"], a["result"]) for a in done] == [(other_user.name, "bind", "done")]
    finally:
        discard_team_db(db)
