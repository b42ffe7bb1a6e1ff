"""Writes docs/dashboard.svg: the dashboard on a demo fleet, drawn by the app itself.

Run by `scripts/screenshot` so the README's picture never goes stale: it builds a demo database
in a temporary directory at a fixed instant, opens the dashboard headless at 120×32, waits until
every worker is done, and saves Textual's SVG screenshot.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import tempfile
from pathlib import Path

NOW = "2026-11-20T10:00:00"
SIZE = (120, 32)
ROOT = Path(__file__).resolve().parents[1]


async def shoot(db: str, out: Path) -> None:
    from textual.worker import WorkerCancelled

    from imtui.bootstrap import open_services
    from imtui.clock import FixedClock
    from imtui.config import Settings
    from imtui.domain.calendar import parse_instant
    from imtui.ui.app import ImtuiApp

    settings = Settings(db=db, refresh_seconds=3600)
    services = open_services(settings, FixedClock(parse_instant(NOW, "Asia/Shanghai")))
    app = ImtuiApp(services, settings)
    async with app.run_test(size=SIZE) as pilot:
        for _ in range(50):  # the costs and headroom arrive from workers after the first frame
            await pilot.pause(0.05)
            try:
                await app.workers.wait_for_complete()
            except WorkerCancelled:
                continue
        app.save_screenshot(filename=out.name, path=str(out.parent))
    services.close()


def main() -> int:
    out = ROOT / "docs" / "dashboard.svg"
    with tempfile.TemporaryDirectory() as tmp:
        db = str(Path(tmp) / "demo.db")
        subprocess.run(
            [sys.executable, "-m", "imtui", "--db", db, "--now", NOW, "demo", "--apps", "300", "--seed", "7"],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        asyncio.run(shoot(db, out))
    print(out.relative_to(ROOT))
    return 0


if __name__ == "__main__":
    sys.exit(main())
