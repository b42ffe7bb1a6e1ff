"""The applications table's state: rows, filter, sort and marks. Plain Python, no widgets.

Rows are light tuples (`FleetRow`); filtering and sorting produce a list of row indexes, and
marks are a set of app IDs, so they survive any filter, sort or reload.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from itertools import compress, repeat
from operator import contains, itemgetter

from imtui.domain.headroom import AT_LIMIT, NEAR, OVER_QUOTA, SUGGESTS
from imtui.services.fleet import AFTER_COSTS, BEFORE_COSTS, BEFORE_HEADROOM, HEADROOM, FleetRow

STATUS_FILTERS = (None, "active", "deactivated", "purged")
EDITION_FILTERS = (None, "trial", "pro", "flagship")
#: The usage quick filter: its name and the headroom flag it keeps.
USAGE_FILTERS: dict[str | None, int] = {
    None: 0,
    "near a limit or quota": NEAR,
    "at a limit": AT_LIMIT,
    "over quota": OVER_QUOTA,
    "has a suggestion": SUGGESTS,
}


def _getter(name: str) -> Callable[[FleetRow], object]:
    """A row's field by name, as a C-level getter (rows are tuples)."""
    return itemgetter(FleetRow._fields.index(name))


def _field(name: str) -> Callable[[list[FleetRow]], list]:
    get = _getter(name)
    return lambda rows: list(map(get, rows))


def _lowered(name: str) -> Callable[[list[FleetRow]], list]:
    get = _getter(name)
    return lambda rows: list(map(str.lower, map(get, rows)))


def _number(name: str, missing: float = 0.0) -> Callable[[list[FleetRow]], list[float]]:
    """As floats: Python sorts a list of floats several times faster than of Decimals or of
    large ints, and the order is the same (exact for integers below 2**53 and for money)."""
    get = _getter(name)
    return lambda rows: [missing if v is None else float(v) for v in map(get, rows)]


def _headroom(rows: list[FleetRow]) -> list[float]:
    return [-2.0 if h is None else h.ratio for h in map(_getter("headroom"), rows)]


#: Sortable columns: column name -> every row's sort key, in row order. Keys are made a column at
#: a time, then the row indexes are sorted by them (no Python call per comparison).
SORT_KEYS: dict[str, Callable[[list[FleetRow]], list]] = {
    "app_id": _number("app_id"),
    "name": _lowered("name"),
    "account": _lowered("account"),
    "edition": _field("edition"),
    "status": _field("status"),
    "live_groups": _number("live_groups", float("inf")),
    "groups_per_user": _field("groups_per_user"),
    "members_per_group": _field("members_per_group"),
    "headroom": _headroom,
    "month_to_date": _number("month_to_date", -1.0),
    "projected": _number("projected", -1.0),
}


