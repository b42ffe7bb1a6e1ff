"""Shell completion's look-ups: app IDs and account names of an existing database, read without
migrating or creating anything (completion must be quick and harmless)."""

from __future__ import annotations

from imtui.persistence.database import Database


def app_ids(db: Database, prefix: str) -> list[str]:
    with db.uow() as uow:
        return [str(a) for a in uow.apps.ids_starting(prefix)]


def account_names(db: Database, prefix: str) -> list[str]:
    with db.uow() as uow:
        return uow.accounts.all_names(prefix)
