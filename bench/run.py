"""Measures imtui at scale (see bench/README.md). Prints figures; asserts nothing.

Every figure is a median of several runs, and where a target is a ratio the floor is measured in
the same run on the same data (a bare Textual app reading the same rows with sqlite3; a plain CSV
parse of the same usage file), so a busy machine moves both sides.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from array import array
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from scenarios import halt_bulks

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUT = HERE / "out"
PY = sys.executable
NOW = "2026-11-27T10:00:00+08:00"
IMPORT_ROWS = 1_000_000


def median(xs):
    return statistics.median(xs)


def ms(x):
    return f"{x * 1000:8.1f} ms"


def imtui(db: Path, *args: str, now: str = NOW) -> list[str]:
    return [PY, "-m", "imtui", "--db", str(db), "--now", now, *args]


def child(cmd: list[str], stdout=subprocess.DEVNULL) -> tuple[float, float]:
    """Runs a process; returns (seconds, its own peak memory in MiB, from wait4)."""
    with tempfile.TemporaryFile() as err:
        t = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=stdout, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - t
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode:
            err.seek(0)
            raise subprocess.CalledProcessError(proc.returncode, cmd, stderr=err.read())
    return seconds, usage.ru_maxrss / 1024


@contextmanager
def scratch_copy(db: Path, name: str) -> Iterator[Path]:
    """A copy of the database to change, in a temporary directory removed afterwards with the
    copy's WAL (each is as large as the database: a run makes several)."""
    with tempfile.TemporaryDirectory(prefix="imtui-bench-") as tmp:
        work = Path(tmp) / name
        subprocess.run(["cp", str(db), str(work)], check=True)
        yield work


