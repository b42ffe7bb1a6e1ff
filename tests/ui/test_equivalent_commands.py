"""Every "equivalent command" a dashboard confirmation shows runs as printed (cli.md, issue 19).

Each dialog (upgrade and modify, one app and several; halt, one app and several; reactivate has
no confirmation, so no command) is opened in the pilot on a database, its command read and the
dialog cancelled. The command is then run as its own process against that database, exactly as
printed but for the test's global options (`--db`, `--now`): first with `--dry-run`, which must
change nothing and show the money the dialog showed, then for real. A twin of the database (a
copy made before) has the same dialog confirmed in the dashboard; afterwards both databases
hold the same apps and the same audit trail: the command did what the dialog would have done.

Runs on SQLite, or on PostgreSQL when IMTUI_TEST_DB_URL is set."""

from __future__ import annotations

import shlex
import subprocess
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
from textual.widgets import Button, DataTable, Input, Select

from imtui.bootstrap import open_services
from imtui.clock import FixedClock
from imtui.config import Settings
from imtui.domain.changes import ChangeRequest
from imtui.services.control_plane import SimulatedControlPlane
from imtui.services.queries import AppFilter
from imtui.ui import format as fmt
from imtui.ui.app import ImtuiApp
from imtui.ui.screens.change_form import ChangeForm
from imtui.ui.screens.halt import HaltDialog
from tests.support.cli import IMTUI_EXE, clean_env, run_exe
from tests.support.dbs import clone_db, drop_db, migrated_db_url
from tests.support.ui import at, settle

SETUP = "2026-10-10T09:00"
START = "2026-11-20T10:00"
NOW = at(START).isoformat()
NASTY_REASON = """it's "down"; $(touch pwned) & `touch pwned` > pwned # ; \\ ok"""


class Db:
    """One database the dashboard and the command line share, at the fixed instant START."""

    def __init__(self, url: str, folder: Path):
        self.url, self.folder = url, folder

    def services(self, instant: str = START):
        clock = FixedClock(at(instant))
        settings = self.settings(instant)
        return settings, open_services(settings, clock, SimulatedControlPlane(latency=0))  # the OS/DB user

    def settings(self, instant: str = START) -> Settings:
        return Settings(db=self.url, now=at(instant), refresh_seconds=3600, keymap=self.folder / "keymap.toml")

    async def state(self) -> tuple[list, Counter]:
        """The apps as the dashboard reads them and the whole audit trail (as a multiset: a bulk
        halt's records of one instant come in the order the platform answered)."""
        _, services = self.services()
        try:
            apps = await services.apps.list(AppFilter())
            trail = await services.audit.trail(None, 100_000)
        finally:
            services.close()
        return apps, Counter((e.at, e.actor, e.action, e.app_id, e.result, e.detail) for e in trail)


@dataclass
class Fleet:
    tri: list[int]
    pro: list[int]


@pytest.fixture
async def world(tmp_path):
    """Trial apps tri-1..3; pro apps pro-1..3 upgraded in October (nothing locked in November),
    pro-3's history retention changed on START (locked until December)."""
    url = migrated_db_url(tmp_path, "a.db")
    db = Db(url, tmp_path)
    _, services = db.services(SETUP)
    try:
        tri = [(await services.changes.create(f"tri-{i}", "acme")).app_id for i in (1, 2, 3)]
        pro = []
        for i in (1, 2, 3):
            app_id = (await services.changes.create(f"pro-{i}", "globex")).app_id
            await services.changes.upgrade(app_id, ChangeRequest(edition="pro"))
            pro.append(app_id)
    finally:
        services.close()
    _, services = db.services(START)
    try:
        await services.changes.modify(pro[2], ChangeRequest(history_days=30))
    finally:
        services.close()
    made = [url]

    def twin(name: str) -> Db:
        """A copy of the database as it is now (nothing may be using it)."""
        made.append(clone_db(url, tmp_path, name))
        return Db(made[-1], tmp_path)

    yield db, Fleet(tri, pro), twin
    for each in made:
        drop_db(each)


# --- opening each dialog -----------------------------------------------------------------------------


