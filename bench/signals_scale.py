"""Measures the signals commands at scale (signals.md §7): `bills export` (FOCUS CSV) of an open
and of an issued month, `metrics` and `metrics --per-app`, and `check` when this imtui has it.
Prints figures; asserts nothing.

Uses (or builds once) bench/run.py's 100,000-app demo database, `bench/out/fleet-100000.db`, and
runs every command as its own process with `--read-only`, so the database stays as run.py expects
it. Each figure is the median of `--runs` runs: wall time of the whole command (interpreter start
included), its CPU time and its peak memory (wait4). The export's rate is given three ways: rows over the whole
command's time; over the time from its first row to its end (the streaming itself, without the
start and the fleet-wide reads before the first row); and over the time of `BillingService.export`
alone in a process that has already started (every read and row, none of Python's start-up).

    .venv/bin/python bench/signals_scale.py [--runs 3] [--apps 100000] [--rebuild]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import NOW, build, imtui  # noqa: E402  (bench/run.py: the same database, built the same way)

TARGETS = {
    "export": "≥ 100,000 rows/s, ≤ 300 MiB",
    "metrics": "≤ 3 s",
    "metrics --per-app": "≤ 10 s",
    "check": "≤ 5 s",
}


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
    args = p.parse_args()
    db, built = build(args.apps, args.rebuild)
    if built is not None:
        print(f"built {db.name} in {built:.1f} s")
    med = statistics.median
    print(f"{args.apps:,} apps, {args.runs} runs each, at {NOW}; medians")
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
