"""Creating apps: trial, active, IDs from 1400000000, accounts on first use, the 300 limit, names."""

from __future__ import annotations

import pytest

from imtui.domain.errors import InvalidInput, NotFound, Refused
from imtui.services.queries import AppFilter
from tests.support.services import FIRST_ID, count_audit, trail


async def test_new_app_is_trial_active_with_trial_values(services, clock):
    app = await services.changes.create("chat-prod", "acme")
    assert app.app_id == FIRST_ID
    assert (app.name, app.account, app.edition, app.status) == ("chat-prod", "acme", "trial", "active")
    assert app.billing == "free"
    assert (app.live_groups, app.groups_per_user, app.members_per_group, app.history_days) == (10, 50, 20, 7)
    assert app.created_at == clock.now()
    assert app.deactivated_at is None and app.purge_at is None
    assert app.locked_items == ()
    shown = await services.apps.show(FIRST_ID)
    assert shown == app
    records = await trail(services)
    assert [(r.action, r.result, r.app_id, r.actor, r.at) for r in records] == [
        ("create", "done", FIRST_ID, "tester", clock.now())
    ]


async def test_ids_count_up_from_1400000000_across_accounts(services, clock):
    ids = []
    for i, account in enumerate(["acme", "globex", "acme", "initech"]):
        clock.advance(minutes=1)
        ids.append((await services.changes.create(f"app-{i}", account)).app_id)
    assert ids == [FIRST_ID, FIRST_ID + 1, FIRST_ID + 2, FIRST_ID + 3]
    listed = await services.apps.list()
    assert [a.app_id for a in listed] == ids


async def test_account_is_created_on_first_use(services):
    with pytest.raises(NotFound) as exc:
        await services.apps.list(AppFilter(account="newco"))
    assert exc.value.exit_code == 4
    await services.changes.create("first", "newco")
    await services.changes.create("second", "newco")
    apps = await services.apps.list(AppFilter(account="newco"))
    assert [a.name for a in apps] == ["first", "second"]
    assert {a.account for a in apps} == {"newco"}


async def test_300_apps_per_account_halted_count_purged_do_not(services, clock):
    for i in range(300):
        await services.changes.create(f"app-{i}", "big")
    before = await services.apps.list()
    with pytest.raises(Refused) as exc:
        await services.changes.create("one-too-many", "big")
    assert exc.value.exit_code == 3
    assert "300" in exc.value.message
    assert await services.apps.list() == before
    assert await count_audit(services, "create", "refused") == 1

    # another account is not affected
    other = await services.changes.create("elsewhere", "small")
    assert other.app_id == FIRST_ID + 300

    # halted apps still count
    clock.advance(hours=1)
    results = await services.lifecycle.halt([FIRST_ID, FIRST_ID + 1], "cleanup")
    assert [r.ok for r in results] == [True, True]
    with pytest.raises(Refused):
        await services.changes.create("still-too-many", "big")

    # purged apps do not: 90 days later the two halted apps are purged
    clock.advance(days=90)
    assert (await services.apps.show(FIRST_ID)).status == "purged"
    a = await services.changes.create("after-purge-1", "big")
    b = await services.changes.create("after-purge-2", "big")
    assert (a.app_id, b.app_id) == (FIRST_ID + 301, FIRST_ID + 302)
    with pytest.raises(Refused):
        await services.changes.create("after-purge-3", "big")


@pytest.mark.parametrize(
    "name",
    [
        "O'Brien's \"chat\" app",
        "x'); DROP TABLE apps; --",
        "1 OR 1=1; DELETE FROM accounts WHERE '' = ''",
        "100% _wild_ \\ card",
        "聊天 💬 prod",
    ],
)
async def test_names_with_quotes_or_sql_text_are_stored_verbatim(services, name):
    account = f"acc {name}"
    app = await services.changes.create(name, account)
    assert app.name == name and app.account == account
    shown = await services.apps.show(app.app_id)
    assert shown.name == name and shown.account == account
    found = await services.apps.list(AppFilter(search=name))
    assert [a.app_id for a in found] == [app.app_id]
    by_account = await services.apps.list(AppFilter(account=account))
    assert [a.name for a in by_account] == [name]
    # the tables are all still there
    assert len(await services.apps.list()) == 1
    assert (await services.billing.bill()).state == "open"


@pytest.mark.parametrize(
    "name",
    ["", "   ", "line\nbreak", "tab\there", "nul\x00byte", "\x1b[31mred", "zero\u200bwidth", "bell\x07"],
)
async def test_empty_or_control_character_names_are_refused(services, name):
    with pytest.raises(InvalidInput) as exc:
        await services.changes.create(name, "acme")
    assert exc.value.exit_code == 2
    with pytest.raises(InvalidInput):
        await services.changes.create("fine", name)
    assert await services.apps.list() == []
    # neither account was created by the refused requests
    with pytest.raises(NotFound):
        await services.apps.list(AppFilter(account="acme"))
    # and the next app still gets the first ID
    assert (await services.changes.create("fine", "acme")).app_id == FIRST_ID


async def test_the_fleet_is_listed_by_app_id_whatever_order_the_database_returns(services, monkeypatch):
    """The fleet is read in storage order (no ORDER BY, see `fleet_rows`); the table still
    lists apps by ID when storage order is another (a restored or rewritten table)."""
    from imtui.persistence.repos.apps import AppRepo

    for i in range(5):
        await services.changes.create(f"app-{i}", "acme" if i % 2 else "globex")
    read = AppRepo.fleet_rows
    monkeypatch.setattr(
        AppRepo, "fleet_rows", lambda self, ids=None: [list(reversed(b)) for b in read(self, ids)][::-1]
    )
    snap = await services.fleet.snapshot(with_costs=False)
    assert [(r.app_id, r.name, r.account) for r in snap.rows] == [
        (FIRST_ID + i, f"app-{i}", "acme" if i % 2 else "globex") for i in range(5)
    ]