class FleetModel:
    """The fleet table's rows and what the user did to their view: filters, sort and marks."""

    def __init__(self) -> None:
        self.rows: list[FleetRow] = []
        self.position: dict[int, int] = {}
        self.view: list[int] = []
        """Indexes into `rows` of the rows the filter lets through, in sort order."""
        self.marked: set[int] = set()
        self.text = ""
        self.status: str | None = None
        self.edition: str | None = None
        self.account: str | None = None
        """Only this account's apps (chosen on the Accounts screen; None: every account)."""
        self.usage: str | None = None
        """The usage quick filter (a key of USAGE_FILTERS)."""
        self.marked_only = False
        self.drifted: set[int] | None = None
        """Apps the platform runs otherwise than their status says (None: not known)."""
        self.drift_only = False
        self.sort_key = "app_id"
        self.sort_reverse = False
        self._search: list[str] | None = None
        self._indexes: list[int] = []
        """0, 1, 2, ... one per row (the `position` dict's own ints): a filter picks from it
        instead of making hundreds of thousands of new ints at every keystroke."""
        self._orders: dict[tuple[str, bool], list[int]] = {}
        """Every row's index in a sort's order, by (sort key, reversed): a filter keystroke keeps
        the sorted rows it lets through instead of sorting them again. Dropped when rows change
        (costs and headroom: only their own columns' orders)."""

    # --- data -----------------------------------------------------------------------------------

    def set_rows(self, rows: list[FleetRow]) -> None:
        self.rows = rows
        self.position = {r.app_id: i for i, r in enumerate(rows)}
        self._indexes = list(self.position.values())
        self._search = None  # built when first filtered by text (or when idle: `index`)
        self._orders.clear()
        self.marked &= self.position.keys()
        self.apply()

    def update_rows(self, rows: Iterable[FleetRow]) -> None:
        """Replaces changed rows in place, appends new apps, and re-applies filter and sort."""
        search = self._search
        self._orders.clear()
        for row in rows:
            i = self.position.get(row.app_id)
            key = _search_key(row) if search is not None else None
            if i is None:
                self.position[row.app_id] = i = len(self.rows)
                self._indexes.append(i)
                self.rows.append(row)
                if search is not None:
                    search.append(key)
            else:
                if row.headroom is None and row.status == "active":
                    row = row._replace(headroom=self.rows[i].headroom)  # until read again
                self.rows[i] = row
                if search is not None:
                    search[i] = key
        self.apply()

    def index(self) -> list[str]:
        """What a text filter looks in, row by row (ID, name, account), built once."""
        if self._search is None:
            self._search = [_search_key(r) for r in self.rows]
        return self._search

    def set_costs(self, costs: dict) -> None:
        """Fills in month-to-date and projected cost by app ID (rows are replaced, not mutated)."""
        rows, position, make = self.rows, self.position, tuple.__new__  # per app: kept lean
        self._drop_orders("month_to_date", "projected")
        for app_id, figures in costs.items():
            i = position.get(app_id)
            if i is not None:
                row = rows[i]
                rows[i] = make(FleetRow, (*row[BEFORE_COSTS], *figures, *row[AFTER_COSTS]))
        if self.sort_key in ("month_to_date", "projected"):
            self.apply()

    def set_headroom(self, headroom: dict) -> None:
        """Fills in each active app's headroom by app ID (apps not listed have none)."""
        rows, make, get = self.rows, tuple.__new__, headroom.get
        self._drop_orders("headroom")
        for i, row in enumerate(rows):
            value = get(row[0])
            if value is not row[HEADROOM]:
                rows[i] = make(FleetRow, (*row[BEFORE_HEADROOM], value))
        if self.sort_key == "headroom" or self.usage is not None:
            self.apply()

    def row(self, view_index: int) -> FleetRow | None:
        if 0 <= view_index < len(self.view):
            return self.rows[self.view[view_index]]
        return None

    def row_of(self, app_id: int) -> FleetRow | None:
        """An app's row, whatever the filter shows."""
        i = self.position.get(app_id)
        return None if i is None else self.rows[i]

    def find(self, app_id: int) -> int | None:
        """Where an app is in the current view."""
        i = self.position.get(app_id)
        if i is None:
            return None
        try:
            return self.view.index(i)
        except ValueError:
            return None

    # --- filter and sort --------------------------------------------------------------------------

    def apply(self) -> None:
        text = self.text.strip().lower()
        rows, marked = self.rows, self.marked
        status, edition, only, account = self.status, self.edition, self.marked_only, self.account
        flag = USAGE_FILTERS[self.usage]
        drifted = (self.drifted or set()) if self.drift_only else None
        if text:  # C loops only: `text in key` for each row, the matching rows' indexes picked
            keep = list(compress(self._indexes, map(contains, self.index(), repeat(text))))
        else:
            keep = self._indexes.copy()
        # one pass per filter that is on, each over what the one before kept
        if status is not None:
            keep = [i for i in keep if rows[i].status == status]
        if edition is not None:
            keep = [i for i in keep if rows[i].edition == edition]
        if account is not None:
            keep = [i for i in keep if rows[i].account == account]
        if only:
            keep = [i for i in keep if rows[i].app_id in marked]
        if flag:
            keep = [i for i in keep if (h := rows[i].headroom) is not None and h.flags & flag]
        if drifted is not None:
            keep = [i for i in keep if rows[i].app_id in drifted]
        self.view = self._in_order(keep)

    def _in_order(self, keep: list[int]) -> list[int]:
        """The kept rows' indexes (in app ID order) in the chosen order."""
        if self.sort_key == "app_id" and not self.sort_reverse:
            return keep
        order = self._order(self.sort_key, self.sort_reverse)
        if len(keep) == len(self.rows):
            return order.copy()
        kept = bytearray(len(self.rows))
        for i in keep:
            kept[i] = 1
        return list(compress(order, map(kept.__getitem__, order)))

    def _order(self, sort_key: str, reverse: bool) -> list[int]:
        """Every row's index in the order of a sort (stable: ties in row order)."""
        order = self._orders.get((sort_key, reverse))
        if order is None:
            keys = SORT_KEYS[sort_key](self.rows)
            order = sorted(range(len(keys)), key=keys.__getitem__, reverse=reverse)
            self._orders[(sort_key, reverse)] = order
        return order

    def prepare_order(self, sort_key: str) -> None:
        """Works a sort's order out before a keystroke asks for it (the dashboard does this for
        the text columns, the slowest to sort, once the fleet is loaded and nothing else runs)."""
        self._order(sort_key, False)

    def _drop_orders(self, *sort_keys: str) -> None:
        """Forgets the orders of columns whose values just changed (the others still hold)."""
        for kept in [k for k in self._orders if k[0] in sort_keys]:
            del self._orders[kept]

    def cycle(self, options: tuple, current):
        return options[(options.index(current) + 1) % len(options)]

    # --- marks ----------------------------------------------------------------------------------

    def toggle(self, app_id: int) -> None:
        self.marked ^= {app_id}

    def mark_range(self, start: int, end: int) -> None:
        lo, hi = sorted((start, end))
        self.marked.update(self.rows[i].app_id for i in self.view[lo : hi + 1])

    def mark_all_filtered(self) -> None:
        self.marked.update(self._view_app_ids())

    def clear_marks(self) -> None:
        self.marked.clear()
        if self.marked_only:
            self.apply()

    def hidden_marked(self) -> int:
        """Marked apps the current filter hides."""
        if not self.marked:
            return 0
        visible = sum(map(self.marked.__contains__, self._view_app_ids()))
        return len(self.marked) - visible

    def _view_app_ids(self) -> Iterable[int]:
        """The app IDs of the view's rows, in view order (lazily, without a Python call each)."""
        return map(_APP_ID, map(self.rows.__getitem__, self.view))

    def marked_rows(self) -> list[FleetRow]:
        return [self.rows[self.position[a]] for a in sorted(self.marked) if a in self.position]


_APP_ID = _getter("app_id")


def _search_key(row: FleetRow) -> str:
    return f"{row.app_id}\x00{row.name.lower()}\x00{row.account.lower()}"
