"""How the command line prints read models: JSON and CSV by the contract, tables for people."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from imtui.domain.calendar import iso_local
from imtui.services.models import AppView, AuditView, BillView, BulkResult

APP_FIELDS = (
    "app_id",
    "name",
    "account",
    "edition",
    "billing",
    "status",
    "live_groups",
    "groups_per_user",
    "members_per_group",
    "history_days",
    "created_at",
    "deactivated_at",
    "purge_at",
    "locked_items",
)
AUDIT_FIELDS = ("at", "actor", "action", "app_id", "result", "detail")
BULK_FIELDS = ("app_id", "ok", "error")
DRY_RUN_FIELDS = (*BULK_FIELDS, "before", "after", "monthly_delta")
BILL_CSV_FIELDS = ("month", "account", "app_id", "item", "setting", "days", "amount")


def money(amount: Decimal) -> str:
    return f"{amount:.2f}"


def app_record(app: AppView, tz: str) -> dict[str, Any]:
    return {
        "app_id": app.app_id,
        "name": app.name,
        "account": app.account,
        "edition": app.edition,
        "billing": app.billing,
        "status": app.status,
        "live_groups": app.live_groups,
        "groups_per_user": app.groups_per_user,
        "members_per_group": app.members_per_group,
        "history_days": app.history_days,
        "created_at": iso_local(app.created_at, tz),
        "deactivated_at": iso_local(app.deactivated_at, tz),
        "purge_at": iso_local(app.purge_at, tz) if app.status == "deactivated" else None,
        "locked_items": list(app.locked_items),
    }


def audit_record(entry: AuditView, tz: str) -> dict[str, Any]:
    return {
        "at": iso_local(entry.at, tz),
        "actor": entry.actor,
        "action": entry.action,
        "app_id": entry.app_id,
        "result": entry.result,
        "detail": entry.detail,
    }


def bulk_record(result: BulkResult) -> dict[str, Any]:
    """`error` is null for an app that succeeded (also one with nothing to change)."""
    return {"app_id": result.app_id, "ok": result.ok, "error": None if result.ok else result.error}


def dry_run_record(result: BulkResult) -> dict[str, Any]:
    """A bulk element with what the operation would do: the monthly price before and after and
    their difference (null for an app it would refuse: nothing about it would change)."""
    planned = result.planned if result.ok else None
    return {
        **bulk_record(result),
        "before": money(planned.monthly_before) if planned else None,
        "after": money(planned.monthly_after) if planned else None,
        "monthly_delta": money(planned.monthly_delta) if planned else None,
    }


def dry_run_lines(results: Sequence[BulkResult], verb: str) -> list[str]:
    """`--dry-run` for people: one line per app (its change and monthly price before → after,
    or why it would be refused), then the total."""
    lines = []
    counted: dict[int, BulkResult] = {}
    for r in results:
        p = r.planned
        if not r.ok or p is None:
            lines.append(f"app {r.app_id}: {printable_line(r.error or 'refused')}")
            continue
        counted[r.app_id] = r
        if r.error:  # nothing to change
            lines.append(f"app {r.app_id}: {r.error}; monthly {money(p.monthly_before)}")
        else:
            lines.append(
                f"app {r.app_id}: would {verb}: {printable_line(p.changes)}; monthly "
                f"{money(p.monthly_before)} → {money(p.monthly_after)} ({p.monthly_delta:+.2f})"
            )
    changing = [r for r in counted.values() if not r.error]
    total = sum((r.planned.monthly_delta for r in changing if r.planned), Decimal("0.00"))
    n = len({r.app_id for r in results})
    lines.append(
        f"dry run: {len(changing)} of {n} app{'s' if n != 1 else ''} would {verb}; "
        f"monthly {total:+.2f} in total; nothing was changed"
    )
    return lines


DRIFT_FIELDS = ("app_id", "status", "platform", "fix")


def drift_record(drift, fixed: dict[int, str | None], fixing: bool) -> dict[str, Any]:
    """One drifted app (`domain.drift.Drift`); with `--fix`, whether it was fixed and why not."""
    record: dict[str, Any] = {
        "app_id": drift.app_id,
        "status": drift.status,
        "platform": "serving" if drift.serving else "stopped",
        "fix": drift.fix,
    }
    if fixing:
        record["fixed"] = fixed.get(drift.app_id, "not tried") is None
        record["error"] = fixed.get(drift.app_id, "not tried")
    return record


def bill_record(bill: BillView, tz: str) -> dict[str, Any]:
    return {
        "month": bill.month,
        "currency": bill.currency,
        "state": bill.state,
        "issued_at": iso_local(bill.issued_at, tz),
        "total": money(bill.total),
        "projected_total": money(bill.projected_total),
        "accounts": [
            {
                "account": acc.account,
                "total": money(acc.total),
                "projected_total": money(acc.projected_total),
                "apps": [
                    {
                        "app_id": app.app_id,
                        "total": money(app.total),
                        "projected_total": money(app.projected_total),
                        "lines": [
                            {"item": ln.item, "setting": ln.setting, "days": ln.days, "amount": money(ln.amount)}
                            for ln in app.lines
                        ],
                    }
                    for app in acc.apps
                ],
            }
            for acc in bill.accounts
        ],
    }


def bill_rows(bill: BillView) -> list[dict[str, Any]]:
    return [
        {
            "month": bill.month,
            "account": acc.account,
            "app_id": app.app_id,
            "item": ln.item,
            "setting": ln.setting,
            "days": ln.days,
            "amount": money(ln.amount),
        }
        for acc in bill.accounts
        for app in acc.apps
        for ln in app.lines
    ]


def to_json(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, indent=None if isinstance(data, list) and len(data) > 50 else 2)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ";".join(str(v) for v in value)
    return str(value)


def to_csv(rows: Iterable[dict[str, Any]], fields: Sequence[str]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(fields)
    for row in rows:
        writer.writerow([_cell(row.get(f)) for f in fields])
    return buf.getvalue().rstrip("\n")


def _human(value: Any, field: str = "") -> str:
    if value is None:
        return "unlimited" if field == "live_groups" else "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "-"
    return _printable(str(value))


def printable_line(text: str) -> str:
    """One line of terminal-safe text (newlines and other control characters escaped)."""
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in text)


def _printable(text: str) -> str:
    """Terminal-safe: control characters from stored text are shown escaped, never executed."""
    return printable_line(text)


def to_table(rows: Sequence[dict[str, Any]], fields: Sequence[str]) -> str:
    cells = [[_human(row.get(f), f) for f in fields] for row in rows]
    widths = [max([len(f)] + [len(r[i]) for r in cells]) for i, f in enumerate(fields)]
    lines = ["  ".join(f.ljust(w) for f, w in zip(fields, widths)).rstrip()]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in cells]
    return "\n".join(lines)


def to_keyvalue(record: dict[str, Any]) -> str:
    width = max(len(k) for k in record)
    return "\n".join(f"{k.ljust(width)}  {_human(v, k)}" for k, v in record.items())


def bill_table(bill: BillView, tz: str) -> str:
    head = (
        f"month {bill.month} ({bill.state}"
        + (f", issued {iso_local(bill.issued_at, tz)}" if bill.issued_at else "")
        + f"), {bill.currency}\n"
    )
    rows = bill_rows(bill)
    body = to_table(rows, BILL_CSV_FIELDS[1:]) if rows else "nothing billed"
    if bill.state == "open":
        foot = f"month to date {money(bill.total)}   projected {money(bill.projected_total)}"
    else:
        foot = f"total {money(bill.total)}"
    return head + body + "\n" + foot


# --- usage and review -------------------------------------------------------------------------

IMPORT_FIELDS = ("rows", "apps", "inserted", "replaced", "unchanged")
USAGE_FIELDS = ("date", "app_id", "dau", "groups", "live_groups", "max_groups_per_user", "max_members_per_group")
REVIEW_CSV_FIELDS = (
    "app_id",
    "name",
    "account",
    "edition",
    "headroom_item",
    "headroom_kind",
    "headroom_peak",
    "headroom_allowance",
    "headroom_use_pct",
    "item",
    "from",
    "to",
    "monthly_delta",
    "reason",
    "unlocks_on",
    "note",
)


def import_record(summary) -> dict[str, Any]:
    return {f: getattr(summary, f) for f in IMPORT_FIELDS}


def usage_record(view) -> dict[str, Any]:
    return {
        "app_id": view.app_id,
        "month": view.month,
        "peaks": dict(view.peaks),
        "days": [{"date": day.isoformat(), **dict(zip(USAGE_FIELDS[2:], values))} for day, values in view.days],
    }


def usage_rows(view) -> list[dict[str, Any]]:
    return [
        {"date": day.isoformat(), "app_id": view.app_id, **dict(zip(USAGE_FIELDS[2:], values))}
        for day, values in view.days
    ]


def usage_table(view) -> str:
    head = f"app {view.app_id}, {view.month}: " + (
        "peaks " + ", ".join(f"{k} {v:,}" for k, v in view.peaks.items()) if view.days else "no usage records"
    )
    rows = usage_rows(view)
    return head + ("\n" + to_table(rows, USAGE_FIELDS[:1] + USAGE_FIELDS[2:]) if rows else "")


def _use(use) -> dict[str, Any] | None:
    if use is None:
        return None
    return {"item": use.item, "kind": use.kind, "peak": use.peak, "allowance": use.allowance, "use_pct": use.use_pct}


def _suggestion(s) -> dict[str, Any]:
    return {
        "item": s.item,
        "from": s.frm,
        "to": s.to,
        "monthly_delta": money(s.monthly_delta),
        "reason": s.reason,
        "unlocks_on": s.unlocks_on,
    }


def review_record(app) -> dict[str, Any]:
    r = app.review
    return {
        "app_id": app.app_id,
        "name": app.name,
        "account": app.account,
        "edition": app.edition,
        "headroom": _use(r.headroom),
        "uses": [_use(u) for u in r.uses],
        "suggestions": [_suggestion(s) for s in r.suggestions],
        "note": r.note,
    }


def reviews_json(apps: Sequence) -> str:
    """`to_json` of the apps' `review_record`s, written straight from the reviews: the same text
    (json's own string encoder, its separators), without a dict per app, use and suggestion (a
    whole fleet's review is a large text). Uses repeat (a few of them for every seven apps), so
    each is written once."""
    if len(apps) <= 50:  # to_json indents short lists
        return to_json([review_record(app) for app in apps])
    use_json, text = _UseJson(), _TextJson()
    parts = []
    for app in apps:
        r = app.review
        suggestions = ", ".join([_suggestion_json(s) for s in r.suggestions]) if r.suggestions else ""
        parts.append(
            f'{{"app_id": {app.app_id}, "name": {_json_text(app.name)}, '
            f'"account": {text[app.account]}, "edition": {text[app.edition]}, "headroom": {use_json[r.headroom]}, '
            f'"uses": [{", ".join([use_json[u] for u in r.uses])}], "suggestions": [{suggestions}], '
            f'"note": {text[r.note]}}}'
        )
    return "[" + ", ".join(parts) + "]"


class _TextJson(dict):
    """Strings (or None) as JSON, each written once."""

    def __missing__(self, value: str | None) -> str:
        found = self[value] = _json_text(value)
        return found


class _UseJson(dict):
    """`_use`'s dict of a use (or None) as JSON, each written once."""

    def __missing__(self, use) -> str:
        found = self[use] = (
            "null"
            if use is None
            else f'{{"item": {_json_text(use.item)}, "kind": {_json_text(use.kind)}, "peak": {use.peak}, '
            f'"allowance": {use.allowance}, "use_pct": {use.use_pct}}}'
        )
        return found


def _suggestion_json(s) -> str:
    """`_suggestion`'s dict as JSON."""
    return (
        f'{{"item": {_json_text(s.item)}, "from": {_json_count(s.frm)}, "to": {_json_count(s.to)}, '
        f'"monthly_delta": {_json_text(money(s.monthly_delta))}, "reason": {_json_text(s.reason)}, '
        f'"unlocks_on": {_json_text(s.unlocks_on)}}}'
    )


def _json_text(value: str | None) -> str:
    """A string (or None) as `json.dumps(..., ensure_ascii=False)` writes it."""
    return "null" if value is None else _encode_string(value)


def _json_count(value: int | None) -> str:
    return "null" if value is None else int.__repr__(value)


_encode_string = json.encoder.encode_basestring  # type: ignore[attr-defined]


def review_rows(apps) -> list[dict[str, Any]]:
    rows = []
    for app in apps:
        head = review_record(app)
        base = {k: head[k] for k in ("app_id", "name", "account", "edition", "note")}
        for k, v in (head["headroom"] or {}).items():
            base[f"headroom_{k}"] = v
        suggestions = head["suggestions"] or [{}]
        for s in suggestions:
            row = dict(base)
            if s:
                row.update(s)
                row["from"] = "unlimited" if s["from"] is None else s["from"]
                row["to"] = "unlimited" if s["to"] is None else s["to"]
            rows.append(row)
    return rows


def review_table(apps) -> str:
    if not apps:
        return "nothing to show"
    rows = []
    for app in apps:
        r = app.review
        head = r.headroom
        rows.append(
            {
                "app_id": app.app_id,
                "name": app.name,
                "account": app.account,
                "edition": app.edition,
                "headroom": f"{head.use_pct}% {head.item} ({head.kind})" if head else "no usage",
                "suggestions": "; ".join(
                    f"{s.item} {_setting(s.frm)} → {_setting(s.to)} {s.monthly_delta:+.2f}"
                    + (f" (locked until {s.unlocks_on})" if s.unlocks_on else "")
                    for s in r.suggestions
                )
                or (r.note or "-"),
            }
        )
    return to_table(rows, ("app_id", "name", "account", "edition", "headroom", "suggestions"))


def _setting(value) -> str:
    return "unlimited" if value is None else str(value)


# --- budgets and signals (signals.md §1-2) ----------------------------------------------------------

BUDGET_FIELDS = ("account", "amount", "warn_at", "month_to_date", "projected", "used_pct", "state")
BUDGET_REMOVED_FIELDS = ("account", "amount", "warn_at", "removed")
SIGNAL_CSV_FIELDS = ("key", "kind", "severity", "app_id", "account", "fleet", "since", "figures", "text")
"""`check --format csv`: the JSON's fields, `subject` spread over app_id, account and fleet (an
app's signal names its account too), `figures` as compact JSON."""


def budget_record(status) -> dict[str, Any]:
    """A `domain.budgets.BudgetStatus` as `budgets list --format json` shows it (account null:
    the fleet's)."""
    return {
        "account": status.account,
        "amount": money(status.amount),
        "warn_at": status.warn_at,
        "month_to_date": money(status.month_to_date),
        "projected": money(status.projected),
        "used_pct": status.used_pct,
        "state": status.state,
    }


def budget_table(statuses) -> str:
    if not statuses:
        return "no budgets (imtui budgets set ACCOUNT AMOUNT, or --fleet AMOUNT)"
    rows = [{**budget_record(s), "account": "(fleet)" if s.account is None else s.account} for s in statuses]
    for row in rows:
        row["used_pct"] = f"{row['used_pct']} %"
        row["warn_at"] = f"{row['warn_at']} %"
    return to_table(rows, BUDGET_FIELDS)


def removed_budget_record(account: str | None, budget) -> dict[str, Any]:
    """What `budgets remove` prints: the budget removed (amount null when there was none)."""
    return {
        "account": account,
        "amount": money(budget.amount) if budget is not None else None,
        "warn_at": budget.warn_at if budget is not None else None,
        "removed": budget is not None,
    }


def signal_row(record: dict[str, Any], account: str | None) -> dict[str, Any]:
    """One signal (`services.signals.signal_record`) as a CSV row."""
    subject = record["subject"]
    return {
        "key": record["key"],
        "kind": record["kind"],
        "severity": record["severity"],
        "app_id": subject.get("app_id"),
        "account": account,
        "fleet": bool(subject.get("fleet")),
        "since": record["since"],
        "figures": json.dumps(record["figures"], ensure_ascii=False, separators=(",", ":")),
        "text": record["text"],
    }


def signals_table(records: Sequence[dict[str, Any]]) -> str:
    if not records:
        return "no signals"
    rows = []
    for r in records:
        subject = r["subject"]
        shown = (
            f"app {subject['app_id']}"
            if "app_id" in subject
            else "fleet"
            if subject.get("fleet")
            else f"account {subject['account']}"
        )
        rows.append(
            {"severity": r["severity"], "kind": r["kind"], "subject": shown, "since": r["since"], "text": r["text"]}
        )
    return to_table(rows, ("severity", "kind", "subject", "since", "text"))
