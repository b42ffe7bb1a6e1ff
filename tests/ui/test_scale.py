"""The applications table with 100,000 apps: FleetModel filter/sort/marks and AppTable's visible lines."""

from __future__ import annotations

from decimal import Decimal

import pytest
from textual.app import App

from imtui.services.fleet import FleetRow, Headroom
from imtui.ui.fleet_model import FleetModel
from imtui.ui.widgets.app_table import AppTable

N = 100_000
BASE = 1_400_000_000
EDITIONS = ("trial", "pro", "flagship")
STATUSES = ("active", "active", "active", "deactivated", "purged")


def synthetic_rows(n: int = N) -> list[FleetRow]:
    rows = []
    for i in range(n):
        edition = EDITIONS[i % 3]
        mtd = Decimal(i % 1000) / 4 if edition != "trial" else Decimal("0.00")
        rows.append(
            FleetRow(
                app_id=BASE + i,
                name=f"app-{i:06d}",
                account=f"acct-{i % 400:03d}",
                edition=edition,
                status=STATUSES[i % 5],
                live_groups=None if i % 7 == 0 else 50,
                groups_per_user=500,
                members_per_group=200,
                history_days=7,
                month_to_date=mtd.quantize(Decimal("0.01")),
                projected=(mtd * 3).quantize(Decimal("0.01")),
                monthly=(mtd * 3).quantize(Decimal("0.01")),
            )
        )
    return rows


@pytest.fixture(scope="module")
def rows() -> list[FleetRow]:
    return synthetic_rows()


def shown(model: FleetModel, start: int = 0, count: int = 5) -> list[int]:
    return [model.row(i).app_id for i in range(start, min(start + count, len(model.view)))]


def test_model_filters_sorts_and_marks_100k_rows(rows):
    """With 100,000 apps, text/status/edition filters, sorting and marks give the right rows."""
    model = FleetModel()
    model.set_rows(list(rows))
    assert len(model.view) == N and shown(model, 0, 3) == [BASE, BASE + 1, BASE + 2]

    model.text = "app-09999"  # app-099990 … app-099999
    model.apply()
    assert shown(model, 0, 20) == list(range(BASE + 99_990, BASE + 100_000))
    model.text = str(BASE + 54_321)
    model.apply()
    assert shown(model) == [BASE + 54_321]
    model.text = "ACCT-007"  # case-insensitive, account 7 → i % 400 == 7
    model.apply()
    assert len(model.view) == N // 400
    assert all((model.row(i).app_id - BASE) % 400 == 7 for i in range(len(model.view)))

    model.text = ""
    model.status, model.edition = "deactivated", "pro"
    model.apply()
    expected = [BASE + i for i in range(N) if i % 5 == 3 and i % 3 == 1]
    assert len(model.view) == len(expected) and shown(model, 0, 50) == expected[:50]

    model.status = model.edition = None
    model.sort_key, model.sort_reverse = "month_to_date", True
    model.apply()
    top = model.row(0)
    assert top.month_to_date == Decimal("249.75")
    values = [model.row(i).month_to_date for i in range(0, N, 997)]
    assert values == sorted(values, reverse=True)
    model.sort_key, model.sort_reverse = "live_groups", False
    model.apply()
    assert model.row(N - 1).live_groups is None and model.row(0).live_groups == 50  # unlimited last

    model.sort_key = "app_id"
    model.apply()
    model.mark_range(10, 19)
    model.toggle(BASE + 99_999)
    model.text = "app-00001"  # app-000010 … app-000019
    model.apply()
    assert model.hidden_marked() == 1
    model.text = ""
    model.marked_only = True
    model.apply()
    assert shown(model, 0, 20) == list(range(BASE + 10, BASE + 20)) + [BASE + 99_999]
    model.marked_only = False
    model.apply()
    model.mark_all_filtered()
    assert len(model.marked) == N
    model.clear_marks()
    assert model.hidden_marked() == 0

    changed = rows[500]._replace(status="deactivated", name="renamed")
    model.update_rows([changed])
    model.text = "renamed"
    model.apply()
    assert shown(model) == [BASE + 500] and model.row(0).status == "deactivated"


class TableHarness(App):
    def __init__(self, model: FleetModel) -> None:
        super().__init__()
        self.model = model

    def compose(self):
        yield AppTable(self.model, id="apps")

    def on_mount(self) -> None:
        table = self.query_one(AppTable)
        table.refresh_rows()
        table.focus()


def line(table: AppTable, y: int) -> str:
    return table.render_line(y).text


