"""Measures the signals commands at scale (signals.md §7): `bills export` (FOCUS CSV) of an open
and of an issued month, `metrics` and `metrics --per-app`, `check` when this imtui has it, and
the dashboard: the seconds from its first frame until the signal count is in the summary line and
until the Accounts screen lists every account (`A` pressed as soon as the rows show), and its
start-up (first frame) with the signal count against the same start-up without it and against
the bare-stack floor. Prints figures; asserts nothing.

Uses (or builds once) bench/run.py's 100,000-app demo database, `bench/out/fleet-100000.db`, and
runs every command as its own process with `--read-only`, so the database stays as run.py expects
it. Each figure is the median of `--runs` runs: wall time of the whole command (interpreter start
included), its CPU time and its peak memory (wait4). The export's rate is given three ways: rows over the whole
command's time; over the time from its first row to its end (the streaming itself, without the
start and the fleet-wide reads before the first row); and over the time of `BillingService.export`
alone in a process that has already started (every read and row, none of Python's start-up).

The dashboard's figures come from bench/run.py's start-up script (the same marks: the first
frame with rows, the signal count shown, the accounts listed), run on a copy of the database that
has a fleet budget and budgets on a quarter of the accounts, so the budget figures and signals are
part of the work, as where budgets are used. Each run alternates the four processes (floor,
start-up, start-up without the count, the count and the accounts), so a busy machine moves them
alike.

    .venv/bin/python bench/signals_scale.py [--runs 3] [--apps 100000] [--rebuild] [--only dashboard|commands]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import (  # noqa: E402  (bench/run.py: the same database, built the same way)
    NOW,
    STARTUP_BARE,
    STARTUP_IMTUI,
    build,
    imtui,
    run_script,
    scratch_copy,
)

TARGETS = {
    "export": "≥ 100,000 rows/s, ≤ 300 MiB",
    "metrics": "≤ 3 s",
    "metrics --per-app": "≤ 10 s",
    "check": "≤ 5 s",
    "dashboard": "≤ 2 s after the first frame, the first frame not slower",
}


def _variant(script: str, old: str, new: str) -> str:
    """bench/run.py's start-up script with one change (checked: the script still has `old`)."""
    if old not in script:
        raise SystemExit(f"bench/run.py's start-up script changed; cannot find {old!r}")
    return script.replace(old, new, 1)


_WAITS = 'if sys.argv[3] == "day":  # midnight'
STARTUP_SIGNALS = _variant(
    STARTUP_IMTUI,
    _WAITS,
    'if sys.argv[3] == "signals":  # nothing pressed: the count comes by itself\n'
    '            await reached["signals"].wait()\n'
    "        " + _WAITS,
)
"""Start-up until the signal count is shown, with nothing pressed."""
STARTUP_NO_COUNT = _variant(
    STARTUP_IMTUI,
    "new_day = None",
    "async def _no_count(self):  # the dashboard as it was without the signal count\n"
    "    pass\n"
    "MainScreen._count_signals = _no_count\n"
    "new_day = None",
)
"""Start-up to the first frame with rows, the signal count never computed (the comparison)."""

BUDGETS_IN_PROCESS = r"""
import asyncio, sys
from decimal import Decimal
from imtui.bootstrap import clock_for, open_services, settings_from_env
from imtui.domain.calendar import parse_instant
settings = settings_from_env(sys.argv[1], False, parse_instant(sys.argv[2], "Asia/Shanghai"), None)
services = open_services(settings, clock_for(settings, False))
async def main():
    accounts = await services.budgets.accounts()
    fleet, rest = accounts[0], accounts[1:]
    await services.budgets.set(None, f"{fleet.projected * 2:.2f}")
    for i, row in enumerate(rest[::4]):  # some over, some in warning or forecast, most ok
        share = ("0.5", "0.9", "1.1", "3")[i % 4]
        await services.budgets.set(row.account, f"{max(row.projected * Decimal(share), 1):.2f}")
    print(1 + len(rest[::4]))
asyncio.run(main())
services.close()
"""
"""Sets a fleet budget and budgets on every 4th account (by name) of a copy of the database."""


def dashboard(db: Path, runs: int) -> None:
    """The dashboard's signal count and accounts after its first frame, and its start-up (§7)."""
    med = statistics.median
    with scratch_copy(db, "budgets.db") as copy:
        out = subprocess.run(
            [sys.executable, "-c", BUDGETS_IN_PROCESS, str(copy), NOW], capture_output=True, text=True, check=True
        )
        budgets = int(out.stdout.split()[-1])
        bare, first, first_no_count, signals, count_alone, accounts = [], [], [], [], [], []
        for _ in range(runs):
            bare.append(float(run_script(STARTUP_BARE, str(copy)).split()[0]))
            first.append(json.loads(run_script(STARTUP_IMTUI, str(copy), NOW, "rows"))["rows"])
            first_no_count.append(json.loads(run_script(STARTUP_NO_COUNT, str(copy), NOW, "rows"))["rows"])
            alone = json.loads(run_script(STARTUP_SIGNALS, str(copy), NOW, "signals"))
            count_alone.append(alone["signals"] - alone["rows"])
            marks = json.loads(run_script(STARTUP_IMTUI, str(copy), NOW, "accounts"))
            signals.append(marks["signals"] - marks["rows"])
            accounts.append(marks["accounts"] - marks["rows"])
    floor = med(bare)
    print(f"dashboard, {budgets} budgets (the fleet's and every 4th account's); target {TARGETS['dashboard']}")
    print(
        f"  start → first frame with rows      {med(first):6.2f} s  (floor {floor:.2f} s, ratio {med(first) / floor:.2f}); "
        f"without the signal count {med(first_no_count):.2f} s (ratio {med(first_no_count) / floor:.2f})"
    )
    print(f"  first frame → signal count         {med(count_alone):6.2f} s  (nothing pressed)")
    print(f"  first frame → signal count         {med(signals):6.2f} s  (A pressed at the first frame)")
    print(f"  first frame → accounts listed      {med(accounts):6.2f} s  (A pressed at the first frame)")


