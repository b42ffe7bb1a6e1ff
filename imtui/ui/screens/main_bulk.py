"""The applications screen's operations (mixed into `MainScreen`): the halt flow (confirm, halt,
report, offer the way back), reactivation, and the upgrade and modify forms, each ending in one
result list."""

from __future__ import annotations

from textual import work

from imtui.domain.errors import ImtuiError
from imtui.services.fleet import FleetRow
from imtui.services.models import BulkResult, result_kind
from imtui.ui.fleet_model import FleetModel


class Operations:
    """Halt, reactivate, upgrade and modify of the targets (`MainScreen` holds the state)."""

    model: FleetModel
    last_halted: list[int]
    """The apps the last halt stopped (`z` reactivates them)."""

    def start_halt(self, targets: list[FleetRow], hidden_marked: int = 0) -> None:
        """Asks to confirm halting exactly these apps (focus on Cancel)."""
        from imtui.ui.screens.halt import HaltDialog

        if self.app.refuse_unless_allowed("halt") or not targets:
            return
        self.app.push_screen(HaltDialog(targets, hidden_marked), self._halt_confirmed)

    def _halt_confirmed(self, result: tuple[list[int], str] | None) -> None:
        if result:
            app_ids, reason = result
            self.halt(app_ids, reason)

    @work(group="operations")
    async def halt(self, app_ids: list[int], reason: str) -> None:
        lifecycle = self.app.services.lifecycle
        results = await self._bulk("Halting", lambda progress: lifecycle.halt(app_ids, reason, progress))
        done = [r.app_id for r in results or () if r.ok]
        if done:
            self.last_halted = done
            self.refresh_bindings()
            self.app.notify(
                f"halted {len(done)} app{'s' if len(done) > 1 else ''}: "
                f"{', '.join(map(str, done[:5]))}{'…' if len(done) > 5 else ''}. "
                "Press z to reactivate them.",
                title="Halted",
                timeout=30,
            )

    def confirm_reactivate(self, app_ids: list[int]) -> None:
        """Asks to confirm reactivating these apps (a signal's remedy: the list it was chosen
        from is not the app itself), then reactivates them."""
        from imtui.ui.screens.reactivate import ReactivateDialog

        targets = [row for a in app_ids if (row := self.model.row_of(a)) is not None]
        if self.app.refuse_unless_allowed("reactivate") or not targets:
            return

        def confirmed(ids: list[int] | None) -> None:
            if ids:
                self.reactivate(ids)

        self.app.push_screen(ReactivateDialog(targets), confirmed)

    @work(group="operations")
    async def reactivate(self, app_ids: list[int]) -> None:
        if self.app.refuse_unless_allowed("reactivate") or not app_ids:
            return
        lifecycle = self.app.services.lifecycle
        results = await self._bulk("Reactivating", lambda progress: lifecycle.reactivate(app_ids, progress))
        if results and all(r.ok for r in results):
            n = len(results)
            self.app.notify(f"reactivated {n} app{'s' if n > 1 else ''}", title="Reactivated")

    async def _bulk(self, verb: str, call) -> list[BulkResult] | None:
        """Runs a bulk operation showing progress, then the result list (or a notice for one)."""

        def progress(done: int, total: int) -> None:
            self.show_progress(f"{verb} {done}/{total}…" if done < total else "")

        self.show_progress(f"{verb}…")
        try:
            results = await call(progress)
        except ImtuiError as exc:
            kind = result_kind(exc)  # the platform did not answer: "not done", not refused
            self.app.notify(
                exc.message, severity="error", title=f"{verb} {kind}" if kind == "refused" else f"{verb}: {kind}"
            )
            return None
        finally:
            self.show_progress("")
        self.show_results(verb, results)
        if any(r.outcome == "not done" for r in results):
            self.load_drift()  # the summary says since when at once
        return results

    def show_results(self, verb: str, results: list[BulkResult], list_refusals: bool = False, then=None) -> None:
        """After an operation: reload what changed; list every app's outcome (also one refused
        app's, with `list_refusals`), or say it in one notice. `then` runs after that."""
        from imtui.ui.screens.results import ResultsScreen

        self.load_changes()
        failed = [r for r in results if not r.ok]
        if len(results) > 1 or (failed and list_refusals):
            kinds = [r.outcome for r in failed]
            title = f"{verb}: {len(results) - len(failed)} done, {kinds.count('refused')} refused" + "".join(
                f", {kinds.count(k)} {k}" for k in ("not done", "not known yet") if k in kinds
            )
            self.app.push_screen(ResultsScreen(title, results), (lambda _: then()) if then else None)
            return
        elif failed:
            self.app.notify(
                failed[0].error or "refused",
                severity="error",
                title=f"{verb} refused" if failed[0].outcome == "refused" else f"{verb}: {failed[0].outcome}",
            )
        elif results and list_refusals:  # one app changed: say so (or that nothing changed)
            self.app.notify(f"app {results[0].app_id}: {results[0].error or 'done'}", title=verb.capitalize())
        if then is not None:
            then()

    def open_change_form(self, kind: str, targets: list[FleetRow], request=None, then=None) -> None:
        """The upgrade or modify form for the targets (filled in with `request` when given);
        `then` runs once it is closed."""
        from imtui.ui.screens.change_form import ChangeForm

        if self.app.refuse_unless_allowed(kind) or not targets:
            return

        def done(results: list[BulkResult] | None) -> None:
            if results is not None:
                self.show_results(kind, results, list_refusals=True, then=then)
            elif then is not None:
                then()

        self.app.push_screen(ChangeForm(kind, targets, request), done)
