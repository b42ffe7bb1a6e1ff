"""Usage in the dashboard: the headroom column, the usage quick filter, the review screen whose
accepted suggestions open the modify form filled in, and the detail's usage charts."""

from __future__ import annotations

import io

from textual_plotext import PlotextPlot

from imtui.ui.screens.change_form import ChangeForm
from imtui.ui.screens.detail import DetailScreen
from imtui.ui.screens.review import ReviewScreen
from imtui.ui.widgets.app_table import AppTable
from tests.support.ui import settle, summary

HEADER = "date,app_id,dau,groups,live_groups,max_groups_per_user,max_members_per_group"


async def usage(env, rows: list[str]) -> None:
    await env.services.usage.import_file(io.BytesIO(("\n".join([HEADER, *rows]) + "\n").encode()), "u.csv")


async def fleet(env) -> dict[str, int]:
    """Three pro apps with a month of usage: one near its groups-per-user limit, one paying for
    unlimited live groups it never uses, one comfortable; and a trial app without usage."""
    env.clock.set(env.clock.now().replace(month=10, day=20, hour=1))  # 2026-10-20 09:00 in Shanghai
    ids = {
        name: await env.pro(name, live_unlimited=name == "idle-live" or None)
        for name in ("crowded", "idle-live", "calm")
    }
    ids["trial"] = await env.trial("fresh")
    env.clock.set(env.clock.now().replace(month=11, day=30, hour=2))  # the upgrades' locks are over
    rows = []
    for day in range(1, 31):
        rows.append(f"2026-11-{day:02d},{ids['crowded']},500,900,5,{430 + day},50")
        rows.append(f"2026-11-{day:02d},{ids['idle-live']},500,900,3,100,50")
        rows.append(f"2026-11-{day:02d},{ids['calm']},500,900,5,100,50")
    await usage(env, rows)
    return ids


async def test_headroom_column_sort_and_usage_filter(env):
    ids = await fleet(env)
    app = env.make_app()
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        table = app.main.query_one(AppTable)
        model = app.main.model
        assert table.headroom_loaded
        row = model.row_of(ids["crowded"])
        assert (row.headroom.pct, row.headroom.item) == (92, "groups_per_user")  # 460 of 500
        line = table.render_line(1 + model.find(ids["crowded"])).text
        assert "92% grp/usr" in line
        assert (
            model.row_of(ids["trial"]).headroom is None
            and "  -  " in table.render_line(1 + model.find(ids["trial"])).text
        )
        # the usage filter: near → at a limit → over quota → has a suggestion → any
        await pilot.press("f")
        await settle(pilot)
        assert "usage near a limit or quota [f]" in summary(app)
        assert [model.row(i).app_id for i in range(len(model.view))] == [ids["crowded"]]
        await pilot.press("f", "f", "f")
        await settle(pilot)
        assert "usage has a suggestion" in summary(app)
        assert sorted(model.row(i).app_id for i in range(len(model.view))) == sorted([ids["crowded"], ids["idle-live"]])
        await pilot.press("f")
        await settle(pilot)
        assert len(model.view) == 4
        # sorting by headroom puts the fullest last (and the apps without usage first)
        model.sort_key = "headroom"
        model.apply()
        assert model.row(len(model.view) - 1).app_id == ids["crowded"]


async def test_review_accepts_suggestions_into_the_modify_form(env):
    ids = await fleet(env)
    app = env.make_app()
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        await pilot.press("R")
        await settle(pilot)
        review = app.screen
        assert isinstance(review, ReviewScreen)
        suggestions = {(r.app_id, s.item, s.to) for r, s in review.rows}
        assert suggestions == {(ids["crowded"], "groups_per_user", 1000), (ids["idle-live"], "live_groups", 50)}
        # mark the lowering only, accept it: the modify form opens with live groups at 50
        idle_row = next(i for i, (r, _) in enumerate(review.rows) if r.app_id == ids["idle-live"])
        review.query_one("DataTable").move_cursor(row=idle_row)
        await pilot.press("space", "enter")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, ChangeForm) and [t.app_id for t in form.targets] == [ids["idle-live"]]
        assert form.query_one("#live_groups").value == "50"
        assert form.request.live_unlimited is False
        assert "--no-live-unlimited" in str(form.query_one("#command").render())
        await pilot.press("f2")
        await settle(pilot)
        view = await env.services.apps.show(ids["idle-live"])
        assert view.live_groups == 50


async def test_detail_shows_usage_charts_headroom_and_suggestions(env):
    ids = await fleet(env)
    app = env.make_app()
    async with app.run_test(size=(120, 50)) as pilot:
        await settle(pilot)
        app.main.focus_app(ids["crowded"])
        await pilot.press("enter")
        await settle(pilot)
        detail = app.screen
        assert isinstance(detail, DetailScreen)
        text = str(detail.query_one("#headroom").render())
        assert "92% of the groups_per_user limit" in text and "suggest groups_per_user 500 → 1000" in text
        caption = str(detail.query_one("#usage-caption").render())
        assert caption.startswith("Last 30 days, 30 with a record")
        assert len(detail.query(PlotextPlot)) == 2
        await pilot.press("t")
        await settle(pilot)
        assert str(detail.query_one("#usage-caption").render()).startswith("Last 90 days, 30 with a record")
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is app.main