async def on_app(pilot, app_id: int) -> None:
    assert pilot.app.main.focus_app(app_id)
    await settle(pilot)


async def mark(pilot, text: str, count: int) -> None:
    await pilot.press("slash", *text, "enter")
    await settle(pilot)
    await pilot.press("a")
    await settle(pilot)
    assert len(pilot.app.main.model.marked) == count


async def choose(pilot, **values: str) -> None:
    for item, value in values.items():
        pilot.app.screen.query_one(f"#{item}", Select).value = value
        await settle(pilot)


async def upgrade_one(pilot, fleet: Fleet) -> None:
    await on_app(pilot, fleet.tri[0])
    await pilot.press("u")
    await settle(pilot)
    await choose(pilot, edition="flagship", history_days="90")


async def upgrade_many(pilot, fleet: Fleet) -> None:
    await mark(pilot, "tri-", 3)
    await pilot.press("u")
    await settle(pilot)
    await choose(pilot, members_per_group="2000")


async def modify_one(pilot, fleet: Fleet) -> None:
    await on_app(pilot, fleet.pro[0])
    await pilot.press("m")
    await settle(pilot)
    await choose(pilot, live_groups="unlimited", groups_per_user="1000")


async def modify_many(pilot, fleet: Fleet) -> None:
    await mark(pilot, "pro-", 3)
    await pilot.press("m")
    await settle(pilot)
    await choose(pilot, edition="flagship", members_per_group="6000")


async def modify_many_one_locked(pilot, fleet: Fleet) -> None:
    await mark(pilot, "pro-", 3)
    await pilot.press("m")
    await settle(pilot)
    await choose(pilot, history_days="90")


async def fill_halt(pilot, reason: str) -> None:
    dialog = pilot.app.screen
    assert isinstance(dialog, HaltDialog)
    if dialog.query("#count"):
        dialog.query_one("#count", Input).value = str(len(dialog.targets))
    dialog.query_one("#reason", Input).value = reason
    await settle(pilot)
    assert not dialog.query_one("#confirm", Button).disabled


async def halt_one(pilot, fleet: Fleet) -> None:
    await on_app(pilot, fleet.pro[1])
    await pilot.press("h")
    await settle(pilot)
    await fill_halt(pilot, NASTY_REASON)


async def halt_many(pilot, fleet: Fleet) -> None:
    await mark(pilot, "tri-", 3)
    await pilot.press("h")
    await settle(pilot)
    await fill_halt(pilot, "--yes -x: a reason that looks like options")


DIALOGS = {
    # name: (open and fill the dialog, the exit code its command ends with)
    "upgrade one app": (upgrade_one, 0),
    "upgrade three apps": (upgrade_many, 0),
    "modify one app": (modify_one, 0),
    "modify three apps": (modify_many, 0),
    "modify three apps, one locked": (modify_many_one_locked, 3),
    "halt one app": (halt_one, 0),
    "halt three apps": (halt_many, 0),
}


# --- what the dialog shows --------------------------------------------------------------------------


def shown_money(screen) -> dict:
    """The money the dialog shows: per app "before → after" of the monthly price (None for an
    app it says cannot change) for the forms; the monthly cost that stops for the halt."""
    if isinstance(screen, HaltDialog):
        return {"stops": str(screen.query_one("#halt-cost").render()).removeprefix("Monthly cost that stops: ")}
    table = screen.query_one("#preview", DataTable)
    rows = [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]
    return {int(r[0]): None if r[3].startswith("✕") else r[2] for r in rows}


def dry_run_money(res: list[dict], halt: bool) -> dict:
    if halt:
        return {"stops": fmt.money(-sum((Decimal(x["monthly_delta"]) for x in res), Decimal("0.00")))}
    return {
        x["app_id"]: f"{fmt.money(Decimal(x['before']))} → {fmt.money(Decimal(x['after']))}" if x["ok"] else None
        for x in res
    }


