"""Helpers for the team-mode tests: a second identity (an OS user on SQLite, a database role on
PostgreSQL), databases both identities can use, imtui runs as either, and table snapshots.

On SQLite the second identity is a real OS account (the actor is the login name of the process's
uid), so these tests need root (useradd, setpriv). On PostgreSQL it is a second LOGIN role (the
actor is `current_user`); creating it needs CREATEROLE or the `postgres` superuser (runuser).
"""

from __future__ import annotations

import os
import pwd
import secrets
import shutil
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from tests.support.cli import Result, run_process
from tests.support.dbs import ON_POSTGRES, TEST_DB_URL, _libpq, clone_db, drop_db, fresh_db_url

ROOT = Path(__file__).resolve().parents[2]
IMTUI_EXE = ROOT / ".venv" / "bin" / "imtui"
PREFIX = "imtui_t_"

WRITES = {
    # operation id: (action whose role is checked, argv builder from a World)
    "create": ("create", lambda w: ["apps", "create", "new-chat", "--account", "acme"]),
    "upgrade": ("upgrade", lambda w: ["apps", "upgrade", str(w.trial), "--edition", "pro"]),
    "modify": ("modify", lambda w: ["apps", "modify", str(w.pro), "--history-days", "90"]),
    "halt": ("halt", lambda w: ["apps", "halt", str(w.active), "--reason", "incident 42", "--yes"]),
    "reactivate": ("reactivate", lambda w: ["apps", "reactivate", str(w.halted)]),
    "demo": ("demo", lambda w: ["demo", "--apps", "3"]),
    "users grant": ("grant", lambda w: ["users", "grant", "carol", "responder"]),
    "users revoke": ("revoke", lambda w: ["users", "revoke", "dave"]),
}
READS = {
    "apps list": lambda w: ["apps", "list", "--format", "json"],
    "apps show": lambda w: ["apps", "show", str(w.pro), "--format", "json"],
    "bills": lambda w: ["bills", "--format", "json"],
    "audit": lambda w: ["audit", "--format", "json"],
    "users list": lambda w: ["users", "list", "--format", "json"],
}

#: Tables whose rows a refused operation must leave exactly as they were (the audit trail and the
#: change counter are expected to move: the refusal itself is recorded).
STATE_TABLES = (
    "accounts",
    "apps",
    "events",
    "item_changes",
    "users",
    "bills",
    "bill_lines",
    "month_closes",
)
MOVING_META = {"change_counter"}


def clean_env(extra: dict | None = None, home: str | None = None) -> dict:
    """A minimal environment: nothing of the test runner's IMTUI_* or PG* settings leaks in."""
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin",
        "LANG": "C.UTF-8",
        "HOME": home or tempfile.gettempdir(),
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    if os.environ.get("PGPASSFILE"):  # the test role's password (tests/support/dbs.py), out of argv
        env["PGPASSFILE"] = os.environ["PGPASSFILE"]
    if extra:
        env.update(extra)
    return env


def run_cmd(cmd: list[str], env: dict, timeout: float = 120) -> Result:
    """imtui as `cmd` says (possibly behind `setpriv`, as the second user) from `/` with umask 0
    in exactly `env`: as this user it is forked like every other test's step (`run_process`)."""
    exe = cmd.index(str(IMTUI_EXE))
    return run_process(cmd[exe + 1 :], env=env, cwd="/", umask=0, timeout=timeout, as_user=cmd[:exe])


# --- the second identity ------------------------------------------------------------------------


@dataclass
class OtherUser:
    """Who the second identity is and how to run imtui as them."""

    name: str
    kind: str  # "os" or "db"
    uid: int | None = None
    gid: int | None = None
    password: str | None = None
    opened: list = field(default_factory=list)
    """Folders whose mode was widened so this user can reach the checkout (restored at the end)."""

    def url_for(self, admin_url: str) -> str:
        """The database URL this identity connects with."""
        if self.kind == "os":
            return admin_url
        return make_url(admin_url).set(username=self.name, password=self.password).render_as_string(hide_password=False)

    def command(self, argv: list[str]) -> list[str]:
        if self.kind == "os":
            return [
                "setpriv",
                f"--reuid={self.uid}",
                f"--regid={self.gid}",
                "--init-groups",
                str(IMTUI_EXE),
                *argv,
            ]
        return [str(IMTUI_EXE), *argv]


