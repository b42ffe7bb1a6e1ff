"""Keys typed ahead go where they were meant (tui.md, Qualities; issue 19), tried in a real terminal.

Each burst is written to the dashboard's pseudo-terminal in ONE write, as a pasted runbook line
or a slow SSH link delivers it; the result is read from the database through the command line
and from the screen. The same keys typed one at a time (each once the screen has settled) end
in the same database and on the same screen.
"""

from __future__ import annotations

import re
import shutil
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.cli import run_exe
from tests.ui.terminal import DOWN, ENTER, F2, PASTE_END, PASTE_START, SHIFT_TAB, Dashboard

pytestmark = pytest.mark.skipif(not hasattr(__import__("os"), "openpty"), reason="needs a pseudo-terminal")

CREATED = "2026-11-20T10:00:00"
OPENED = "2026-11-20T10:05:00"
LATER = "2026-11-20T12:00:00"
"""The command line's checks run after anything the dashboards did (their clocks run on)."""
INSTANT = re.compile(r"\d{4}-\d\d-\d\dT[\d:.]+\+\d\d:\d\d")


@dataclass
class Fleet:
    """A demo fleet of 300 apps, built once; each test works on its own copies."""

    db: Path
    apps: dict[int, dict]

    def copy(self, tmp_path: Path, name: str) -> Path:
        target = tmp_path / f"{name}.db"
        for suffix in ("", "-wal", "-shm"):
            if Path(f"{self.db}{suffix}").exists():
                shutil.copy(f"{self.db}{suffix}", f"{target}{suffix}")
        return target

    def active(self, edition: str = "pro", skip: int = 0) -> int:
        return [a for a, v in self.apps.items() if v["status"] == "active" and v["edition"] == edition][skip]


@pytest.fixture(scope="module")
def fleet(tmp_path_factory) -> Fleet:
    db = tmp_path_factory.mktemp("fleet") / "demo.db"
    run_exe(["--db", str(db), "--now", CREATED, "demo", "--apps", "300"]).ok()
    return Fleet(db, apps(db))


def cli(db: Path, *args: str):
    return run_exe(["--db", str(db), "--now", LATER, *args, "--format", "json"]).ok().json


def apps(db: Path) -> dict[int, dict]:
    return {a["app_id"]: a for a in cli(db, "apps", "list")}


@dataclass
class Outcome:
    """A database after a dashboard run, read through the command line, and its last screen."""

    apps: dict[int, dict]
    trail: list[dict]
    screen: list[str]

    @classmethod
    def of(cls, db: Path, screen: list[str]) -> Outcome:
        return cls(apps(db), cli(db, "audit", "--limit", "1000"), screen)

    def changes(self) -> list[dict]:
        """The audit entries of what the dashboard did (the demo's own are before `OPENED`;
        `bind`, the database bound to its platform at the first act, is not about an app)."""
        return [e for e in self.trail if e["at"][:19] >= OPENED and e["action"] != "bind"]

    def comparable(self) -> tuple[list, list]:
        """Apps and audit trail without the instants (the dashboards' clocks run on)."""
        rows = [
            {k: (v[:10] if k in ("deactivated_at", "purge_at") and v else v) for k, v in a.items()}
            for a in self.apps.values()
        ]
        trail = [
            {k: INSTANT.sub("…", v) if k == "detail" else v for k, v in e.items() if k != "at"} for e in self.trail
        ]
        return rows, trail

    def summary(self) -> str:
        return next(ln for ln in self.screen if " apps · " in ln)


def steady(dash: Dashboard) -> list[str]:
    """The screen without what moves with the clock or the time a notice was shown."""
    dash.quiet()
    return [re.sub(r"\d\d:\d\d(:\d\d)?|\(\d+ s ago\)", "…", line) for line in dash.lines()]


def opened(db: Path) -> Dashboard:
    dash = Dashboard(db, OPENED)
    dash.wait_for(Dashboard.started, what="the fleet")
    return dash


def burst_and_slow(fleet: Fleet, tmp_path: Path, keys: str, done) -> Outcome:
    """Runs `keys` as one burst and typed one by one, each on its own copy of the fleet; asserts
    both end in the same database and on the same screen; returns the burst's outcome.
    `done(dash)`: the keys' last effect is on the screen."""
    outcomes = []
    for how in ("burst", "slow"):
        db = fleet.copy(tmp_path, how)
        with opened(db) as dash:
            dash.burst(keys) if how == "burst" else dash.type_slowly(keys)
            dash.wait_for(done, what="the keys' effect")
            screen = steady(dash)
        outcomes.append(Outcome.of(db, screen))
    burst, slow = outcomes
    assert burst.comparable() == slow.comparable()
    assert burst.screen == slow.screen, "\n".join(burst.screen) + "\n---\n" + "\n".join(slow.screen)
    return burst


def active_group(fleet: Fleet) -> tuple[str, list[int]]:
    """A name prefix that only 3 or 4 active apps match (by ID, name or account)."""
    groups: dict[str, list[dict]] = defaultdict(list)
    for a in fleet.apps.values():
        groups[a["name"].rsplit("-", 1)[0] + "-"].append(a)
    for prefix, members in sorted(groups.items()):
        if 3 <= len(members) <= 4 and all(a["status"] == "active" for a in members):
            matched = [a for a in fleet.apps.values() if prefix in f"{a['app_id']} {a['name']} {a['account']}"]
            if len(matched) == len(members):
                return prefix, sorted(a["app_id"] for a in members)
    raise AssertionError("the demo fleet has no small group of active apps")


