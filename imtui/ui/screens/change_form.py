"""Upgrade (trial apps) and modify feature configuration (pro and flagship apps), one or many.

The form offers only the values the chosen edition has, shows locked items with the date they
unlock, and previews before → after with this month's cost and the new monthly price per app.
"""

from __future__ import annotations

from decimal import Decimal

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, DataTable, Label, Select, Static

from imtui.domain.budgets import BudgetStatus, over_budget
from imtui.domain.changes import ChangeRequest
from imtui.domain.editions import OFFERED, PAID_EDITIONS, label
from imtui.domain.errors import ImtuiError
from imtui.services.fleet import FleetRow
from imtui.services.models import AppView, BulkResult, result_kind
from imtui.ui import format as fmt
from imtui.ui.equivalent import CommandBox, change_command

KEEP = "keep"
VALUE_FIELDS = ("live_groups", "groups_per_user", "members_per_group", "history_days")
TITLES = {
    "live_groups": "Live-broadcast groups",
    "groups_per_user": "Groups per user",
    "members_per_group": "Members per group",
    "history_days": "History retention (days)",
}
BUDGET_LINES = 4
"""Budgets a preview holds the change against, at most (the rest are counted)."""


class ChangeForm(ModalScreen):
    """Choose the new package, see what it costs, confirm or cancel."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="form.cancel"),
        Binding("f2", "confirm", "Confirm", id="form.confirm"),
    ]

    def __init__(self, kind: str, targets: list[FleetRow], request: ChangeRequest | None = None) -> None:
        super().__init__()
        self.kind = kind
        self.targets = targets
        self.views: dict[int, AppView] = {}
        self.request = ChangeRequest()
        self.initial = request
        """Values to fill the form with (accepted review suggestions)."""
        self._budgets: list[BudgetStatus] | None = None
        """The budgets and this month's figures, read at the first preview."""

    def compose(self) -> ComposeResult:
        n = len(self.targets)
        what = "Upgrade" if self.kind == "upgrade" else "Modify feature configuration of"
        with Vertical(id="dialog", classes="form"):
            yield Label(f"{what} {n} app{'s' if n > 1 else ''}", classes="dialog-title")
            if self.kind == "upgrade":
                yield Static(
                    "⚠ Irreversible: an upgraded app can never return to trial "
                    "(create a new app to use trial again). Fees apply by day from today.",
                    classes="warning",
                )
            editions = [(e, e) for e in PAID_EDITIONS]
            if self.kind == "modify":
                editions = [("keep current", KEEP)] + editions
            with Horizontal(classes="field"):
                yield Label("Edition", classes="field-label")
                yield Select(editions, value=editions[0][1], allow_blank=False, id="edition", compact=True)
            for item in VALUE_FIELDS:
                with Horizontal(classes="field"):
                    yield Label(TITLES[item], classes="field-label")
                    yield Select([(self._keep_label, KEEP)], value=KEEP, allow_blank=False, id=item, compact=True)
                    yield Label("", id=f"lock-{item}", classes="lock")
            yield DataTable(id="preview", cursor_type="row", zebra_stripes=False)
            yield Static("", id="preview-total", markup=False)
            with CommandBox():  # the whole equivalent command; a long one scrolls
                yield Static("", id="command", classes="command", markup=False)
            with Horizontal(classes="buttons"):
                yield Button("Cancel", id="cancel", compact=True)
                yield Button("Confirm (F2)", id="confirm", variant="warning", compact=True)

    @property
    def _keep_label(self) -> str:
        return "keep current" if self.kind == "modify" else "edition default"

    def on_mount(self) -> None:
        table = self.query_one("#preview", DataTable)
        table.add_columns("App", "This month", "Monthly", "Change")
        self.query_one("#cancel", Button).focus()
        self.load_views()

    @work(exclusive=True, group="form-load")
    async def load_views(self) -> None:
        try:
            views = await self.app.services.apps.views([t.app_id for t in self.targets])
        except ImtuiError as exc:
            self.app.notify(exc.message, severity="error")
            return
        self.views = {v.app_id: v for v in views}
        self._rebuild_options()
        if self.initial is not None:
            self._fill(self.initial)

    def _fill(self, request: ChangeRequest) -> None:
        """Puts a request's values into the form (each one the form offers)."""
        if request.edition is not None:
            self.query_one("#edition", Select).value = request.edition
            self._rebuild_options()
        values = {
            "live_groups": None
            if request.live_unlimited is None
            else _encode(None if request.live_unlimited else _limited_live(request.edition or self._current_edition())),
            "groups_per_user": request.groups_per_user,
            "members_per_group": request.members_per_group,
            "history_days": request.history_days,
        }
        for item, value in values.items():
            if value is None:
                continue
            select = self.query_one(f"#{item}", Select)
            wanted = value if isinstance(value, str) else _encode(value)
            if any(option == wanted for _, option in select._options):
                select.value = wanted
        self._request_changed()

    def _current_edition(self) -> str:
        editions = {v.edition for v in self.views.values()} or {t.edition for t in self.targets}
        return sorted(editions)[0]

    def _edition(self) -> str | None:
        value = self.query_one("#edition", Select).value
        return None if value == KEEP else str(value)

    def _rebuild_options(self) -> None:
        """Offers only the target edition's values; a locked item shows when it unlocks."""
        chosen = self._edition()
        editions = {chosen} if chosen else {v.edition for v in self.views.values()} or {t.edition for t in self.targets}
        editions &= set(PAID_EDITIONS)
        for item in VALUE_FIELDS:
            select = self.query_one(f"#{item}", Select)
            values = None
            for edition in editions:
                offered = OFFERED[edition][item]
                values = list(offered) if values is None else [v for v in values if v in offered]
            options = [(self._keep_label, KEEP)]
            options += [(label(item, v), _encode(v)) for v in values or []]
            previous = select.value
            select.set_options(options)
            select.value = previous if any(o[1] == previous for o in options) else KEEP
            locks = sorted({v.unlock_dates[item] for v in self.views.values() if item in v.unlock_dates})
            text = ""
            if locks and self.kind == "modify":
                every = all(item in v.unlock_dates for v in self.views.values())
                text = f"🔒 {'locked' if every else 'some'} until {locks[0]}"
            self.query_one(f"#lock-{item}", Label).update(text)
        self._request_changed()

    @on(Select.Changed, "#edition")
    def edition_changed(self) -> None:
        self._rebuild_options()

    @on(Select.Changed)
    def value_changed(self, event: Select.Changed) -> None:
        if event.select.id != "edition":
            self._request_changed()

    def _request_changed(self) -> None:
        values = {}
        for item in VALUE_FIELDS:
            value = self.query_one(f"#{item}", Select).value
            if value != KEEP:
                values[item] = _decode(str(value))
        live = values.pop("live_groups", KEEP)
        self.request = ChangeRequest(
            edition=self._edition(),
            live_unlimited=None if live == KEEP else live is None,
            **values,
        )
        command = change_command(self.kind, (t.app_id for t in self.targets), self.request)
        self.query_one("#command", Static).update(command)  # every ID: it runs as printed
        self.preview()

    @work(exclusive=True, group="form-preview")
    async def preview(self) -> None:
        try:
            previews = await self.app.services.changes.preview(
                self.kind, [t.app_id for t in self.targets], self.request
            )
        except ImtuiError as exc:
            self.query_one("#preview-total", Static).update(exc.message)
            return
        table = self.query_one("#preview", DataTable)
        table.clear()
        month_delta = monthly_delta = 0
        ok = 0
        for p in previews:
            if p.error:
                table.add_row(str(p.app_id), "-", "-", fmt.plain(f"✕ {p.error}"))
                continue
            ok += 1
            month_delta += p.this_month_delta
            monthly_delta += p.monthly_after - p.monthly_before
            table.add_row(
                str(p.app_id),
                f"{fmt.money(p.this_month_before)} → {fmt.money(p.this_month_after)}",
                f"{fmt.money(p.monthly_before)} → {fmt.money(p.monthly_after)}",
                fmt.plain(p.changes),
            )
        total = (
            f"{ok} of {len(previews)} can change · this month {'+' if month_delta >= 0 else ''}"
            f"{fmt.money(month_delta)} · monthly {'+' if monthly_delta >= 0 else ''}{fmt.money(monthly_delta)}"
        )
        lines = [Text(total), *await self._budget_lines(previews)]
        self.query_one("#preview-total", Static).update(Text("\n").join(lines))

    async def _budget_lines(self, previews) -> list[Text]:
        """The change against the budgets it touches (its accounts' and the fleet's): its rise a
        month and this month's projection before → after, with a warning when that goes over
        the budget (signals.md §6). Over ones first, at most `BUDGET_LINES`."""
        account_of = {t.app_id: t.account for t in self.targets}
        this_month: dict[str | None, Decimal] = {}
        monthly: dict[str | None, Decimal] = {}
        for p in previews:
            if not p.error:
                for subject in (account_of.get(p.app_id), None):
                    this_month[subject] = this_month.get(subject, Decimal(0)) + p.this_month_delta
                    monthly[subject] = monthly.get(subject, Decimal(0)) + p.monthly_after - p.monthly_before
        if self._budgets is None:  # read once a form: every choice previews again
            try:
                self._budgets = await self.app.services.budgets.list()
            except ImtuiError:
                return []  # the preview stands without them
        judged = [(b, over_budget(b, this_month[b.account])) for b in self._budgets if b.account in this_month]
        judged.sort(key=lambda j: not j[1])  # over ones first
        lines = [
            Text(
                fmt.budget_line(b, this_month[b.account], monthly[b.account], over, over_budget(b, Decimal(0))),
                style="bold" if over else "",
            )
            for b, over in judged[:BUDGET_LINES]
        ]
        if len(judged) > BUDGET_LINES:
            more = judged[BUDGET_LINES:]
            lines.append(Text(f"… and {len(more)} more budgets, {sum(1 for _, over in more if over)} of them over"))
        return lines

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed, "#confirm")
    def action_confirm(self) -> None:
        if self.kind == "upgrade" and self.request.edition is None:
            self.app.notify("choose pro or flagship", severity="warning")
            return
        self.submit(self.request)

    @work(exclusive=True, group="form-submit")
    async def submit(self, request: ChangeRequest) -> None:
        """Applies the change app by app, then hands every app's outcome back (dismiss)."""
        changes = self.app.services.changes
        call = changes.upgrade if self.kind == "upgrade" else changes.modify
        results: list[BulkResult] = []
        for i, target in enumerate(self.targets, 1):
            version = self.views[target.app_id].version if target.app_id in self.views else None
            try:
                outcome = await call(target.app_id, request, expected_version=version)
                note = "nothing to change" if outcome.nothing_to_change else None
                results.append(BulkResult(target.app_id, True, note, 0, outcome.app))
            except ImtuiError as exc:
                # the platform never acted (did not answer): "not done", not refused
                results.append(BulkResult(target.app_id, False, exc.message, exc.exit_code, kind=result_kind(exc)))
            self.query_one("#preview-total", Static).update(f"applying {i}/{len(self.targets)}…")
        self.dismiss(results)


def _limited_live(edition: str) -> int | None:
    """The limited live-groups setting an edition offers (None when it offers only unlimited)."""
    return next((v for v in OFFERED[edition]["live_groups"] if v is not None), None)


def _encode(value: int | None) -> str:
    return "unlimited" if value is None else str(value)


def _decode(value: str) -> int | None:
    return None if value == "unlimited" else int(value)
