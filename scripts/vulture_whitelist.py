"""Names vulture (`[tool.vulture]` in pyproject.toml) cannot see used: each is read by a framework,
by name at run time, or by the tests. Never imported or run; vulture only reads it. Names that
frameworks call by convention everywhere (Textual's `compose`, `on_*`, `action_*`, ...) are in
`ignore_names` there instead."""

from imtui.clock import FixedClock
from imtui.domain.headroom import WindowPeaks
from imtui.exposition import SnapshotCollector
from imtui.persistence import tables
from imtui.persistence.repos.bills import StoredLine
from imtui.services.use_case import use_case
from imtui.simulator.store import Operation
from imtui.ui.screens.main import MainScreen
from imtui.ui.typeahead import KeysInOrder

# columns written and read by name in SQL (the table definitions are the schema)
tables.MonthPlanRow
tables.MonthDraft.drafted_at
tables.BillLineRow.unit_price_cents
tables.IntentRow.settled_at
tables.NotificationRow.notified_at
StoredLine.unit_price_cents  # a bill line's columns, in the table's order

# read by name: `WindowPeaks.of(figure)`; the simulator's JSON answer (`dataclasses.asdict`)
WindowPeaks.max_groups_per_user
WindowPeaks.max_members_per_group
WindowPeaks.other_groups
Operation.replayed

# Textual: cost workers started by `getattr(self, f"_costs_{scope}")`; the signature of `check_action`
MainScreen._costs_cursor
MainScreen._costs_marked
MainScreen._costs_fleet
MainScreen.check_action.parameters
KeysInOrder._settling  # holds the settling task, so it is not collected while it runs

# read by the tests (and the benches) only
FixedClock.advance
SnapshotCollector.reads
KeysInOrder.keys_waiting
use_case.__use_case__  # each use case's declared needs (tests/services/test_use_cases.py)
