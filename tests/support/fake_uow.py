"""An in-memory unit of work with the repositories the change and lifecycle services use, so
their orchestration (checks, writes, audits, the latest instant) is tested without a database."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from imtui.domain.apps import App, AppEvent
from imtui.domain.audit import AuditEntry
from imtui.domain.calendar import Month
from imtui.domain.errors import Conflict
from imtui.domain.lifecycle import PURGED


class FakeStore:
    """What the fake database holds; shared by every unit of work opened on it."""

    def __init__(self) -> None:
        self.meta: dict[str, str] = {}
        self.accounts: dict[str, int] = {}
        self.account_created: dict[int, datetime] = {}
        self.apps: dict[int, tuple[App, int]] = {}
        self.events: list[tuple[int, str, datetime, App, str]] = []
        self.locks: dict[tuple[int, str, str], datetime] = {}
        self.audit: list[AuditEntry] = []
        self.roles: dict[str, str] = {}
        self.commits = 0


class _Meta:
    def __init__(self, s: FakeStore):
        self.s = s

    @property
    def latest(self):
        v = self.s.meta.get("latest_at")
        return datetime.fromisoformat(v) if v else None

    def advance_latest(self, instant: datetime) -> None:
        if self.latest is None or instant > self.latest:
            self.s.meta["latest_at"] = instant.isoformat()

    def bump_counter(self) -> None:
        self.s.meta["change_counter"] = str(int(self.s.meta.get("change_counter", "0")) + 1)


class _Accounts:
    def __init__(self, s: FakeStore):
        self.s = s

    def find(self, name):
        return self.s.accounts.get(name)

    def ensure(self, name, at):
        if name not in self.s.accounts:
            self.s.accounts[name] = len(self.s.accounts) + 1
            self.s.account_created[self.s.accounts[name]] = at
        return self.s.accounts[name]

    def apps_not_purged(self, account_id):
        return sum(1 for app, a in self.s.apps.values() if a == account_id and app.status != PURGED)


class _Apps:
    def __init__(self, s: FakeStore):
        self.s = s

    def get(self, app_id, lock=False):
        found = self.s.apps.get(app_id)
        return found[0] if found else None

    def many(self, ids):
        return {a: self.s.apps[a][0] for a in ids if a in self.s.apps}

    def next_id(self, first):
        return max([first - 1, *self.s.apps]) + 1

    def add(self, app, account_id):
        self.s.apps[app.app_id] = (app, account_id)

    def save(self, app):
        current, account_id = self.s.apps[app.app_id]
        if current.version != app.version - 1:
            return False
        self.s.apps[app.app_id] = (app, account_id)
        return True

    def save_many(self, apps):
        for app in apps:
            self.save(app)


class _History:
    def __init__(self, s: FakeStore):
        self.s = s

    def add(self, app, kind, at, actor):
        self.s.events.append((app.app_id, kind, at, app, actor))
        return len(self.s.events)

    def add_many(self, apps, kind, at, actor):
        for app in apps:
            self.add(app, kind, at, actor)

    def of_app(self, app_id):
        return [AppEvent(at, k, actor, a.status, a.package) for i, k, at, a, actor in self.s.events if i == app_id]

    def newest_between(self, start, end, app_ids=None, up_to=None):
        return {
            i: n
            for n, (i, _, at, _, _) in enumerate(self.s.events, 1)
            if start <= at < end and (app_ids is None or i in app_ids) and (up_to is None or n <= up_to)
        }

    def states_between(self, start, end, app_ids=None):
        from imtui.domain.billing import State

        out = defaultdict(list)
        for i, _, at, app, _ in self.s.events:
            if at < end and (app_ids is None or i in app_ids):
                out[i].append(State(at, app.package, app.status == "active"))
        return out


class _Locks:
    def __init__(self, s: FakeStore):
        self.s = s

    def of_app(self, app_id, month: Month):
        return {item: at for (a, m, item), at in self.s.locks.items() if a == app_id and m == month.key}

    def of_apps(self, ids, month: Month):
        out = defaultdict(dict)
        for (a, m, item), at in self.s.locks.items():
            if a in ids and m == month.key:
                out[a][item] = at
        return out

    def record(self, app_id, items, month: Month, at, event_id):
        for item in items:
            if (app_id, month.key, item) in self.s.locks:
                raise Conflict(f"app {app_id} was changed by someone else at the same moment")
            self.s.locks[(app_id, month.key, item)] = at


class _Audit:
    def __init__(self, s: FakeStore):
        self.s = s

    def add(self, entry):
        self.s.audit.append(entry)

    def add_many(self, entries):
        self.s.audit.extend(entries)


class _Usage:
    def __init__(self, s: FakeStore):
        self.s = s

    def refresh_paid(self, app_id, month, paid_from):
        self.s.meta.setdefault("paid_refreshed", "")
        self.s.meta["paid_refreshed"] += f"{app_id}:{month}:{paid_from};"


class _Plans:
    def __init__(self, s: FakeStore):
        self.s = s

    def store(self, month, plans):
        self.s.meta[f"plans:{month}"] = str(sorted(plans))


class _Users:
    def __init__(self, s: FakeStore):
        self.s = s

    def role_of(self, name):
        return self.s.roles.get(name)


class FakeUnitOfWork:
    """Works on a copy of the store; committing puts the copy back (so a refusal changes nothing)."""

    def __init__(self, store: FakeStore):
        self.store = store

    def __enter__(self) -> FakeUnitOfWork:
        import copy

        self._work = copy.deepcopy(self.store)
        w = self._work
        self.meta, self.accounts, self.apps = _Meta(w), _Accounts(w), _Apps(w)
        self.history, self.locks, self.audit, self.users = _History(w), _Locks(w), _Audit(w), _Users(w)
        self.usage = _Usage(w)
        self.plans = _Plans(w)
        return self

    def commit(self) -> None:
        self._work.commits += 1
        self.store.__dict__.update(self._work.__dict__)

    def __exit__(self, *exc) -> None:
        pass


class FakeDatabase:
    """Stands where `persistence.database.Database` does."""

    team = False

    def __init__(self) -> None:
        self.store = FakeStore()

    def uow(self, write: bool = False) -> FakeUnitOfWork:
        return FakeUnitOfWork(self.store)

    def close(self) -> None:
        pass
