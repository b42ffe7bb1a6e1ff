"""Command palette providers: apps by ID or name (jump, halt, upgrade, modify) and screens."""

from __future__ import annotations

from functools import partial

from textual.command import Hit, Hits, Provider

MAX_HITS = 20
"""Results are capped so the palette stays fast with 100,000 apps."""


class AppCommands(Provider):
    """The command palette's apps: typing an ID or a name jumps to that app."""

    async def search(self, query: str) -> Hits:
        query = query.strip().lower()
        if not query:
            return
        try:
            main = self.app.main
        except LookupError:
            return
        model = main.model
        matcher = self.matcher(query)
        found = 0
        index = model.index()
        for i, row in enumerate(model.rows):
            if query not in index[i]:
                continue
            found += 1
            label = f"{row.app_id} {row.name} ({row.account}, {row.edition}, {row.status})"
            yield Hit(
                1.0,
                matcher.highlight(f"Go to {label}"),
                partial(self._jump, row.app_id),
                help="put the cursor on this app",
            )
            if row.status == "active":
                yield Hit(
                    0.9,
                    matcher.highlight(f"Halt {label}"),
                    partial(self._halt, row),
                    help="deactivate now (asks to confirm)",
                )
            if row.status == "deactivated":
                yield Hit(0.9, matcher.highlight(f"Reactivate {label}"), partial(main.reactivate, [row.app_id]))
            if row.edition == "trial" and row.status == "active":
                yield Hit(0.8, matcher.highlight(f"Upgrade {label}"), partial(main.open_change_form, "upgrade", [row]))
            elif row.status == "active":
                yield Hit(0.8, matcher.highlight(f"Modify {label}"), partial(main.open_change_form, "modify", [row]))
            if found >= MAX_HITS:
                return

    def _jump(self, app_id: int) -> None:
        self.app.main.focus_app(app_id)

    def _halt(self, row) -> None:
        self.app.main.focus_app(row.app_id)
        self.app.main.start_halt([row])


class ScreenCommands(Provider):
    """The command palette's screens (bills, audit, help...), found by name."""

    SCREENS = (
        ("Bills", "issued months and the open month", "open_bills"),
        ("Audit trail", "who did what, when", "open_audit"),
        ("Help", "every key of this screen", "action_help"),
    )

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, help_text, method in self.SCREENS:
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), getattr(self.app, method), help=help_text)