def command_argv(text: str, *extra: str) -> list[str]:
    """The printed command as a shell would split it, with the test's `--now` (the database is
    given as IMTUI_DB: a PostgreSQL URL's password stays out of the process list)."""
    assert text.startswith("$ imtui "), text
    assert "…" not in text, text
    argv = shlex.split(text.removeprefix("$ "))
    assert argv[0] == "imtui"
    return ["--now", NOW, *argv[1:], *extra]


@pytest.mark.parametrize("name", list(DIALOGS))
async def test_the_equivalent_command_runs_as_printed_and_does_what_the_dialog_does(world, name):
    db, fleet, twin_of = world
    fill, code = DIALOGS[name]
    twin = twin_of("b.db")
    is_halt = name.startswith("halt")

    # 1. the dialog on the database: its command and its money, then cancelled
    settings, services = db.services()
    try:
        app = ImtuiApp(services, settings, keymap_file=settings.keymap)
        async with app.run_test(size=(160, 50)) as pilot:
            await settle(pilot)
            await fill(pilot, fleet)
            screen = app.screen
            assert isinstance(screen, HaltDialog if is_halt else ChangeForm)
            command = str(screen.query_one("#command").render())
            money = shown_money(screen)
            await pilot.press("escape")
            await settle(pilot)
            assert app.screen is app.main
    finally:
        services.close()
    before = await db.state()
    if is_halt:
        assert "--yes" in command.split()
        assert NASTY_REASON in shlex.split(command) or "--reason=--yes -x: a reason that looks like options" in (
            shlex.split(command)
        )

    # 2. the command with --dry-run: exits as the real run will, shows the same money, changes nothing
    dry = run_exe(command_argv(command, "--dry-run", "--format", "json"), env={"IMTUI_DB": db.url})
    assert dry.rc == code, dry
    assert code or not dry.err, dry.err
    assert dry_run_money(dry.json, is_halt) == money
    assert await db.state() == before

    # 3. the command for real, pasted into a shell exactly as printed (the test's options added)
    line = command.removeprefix("$ imtui ")
    real = subprocess.run(
        ["bash", "-c", f"{shlex.join([str(IMTUI_EXE), '--now', NOW])} {line}"],
        capture_output=True,
        text=True,
        env=clean_env({"IMTUI_DB": db.url}),
        cwd=db.folder,
        timeout=120,
    )
    assert real.returncode == code, (real.stdout, real.stderr)
    assert "Traceback" not in real.stderr
    assert code or not real.stderr, real.stderr
    assert not (db.folder / "pwned").exists()  # nothing in a reason reached the shell as code

    # 4. the dialog confirmed on the twin: both databases end the same
    settings, services = twin.services()
    try:
        app = ImtuiApp(services, settings, keymap_file=settings.keymap)
        async with app.run_test(size=(160, 50)) as pilot:
            await settle(pilot)
            await fill(pilot, fleet)
            assert str(app.screen.query_one("#command").render()) == command
            if is_halt:
                app.screen.query_one("#confirm", Button).press()
            else:
                await pilot.press("f2")
            await settle(pilot)
    finally:
        services.close()
    after, twin_after = await db.state(), await twin.state()
    assert after != before
    assert after == twin_after


async def test_a_long_selection_prints_every_id_and_stays_in_the_dialog(world):
    """A bulk halt of many apps shows the whole command (no …), a few lines high, scrolling."""
    db, fleet, _ = world
    _, services = db.services()
    try:
        many = [(await services.changes.create(f"many-{i:03}", "initech")).app_id for i in range(120)]
    finally:
        services.close()
    settings, services = db.services()
    try:
        app = ImtuiApp(services, settings, keymap_file=settings.keymap)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            await mark(pilot, "many-", 120)
            await pilot.press("h")
            await settle(pilot)
            await fill_halt(pilot, "load test")
            dialog = app.screen
            command = str(dialog.query_one("#command").render())
            argv = shlex.split(command.removeprefix("$ "))
            assert argv == ["imtui", "apps", "halt", *map(str, many), "--reason", "load test", "--yes"]
            box = dialog.query_one("#command").parent
            assert box.region.height <= 3 and box.max_scroll_y > 0
            assert dialog.query_one("#confirm", Button).region.bottom <= 24
    finally:
        services.close()
