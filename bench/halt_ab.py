"""Bulk halt of 1,000 apps: this checkout against an earlier commit, in the same run.

A single halt's time moves by half on these shared machines from one minute to the next, so a
figure from another day says little. This builds the earlier commit's own demo database with its
own code (in a git worktree under bench/out), then halts 1,000 apps at a time in the dashboard of
each checkout, in alternating rounds, and prints both medians and their ratio. Both sides run the
same measuring code (`measure`, below), which uses only what the earlier commits also have.

    python bench/halt_ab.py --against 9cb1dc3 [--rounds 2] [--halts 6] [--apps 100000]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
from pathlib import Path

from scenarios import halt_bulks, idle

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PY = sys.executable


def measure(tree: str, apps: int, halts: int) -> None:
    """In a child process whose imports come from `tree`: that checkout's demo database (built by
    its own bench on first use), its dashboard at 160×50 loaded with costs and headroom, then
    `halts` bulk halts of 1,000 other active apps each, every one once the dashboard is idle
    again. Prints the seconds of each halt on the last line."""
    import asyncio
    import shutil
    import tempfile

    sys.path[:0] = [tree, f"{tree}/bench"]
    import run as bench  # that checkout's bench: its NOW and its way of building the demo

    from imtui.bootstrap import open_services
    from imtui.clock import FixedClock
    from imtui.config import Settings
    from imtui.domain.calendar import parse_instant
    from imtui.services.control_plane import SimulatedControlPlane
    from imtui.ui.app import ImtuiApp
    from imtui.ui.widgets.app_table import AppTable

    db, _ = bench.build(apps, False)
    tmp = tempfile.TemporaryDirectory(prefix="imtui-bench-")  # removed with the copy's WAL at exit
    work = Path(tmp.name) / "work.db"
    shutil.copy(db, work)

    async def go() -> list[float]:
        settings = Settings(db=str(work))
        clock = FixedClock(parse_instant(bench.NOW, settings.billing_tz))
        services = open_services(settings, clock, SimulatedControlPlane(latency=0))
        app = ImtuiApp(services, settings, keymap_file=Path("/nonexistent"))
        async with app.run_test(size=(160, 50)) as pilot:
            main, table = app.main, app.main.query_one(AppTable)
            while not (main.model.rows and main.model.rows[0].month_to_date is not None and table.headroom_loaded):
                await pilot.pause(0.05)
            await idle(pilot, app, settings.refresh_seconds)
            seconds = await halt_bulks(pilot, app, services, clock, settings.refresh_seconds, halts)
        services.close()
        return seconds

    try:
        print(" ".join(f"{s:.4f}" for s in asyncio.run(go())))
    finally:
        tmp.cleanup()


def worktree(rev: str) -> str:
    """A checkout of `rev` under bench/out (made once, kept for the next run)."""
    sha = subprocess.run(["git", "rev-parse", "--short", rev], cwd=ROOT, check=True, capture_output=True, text=True)
    path = HERE / "out" / f"tree-{sha.stdout.strip()}"
    if not path.exists():
        subprocess.run(["git", "worktree", "add", "--detach", str(path), rev], cwd=ROOT, check=True)
    return str(path)


def run_side(tree: str, apps: int, halts: int) -> list[float]:
    code = f"import sys; sys.path.insert(0, {str(HERE)!r}); import halt_ab; halt_ab.measure({tree!r}, {apps}, {halts})"
    done = subprocess.run([PY, "-c", code], cwd=tree, check=True, capture_output=True, text=True)
    return [float(x) for x in done.stdout.strip().splitlines()[-1].split()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", required=True, help="the earlier commit (e.g. 9cb1dc3)")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--halts", type=int, default=6, help="bulks of 1,000 per side and round")
    parser.add_argument("--apps", type=int, default=100_000)
    args = parser.parse_args()
    sides = {args.against: worktree(args.against), "this checkout": str(ROOT)}
    seconds: dict[str, list[float]] = {name: [] for name in sides}
    for r in range(args.rounds):
        for name, tree in sides.items():
            got = run_side(tree, args.apps, args.halts)
            seconds[name] += got
            print(f"round {r + 1}, {name:>13}: " + ", ".join(f"{s * 1000:.0f}" for s in got) + " ms", flush=True)
    medians = {name: statistics.median(s) for name, s in seconds.items()}
    for name, m in medians.items():
        print(f"bulk halt of 1,000, median of {len(seconds[name])}, {name:>13}: {m * 1000:6.0f} ms")
    print(f"ratio, this checkout ÷ {args.against}: {medians['this checkout'] / medians[args.against]:.2f}×")


if __name__ == "__main__":
    main()