def run_one(cmd: list[str]) -> tuple[float, float, float]:
    """(wall seconds, CPU seconds, peak MiB) of one process (wait4): on a shared machine the CPU
    time moves much less than the wall time."""
    with tempfile.TemporaryFile() as err:
        t = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - t
        if os.waitstatus_to_exitcode(status) not in (0, 6):  # check: 6 when a signal is at --fail-on
            err.seek(0)
            raise SystemExit(err.read().decode())
    return seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def export_run(db: Path, month: str) -> tuple[float, float, float, float, int]:
    """(seconds, seconds to the first row, peak MiB, CPU seconds, rows) of one `bills export` to
    a pipe."""
    cmd = imtui(db, "--read-only", "bills", "export", "--month", month)
    with tempfile.TemporaryFile() as err:
        t = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err)
        proc.stdout.readline()  # the header
        first = None
        rows = 0
        for _ in proc.stdout:
            if first is None:
                first = time.perf_counter() - t
            rows += 1
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - t
        if os.waitstatus_to_exitcode(status):
            err.seek(0)
            raise SystemExit(err.read().decode())
    return seconds, first or seconds, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime, rows


EXPORT_IN_PROCESS = r"""
import asyncio, os, sys, time
from imtui.bootstrap import clock_for, open_services, settings_from_env
from imtui.domain.calendar import Month, parse_instant
settings = settings_from_env(sys.argv[1], True, parse_instant(sys.argv[2], "Asia/Shanghai"), None)
services = open_services(settings, clock_for(settings, False))
asyncio.run(services.housekeeping.catch_up())
rows = [0]
with open(os.devnull, "w") as sink:
    def write(lines):
        for line in lines:
            rows[0] += 1
            sink.write(line)
    t = time.perf_counter()
    asyncio.run(services.billing.export(Month.parse(sys.argv[3]), None, write))
    print(rows[0] - 1, time.perf_counter() - t)
"""


def export_in_process(db: Path, month: str) -> tuple[int, float]:
    """(rows, seconds) of `BillingService.export` alone: the services opened, every read and
    every row, to /dev/null; no interpreter start, imports or pipe."""
    out = subprocess.run(
        [sys.executable, "-c", EXPORT_IN_PROCESS, str(db), NOW, month], capture_output=True, text=True, check=True
    )
    rows, seconds = out.stdout.split()
    return int(rows), float(seconds)


def has_check(db: Path) -> bool:
    return subprocess.run(imtui(db, "check", "--help"), capture_output=True).returncode == 0


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--apps", type=int, default=100_000)
    p.add_argument("--rebuild", action="store_true")
    p.add_argument("--only", choices=("dashboard", "commands"), help="only the dashboard's figures, or the commands'")
    args = p.parse_args()
    db, built = build(args.apps, args.rebuild)
    if built is not None:
        print(f"built {db.name} in {built:.1f} s")
    med = statistics.median
    print(f"{args.apps:,} apps, {args.runs} runs each, at {NOW}; medians")
    if args.only != "commands":
        dashboard(db, args.runs)
    if args.only == "dashboard":
        return
    for label, month in (("open month", NOW[:7]), ("issued month", "2026-10")):
        runs = [export_run(db, month) for _ in range(args.runs)]
        seconds, first, mib, cpu = (med(r[i] for r in runs) for i in range(4))
        rows = runs[0][4]
        alone = med(export_in_process(db, month)[1] for _ in range(args.runs))
        print(
            f"bills export, {label:<12} {rows:>9,} rows  {seconds:6.2f} s ({cpu:.2f} s CPU)  "
            f"{rows / seconds:>9,.0f} rows/s whole command, "
            f"{rows / (seconds - first):>9,.0f} rows/s streaming (first row after {first:.2f} s), "
            f"{rows / alone:>9,.0f} rows/s the export alone ({alone:.2f} s)  "
            f"peak {mib:5.0f} MiB   (target {TARGETS['export']})"
        )
    commands = [("metrics", ["metrics"]), ("metrics --per-app", ["metrics", "--per-app"])]
    if has_check(db):
        commands.append(("check", ["check", "--fail-on", "never"]))
    for label, argv in commands:
        runs = [run_one(imtui(db, "--read-only", *argv)) for _ in range(args.runs)]
        print(
            f"{label:<27} {med(r[0] for r in runs):6.2f} s ({med(r[1] for r in runs):5.2f} s CPU)  "
            f"peak {med(r[2] for r in runs):5.0f} MiB   (target {TARGETS[label]})"
        )


if __name__ == "__main__":
    main()
