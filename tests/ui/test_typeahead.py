"""Keys typed ahead go where they were meant, on every screen (tui.md, Qualities).

A burst is posted to the App all at once, as the terminal driver posts the keys of one read; the
same keys are then pressed one at a time on an identical fleet, each once the dashboard settled.
Both must end on the same screen, with the same focus, filter, marks and database. (The real
terminal, one write of bytes to a pseudo-terminal, is in `test_typeahead_terminal.py`.)
"""

from __future__ import annotations

import pytest
from textual import events
from textual.keys import _character_to_key
from textual.widgets import DataTable, Input, Select

from imtui.ui.screens.audit import AuditScreen
from imtui.ui.screens.bills import BillsScreen
from imtui.ui.screens.change_form import ChangeForm
from imtui.ui.screens.halt import HaltDialog
from imtui.ui.screens.main import MainScreen
from imtui.ui.screens.results import ResultsScreen
from imtui.ui.typeahead import keys_of
from imtui.ui.widgets.app_table import AppTable
from tests.support.ui import UiEnv, settle, wait_for

CHARACTERS = {"enter": "\r", "tab": "\t", "space": " ", "slash": "/", "asterisk": "*", "escape": "\x1b"}


def key(name: str) -> events.Key:
    """The event the terminal driver posts for a key (its name as in bindings, or a character)."""
    if len(name) == 1:
        return events.Key(_character_to_key(name), name)
    return events.Key(name, CHARACTERS.get(name))


def spelled(*parts: str) -> list[str]:
    """Key names: each part is a key name (`enter`, `shift+tab`) or, in quotes, text typed."""
    keys: list[str] = []
    for part in parts:
        if part.startswith("'"):
            keys.extend(part.strip("'"))
        else:
            keys.append(part)
    return keys


async def caught_up(pilot) -> None:
    """Every key routed and everything they set off done."""
    await settle(pilot)
    await wait_for(pilot, lambda: pilot.app.keys_waiting == 0)
    await settle(pilot)


async def observed(env: UiEnv, app, pilot) -> dict:
    """What a user can tell apart: the screen, the focus, the main screen's filter, marks and
    cursor, the values typed in the current screen, and every app's status in the database."""
    main = app.main
    screen = app.screen
    views = await env.services.apps.list()
    return {
        "screen": type(screen).__name__,
        "focus": getattr(app.focused, "id", None),
        "filter": main.model.text,
        "marked": sorted(main.model.marked),
        "cursor": main.query_one(AppTable).cursor_app,
        "inputs": {i.id: i.value for i in screen.query(Input)},
        "choices": {s.id: str(s.value) for s in screen.query(Select)},
        "targets": [t.app_id for t in screen.targets] if isinstance(screen, (HaltDialog, ChangeForm)) else None,
        "status": {v.app_id: v.status for v in views},
        "account": main.model.account,
        "budgets": [(b.account, str(b.amount), b.warn_at) for b in await env.services.budgets.list()],
        "rows": [t.row_count for t in screen.query(DataTable)],
    }


async def run(tmp_path, name: str, keys: list[str], at_once: bool) -> dict:
    folder = tmp_path / name
    folder.mkdir()
    env = UiEnv(folder)
    try:
        await env.demo(apps=40)
        app = env.make_app()
        async with app.run_test(size=(120, 40)) as pilot:
            await caught_up(pilot)
            if at_once:
                for k in keys:
                    app.post_message(key(k))
            else:
                for k in keys:
                    await pilot.press(k)
                    await caught_up(pilot)
            await caught_up(pilot)
            return await observed(env, app, pilot)
    finally:
        env.close()


FIRST = 1400000000
TARGET = FIRST + 17

