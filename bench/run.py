"""Measures imtui at scale (see bench/README.md). Prints figures; asserts nothing."""

from __future__ import annotations

import argparse
import asyncio
import json
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUT = HERE / "out"
PY = sys.executable
NOW = "2026-11-27T10:00:00+08:00"


def median(xs):
    return statistics.median(xs)


def ms(x):
    return f"{x * 1000:8.1f} ms"


def build(apps: int, rebuild: bool) -> tuple[Path, float | None]:
    OUT.mkdir(exist_ok=True)
    db = OUT / f"fleet-{apps}.db"
    if db.exists() and not rebuild:
        return db, None
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    t = time.perf_counter()
    subprocess.run(
        [
            PY,
            "-m",
            "imtui",
            "--db",
            str(db),
            "--now",
            NOW,
            "demo",
            "--apps",
            str(apps),
            "--accounts",
            str(max(1, apps // 250)),
            "--seed",
            "1",
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return db, time.perf_counter() - t


# --- start-up: imtui vs the bare stack + a plain sqlite3 read of the same columns -----------------

STARTUP_IMTUI = r"""
import sys, time, resource
t0 = time.perf_counter()
from imtui.config import Settings
from imtui.clock import OffsetClock
from imtui.domain.calendar import parse_instant
from imtui.bootstrap import open_services
from imtui.ui.app import ImtuiApp
from pathlib import Path
import asyncio

from imtui.ui.widgets.app_table import AppTable
first_row = []
_render_line = AppTable.render_line

def render_line(self, y):
    if y > 0 and not first_row and self.model.row(self.scroll_offset.y + y - 1) is not None:
        first_row.append(time.perf_counter() - t0)
    return _render_line(self, y)

AppTable.render_line = render_line

async def main():
    settings = Settings(db=sys.argv[1])
    services = open_services(settings, OffsetClock(parse_instant(sys.argv[2], settings.billing_tz)))
    app = ImtuiApp(services, settings, keymap_file=Path("/nonexistent"))
    async with app.run_test(size=(160, 50)) as pilot:
        while not first_row:
            await pilot.pause(0.005)
        first = first_row[0]
        mode = sys.argv[3]
        if mode == "costs":
            while any(w.is_running for w in app.workers) or any(
                r.month_to_date is None for r in app.screen.model.rows[:1]
            ):
                await pilot.pause(0.05)
    services.close()
    print(first, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, time.perf_counter() - t0)

asyncio.run(main())
"""

STARTUP_BARE = r"""
import sys, time, sqlite3
t0 = time.perf_counter()
import textual, sqlmodel, pendulum
from textual.app import App
from textual.widgets import Static
import asyncio

class Bare(App):
    def compose(self):
        yield Static("x")

async def main():
    rows = sqlite3.connect(sys.argv[1]).execute(
        "SELECT a.app_id, a.name, c.name, a.edition, a.status, a.live_groups, a.groups_per_user, "
        "a.members_per_group, a.history_days FROM apps a JOIN accounts c ON c.id = a.account_id "
        "ORDER BY a.app_id").fetchall()
    async with Bare().run_test(size=(160, 50)) as pilot:
        await pilot.pause()
    print(time.perf_counter() - t0, len(rows))

asyncio.run(main())
"""


def run_script(code: str, *args: str) -> list[str]:
    out = subprocess.run([PY, "-c", code, *args], check=True, capture_output=True, text=True)
    return out.stdout.split()


def startup(db: Path, runs: int) -> dict:
    imtui, bare, exits = [], [], []
    for _ in range(runs):
        b = run_script(STARTUP_BARE, str(db))
        bare.append(float(b[0]))
        first, _, total = run_script(STARTUP_IMTUI, str(db), NOW, "first")
        imtui.append(float(first))
        exits.append(float(total))
    _, maxrss, _ = run_script(STARTUP_IMTUI, str(db), NOW, "costs")
    return {
        "bare": median(bare),
        "imtui": median(imtui),
        "imtui_exit": median(exits),
        "ratio": median(imtui) / median(bare),
        "peak_rss_mib": int(maxrss) / 1024,
    }


# --- interaction on the loaded dashboard -------------------------------------------------------------


async def interactions(db: Path, runs: int) -> dict:
    from imtui.bootstrap import open_services
    from imtui.clock import FixedClock
    from imtui.config import Settings
    from imtui.domain.calendar import parse_instant
    from imtui.services.control_plane import SimulatedControlPlane
    from imtui.ui.app import ImtuiApp
    from imtui.ui.widgets.app_table import AppTable

    work = Path(tempfile.mkdtemp()) / "work.db"
    subprocess.run(["cp", str(db), str(work)], check=True)
    settings = Settings(db=str(work))
    clock = FixedClock(parse_instant(NOW, settings.billing_tz))
    services = open_services(settings, clock, SimulatedControlPlane(latency=0))  # the creator: admin
    app = ImtuiApp(services, settings, keymap_file=Path("/nonexistent"))
    res: dict = {}
    async with app.run_test(size=(160, 50)) as pilot:

        async def settle():
            await pilot.pause()
            while any(w.is_running for w in app.workers):
                await pilot.pause(0.01)

        await settle()
        while app.main.model.rows and app.main.model.rows[0].month_to_date is None:
            await pilot.pause(0.05)
        await settle()
        main = app.main
        table = main.query_one(AppTable)

        from textual.geometry import Region

        def redraw() -> None:
            """What a frame costs the table: render every visible line."""
            w, h = table.size
            table.render_lines(Region(0, 0, w, h))

        def timed(action) -> float:
            t = time.perf_counter()
            action()
            redraw()
            return time.perf_counter() - t

        def type_char() -> None:
            main.model.text = "4"
            main.model.apply()
            table.refresh_rows()
            main.show_summary()

        def clear_filter() -> None:
            main.model.text = ""
            main.model.apply()
            table.refresh_rows()

        def sort() -> None:
            main.action_cycle_sort()

        filt, sort_t, step, page, pilot_step = [], [], [], [], []
        for _ in range(runs):
            filt.append(timed(type_char))
            clear_filter()
            sort_t.append(timed(sort))
            table.cursor = len(main.model.view) - 2
            await pilot.pause()
            step.append(timed(lambda: table.action_cursor(-1)))
            page.append(timed(lambda: table.action_page(1)))
            t = time.perf_counter()
            await pilot.press("up")
            await pilot.pause()
            pilot_step.append(time.perf_counter() - t)
            await settle()
        res["filter"] = median(filt)
        res["sort"] = median(sort_t)
        res["cursor_step"] = median(step)
        res["page_down"] = median(page)
        res["pilot_step"] = median(pilot_step)
        main.model.sort_key, main.model.sort_reverse = "app_id", False
        main.model.edition = "pro"  # about half the fleet
        main.model.apply()
        table.refresh_rows()
        marks = []
        for _ in range(runs):
            main.model.clear_marks()
            t = time.perf_counter()
            main.action_mark_all()  # marks, counts, redraw, and the panel's worker for the marks
            redraw()
            for worker in [w for w in app.workers if w.group == "costs-marked"]:
                await worker.wait()
            marks.append(time.perf_counter() - t)
            await settle()
        res["mark_all"] = median(marks)
        res["marked"] = len(main.model.marked)
        main.model.clear_marks()
        fleet = []
        for _ in range(runs):
            t = time.perf_counter()
            await services.billing.cost_summary(None)
            fleet.append(time.perf_counter() - t)
        res["fleet_cost"] = median(fleet)
        ids = [r.app_id for r in main.model.rows if r.status == "active"][:1000]
        clock.advance(minutes=1)
        t = time.perf_counter()
        results = await services.lifecycle.halt(ids, "bench")
        res["bulk_halt_1000"] = time.perf_counter() - t
        res["bulk_halt_ok"] = sum(r.ok for r in results)
        res["bulk_halt_refusal"] = next((r.error for r in results if not r.ok), None)
    services.close()
    return res


# --- peers: Textual's DataTable and textual-fastdatatable on the same rows -------------------------


async def peers(db: Path) -> dict:
    from textual.app import App
    from textual.widgets import DataTable

    rows = (
        sqlite3.connect(db)
        .execute(
            "SELECT a.app_id, a.name, c.name, a.edition, a.status, a.live_groups, a.groups_per_user, "
            "a.members_per_group FROM apps a JOIN accounts c ON c.id = a.account_id ORDER BY a.app_id"
        )
        .fetchall()
    )
    cols = ["app_id", "name", "account", "edition", "status", "live", "gpu", "mpg"]
    out: dict = {}

    class Stock(App):
        def compose(self):
            yield DataTable()

    app = Stock()
    async with app.run_test(size=(160, 50)) as pilot:
        table = app.query_one(DataTable)
        t = time.perf_counter()
        keys = table.add_columns(*cols)
        table.add_rows(rows)
        await pilot.pause()
        out["datatable_load"] = time.perf_counter() - t
        t = time.perf_counter()
        table.clear()
        table.add_rows([r for r in rows if "4" in str(r[0]) + r[1] + r[2]])
        await pilot.pause()
        out["datatable_filter"] = time.perf_counter() - t
        t = time.perf_counter()
        table.sort(keys[1])
        await pilot.pause()
        out["datatable_sort"] = time.perf_counter() - t
    try:
        import pyarrow as pa
        from textual_fastdatatable import ArrowBackend
        from textual_fastdatatable import DataTable as FastTable
    except ImportError:
        return out

    def arrow(rs):
        return pa.table({c: [r[i] for r in rs] for i, c in enumerate(cols)})

    class Fast(App):
        def compose(self):
            yield FastTable(backend=ArrowBackend(arrow(rows[:1])))

    app = Fast()
    async with app.run_test(size=(160, 50)) as pilot:
        table = app.query_one(FastTable)
        t = time.perf_counter()
        table.backend = ArrowBackend(arrow(rows))
        table._reset_dimensions() if hasattr(table, "_reset_dimensions") else None
        table.refresh()
        await pilot.pause()
        out["fast_load"] = time.perf_counter() - t
        t = time.perf_counter()
        table.backend = ArrowBackend(arrow([r for r in rows if "4" in str(r[0]) + r[1] + r[2]]))
        table.refresh()
        await pilot.pause()
        out["fast_filter"] = time.perf_counter() - t
        t = time.perf_counter()
        data = arrow(rows).sort_by([(cols[1], "ascending")])
        table.backend = ArrowBackend(data)
        table.refresh()
        await pilot.pause()
        out["fast_sort"] = time.perf_counter() - t
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--apps", type=int, default=100_000)
    parser.add_argument("--rebuild", action="store_true")
    args = parser.parse_args()
    db, demo_time = build(args.apps, args.rebuild)
    print(f"database {db} ({args.apps} apps)")
    if demo_time is not None:
        print(f"imtui demo --apps {args.apps}            {demo_time:8.2f} s   (target < 30 s)")
    s = startup(db, args.runs)
    print(
        f"start → first frame with rows      {s['imtui']:8.2f} s   bare stack + sqlite3 {s['bare']:.2f} s, ratio {s['ratio']:.2f} (target ≤ 1.3); → exit {s['imtui_exit']:.2f} s"
    )
    print(f"peak memory of the dashboard          {s['peak_rss_mib']:8.0f} MiB (target ≤ 250)")
    r = asyncio.run(interactions(db, args.runs))
    p = asyncio.run(peers(db))
    print(
        f"type one filter character → redrawn {ms(r['filter'])}  (target ≤ 50 ms)  stock DataTable {ms(p['datatable_filter'])}"
        + (f"  fastdatatable {ms(p['fast_filter'])}" if "fast_filter" in p else "")
    )
    print(
        f"sort by a column → redrawn          {ms(r['sort'])}  (target ≤ 60 ms)  stock DataTable {ms(p['datatable_sort'])}"
        + (f"  fastdatatable {ms(p['fast_sort'])}" if "fast_sort" in p else "")
    )
    print(
        f"cursor step near the end            {ms(r['cursor_step'])}  (target ≤ 5 ms; key → idle through Textual's pilot {ms(r['pilot_step'])})"
    )
    print(f"page down                           {ms(r['page_down'])}  (target ≤ 5 ms)")
    print(f"mark all filtered ({r['marked']}) → updated   {ms(r['mark_all'])}  (target ≤ 100 ms)")
    print(f"fleet month-to-date/projected       {ms(r['fleet_cost'])}  (target ≤ 30 ms)")
    print(
        f"bulk halt of 1000 (latency 0)       {ms(r['bulk_halt_1000'])}  (target ≤ 500 ms; {r['bulk_halt_ok']} halted)"
    )
    print(
        f"peers: load 100k rows: stock DataTable {p['datatable_load']:.2f} s"
        + (f", fastdatatable {p['fast_load']:.2f} s" if "fast_load" in p else "")
        + "; imtui loads rows as tuples in the start-up figure above"
    )
    print(json.dumps({"startup": s, "interactions": r, "peers": p}, default=str))


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
