"""Queries and writes the services need, as functions over a session. Everything SQL is here."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timezone
from typing import Iterable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from imtui.domain.billing import State
from imtui.domain.calendar import Month
from imtui.domain.editions import Package
from imtui.domain.rules import ACTIVE, DEACTIVATED, PURGED
from imtui.persistence.tables import (
    Account,
    App,
    AuditRecord,
    Bill,
    BillLineRow,
    Event,
    ItemChange,
    Meta,
    MonthClose,
    UserRole,
)

UTC = timezone.utc

CREATED_AT = "created_at"
LATEST_AT = "latest_at"
BILLING_TZ = "billing_tz"
CHANGE_COUNTER = "change_counter"
SIMULATION = "simulation"


# --- meta -------------------------------------------------------------------------------------


def get_meta(session: Session, key: str) -> str | None:
    row = session.get(Meta, key)
    return row.value if row else None


def set_meta(session: Session, key: str, value: str) -> None:
    row = session.get(Meta, key)
    if row is None:
        session.add(Meta(key=key, value=value))
    else:
        row.value = value
    session.flush()


def get_instant(session: Session, key: str) -> datetime | None:
    value = get_meta(session, key)
    return datetime.fromisoformat(value) if value else None


def advance_latest(session: Session, instant: datetime) -> None:
    """Records that something took effect at `instant` (time only moves forward)."""
    latest = get_instant(session, LATEST_AT)
    if latest is None or instant > latest:
        set_meta(session, LATEST_AT, instant.astimezone(UTC).isoformat())


def bump_counter(session: Session) -> None:
    """Tells other processes (the dashboard's poll) that something changed."""
    row = session.get(Meta, CHANGE_COUNTER)
    if row is None:
        session.add(Meta(key=CHANGE_COUNTER, value="1"))
    else:
        row.value = str(int(row.value) + 1)
    session.flush()


def change_counter(session: Session) -> int:
    value = get_meta(session, CHANGE_COUNTER)
    return int(value) if value else 0


# --- users and roles ---------------------------------------------------------------------------


def role_of(session: Session, user: str) -> str | None:
    row = session.get(UserRole, user)
    return row.role if row else None


def users(session: Session) -> list[UserRole]:
    return list(session.execute(select(UserRole).order_by(UserRole.name)).scalars())


def set_role(session: Session, user: str, role: str | None, at: datetime, by: str) -> None:
    """Grants `role` to `user`, or takes every grant away when `role` is None."""
    row = session.get(UserRole, user)
    if role is None:
        if row is not None:
            session.delete(row)
    elif row is None:
        session.add(UserRole(name=user, role=role, granted_at=at, granted_by=by))
    else:
        row.role, row.granted_at, row.granted_by = role, at, by
    session.flush()


def has_users(session: Session) -> bool:
    return session.execute(select(func.count()).select_from(UserRole)).scalar_one() > 0


# --- accounts and apps --------------------------------------------------------------------------


def find_account(session: Session, name: str) -> Account | None:
    return session.execute(select(Account).where(Account.name == name)).scalars().first()


def account_names(session: Session) -> dict[int, str]:
    return dict(session.execute(select(Account.id, Account.name)).all())


def count_apps_not_purged(session: Session, account_id: int) -> int:
    return session.execute(
        select(func.count()).where(App.account_id == account_id, App.status != PURGED)
    ).scalar_one()


def next_app_id(session: Session, first: int) -> int:
    top = session.execute(select(func.max(App.app_id))).scalar()
    return first if top is None else max(first, top + 1)


def get_app(session: Session, app_id: int, lock: bool = False) -> App | None:
    stmt = select(App).where(App.app_id == app_id)
    if lock and session.get_bind().dialect.name != "sqlite":
        stmt = stmt.with_for_update()
    return session.execute(stmt).scalars().first()


def get_apps(session: Session, app_ids: Iterable[int]) -> dict[int, App]:
    ids = list(app_ids)
    out: dict[int, App] = {}
    for chunk in range(0, len(ids), 900):
        part = ids[chunk : chunk + 900]
        for app in session.execute(select(App).where(App.app_id.in_(part))).scalars():
            out[app.app_id] = app
    return out


def bulk_rows(session: Session, app_ids: list[int]):
    """Plain rows of some apps (for set-based bulk operations)."""
    conn = session.connection()
    cols = [c for c in App.__table__.c]
    rows = []
    for i in range(0, len(app_ids), 900):
        rows += conn.execute(select(*cols).where(App.app_id.in_(app_ids[i : i + 900]))).all()
    return rows


def apply_bulk_changes(
    session: Session, kind: str, changes: list[tuple], at: datetime, actor: str
) -> None:
    """For each (row, new values, audit detail): one UPDATE guarded by the row's version, the
    event and the audit record, as three statements for the whole batch."""
    if not changes:
        return
    conn = session.connection()
    table = App.__table__
    from sqlalchemy import bindparam

    conn.execute(
        table.update()
        .where(table.c.app_id == bindparam("b_app_id"), table.c.version == bindparam("b_version"))
        .values(
            status=bindparam("status"), deactivated_at=bindparam("deactivated_at"),
            purge_at=bindparam("purge_at"), halt_reason=bindparam("halt_reason"),
            version=bindparam("b_version") + 1, updated_by=bindparam("updated_by"),
        ),
        [
            {"b_app_id": row.app_id, "b_version": row.version, "updated_by": actor, **change}
            for row, change, _ in changes
        ],
    )
    conn.execute(
        Event.__table__.insert(),
        [
            {
                "app_id": row.app_id, "at": at, "kind": kind, "edition": row.edition,
                "live_groups": row.live_groups, "groups_per_user": row.groups_per_user,
                "members_per_group": row.members_per_group, "history_days": row.history_days,
                "status": change["status"], "actor": actor,
            }
            for row, change, _ in changes
        ],
    )
    conn.execute(
        AuditRecord.__table__.insert(),
        [
            {"at": at, "actor": actor, "action": kind, "app_id": row.app_id, "result": "done", "detail": detail}
            for row, _, detail in changes
        ],
    )


def package_of(app: App | Event) -> Package:
    return Package(
        app.edition, app.live_groups, app.groups_per_user, app.members_per_group, app.history_days
    )


def add_event(session: Session, app: App, kind: str, at: datetime, actor: str) -> Event:
    """Appends the app's state from `at` on to its history."""
    event = Event(
        app_id=app.app_id,
        at=at,
        kind=kind,
        edition=app.edition,
        live_groups=app.live_groups,
        groups_per_user=app.groups_per_user,
        members_per_group=app.members_per_group,
        history_days=app.history_days,
        status=app.status,
        actor=actor,
    )
    session.add(event)
    session.flush()
    return event


def changes_in_month(session: Session, app_id: int, month: Month) -> dict[str, datetime]:
    rows = session.execute(
        select(ItemChange.item, ItemChange.at).where(
            ItemChange.app_id == app_id, ItemChange.month == month.key
        )
    ).all()
    return {item: at for item, at in rows}


def locks_for(session: Session, app_ids: list[int], month: Month) -> dict[int, dict[str, datetime]]:
    out: dict[int, dict[str, datetime]] = defaultdict(dict)
    for chunk in range(0, len(app_ids), 900):
        part = app_ids[chunk : chunk + 900]
        rows = session.execute(
            select(ItemChange.app_id, ItemChange.item, ItemChange.at).where(
                ItemChange.month == month.key, ItemChange.app_id.in_(part)
            )
        ).all()
        for app_id, item, at in rows:
            out[app_id][item] = at
    return out


def add_item_changes(
    session: Session, app_id: int, items: Iterable[str], month: Month, at: datetime, event_id: int
) -> None:
    for item in items:
        session.add(ItemChange(app_id=app_id, month=month.key, item=item, at=at, event_id=event_id))
    session.flush()


def add_audit(
    session: Session,
    at: datetime,
    actor: str,
    action: str,
    app_id: int | None,
    result: str,
    detail: str,
) -> None:
    session.add(
        AuditRecord(at=at, actor=actor, action=action, app_id=app_id, result=result, detail=detail)
    )


def audit_trail(
    session: Session, app_id: int | None, limit: int, offset: int = 0
) -> list[AuditRecord]:
    stmt = select(AuditRecord).order_by(AuditRecord.at.desc(), AuditRecord.id.desc())
    if app_id is not None:
        stmt = stmt.where(AuditRecord.app_id == app_id)
    return list(session.execute(stmt.offset(offset).limit(limit)).scalars())


def app_history(session: Session, app_id: int) -> list[Event]:
    return list(
        session.execute(
            select(Event).where(Event.app_id == app_id).order_by(Event.at, Event.id)
        ).scalars()
    )


# --- billing inputs -------------------------------------------------------------------------------


_STATE_COLUMNS = (
    Event.app_id, Event.at, Event.edition, Event.live_groups, Event.groups_per_user,
    Event.members_per_group, Event.history_days, Event.status,
)


def states_between(
    session: Session, start: datetime, end: datetime, app_ids: list[int] | None = None
) -> dict[int, list[State]]:
    """Each app's states relevant to [start, end): the one in effect at `start`, then every
    event before `end`, in time order. Read as plain rows (no ORM objects) for speed."""
    ranked = select(
        *_STATE_COLUMNS,
        func.row_number()
        .over(partition_by=Event.app_id, order_by=(Event.at.desc(), Event.id.desc()))
        .label("rn"),
    ).where(Event.at <= start)
    within = select(*_STATE_COLUMNS).where(Event.at > start, Event.at < end)
    if app_ids is not None:
        ranked = ranked.where(Event.app_id.in_(app_ids))
        within = within.where(Event.app_id.in_(app_ids))
    ranked = ranked.subquery()
    before = select(*(c for c in ranked.c if c.name != "rn")).where(ranked.c.rn == 1)
    out: dict[int, list[State]] = defaultdict(list)
    packages: dict[tuple, Package] = {}
    conn = session.connection()
    for stmt in (before, within.order_by(Event.at, Event.id)):
        for app_id, at, *pkg, status in conn.execute(stmt):
            key = tuple(pkg)
            package = packages.get(key)
            if package is None:
                package = packages[key] = Package(*key)
            out[app_id].append(State(_aware(at), package, status == ACTIVE))
    return out


def fleet_rows(session: Session, app_ids: list[int] | None = None):
    """The applications table's columns as plain tuples, by app ID (a generator: iterate it
    inside the transaction)."""
    stmt = (
        select(
            App.app_id, App.name, Account.name, App.edition, App.status, App.live_groups,
            App.groups_per_user, App.members_per_group, App.history_days,
        )
        .join(Account, Account.id == App.account_id)
        .order_by(App.app_id)
    )
    conn = session.connection()
    if app_ids is None:
        # the whole fleet: plain DB-API tuples, several times faster than Row objects, read in
        # chunks so the caller can build its rows without holding the fleet twice
        sql = str(stmt.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
        cursor = conn.connection.driver_connection.cursor()
        try:
            cursor.execute(sql)
            while chunk := cursor.fetchmany(5000):
                yield from chunk
        finally:
            cursor.close()
        return
    for i in range(0, len(app_ids), 900):
        yield from conn.execute(stmt.where(App.app_id.in_(app_ids[i : i + 900]))).all()


def last_event_id(session: Session) -> int:
    return session.connection().execute(select(func.max(Event.id))).scalar() or 0


def apps_with_events_after(session: Session, event_id: int) -> set[int]:
    return set(
        session.connection().execute(
            select(Event.app_id).where(Event.id > event_id).distinct()
        ).scalars()
    )


def apps_changed_between(
    session: Session, start: datetime, end: datetime, app_ids: list[int] | None = None
) -> set[int]:
    """Apps with an event in [start, end)."""
    stmt = select(Event.app_id).where(Event.at >= start, Event.at < end).distinct()
    if app_ids is not None:
        stmt = stmt.where(Event.app_id.in_(app_ids))
    return set(session.connection().execute(stmt).scalars())


_PACKAGE_COLUMNS = (
    App.edition, App.live_groups, App.groups_per_user, App.members_per_group, App.history_days,
)


def current_packages(session: Session, app_ids: list[int] | None = None):
    """(app_id, edition, live, groups/user, members/group, history, status, version) per app."""
    stmt = select(App.app_id, *_PACKAGE_COLUMNS, App.status, App.version)
    if app_ids is not None:
        stmt = stmt.where(App.app_id.in_(app_ids))
    return session.connection().execute(stmt)


def _aware(value: datetime | str) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def apps_with_accounts(session: Session, app_ids: list[int] | None = None):
    """(app_id, account name) for the given apps or all."""
    stmt = select(App.app_id, Account.name).join(Account, Account.id == App.account_id)
    if app_ids is not None:
        stmt = stmt.where(App.app_id.in_(app_ids))
    return session.execute(stmt).all()


# --- month close --------------------------------------------------------------------------------


def last_closed_month(session: Session) -> Month | None:
    key = session.execute(select(func.max(MonthClose.month))).scalar()
    return Month.parse(key) if key else None


def is_closed(session: Session, month: Month) -> MonthClose | None:
    return session.get(MonthClose, month.key)


def due_purges(session: Session, now: datetime) -> list[App]:
    return list(
        session.execute(
            select(App)
            .where(App.status == DEACTIVATED, App.purge_at <= now)
            .order_by(App.purge_at, App.app_id)
        ).scalars()
    )


def earliest_purge(session: Session) -> datetime | None:
    return session.execute(
        select(func.min(App.purge_at)).where(App.status == DEACTIVATED)
    ).scalar()


def accounts_existing_before(session: Session, instant: datetime) -> list[Account]:
    return list(
        session.execute(
            select(Account).where(Account.created_at < instant).order_by(Account.name)
        ).scalars()
    )


def app_owners(session: Session):
    """(app_id, account id) of every app."""
    return session.execute(select(App.app_id, App.account_id)).all()


def insert_bills(
    session: Session, month: str, issued_at: datetime, totals: dict[int, int]
) -> dict[int, int]:
    """Inserts one bill per account (total in cents); returns bill id by account id."""
    if not totals:
        return {}
    conn = session.connection()
    conn.execute(
        Bill.__table__.insert(),
        [
            {"account_id": a, "month": month, "issued_at": issued_at, "total_cents": t}
            for a, t in totals.items()
        ],
    )
    rows = conn.execute(select(Bill.account_id, Bill.id).where(Bill.month == month)).all()
    return dict(rows)


def insert_bill_lines(session: Session, rows: list[dict]) -> None:
    conn = session.connection()
    for i in range(0, len(rows), 5000):
        conn.execute(BillLineRow.__table__.insert(), rows[i : i + 5000])


def issued_amounts_by_app(session: Session, month: str) -> dict[int, int]:
    """Cents billed per app in an issued month."""
    rows = session.connection().execute(
        select(BillLineRow.app_id, func.sum(BillLineRow.amount_cents))
        .join(Bill, Bill.id == BillLineRow.bill_id)
        .where(Bill.month == month)
        .group_by(BillLineRow.app_id)
    )
    return {app_id: int(cents) for app_id, cents in rows}


def bills_of_month(session: Session, month: Month) -> list[tuple[Bill, str]]:
    return list(
        session.execute(
            select(Bill, Account.name)
            .join(Account, Account.id == Bill.account_id)
            .where(Bill.month == month.key)
            .order_by(Account.name)
        ).all()
    )


def lines_of_bills(session: Session, bill_ids: list[int]) -> dict[int, list[BillLineRow]]:
    out: dict[int, list[BillLineRow]] = defaultdict(list)
    for chunk in range(0, len(bill_ids), 900):
        part = bill_ids[chunk : chunk + 900]
        for row in session.execute(
            select(BillLineRow).where(BillLineRow.bill_id.in_(part)).order_by(BillLineRow.id)
        ).scalars():
            out[row.bill_id].append(row)
    return out