SCENARIOS = {
    # on the main screen: `/` and then a name is filter text, never commands (a, m, e, s …)
    "filter-then-name": (spelled("slash", "'acme-m'"), {"screen": "MainScreen", "focus": "filter"}),
    # the README's recipe: / ID ⏎ h opens the halt of that app, focused on Cancel
    "filter-then-halt": (
        spelled("slash", f"'{TARGET}'", "enter", "h"),
        {"screen": "HaltDialog", "focus": "cancel", "targets": [TARGET]},
    ),
    # …and carries it out, then z (only enabled once the halt is done) takes it back
    "halt-then-undo": (
        spelled("slash", f"'{TARGET}'", "enter", "h", "shift+tab", "'oops'", "enter", "enter", "z"),
        {"screen": "MainScreen", "focus": "apps"},
    ),
    # the detail screen hands its `h` back to the main screen: the halt of the app shown
    "detail-then-halt": (
        spelled("slash", f"'{TARGET}'", "enter", "enter", "h", "shift+tab", "'via detail'"),
        {"screen": "HaltDialog", "focus": "reason", "targets": [TARGET]},
    ),
    # a bulk halt with its typed count; keys after it reach the results list and then the table
    "bulk-halt-then-filter": (
        spelled("space", "space", "space", "h", "shift+tab", "'drill'", "enter", "'3'", "enter", "enter")
        + spelled("enter", "slash", f"'{FIRST}'"),
        {"screen": "MainScreen", "focus": "filter"},
    ),
    # the audit trail's own filter gets the text typed right after its `/`
    "audit-filter": (spelled("l", "slash", "'close'"), {"screen": "AuditScreen", "focus": "audit-filter"}),
    # help opened and closed, then the main filter: nothing lost on the way
    "help-and-back": (spelled("f1", "escape", "slash", "'acme'"), {"screen": "MainScreen", "focus": "filter"}),
    # the bills screen: months loaded before the month keys apply
    "bills-month": (spelled("b", "p", "p"), {"screen": "BillsScreen"}),
    # the command palette: the search has answered before ↓ ⏎ choose from it
    "palette-halt": (
        spelled("ctrl+p", f"'{TARGET}'", "down", "enter"),
        {"screen": "HaltDialog", "focus": "cancel", "targets": [TARGET]},
    ),
    # the accounts: listed before ↓ moves and `b` opens the budget of the account it is on
    "accounts-budget": (
        spelled("A", "down", "b", "'1234.5'", "enter", "'90'", "enter"),
        {"screen": "AccountsScreen", "budgets": [("acme", "1234.50", 90)]},
    ),
    # `enter` on an account shows its apps; the filter then gets the text typed after `/`
    "accounts-then-filter": (
        spelled("A", "down", "down", "enter", "slash", "'-1'"),
        {"screen": "MainScreen", "focus": "filter", "account": "globex"},
    ),
    # the signals: listed before `enter` goes to the first one's app
    "signals-enter": (spelled("exclamation_mark", "enter"), {"screen": "MainScreen", "focus": "apps"}),
    # the modify form: its options are loaded before the keys that choose among them
    "modify-form": (
        spelled("slash", f"'{TARGET}'", "enter", "m", "shift+tab", "shift+tab", "enter", "down", "enter"),
        {"screen": "ChangeForm", "focus": "history_days"},
    ),
}


@pytest.mark.parametrize("scenario", list(SCENARIOS))
async def test_a_burst_does_what_the_keys_typed_one_by_one_do(tmp_path, scenario):
    keys, expected = SCENARIOS[scenario]
    slow = await run(tmp_path, "slow", keys, at_once=False)
    burst = await run(tmp_path, "burst", keys, at_once=True)
    assert burst == slow
    assert {k: burst[k] for k in expected} == expected, burst


async def test_the_bulk_halt_burst_halts_exactly_the_marked_apps(tmp_path):
    """The three apps marked at the top of the table, and no other, change (refused if halted)."""
    keys, _ = SCENARIOS["bulk-halt-then-filter"]
    before = await run(tmp_path, "before", [], at_once=True)
    after = await run(tmp_path, "after", keys, at_once=True)
    top = sorted(before["status"])[:3]
    assert {a for a in after["status"] if after["status"][a] != before["status"][a]} == {
        a for a in top if before["status"][a] == "active"
    }
    assert all(after["status"][a] == "deactivated" for a in top)
    assert after["filter"] == str(FIRST)


async def test_keys_typed_during_a_halt_wait_for_it(env):
    """`z` typed right behind the halt's confirmation reactivates the app once the halt is done
    (typed slowly it would be; routed at once it would be refused: nothing halted yet)."""
    await env.demo(apps=10)
    app = env.make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await caught_up(pilot)
        for k in spelled("slash", f"'{FIRST + 3}'", "enter", "h", "shift+tab", "'x'", "enter", "enter"):
            app.post_message(key(k))
        app.post_message(key("z"))
        await caught_up(pilot)
        assert (await env.services.apps.show(FIRST + 3)).status == "active"
        trail = [e.action for e in await env.services.audit.trail(FIRST + 3, 10)]
        assert trail[:2] == ["reactivate", "halt"]


async def test_a_paste_is_typed_key_by_key(env):
    """A paste is the keys it contains: on the table `/ID⏎h` opens that app's halt."""
    await env.demo(apps=30)
    app = env.make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await caught_up(pilot)
        app.post_message(events.Paste(f"/{TARGET}\nh"))
        await caught_up(pilot)
        assert isinstance(app.screen, HaltDialog)
        assert [t.app_id for t in app.screen.targets] == [TARGET]


def test_pasted_text_becomes_keys_without_escape_sequences():
    keys = keys_of("/14\r\nh\x1b[Zr a\x1b]0;title\x07\x1bOQ\t\x01")
    assert [k.key for k in keys] == ["slash", "1", "4", "enter", "h", "r", "space", "a", "tab"]


async def test_keys_typed_during_start_up_reach_the_fleet(env):
    """Keys that arrive before the fleet is shown wait for it (a ⏎ typed before the terminal
    left line mode arrives as a line feed, ctrl+j: it is an enter)."""
    await env.demo(apps=30)
    app = env.make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        for k in spelled("slash", f"'{TARGET}'", "ctrl+j", "h"):
            app.post_message(key(k))
        await caught_up(pilot)
        assert isinstance(app.screen, HaltDialog)
        assert [t.app_id for t in app.screen.targets] == [TARGET]


# the imports name every screen a scenario ends on
assert {AuditScreen, BillsScreen, ChangeForm, HaltDialog, MainScreen, ResultsScreen}
