"""A virtual table of apps: only the visible lines are rendered (Textual's Line API), so it
stays instant with 100,000 rows. It displays a `FleetModel` and sends messages up."""

from __future__ import annotations

from dataclasses import dataclass, replace

from rich.segment import Segment
from textual import events
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from imtui.ui import format as fmt
from imtui.ui.fleet_model import FleetModel


@dataclass(frozen=True)
class Column:
    """One column of the fleet table: its key, title, width and how it is aligned."""

    key: str
    title: str
    width: int
    right: bool = False


COLUMNS = (
    Column("mark", " ", 1),
    Column("app_id", "SDKAppID", 10),
    Column("name", "Name", 20),
    Column("account", "Account", 12),
    Column("edition", "Edition", 8),
    Column("status", "Status", 8),
    Column("live_groups", "Live", 9, True),
    Column("groups_per_user", "Grp/usr", 7, True),
    Column("members_per_group", "Mem/grp", 7, True),
    Column("headroom", "Headroom", 12, True),
    Column("month_to_date", "MTD $", 11, True),
    Column("projected", "Projected $", 11, True),
)
GAP = 2
"""Blank columns between two columns, so neighbouring titles never read as one."""
ESSENTIAL = ("mark", "app_id", "name", "status", "headroom", "month_to_date", "projected")
"""Always in view, at any width down to 80 columns (tui.md, Qualities)."""
GIVE_WAY = ("edition", "account", "live_groups", "groups_per_user", "members_per_group")
"""The other columns, kept in view in this order while they fit: the last gives way first."""
NAME_MIN = 12


@dataclass(frozen=True)
class Layout:
    """The columns in their order on screen and the blank columns between them."""

    columns: tuple[Column, ...]
    gap: int = GAP

    @property
    def width(self) -> int:
        return sum(c.width + self.gap for c in self.columns)


def layout_for(width: int) -> Layout:
    """All columns when they fit; else the essential ones and those of `GIVE_WAY` that fit, in
    their usual order, then the rest (reachable by scrolling). Too narrow for that, the name
    column shrinks (not below `NAME_MIN`) and one blank separates the columns."""
    full = Layout(COLUMNS)
    if full.width <= width:
        return full
    kept = set(ESSENTIAL)
    for key in GIVE_WAY:
        if Layout(_in_view(kept | {key})).width > width:
            break
        kept.add(key)
    shown = _in_view(kept)
    gap = GAP if Layout(_in_view(kept, NAME_MIN)).width <= width else 1
    name = max(NAME_MIN, min(20, width - (Layout(shown, gap).width - 20)))
    return Layout(_in_view(kept, name) + tuple(c for c in COLUMNS if c.key not in kept), gap)


def _in_view(keys: set[str], name: int = 20) -> tuple[Column, ...]:
    return tuple(replace(c, width=name) if c.key == "name" else c for c in COLUMNS if c.key in keys)