USERADD_LOCKED = (1, 10)
"""useradd's exit codes when it cannot update /etc/passwd or /etc/group (their lock is held)."""


def make_os_user() -> OtherUser:
    if os.geteuid() != 0:
        pytest.skip("needs root: the second identity on SQLite is a second OS user (useradd, setpriv)")
    for tool in ("useradd", "userdel", "setpriv"):
        if shutil.which(tool) is None and not Path(f"/usr/sbin/{tool}").exists():
            pytest.skip(f"{tool} is not available: cannot create a second OS user")
    name = f"{PREFIX}{secrets.token_hex(4)}"
    for pause in (0.5, 1, 2, 4, 8, 15, 0):
        proc = subprocess.run(
            ["useradd", "--no-create-home", "--shell", "/usr/sbin/nologin", name],
            capture_output=True,
            text=True,
        )
        if not (proc.returncode in USERADD_LOCKED and "lock" in proc.stderr) or not pause:
            break
        time.sleep(pause)  # another useradd (a parallel test, a package install) holds the lock
    if proc.returncode != 0:
        pytest.skip(f"useradd failed: {proc.stderr.strip()}")
    entry = pwd.getpwnam(name)
    user = OtherUser(name, "os", uid=entry.pw_uid, gid=entry.pw_gid)
    # a fresh clone may sit in a private temporary folder (mode 0700): let the second user pass
    # through the folders above the checkout and the interpreter, and put them back afterwards
    for target in (IMTUI_EXE, Path(os.path.realpath(sys.executable))):
        user.opened += _let_others_through(target)
    return user


def _let_others_through(target: Path) -> list[tuple[Path, int]]:
    opened = []
    for folder in reversed(target.resolve().parents):
        mode = folder.stat().st_mode
        if not mode & stat.S_IXOTH:
            folder.chmod(mode | stat.S_IXOTH)
            opened.append((folder, stat.S_IMODE(mode)))
    return opened


def remove_os_user(user: OtherUser) -> None:
    subprocess.run(["userdel", user.name], capture_output=True, text=True)
    for folder, mode in reversed(user.opened):
        folder.chmod(mode)


def _test_role_can_create_roles() -> bool:
    import psycopg

    with psycopg.connect(_libpq(TEST_DB_URL), autocommit=True, connect_timeout=10) as conn:
        row = conn.execute("SELECT rolcreaterole OR rolsuper FROM pg_roles WHERE rolname = current_user").fetchone()
    return bool(row and row[0])


def _as_postgres_superuser(sql: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["runuser", "-u", "postgres", "--", "psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-c", sql],
        capture_output=True,
        text=True,
        cwd="/",
        env={"PATH": "/usr/bin:/bin:/usr/sbin:/sbin", "PGPORT": str(make_url(TEST_DB_URL).port or 5432)},
    )


def _role_sql(sql: str) -> None:
    """Runs role DDL as the test role when it may, else as the postgres superuser."""
    if _test_role_can_create_roles():
        import psycopg

        with psycopg.connect(_libpq(TEST_DB_URL), autocommit=True, connect_timeout=10) as conn:
            conn.execute(sql)
        return
    if os.geteuid() != 0 or shutil.which("runuser") is None:
        pytest.skip("the test role lacks CREATEROLE and the postgres superuser is not reachable (needs root)")
    proc = _as_postgres_superuser(sql)
    if proc.returncode != 0:
        pytest.skip(f"cannot create a second database role as postgres: {proc.stderr.strip()}")


def make_db_role() -> OtherUser:
    name = f"{PREFIX}{secrets.token_hex(4)}"
    password = secrets.token_hex(12)
    _role_sql(f"CREATE ROLE \"{name}\" LOGIN PASSWORD '{password}'")
    return OtherUser(name, "db", password=password)


def remove_db_role(user: OtherUser) -> None:
    try:
        _role_sql(f'DROP ROLE IF EXISTS "{user.name}"')
    except BaseException:  # noqa: BLE001  (teardown: best effort)
        pass


# --- databases both identities use ------------------------------------------------------------


