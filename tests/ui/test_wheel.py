"""The built wheel carries the dashboard's stylesheets and the dashboard starts from it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = r"""
import asyncio, sys, tempfile
from pathlib import Path
import imtui.ui.app as ui_app
from imtui.clock import FixedClock
from imtui.config import Settings
from imtui.domain.calendar import parse_instant
from imtui.services.control_plane import SimulatedControlPlane
from imtui.bootstrap import open_services

root = Path(sys.argv[1]).resolve()
assert Path(ui_app.__file__).resolve().is_relative_to(root), ui_app.__file__
styles = ui_app.styles_dir().resolve()
assert styles.is_relative_to(root), styles
assert (styles / "imtui.tcss").is_file()

async def main():
    tmp = Path(tempfile.mkdtemp())
    settings = Settings(db=str(tmp / "w.db"), refresh_seconds=3600, keymap=tmp / "k.toml")
    clock = FixedClock(parse_instant("2026-11-20T10:00", "Asia/Shanghai"))
    services = open_services(settings, clock, SimulatedControlPlane(latency=0), actor="wheel")
    await services.changes.create("from-wheel", "acme")
    app = ui_app.ImtuiApp(services, settings)
    async with app.run_test(size=(80, 24)) as pilot:
        for _ in range(3):
            await pilot.pause()
            while any(w.is_running for w in app.workers):
                await pilot.pause(0.01)
        assert len(app.main.model.rows) == 1
        print("STARTED", app.main.model.rows[0].name)
    services.close()

asyncio.run(main())
"""


def test_wheel_ships_styles_and_starts(tmp_path):
    """A wheel built from the checkout holds imtui/styles/imtui.tcss and the dashboard starts from it."""
    # build from a copy, so the checkout's build/ and egg-info are never touched
    source = tmp_path / "source"
    shutil.copytree(
        ROOT,
        source,
        ignore=shutil.ignore_patterns(".venv", ".git", "build", "dist", "*.egg-info", "tests", "__pycache__", "*.db"),
    )
    wheels = tmp_path / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels), str(source)],
        check=True,
        capture_output=True,
        cwd=tmp_path,
    )
    (wheel,) = wheels.glob("imtui-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        assert "imtui/styles/imtui.tcss" in names
        assert "imtui/ui/app.py" in names
        shipped = zf.read("imtui/styles/imtui.tcss")
        zf.extractall(tmp_path / "unpacked")
    assert shipped == (ROOT / "styles" / "imtui.tcss").read_bytes()

    unpacked = tmp_path / "unpacked"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env["PYTHONPATH"] = str(unpacked)
    env["PYTHONSAFEPATH"] = "1"  # never the current directory
    # -I would drop PYTHONPATH; the editable install's finder is shadowed because PYTHONPATH comes first
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(unpacked)],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "STARTED from-wheel" in done.stdout