def build(apps: int, rebuild: bool) -> tuple[Path, float | None]:
    OUT.mkdir(exist_ok=True)
    db = OUT / f"fleet-{apps}.db"
    if db.exists() and not rebuild:
        return db, None
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    seconds, _ = child(imtui(db, "demo", "--apps", str(apps), "--accounts", str(max(1, apps // 250)), "--seed", "1"))
    return db, seconds


def records(db: Path) -> int:
    con = sqlite3.connect(db)
    try:
        return sum(31 - array("i", b)[:31].count(-1) for (b,) in con.execute("SELECT days FROM usage_months"))
    finally:
        con.close()


# --- start-up: imtui vs the bare stack + a plain sqlite3 read of the same columns -----------------

STARTUP_IMTUI = r"""
import sys, time, resource
t0 = time.perf_counter()
from imtui.config import Settings
from imtui.clock import OffsetClock
from imtui.domain.calendar import parse_instant
from imtui.bootstrap import open_services, tune_dashboard_process
# as `imtui` does: open the services and read the rows, then load Textual
tune_dashboard_process()
settings = Settings(db=sys.argv[1])
clock = OffsetClock(parse_instant(sys.argv[2], settings.billing_tz))
if sys.argv[3] == "day":
    from imtui.clock import FixedClock
    clock = FixedClock(parse_instant(sys.argv[2], settings.billing_tz))
services = open_services(settings, clock)
services.fleet.preload()
from imtui.ui.app import ImtuiApp
from imtui.domain.calendar import zone
from datetime import timedelta, timezone
from pathlib import Path
import asyncio

from imtui.ui.fleet_model import FleetModel
from imtui.ui.widgets.app_table import AppTable
from imtui.ui.widgets.cost_panel import CostPanel
marks = {}
reached = {}  # mark -> asyncio.Event, so the script waits without polling (polling takes the CPU the app needs)

def mark(name):
    if name not in marks:
        marks[name] = time.perf_counter() - t0
        if name in reached:
            reached[name].set()

_render_line = AppTable.render_line

def render_line(self, y):
    if y > 0 and "rows" not in marks and self.model.row(self.scroll_offset.y + y - 1) is not None:
        mark("rows")
    return _render_line(self, y)

AppTable.render_line = render_line
_watch = CostPanel.watch_figures

def watch_figures(self, figures):
    _watch(self, figures)
    if figures is not None and figures.fleet is not None:
        mark("fleet")
        if "new_day" in marks and figures.fleet.as_of >= new_day:
            mark("fleet_new_day")

CostPanel.watch_figures = watch_figures
_set_headroom = FleetModel.set_headroom

def set_headroom(self, headroom):
    _set_headroom(self, headroom)
    mark("headroom")

FleetModel.set_headroom = set_headroom

from imtui.ui.screens.accounts import AccountsScreen
from imtui.ui.screens.main import MainScreen
_show_count = MainScreen.show_signal_count

def show_signal_count(self, signals):
    _show_count(self, signals)
    mark("signals")

MainScreen.show_signal_count = show_signal_count
_show_accounts = AccountsScreen._show

def show_accounts(self, keep=None):
    _show_accounts(self, keep)
    mark("accounts")

AccountsScreen._show = show_accounts

new_day = None

async def main():
    global new_day
    for name in ("rows", "fleet", "headroom", "fleet_new_day", "signals", "accounts"):
        reached[name] = asyncio.Event()
        if name in marks:
            reached[name].set()
    app = ImtuiApp(services, settings, keymap_file=Path("/nonexistent"))
    async with app.run_test(size=(160, 50)) as pilot:
        await reached["rows"].wait()
        if sys.argv[3] == "all":
            await reached["fleet"].wait()
            await reached["headroom"].wait()
            await pilot.pause()
            while any(w.is_running for w in app.workers):
                await pilot.pause(0.05)
        if sys.argv[3] == "accounts":  # `A` pressed as soon as the rows show; the count comes by itself
            await pilot.press("A")
            await reached["accounts"].wait()
            await reached["signals"].wait()
        if sys.argv[3] == "day":  # midnight: the clock moves to the next day and the poll sees it
            await reached["fleet"].wait()
            await reached["headroom"].wait()
            while any(w.is_running for w in app.workers):
                await pilot.pause(0.05)
            local = clock.now().astimezone(zone(settings.billing_tz))
            new_day = (local.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)).astimezone(timezone.utc)
            clock.set(new_day + timedelta(seconds=1))
            mark("new_day")
            await app.main.poll()
            await reached["fleet_new_day"].wait()
    services.close()
    marks["rss"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(marks))

import json
import os
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


def run_script(code: str, *args: str) -> str:
    out = subprocess.run([PY, "-c", code, *args], check=True, capture_output=True, text=True, cwd=str(ROOT))
    return out.stdout.strip().splitlines()[-1]


DRAFTED = "2026-12-01T10:00:00+08:00"
"""A morning after the month's draft: November is a draft, December has just begun."""
BEFORE_MIDNIGHT = "2026-11-27T23:59:00+08:00"


def startup(db: Path, runs: int, scenarios: bool = True) -> dict:
    """Start → first frame with rows, → fleet cost on screen, → headroom; peak memory; the floor.
    With `scenarios`, the fleet cost also after a month's draft (a copy of the database, opened
    on the morning of the 1st) and at midnight (the clock crosses it; the poll sees it)."""
    bare, rows, full, drafted, midnight, accounts = [], [], [], [], [], []
    for _ in range(runs):
        bare.append(float(run_script(STARTUP_BARE, str(db)).split()[0]))
        rows.append(json.loads(run_script(STARTUP_IMTUI, str(db), NOW, "rows"))["rows"])
        full.append(json.loads(run_script(STARTUP_IMTUI, str(db), NOW, "all")))
        accounts.append(json.loads(run_script(STARTUP_IMTUI, str(db), NOW, "accounts")))
        if scenarios:
            with scratch_copy(db, "drafted.db") as copy:
                drafted.append(json.loads(run_script(STARTUP_IMTUI, str(copy), DRAFTED, "all")))
            with scratch_copy(db, "midnight.db") as copy:  # crossing midnight purges what falls due
                midnight.append(json.loads(run_script(STARTUP_IMTUI, str(copy), BEFORE_MIDNIGHT, "day")))
    out = {
        "bare": median(bare),
        "imtui": median(rows),
        "ratio": median(rows) / median(bare),
        "fleet_after_first_frame": median([m["fleet"] - m["rows"] for m in full]),
        "headroom_after_first_frame": median([m["headroom"] - m["rows"] for m in full]),
        "signals_after_first_frame": median([m["signals"] - m["rows"] for m in accounts]),
        "accounts_after_first_frame": median([m["accounts"] - m["rows"] for m in accounts]),
        "peak_rss_mib": median([m["rss"] for m in full]),
    }
    if scenarios:
        out["fleet_after_first_frame_drafted"] = median([m["fleet"] - m["rows"] for m in drafted])
        out["fleet_after_midnight"] = median([m["fleet_new_day"] - m["new_day"] for m in midnight])
    return out


# --- interaction on the loaded dashboard -------------------------------------------------------------


async def interactions(db: Path, runs: int, halt: bool = True) -> dict:
    """Filter, sort, cursor, mark all, fleet cost and bulk halts in a loaded dashboard, on a copy."""
    with scratch_copy(db, "work.db") as work:
        return await _interactions(work, runs, halt)


async def _interactions(work: Path, runs: int, halt: bool) -> dict:
    from textual.geometry import Region

    from imtui.bootstrap import open_services
    from imtui.clock import FixedClock
    from imtui.config import Settings
    from imtui.domain.calendar import parse_instant
    from imtui.services.control_plane import SimulatedControlPlane
    from imtui.ui.app import ImtuiApp
    from imtui.ui.widgets.app_table import AppTable

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

        main = app.main
        table = main.query_one(AppTable)
        while not (main.model.rows and main.model.rows[0].month_to_date is not None and table.headroom_loaded):
            await pilot.pause(0.05)
        await settle()

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
            main.model.usage = None
            main.model.apply()
            table.refresh_rows()

        def usage_filter() -> None:
            main.action_cycle_usage()  # near a limit or quota

        filt, sort_t, usage, step, page, pilot_step = [], [], [], [], [], []
        for _ in range(runs):
            filt.append(timed(type_char))
            clear_filter()
            usage.append(timed(usage_filter))
            clear_filter()
            sort_t.append(timed(main.action_cycle_sort))
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
        res["usage_filter"] = median(usage)
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
        if halt:
            halts = await halt_bulks(pilot, app, services, clock, settings.refresh_seconds, runs)
            res["bulk_halt_1000"] = median(halts)
            res["bulk_halts"] = halts
    services.close()
    return res


# --- usage: import a million rows, review the fleet ----------------------------------------------------


def usage_file(db: Path, rows: int) -> Path:
    """A usage export of `rows` rows from the demo's own November (values nudged, so about half
    replace a record and half leave it as it is)."""
    path = OUT / f"usage-{db.stem}-{rows}.csv"
    if path.exists():
        return path
    con = sqlite3.connect(db)
    n = 0
    with open(path, "w") as f:
        f.write("date,app_id,dau,groups,live_groups,max_groups_per_user,max_members_per_group\n")
        for app_id, blob in con.execute(
            "SELECT app_id, days FROM usage_months WHERE month = '2026-11' ORDER BY app_id"
        ):
            days = array("i", blob)
            for d in range(14, 26):
                if days[d] < 0:
                    continue
                values = [days[fi * 31 + d] for fi in range(5)]
                if values[0] and n % 2:
                    values[0] += 1
                f.write(f"2026-11-{d + 1:02d},{app_id},{','.join(map(str, values))}\n")
                n += 1
                if n >= rows:
                    return path
    return path


FLOOR_PARSE = r"""
import csv, sys, time
t = time.perf_counter()
reader = csv.reader(open(sys.argv[1], newline=""))
next(reader)
n = 0
for row in reader:
    n += len([int(x) for x in row[2:]])
print(time.perf_counter() - t)
"""


def usage_import(db: Path, runs: int) -> dict:
    path = usage_file(db, IMPORT_ROWS)
    rows = sum(1 for _ in open(path)) - 1
    times, peaks, floors = [], [], []
    for _ in range(runs):
        with scratch_copy(db, "import.db") as work:
            seconds, peak = child(imtui(work, "usage", "import", str(path)))
        times.append(seconds)
        peaks.append(peak)
        floors.append(float(run_script(FLOOR_PARSE, str(path))))
    return {
        "rows": rows,
        "seconds": median(times),
        "rows_per_s": rows / median(times),
        "peak_mib": max(peaks),
        "floor_parse": median(floors),
    }


def review(db: Path, runs: int) -> float:
    return median([child(imtui(db, "review", "--format", "json"))[0] for _ in range(runs)])


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


# --- the growth curve ---------------------------------------------------------------------------


def curve(sizes: list[int], runs: int, rebuild: bool) -> list[dict]:
    points = []
    for apps in sizes:
        db, demo = build(apps, rebuild)
        s = startup(db, runs, scenarios=False)
        r = asyncio.run(interactions(db, max(runs // 2, 1), halt=False))
        points.append(
            {
                "apps": apps,
                "records": records(db),
                "demo": demo,
                "rows": s["imtui"],
                "floor": s["bare"],
                "ratio": s["ratio"],
                "fleet": s["imtui"] + s["fleet_after_first_frame"],
                "peak_mib": s["peak_rss_mib"],
                "filter": r["filter"],
                "sort": r["sort"],
                "mark_all": r["mark_all"],
                "review": review(db, 1),
            }
        )
        p = points[-1]
        print(
            f"{apps:>7} apps {p['records']:>10,} records: demo {p['demo'] or float('nan'):6.1f} s · rows {p['rows']:.2f} s "
            f"(floor {p['floor']:.2f}, ×{p['ratio']:.2f}) · fleet cost {p['fleet']:.2f} s · {p['peak_mib']:.0f} MiB · "
            f"filter {p['filter'] * 1000:.0f} ms · sort {p['sort'] * 1000:.0f} ms · mark all {p['mark_all'] * 1000:.0f} ms · "
            f"review {p['review']:.1f} s",
            flush=True,
        )
    base = next((p for p in points if p["apps"] == 100_000), None)
    if base:
        for p in points:
            growth = {
                k: p[k] / base[k]
                for k in ("rows", "fleet", "peak_mib", "filter", "sort", "mark_all", "review", "demo")
                if base.get(k) and p.get(k)
            }
            print(f"{p['apps']:>7} apps vs 100,000: " + ", ".join(f"{k} ×{v:.2f}" for k, v in growth.items()))
    return points


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--apps", type=int, default=100_000)
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--no-peers", action="store_true", help="skip Textual's DataTable and fastdatatable")
    parser.add_argument("--curve", action="store_true", help="the growth curve: 10,000, 100,000 and 300,000 apps")
    parser.add_argument("--sizes", default="10000,100000,300000", help="the curve's fleet sizes (comma-separated)")
    args = parser.parse_args()
    if args.curve:
        points = curve([int(n) for n in args.sizes.split(",")], args.runs, args.rebuild)
        print(json.dumps(points))
        return
    db, demo_time = build(args.apps, args.rebuild)
    print(f"database {db} ({args.apps} apps, {records(db):,} usage records)")
    if demo_time is not None:
        print(f"imtui demo --apps {args.apps}            {demo_time:8.2f} s   (target ≤ 60 s)")
    s = startup(db, args.runs)
    print(
        f"start → first frame with rows      {s['imtui']:8.2f} s   bare stack + sqlite3 {s['bare']:.2f} s, ratio {s['ratio']:.2f} (target ≤ 1.3)"
    )
    print(f"first frame → fleet cost on screen  {s['fleet_after_first_frame']:8.2f} s   (target ≤ 1 s)")
    print(f"  … on the 1st, after the draft     {s['fleet_after_first_frame_drafted']:8.2f} s   (target ≤ 1 s)")
    print(f"  midnight → new day's fleet cost   {s['fleet_after_midnight']:8.2f} s   (target ≤ 1 s)")
    print(f"first frame → headroom figures      {s['headroom_after_first_frame']:8.2f} s   (target ≤ 2 s)")
    print(f"first frame → signal count          {s['signals_after_first_frame']:8.2f} s   (target ≤ 2 s)")
    print(f"first frame → accounts (A at once)  {s['accounts_after_first_frame']:8.2f} s   (target ≤ 2 s)")
    print(f"peak memory, costs and headroom in   {s['peak_rss_mib']:8.0f} MiB (target ≤ 200)")
    r = asyncio.run(interactions(db, args.runs))
    p = {} if args.no_peers else asyncio.run(peers(db))

    def peer(key: str, name: str) -> str:
        return f"  {name} {ms(p[key])}" if key in p else ""

    print(
        f"type one filter character → redrawn {ms(r['filter'])}  (target ≤ 50 ms){peer('datatable_filter', 'stock DataTable')}{peer('fast_filter', 'fastdatatable')}"
    )
    print(f"usage quick filter → redrawn        {ms(r['usage_filter'])}  (target ≤ 50 ms)")
    print(
        f"sort by a column → redrawn          {ms(r['sort'])}  (target ≤ 60 ms){peer('datatable_sort', 'stock DataTable')}{peer('fast_sort', 'fastdatatable')}"
    )
    print(
        f"cursor step near the end            {ms(r['cursor_step'])}  (target ≤ 5 ms; key → idle through Textual's pilot {ms(r['pilot_step'])})"
    )
    print(f"page down                           {ms(r['page_down'])}  (target ≤ 5 ms)")
    print(f"mark all filtered ({r['marked']}) → updated   {ms(r['mark_all'])}  (target ≤ 100 ms)")
    print(f"fleet month-to-date/projected       {ms(r['fleet_cost'])}  (target ≤ 30 ms)")
    print(
        f"bulk halt of 1000 (latency 0)       {ms(r['bulk_halt_1000'])}  (target ≤ 500 ms; median of "
        f"{len(r['bulk_halts'])} bulks of 1,000, every app halted: {', '.join(ms(x).strip() for x in r['bulk_halts'])})"
    )
    u = usage_import(db, max(args.runs // 2, 1))
    print(
        f"usage import of {u['rows']:,} rows      {u['seconds']:8.2f} s   {u['rows_per_s']:,.0f} rows/s (target ≥ 200,000), "
        f"peak {u['peak_mib']:.0f} MiB (target ≤ 300); a bare csv+int parse of the file {u['floor_parse']:.2f} s"
    )
    rv = review(db, args.runs)
    print(f"imtui review --format json          {rv:8.2f} s   (target ≤ 5 s)")
    if p:
        print(
            f"peers: load 100k rows: stock DataTable {p['datatable_load']:.2f} s"
            + (f", fastdatatable {p['fast_load']:.2f} s" if "fast_load" in p else "")
        )
    print(json.dumps({"startup": s, "interactions": r, "peers": p, "usage_import": u, "review": rv}, default=str))


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