async def test_app_table_renders_only_the_visible_rows_at_scale(rows):
    """Scrolling 100,000 apps with end/pageup/filter shows the app under the cursor on screen."""
    model = FleetModel()
    model.set_rows(list(rows))
    harness = TableHarness(model)
    async with harness.run_test(size=(120, 24)) as pilot:
        await pilot.pause()
        table = harness.query_one(AppTable)
        assert table.virtual_size.height == N + 1
        assert line(table, 0).startswith("   SDKAppID▲")
        assert line(table, 1).split()[0] == str(BASE)

        await pilot.press("end")
        await pilot.pause()
        assert table.cursor == N - 1 and table.cursor_app == BASE + N - 1
        body = table.size.height - 1
        assert line(table, body).split()[0] == str(BASE + N - 1)
        assert line(table, 0).startswith("   SDKAppID")  # the header stays on top

        await pilot.press("pageup")
        await pilot.pause()
        top = table.scroll_offset.y
        assert top <= table.cursor < top + body
        assert str(table.cursor_app) in line(table, table.cursor - top + 1)

        table.cursor = 50_000
        await pilot.pause()
        top = table.scroll_offset.y
        assert line(table, 50_000 - top + 1).split()[0] == str(BASE + 50_000)

        model.text = "app-00777"
        model.apply()
        table.refresh_rows()
        table.cursor = 0
        await pilot.pause()
        assert table.virtual_size.height == 11
        assert line(table, 1).split()[0] == str(BASE + 7_770)
        assert line(table, 11).strip() == "" or line(table, 11).split()[0] != str(BASE + 7_771)
        cells = line(table, 1).split()
        assert "app-007770" in cells and "pro" not in cells  # 7770 % 3 == 0 → trial
        assert "trial" in cells


@pytest.mark.parametrize("width", [80, 100, 120, 160, 220])
async def test_column_titles_never_run_into_each_other(width):
    """At any width every column title stands apart from its neighbours by at least two blanks
    (at 120 columns "Live", "Grp/usr" and "Mem/grp" once read as one phrase), in the order the
    width gives them (narrow, the costs come before the columns that give way)."""
    model = FleetModel()
    model.set_rows(synthetic_rows(50))
    harness = TableHarness(model)
    async with harness.run_test(size=(width, 24)) as pilot:
        await pilot.pause()
        table = harness.query_one(AppTable)
        total = table.virtual_size.width
        chars = [" "] * total
        for x in range(0, total, max(table.size.width // 2, 1)):  # scroll across the whole header
            table.scroll_to(x=x, animate=False, immediate=True)
            await pilot.pause()
            seen = line(table, 0)
            at = int(table.scroll_offset.x)
            chars[at : at + len(seen)] = seen[: total - at]
        header = "".join(chars)
        columns = table.layout.columns
    titles = [c.title.strip() for c in columns if c.title.strip()]
    positions = [header.index(t) for t in titles]
    assert positions == sorted(positions)
    for (title, start), nxt in zip(zip(titles, positions), positions[1:]):
        gap = header[start + len(title) : nxt]
        assert len(gap) >= 2 and not gap.strip("▲▼ "), (title, gap)
        assert gap.rstrip("▲▼").startswith("  ") or gap.lstrip("▲▼").startswith("  "), (title, gap)


@pytest.mark.parametrize("seed", range(6))
def test_a_filtered_sorted_view_is_the_filter_then_the_sort(seed):
    """Kept sort orders (a filter keystroke does not sort again) give exactly the rows a plain
    filter-then-stable-sort gives, also after rows, costs and headroom change under them."""
    import random

    from imtui.ui.fleet_model import SORT_KEYS

    rng = random.Random(seed)
    rows = synthetic_rows(400)
    rows = [r._replace(name=rng.choice(["b", "a", "c"]) + r.name[-2:]) for r in rows]  # many ties
    model = FleetModel()
    model.set_rows(list(rows))
    for _ in range(150):
        step = rng.randrange(7)
        if step == 5:
            model.prepare_order(rng.choice(list(SORT_KEYS)))
        elif step == 6:
            model.set_headroom({r.app_id: Headroom(rng.random(), 50, "dau", 0) for r in rng.sample(model.rows, 30)})
        elif step == 0:
            model.sort_key, model.sort_reverse = rng.choice(list(SORT_KEYS)), rng.random() < 0.5
        elif step == 1:
            model.text = rng.choice(["", "1", "a", "acct-00", "b0"])
        elif step == 2:
            model.edition = rng.choice([None, "pro", "trial"])
            model.status = rng.choice([None, "active", "purged"])
        elif step == 3:
            changed = [r._replace(name=rng.choice("xyzab") + r.name) for r in rng.sample(model.rows, 20)]
            model.update_rows(changed)
        else:
            model.set_costs(
                {r.app_id: (Decimal(rng.randrange(50)), Decimal(rng.randrange(90))) for r in model.rows[:100]}
            )
        model.apply()
        key = dict(zip((r.app_id for r in model.rows), SORT_KEYS[model.sort_key](model.rows)))
        text = model.text.strip().lower()
        expected = [
            r.app_id
            for r in model.rows
            if (not text or text in f"{r.app_id}\x00{r.name.lower()}\x00{r.account.lower()}")
            and (model.edition is None or r.edition == model.edition)
            and (model.status is None or r.status == model.status)
        ]
        expected.sort(key=key.__getitem__, reverse=model.sort_reverse)
        assert [model.rows[i].app_id for i in model.view] == expected