@dataclass
class TeamDb:
    """One database: created (and so administered) by the test process's identity, usable by
    the other one. `admin_url` is the creator's URL or path, `user_url` the other identity's."""

    admin_url: str
    other: OtherUser
    folder: Path | None = None
    home: str = field(default_factory=tempfile.gettempdir)

    @property
    def user_url(self) -> str:
        return self.other.url_for(self.admin_url)

    @property
    def is_sqlite(self) -> bool:
        return "://" not in self.admin_url

    # --- running imtui -------------------------------------------------------------------------

    def as_admin(self, *argv: str, env: dict | None = None) -> Result:
        r = run_cmd([str(IMTUI_EXE), "--db", self.admin_url, *argv], clean_env(env, self.home))
        self.fix_perms()
        return r

    def as_user(self, *argv: str, env: dict | None = None, globals_: tuple[str, ...] = ()) -> Result:
        url, env = self.user_url, dict(env or {})
        if "://" in url and make_url(url).password is not None:  # not in argv: imtui would warn
            env.setdefault("IMTUI_DB", url)
            cmd = self.other.command([*globals_, *argv])
        else:
            cmd = self.other.command(["--db", url, *globals_, *argv])
        return run_cmd(cmd, clean_env(env, self.home))

    def fix_perms(self) -> None:
        """Lets the other OS user write the SQLite file and its -wal/-shm companions."""
        if self.folder is None:
            return
        for p in self.folder.iterdir():
            if p.is_file():
                os.chmod(p, 0o666)

    def grant_access(self) -> None:
        """On PostgreSQL: lets the other database role use the (already migrated) database."""
        if self.is_sqlite:
            return
        import psycopg

        role = self.other.name
        with psycopg.connect(_libpq(self.admin_url), autocommit=True, connect_timeout=10) as conn:
            dbname = make_url(self.admin_url).database
            conn.execute(f'GRANT CONNECT ON DATABASE "{dbname}" TO "{role}"')
            conn.execute(f'GRANT USAGE ON SCHEMA public TO "{role}"')
            conn.execute(f'GRANT ALL ON ALL TABLES IN SCHEMA public TO "{role}"')
            conn.execute(f'GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO "{role}"')

    # --- reading it directly -------------------------------------------------------------------

    def engine(self):
        url = f"sqlite:///{self.admin_url}" if self.is_sqlite else self.admin_url
        return create_engine(url)

    def query(self, sql: str, **params) -> list[tuple]:
        engine = self.engine()
        try:
            with engine.connect() as conn:
                return [tuple(r) for r in conn.execute(text(sql), params).all()]
        finally:
            engine.dispose()
            self.fix_perms()

    def snapshot(self) -> dict[str, list[tuple]]:
        """Every row of the state tables (and meta but the change counter), in a stable order."""
        engine = self.engine()
        try:
            with engine.connect() as conn:
                names = set(inspect(conn).get_table_names())
                snap = {}
                for table in STATE_TABLES:
                    if table in names:
                        rows = conn.execute(text(f"SELECT * FROM {table}")).all()
                        snap[table] = sorted((tuple(r) for r in rows), key=repr)
                meta = conn.execute(text("SELECT key, value FROM meta")).all()
                snap["meta"] = sorted((k, v) for k, v in meta if k not in MOVING_META)
                snap["alembic_version"] = [tuple(r) for r in conn.execute(text("SELECT * FROM alembic_version"))]
                return snap
        finally:
            engine.dispose()
            self.fix_perms()

    def max_audit_id(self) -> int:
        return self.query("SELECT COALESCE(MAX(id), 0) FROM audit")[0][0]

    def audit_since(self, after_id: int) -> list[dict]:
        rows = self.query(
            "SELECT id, actor, action, app_id, result, detail FROM audit WHERE id > :i ORDER BY id", i=after_id
        )
        return [dict(zip(("id", "actor", "action", "app_id", "result", "detail"), r)) for r in rows]

    def role_of(self, name: str) -> str | None:
        rows = self.query("SELECT role FROM users WHERE name = :n", n=name)
        return rows[0][0] if rows else None

    def app(self, app_id: int) -> dict:
        rows = self.query(
            "SELECT app_id, name, edition, status, history_days, version, updated_by FROM apps WHERE app_id = :a",
            a=app_id,
        )
        assert rows, f"no app {app_id}"
        return dict(zip(("app_id", "name", "edition", "status", "history_days", "version", "updated_by"), rows[0]))

    def count_apps(self) -> int:
        return self.query("SELECT COUNT(*) FROM apps")[0][0]


