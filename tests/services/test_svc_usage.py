"""Importing usage (all or nothing, the rules of domain.md §6), the overage it bills, and the
draft window in which a finished month still takes usage."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest

from imtui.domain.calendar import Month
from imtui.domain.changes import ChangeRequest
from imtui.domain.errors import InvalidInput, PermissionDenied
from imtui.services.usage import UsageRefused
from tests.support.services import at, count_audit, trail

HEADER = "date,app_id,dau,groups,live_groups,max_groups_per_user,max_members_per_group"
NOV, OCT = Month(2026, 11), Month(2026, 10)
D = Decimal


def csv_of(*rows: str, header: str = HEADER, newline: str = "\n", bom: bool = False) -> io.BytesIO:
    text = newline.join([header, *rows]) + newline
    return io.BytesIO(("\ufeff" if bom else "").encode() + text.encode())


async def imported(services, *rows, **kw):
    return await services.usage.import_file(csv_of(*rows, **kw), "usage.csv")


@pytest.fixture
async def pro(services, clock):
    """A pro app created 2026-11-02 09:00 and upgraded at once."""
    app = await services.changes.create("chat", "acme")
    await services.changes.upgrade(app.app_id, ChangeRequest(edition="pro"))
    clock.set(at("2026-11-20T10:00"))
    return app.app_id


async def test_import_inserts_then_replaces_and_keeps_identical_records(services, clock, pro):
    first = await imported(services, f"2026-11-05,{pro},100,10,1,2,3", f"2026-11-06,{pro},200,20,2,3,4")
    assert (first.rows, first.apps, first.inserted, first.replaced, first.unchanged) == (2, 1, 2, 0, 0)
    again = await imported(services, f"2026-11-06,{pro},200,20,2,3,4", f"2026-11-05,{pro},150,10,1,2,3")
    assert (again.inserted, again.replaced, again.unchanged) == (0, 1, 1)
    view = await services.usage.month(pro, NOV)
    assert view.days[0][1] == (150, 10, 1, 2, 3)
    assert view.peaks == {
        "dau": 200,
        "groups": 20,
        "live_groups": 2,
        "max_groups_per_user": 3,
        "max_members_per_group": 4,
    }
    records = [r for r in await trail(services) if r.action == "usage_import"]
    assert [r.result for r in records] == ["done", "done"]
    assert "1 replaced, 1 unchanged" in records[0].detail


async def test_overage_is_billed_from_the_peaks_of_the_paid_days(services, clock, pro):
    (before,) = (await services.billing.bill()).accounts[0].apps
    await imported(services, f"2026-11-05,{pro},23456,150000,1,1,1", f"2026-11-06,{pro},9000,1000,1,1,1")
    bill = await services.billing.bill()
    (app,) = bill.accounts[0].apps
    overage = [(ln.item, ln.setting, ln.days, ln.amount) for ln in app.lines if ln.item.endswith("_overage")]
    assert overage == [("dau_overage", "23456", 2, D("899.98")), ("groups_overage", "150000", 2, D("449.99"))]
    # month to date and projected both carry the overage of the peaks so far (usage cannot be foreseen)
    assert app.total == before.total + D("1349.97")
    assert app.projected_total == before.projected_total + D("1349.97")
    summary = await services.billing.cost_summary([pro])
    assert summary.month_to_date == app.total and summary.projected == app.projected_total
    fleet = await services.billing.cost_summary()
    assert fleet.month_to_date == bill.total


async def test_trial_days_never_count_toward_overage(services, clock):
    app = (await services.changes.create("grower", "acme")).app_id
    clock.set(at("2026-11-10T10:00"))
    await imported(services, f"2026-11-05,{app},90,50000,1,1,1")
    clock.set(at("2026-11-12T15:00"))
    await services.changes.upgrade(app, ChangeRequest(edition="pro"))
    await imported(services, f"2026-11-11,{app},99,400000,1,1,1", f"2026-11-12,{app},30000,1000,1,1,1")
    (line,) = [ln for ln in (await services.billing.bill(app_id=app)).accounts[0].apps[0].lines if "overage" in ln.item]
    # the 11th (trial all day) does not count; the 12th (the upgrade day) does
    assert (line.item, line.setting, line.days, line.amount) == ("dau_overage", "30000", 1, D("899.98"))


@pytest.mark.parametrize(
    "row, code, words",
    [
        ("2026-11-05,1400009999,1,1,1,1,1", 4, "app 1400009999 does not exist"),
        ("2026-11-21,{app},1,1,1,1,1", 3, "after today"),
        ("2026-11-01,{app},1,1,1,1,1", 3, "was created on 2026-11-02"),
        ("2026-11-05,{app},-1,1,1,1,1", 2, "dau must be a whole number"),
        ("2026-11-05,{app},1.5,1,1,1,1", 2, "dau must be a whole number"),
        ('2026-11-05,{app},"1,000",1,1,1,1', 2, "dau must be a whole number"),
        ("2026/11/05,{app},1,1,1,1,1", 2, "YYYY-MM-DD"),
        ("2026-11-05,{app},1,1,1,1,1000000001", 2, "from 0 to 1,000,000,000"),
        ("2026-11-05,{app},1,1,1", 2, "expected 7 columns"),
    ],
)
async def test_one_bad_row_refuses_the_whole_file_and_changes_nothing(services, clock, pro, row, code, words):
    good = f"2026-11-06,{pro},5,5,5,5,5"
    with pytest.raises(UsageRefused) as refused:
        await imported(services, good, row.format(app=pro), good.replace("-06", "-07"))
    assert refused.value.exit_code == code
    assert refused.value.lines[0].startswith("line 3: ") and words in refused.value.lines[0], refused.value.lines
    assert (await services.usage.month(pro, NOV)).days == []
    assert await count_audit(services, "usage_import", "refused") == 1


async def test_a_refused_file_lists_the_first_20_bad_rows_then_how_many_more(services, clock, pro):
    rows = [f"2026-11-{d:02d},1400009999,1,1,1,1,1" for d in range(1, 26)]
    with pytest.raises(UsageRefused) as refused:
        await imported(services, *rows)
    assert len(refused.value.lines) == 21 and refused.value.lines[-1] == "… and 5 more"
    assert refused.value.lines[19].startswith("line 21: ")


async def test_two_rows_for_one_app_and_day_are_invalid(services, pro):
    with pytest.raises(UsageRefused) as refused:
        await imported(services, f"2026-11-05,{pro},1,1,1,1,1", f"2026-11-05,{pro},2,1,1,1,1")
    assert refused.value.exit_code == 2 and "line 3: a second record" in refused.value.lines[0]


async def test_usage_on_a_day_deactivated_whole_is_refused_but_zero_is_fine(services, clock, pro):
    clock.set(at("2026-11-08T10:00"))
    await services.lifecycle.halt([pro], "paused")
    clock.set(at("2026-11-12T09:00"))
    await services.lifecycle.reactivate([pro])
    clock.set(at("2026-11-20T10:00"))
    ok = await imported(
        services, f"2026-11-08,{pro},5,5,5,5,5", f"2026-11-09,{pro},0,0,0,0,0", f"2026-11-12,{pro},5,5,5,5,5"
    )
    assert ok.inserted == 3
    with pytest.raises(UsageRefused) as refused:
        await imported(services, f"2026-11-11,{pro},0,1,0,0,0")
    assert refused.value.exit_code == 3 and "deactivated all day on 2026-11-11" in refused.value.lines[0]


async def test_usage_of_a_draft_month_is_taken_until_it_is_issued(services, clock, pro):
    clock.set(at("2026-12-02T10:00"))
    draft = await services.billing.bill(NOV)
    assert draft.state == "draft"
    await imported(services, f"2026-11-30,{pro},30000,1,1,1,1")
    again = await services.billing.bill(NOV)
    assert again.state == "draft" and again.total == draft.total + D("899.98")
    clock.set(at("2026-12-03T00:00:01"))
    issued = await services.billing.bill(NOV)
    assert (issued.state, issued.total) == ("issued", again.total)
    with pytest.raises(UsageRefused) as refused:
        await imported(services, f"2026-11-29,{pro},1,1,1,1,1")
    assert refused.value.exit_code == 3 and "the bill of 2026-11 was issued on 2026-12-03" in refused.value.lines[0]
    assert (await services.billing.bill(NOV)) == issued


@pytest.mark.parametrize(
    "make",
    [
        lambda app: csv_of(f"2026-11-05,{app},1,2,3,4,5", bom=True),
        lambda app: csv_of(f"2026-11-05,{app},1,2,3,4,5", newline="\r\n"),
        lambda app: csv_of(
            f"5,4,3,2,1,{app},2026-11-05",
            header="max_members_per_group,max_groups_per_user,live_groups,groups,dau,app_id,date",
        ),
        lambda app: csv_of(f"2026-11-05,{app},1,2,3,4,5", "", "", ""),
    ],
    ids=["bom", "crlf", "column-order", "blank-trailing-lines"],
)
async def test_messy_but_sound_exports_import(services, pro, make):
    summary = await services.usage.import_file(make(pro), "export.csv")
    assert summary.rows == 1
    assert (await services.usage.month(pro, NOV)).peaks["max_groups_per_user"] == 4


async def test_an_extra_column_is_ignored_and_named(services, pro):
    summary = await services.usage.import_file(
        csv_of(f"2026-11-05,{pro},1,2,3,4,5,eu", header=HEADER + ",region"), "export.csv"
    )
    assert (summary.rows, summary.ignored) == (1, ("region",))


async def test_json_lines(services, pro):
    text = (
        f'{{"date": "2026-11-05", "app_id": {pro}, "dau": 7, "groups": 8, "live_groups": 1, '
        f'"max_groups_per_user": 2, "max_members_per_group": 3, "note": "x"}}\n\n'
    )
    summary = await services.usage.import_file(io.BytesIO(text.encode()), "export.jsonl")
    assert (summary.rows, summary.ignored) == (1, ("note",))
    with pytest.raises(UsageRefused) as refused:
        bad = text.replace('"dau": 7', '"dau": 7.0') + text.replace('"dau": 7', '"dau": "seven"')
        await services.usage.import_file(io.BytesIO(bad.encode()), "export.ndjson")
    assert [ln.split(":")[0] for ln in refused.value.lines] == ["line 1", "line 3"]


@pytest.mark.parametrize(
    "data, words",
    [
        (b"", "empty"),
        (HEADER.encode() + b"\n", "no records"),
        (b"date,app_id,dau\n2026-11-05,1400000000,1\n", "lacks the columns groups"),
        (HEADER.encode() + b"\n2026-11-05,1400000000,1,1,1,1,\xff\n", "not UTF-8"),
    ],
)
async def test_files_that_are_not_usage_exports_are_refused(services, pro, data, words):
    with pytest.raises(InvalidInput) as refused:
        await services.usage.import_file(io.BytesIO(data), "x.csv")
    assert words in refused.value.message and "\n" not in refused.value.message
    assert (await services.usage.month(pro, NOV)).days == []


async def test_read_only_and_viewers_cannot_import(make_services, services, pro):
    with pytest.raises(PermissionDenied):
        await make_services(read_only=True).usage.import_file(csv_of(f"2026-11-05,{pro},1,1,1,1,1"), "x.csv")
    viewer = make_services(actor="vera")
    with pytest.raises(PermissionDenied):
        await viewer.usage.import_file(csv_of(f"2026-11-05,{pro},1,1,1,1,1"), "x.csv")
    assert (await services.usage.month(pro, NOV)).days == []