def pro_app(fleet: Fleet) -> dict:
    """An active pro app whose history retention can change now (to 7 days)."""
    for a in fleet.apps.values():
        if a["status"] == "active" and a["edition"] == "pro" and "history_days" not in a["locked_items"]:
            if a["history_days"] != 7:
                return a
    raise AssertionError("the demo fleet has no pro app with history retention to change")


def test_oncall_recipe_pasted_whole_halts_that_app_and_only_it(fleet, tmp_path):
    """README: `/ID ⏎ h ⇧⇥ reason ⏎ ⏎` in one write halts ID (not the first row), audited once;
    typed one by one it does exactly the same."""
    first = min(fleet.apps)
    target = next(a for a, v in fleet.apps.items() if v["status"] == "active" and a > first + 100)
    keys = f"/{target}{ENTER}h{SHIFT_TAB}inc 42{ENTER}{ENTER}"
    out = burst_and_slow(fleet, tmp_path, keys, lambda d: "halted 1 app" in d.text())

    changed = [a for a in out.apps if out.apps[a]["status"] != fleet.apps[a]["status"]]
    assert changed == [target] and out.apps[target]["status"] == "deactivated"
    assert [(e["action"], e["app_id"], e["result"]) for e in out.changes()] == [("halt", target, "done")]
    assert "inc 42" in out.changes()[0]["detail"]
    assert "1 shown" in out.summary() and f"filter “{target}”" in out.summary()
    assert any(str(target) in ln and "halted" in ln for ln in out.screen)


def test_recipe_typed_before_the_dashboard_is_up(fleet, tmp_path):
    """The whole recipe typed ahead while imtui still starts (a runbook pasted into the shell,
    `imtui ⏎` included): it waits for the fleet, then halts that app."""
    target = fleet.active(skip=3)
    db = fleet.copy(tmp_path, "cold")
    with Dashboard(db, OPENED) as dash:
        dash.burst(f"/{target}{ENTER}h{SHIFT_TAB}cold start{ENTER}{ENTER}")
        dash.wait_for_text("halted 1 app")
        out = Outcome.of(db, steady(dash))
    assert [(e["action"], e["app_id"]) for e in out.changes()] == [("halt", target)]
    assert out.apps[target]["status"] == "deactivated"


def test_slash_then_a_name_at_once_is_filter_text(fleet, tmp_path):
    """`/acme` in one write filters by “acme”: no app marked (`a`), no modify form (`m`)."""
    acme = [a for a in fleet.apps.values() if "acme" in f"{a['app_id']} {a['name']} {a['account']}"]
    out = burst_and_slow(fleet, tmp_path, "/acme", lambda d: "filter “acme”" in d.summary())
    assert f"{len(acme)} shown" in out.summary() and "0 marked" in out.summary()
    assert not any("Modify feature configuration" in ln for ln in out.screen)
    assert out.changes() == []


def test_bulk_halt_recipe_with_its_typed_count(fleet, tmp_path):
    """Filter, mark all, `h ⇧⇥ reason ⏎ count ⏎ ⏎` in one write halts exactly the marked apps."""
    prefix, group = active_group(fleet)
    keys = f"/{prefix}{ENTER}ah{SHIFT_TAB}drill{ENTER}{len(group)}{ENTER}{ENTER}"
    out = burst_and_slow(fleet, tmp_path, keys, lambda d: f"Halting: {len(group)} done" in d.text())
    assert sorted(a for a in out.apps if out.apps[a]["status"] != fleet.apps[a]["status"]) == group
    assert all(out.apps[a]["status"] == "deactivated" for a in group)
    assert sorted(e["app_id"] for e in out.changes() if e["action"] == "halt") == group
    assert any(f"Halting: {len(group)} done, 0 refused" in ln for ln in out.screen)


def test_modify_form_opened_and_confirmed_in_one_write(fleet, tmp_path):
    """`m`, to the history item, open it, the next value, `F2`: one write changes that item of
    that app (the form's options load while the keys wait), as typed one by one."""
    before = pro_app(fleet)
    target = before["app_id"]
    keys = f"/{target}{ENTER}m{SHIFT_TAB}{SHIFT_TAB}{ENTER}{DOWN}{ENTER}{F2}"
    out = burst_and_slow(fleet, tmp_path, keys, lambda d: f"app {target}: done" in d.text())
    assert out.apps[target]["history_days"] == 7 != before["history_days"]
    assert [(e["action"], e["app_id"]) for e in out.changes()] == [("modify", target)]


def test_a_paste_is_the_keys_it_contains(fleet, tmp_path):
    """A bracketed paste of `/ID⏎` and then `h` opens the halt of ID (a paste is typed text)."""
    target = fleet.active(skip=5)
    with opened(fleet.copy(tmp_path, "paste")) as dash:
        dash.burst(f"{PASTE_START}/{target}\n{PASTE_END}h")
        dash.wait_for_text("HALT 1 APP")
        dash.quiet()
        dialog = dash.text().split("HALT 1 APP", 1)[1]
        assert re.search(rf"^\W*{target}\b", dialog.splitlines()[2]), dash.text()


def test_budget_set_on_the_accounts_screen_in_one_write(fleet, tmp_path):
    """`A ↓ b AMOUNT ⏎ PCT ⏎` in one write sets the budget of the first account (the accounts
    are read before ↓ moves, the dialog is up before the amount is typed), as `imtui budgets
    list` shows and the audit trail records; typed one by one it does exactly the same."""
    first = sorted({a["account"] for a in fleet.apps.values()})[0]
    keys = f"A{DOWN}b12345.67{ENTER}85{ENTER}"
    out = burst_and_slow(fleet, tmp_path, keys, lambda d: f"the budget of {first} is 12,345.67" in d.text())
    assert [(e["action"], e["detail"]) for e in out.changes()] == [
        ("budget", f"{first}: none → 12,345.67 (warn at 85 %)")
    ]
