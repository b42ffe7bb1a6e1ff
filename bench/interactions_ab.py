"""Start-up, filter keystroke, sort, mark all and fleet refresh: this checkout against an earlier
commit, in the same run (the companion of `halt_ab.py`, whose worktree and database it shares).

Each side runs its own bench's `startup` (the first frame with rows against the bare-stack floor,
one run) and `interactions` (medians of 3) on its own demo database of 100,000 apps in a child
process, in alternating rounds; the medians of the rounds and their ratios are printed.

    python bench/interactions_ab.py --against 9cb1dc3 [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess

from halt_ab import PY, ROOT, worktree

FIGURES = ("startup", "filter", "sort", "mark_all", "fleet_cost")
"""`startup`: the first frame with rows ÷ the floor (a ratio); the others in seconds."""
CHILD = """
import asyncio, json, sys, tempfile
sys.path[:0] = [sys.argv[1], sys.argv[1] + "/bench"]
import run as bench
db, _ = bench.build(100_000, False)
with tempfile.TemporaryDirectory(prefix="imtui-bench-") as tmp:
    tempfile.tempdir = tmp  # earlier benches left their copy of the database behind
    r = asyncio.run(bench.interactions(db, 3, halt=False))
r["startup"] = bench.startup(db, 1, scenarios=False)["ratio"]
print(json.dumps({k: r[k] for k in sys.argv[2:]}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", required=True, help="the earlier commit (e.g. 9cb1dc3)")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    sides = {args.against: worktree(args.against), "this checkout": str(ROOT)}
    got: dict[str, list[dict]] = {name: [] for name in sides}
    for r in range(args.rounds):
        for name, tree in sides.items():
            done = subprocess.run(
                [PY, "-c", CHILD, tree, *FIGURES], cwd=tree, check=True, capture_output=True, text=True
            )
            got[name].append(json.loads(done.stdout.strip().splitlines()[-1]))
            shown = ", ".join(_shown(k, v) for k, v in got[name][-1].items())
            print(f"round {r + 1}, {name:>13}: {shown}", flush=True)
    for figure in FIGURES:
        before, now = (statistics.median(x[figure] for x in got[name]) for name in sides)
        print(
            f"{figure:>10}: {args.against} {_shown(figure, before)}, this checkout {_shown(figure, now)}, {now / before:.2f}×"
        )


def _shown(figure: str, value: float) -> str:
    return f"{value:.2f}× the floor" if figure == "startup" else f"{value * 1000:.1f} ms"


if __name__ == "__main__":
    main()