def new_team_db(other: OtherUser) -> TeamDb:
    """An unused database the creator (this process's identity) and `other` can both reach."""
    if ON_POSTGRES:
        return TeamDb(fresh_db_url(Path(tempfile.gettempdir())), other)
    folder = Path(tempfile.mkdtemp(prefix="imtui_team_", dir="/tmp"))
    os.chmod(folder, 0o777)
    return TeamDb(str(folder / "imtui.db"), other, folder=folder, home=str(folder))


def discard_team_db(db: TeamDb) -> None:
    if db.folder is not None:
        shutil.rmtree(db.folder, ignore_errors=True)
    else:
        drop_db(db.admin_url)


def open_as_creator(db: TeamDb) -> None:
    """Creates and migrates the database as this process's identity (who becomes its admin),
    then lets the other identity in."""
    r = db.as_admin("users", "list", "--format", "json")
    assert r.rc == 0, str(r)
    db.grant_access()
    db.fix_perms()


def creator_name(db: TeamDb) -> str:
    if db.is_sqlite:
        return pwd.getpwuid(os.getuid()).pw_name
    return make_url(db.admin_url).username


# --- the role matrix's world -------------------------------------------------------------------


@dataclass
class World:
    """A database set up by its creator for one role of the other identity: a trial app to
    upgrade, a pro app to modify, an active app to halt, a halted app to reactivate, a user
    `dave` to revoke; and an empty database (same role) for `demo`."""

    role: str
    main: TeamDb
    empty: TeamDb
    trial: int = 0
    pro: int = 0
    active: int = 0
    halted: int = 0

    def db_for(self, op: str) -> TeamDb:
        return self.empty if op == "demo" else self.main


def _json(r: Result):
    import json

    assert r.rc == 0, str(r)
    return json.loads(r.out)


def build_world(other: OtherUser, role: str, base: World | None = None) -> World:
    """The world for `role`: built step by step by its creator (one process per step), or, given
    a `base` world built that way (role "viewer"), a copy of it with the role granted."""
    if base is not None:
        return _world_from(base, other, role)
    main, empty = new_team_db(other), new_team_db(other)
    world = World(role, main, empty)
    try:
        open_as_creator(main)
        open_as_creator(empty)
        ids = []
        for name in ("to-upgrade", "to-modify", "to-halt", "to-reactivate"):
            ids.append(_json(main.as_admin("apps", "create", name, "--account", "acme", "--format", "json"))["app_id"])
        world.trial, world.pro, world.active, world.halted = ids
        _json(main.as_admin("apps", "upgrade", str(world.pro), "--edition", "pro", "--format", "json"))
        r = main.as_admin("apps", "halt", str(world.halted), "--reason", "setup", "--yes")
        assert r.rc == 0, str(r)
        _json(main.as_admin("users", "grant", "dave", "operator", "--format", "json"))
        _grant(world, other, role)
    except BaseException:
        discard_team_db(main)
        discard_team_db(empty)
        raise
    return world


def _grant(world: World, other: OtherUser, role: str) -> None:
    for db in (world.main, world.empty):
        if role != "viewer":
            _json(db.as_admin("users", "grant", other.name, role, "--format", "json"))
        db.grant_access()
        db.fix_perms()


def _copy_team_db(db: TeamDb, other: OtherUser) -> TeamDb:
    if db.folder is None:
        return TeamDb(clone_db(db.admin_url, Path(tempfile.gettempdir())), other)
    copy = new_team_db(other)
    clone_db(db.admin_url, copy.folder)
    copy.fix_perms()
    return copy


def _world_from(base: World, other: OtherUser, role: str) -> World:
    main, empty = _copy_team_db(base.main, other), _copy_team_db(base.empty, other)
    world = World(role, main, empty, base.trial, base.pro, base.active, base.halted)
    try:
        _grant(world, other, role)
    except BaseException:
        discard_world(world)
        raise
    return world


def discard_world(world: World) -> None:
    discard_team_db(world.main)
    discard_team_db(world.empty)


Check = Callable[[TeamDb, World], None]