class AppTable(ScrollView, can_focus=True):
    """The fleet table. Keys move the cursor; marks and actions are the screen's bindings.

    Messages: `CursorMoved` (the app under the cursor changed), `SortRequested` (a header
    was clicked).
    """

    BINDINGS = [
        Binding("up", "cursor(-1)", "Up", show=False, id="table.up"),
        Binding("down", "cursor(1)", "Down", show=False, id="table.down"),
        Binding("pageup", "page(-1)", "Page up", show=False, id="table.page_up"),
        Binding("pagedown", "page(1)", "Page down", show=False, id="table.page_down"),
        Binding("home", "edge(0)", "First", show=False, id="table.first"),
        Binding("end", "edge(1)", "Last", show=False, id="table.last"),
    ]
    COMPONENT_CLASSES = {
        "app-table--header",
        "app-table--cursor",
        "app-table--marked",
        "app-table--halted",
        "app-table--purged",
    }

    cursor = reactive(0, always_update=True, init=False)
    headroom_loaded = False
    """Whether the headroom figures have been read (until then the column shows "…")."""
    plain = reactive(False)
    """Status without symbols that need a Unicode font (NO_COLOR terminals keep the words)."""

    class CursorMoved(Message):
        def __init__(self, app_id: int | None) -> None:
            super().__init__()
            self.app_id = app_id

    class SortRequested(Message):
        def __init__(self, key: str) -> None:
            super().__init__()
            self.key = key

    def __init__(self, model: FleetModel, **kwargs) -> None:
        super().__init__(**kwargs)
        self.model = model
        self._layout: Layout | None = None
        self._layout_width = -1

    # --- data in --------------------------------------------------------------------------------

    @property
    def layout(self) -> Layout:
        """The columns for this width (the scrollbar's column kept free, so its coming and
        going never changes them)."""
        width = max(self.outer_size.width - 1, 0)
        if self._layout is None or self._layout_width != width:
            self._layout, self._layout_width = layout_for(width), width
        return self._layout

    def on_resize(self, event: events.Resize) -> None:
        self.refresh_rows()

    def refresh_rows(self, keep_app: int | None = None) -> None:
        """Call after the model changed: resizes the virtual area and keeps the cursor's app."""
        self.virtual_size = Size(self.layout.width, len(self.model.view) + 1)
        if keep_app is not None:
            found = self.model.find(keep_app)
            if found is not None:
                self.cursor = found
        self.cursor = min(self.cursor, max(len(self.model.view) - 1, 0))
        self.refresh()

    @property
    def cursor_app(self) -> int | None:
        row = self.model.row(self.cursor)
        return row.app_id if row else None

    # --- cursor ---------------------------------------------------------------------------------

    def watch_cursor(self, old: int, new: int) -> None:
        body = max(self.size.height - 1, 1)
        top = self.scroll_offset.y
        if new < top:
            self.scroll_to(y=new, animate=False, immediate=True)
        elif new >= top + body:
            self.scroll_to(y=new - body + 1, animate=False, immediate=True)
        self.refresh()
        self.post_message(self.CursorMoved(self.cursor_app))

    def _move_to(self, index: int) -> None:
        self.cursor = max(0, min(index, len(self.model.view) - 1))

    def action_cursor(self, step: int) -> None:
        self._move_to(self.cursor + step)

    def action_page(self, direction: int) -> None:
        self._move_to(self.cursor + direction * max(self.size.height - 2, 1))

    def action_edge(self, end: int) -> None:
        self._move_to(len(self.model.view) - 1 if end else 0)

    def on_click(self, event: events.Click) -> None:
        if event.y == 0:
            x = event.x + self.scroll_offset.x
            layout = self.layout
            for col in layout.columns:
                if x < col.width + layout.gap:
                    if col.key != "mark":
                        self.post_message(self.SortRequested(col.key))
                    return
                x -= col.width + layout.gap
            return
        self._move_to(self.scroll_offset.y + event.y - 1)

    # --- rendering ------------------------------------------------------------------------------

    def _cells(self, row) -> dict[str, str]:
        marked = row.app_id in self.model.marked
        return {
            "mark": "*" if marked else " ",
            "app_id": str(row.app_id),
            "name": fmt.printable(row.name),
            "account": fmt.printable(row.account),
            "edition": row.edition,
            "status": fmt.status(row.status, self.plain),
            "live_groups": fmt.setting(row.live_groups),
            "groups_per_user": str(row.groups_per_user),
            "members_per_group": str(row.members_per_group),
            "headroom": fmt.headroom(row.headroom, row.status, self.headroom_loaded),
            "month_to_date": fmt.money(row.month_to_date, "…"),
            "projected": fmt.money(row.projected, "…"),
        }

    def _line(self, cells: dict[str, str]) -> str:
        layout = self.layout
        parts = []
        for col in layout.columns:
            text = cells[col.key]
            text = text if len(text) <= col.width else text[: col.width - 1] + "…"
            parts.append(text.rjust(col.width) if col.right else text.ljust(col.width))
        return (" " * layout.gap).join(parts) + " " * layout.gap

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.size.width
        base = self.rich_style
        if y == 0:
            titles = {}
            for col in COLUMNS:
                title = col.title
                if col.key == self.model.sort_key:
                    title += "▼" if self.model.sort_reverse else "▲"
                titles[col.key] = title
            style = base + self.get_component_rich_style("app-table--header")
            text = self._line(titles)
        else:
            index = scroll_y + y - 1
            row = self.model.row(index)
            if row is None:
                return Strip.blank(width, base)
            style = base
            if row.status == "deactivated":
                style += self.get_component_rich_style("app-table--halted")
            elif row.status == "purged":
                style += self.get_component_rich_style("app-table--purged")
            if row.app_id in self.model.marked:
                style += self.get_component_rich_style("app-table--marked")
            if index == self.cursor:
                style += self.get_component_rich_style("app-table--cursor")
            text = self._line(self._cells(row))
        strip = Strip([Segment(text.ljust(max(width + scroll_x, len(text))), style)])
        return strip.crop(scroll_x, scroll_x + width)
