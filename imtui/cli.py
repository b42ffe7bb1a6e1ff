# PYTHON_ARGCOMPLETE_OK  (shell completion: see README, "Shell completion")
"""The `imtui` command: parse arguments, then run a subcommand or the dashboard on the services
the composition root (`imtui.bootstrap`) builds. Contract: shared/spec/cli.md."""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
from collections.abc import Callable, Sequence
from typing import Any

from imtui import __version__, output
from imtui.domain.apps import check_app_id
from imtui.domain.calendar import Month, iso_local, parse_instant
from imtui.domain.changes import ChangeRequest
from imtui.domain.errors import ImtuiError, InvalidInput
from imtui.domain.roles import ROLES

FORMATS = ("table", "json", "csv")


class UsageError(Exception):
    """Bad arguments: one line on standard error, exit 2."""


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse would print the usage and exit itself
        raise UsageError(output.printable_line(f"{self.prog}: {message}"))


def _app_id(text: str) -> int:
    try:
        return check_app_id(text)
    except InvalidInput as exc:
        raise argparse.ArgumentTypeError(exc.message) from None


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} must not be negative")
    return value


def _positive(text: str, most: int = 1_000_000) -> int:
    value = _count(text)
    if not 1 <= value <= most:
        raise argparse.ArgumentTypeError(f"must be from 1 to {most}")
    return value


def _month(text: str) -> Month:
    try:
        return Month.parse(text)
    except InvalidInput as exc:
        raise argparse.ArgumentTypeError(exc.message) from None


def _is_text(arg: str) -> bool:
    """Bytes that are not UTF-8 reach Python as lone surrogates: they are not text."""
    try:
        arg.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _complete_apps(prefix: str, parsed_args: argparse.Namespace, **_) -> list[str]:
    from imtui.bootstrap import completions

    return completions(getattr(parsed_args, "db", None), "apps", prefix)


def _complete_accounts(prefix: str, parsed_args: argparse.Namespace, **_) -> list[str]:
    from imtui.bootstrap import completions

    return completions(getattr(parsed_args, "db", None), "accounts", prefix)


def _app_ids(parser: argparse.ArgumentParser, name: str = "app_id", many: bool = False) -> None:
    arg = parser.add_argument("app_ids" if many else name, type=_app_id, nargs="+" if many else None, metavar="APP_ID")
    arg.completer = _complete_apps  # type: ignore[attr-defined]


def build_parser() -> Parser:
    fmt = Parser(add_help=False)
    fmt.add_argument("--format", choices=FORMATS, default="table", help="output format")

    p = Parser(prog="imtui", description="Operate a fleet of IM applications.")
    p.add_argument("--version", action="version", version=f"imtui {__version__}")
    p.add_argument("--db", default=os.environ.get("IMTUI_DB"), help="SQLite path or SQLAlchemy URL")
    p.add_argument("--now", default=os.environ.get("IMTUI_NOW"), help="act at exactly this ISO 8601 instant")
    p.add_argument("--read-only", action="store_true", help="change nothing in this run")
    p.add_argument("--debug", action="store_true", help="show tracebacks")
    p.add_argument(
        "--control-plane",
        default=os.environ.get("IMTUI_CONTROL_PLANE"),
        metavar="URL",
        help="the platform's control plane (http://host:port or unix:///path); embedded simulator by default",
    )
    sub = p.add_subparsers(dest="command", parser_class=Parser)

    demo = sub.add_parser("demo", help="fill the database with a demo fleet")
    demo.add_argument("--apps", type=_positive, default=500)
    demo.add_argument("--accounts", type=lambda t: _positive(t, 100_000), default=None)
    demo.add_argument("--seed", type=int, default=1)

    apps = sub.add_parser("apps", help="list, show and change apps")
    a = apps.add_subparsers(dest="apps_command", parser_class=Parser, required=True)
    ls = a.add_parser("list", parents=[fmt], help="list apps")
    ls.add_argument("--status")
    ls.add_argument("--edition")
    ls.add_argument("--account").completer = _complete_accounts  # type: ignore[attr-defined]
    ls.add_argument("--search")
    show = a.add_parser("show", parents=[fmt], help="one app")
    _app_ids(show)
    create = a.add_parser("create", parents=[fmt], help="a new trial app")
    create.add_argument("name")
    create.add_argument("--account", required=True).completer = _complete_accounts  # type: ignore[attr-defined]
    for name in ("upgrade", "modify"):
        c = a.add_parser(name, parents=[fmt], help=f"{name} an app's package")
        _app_ids(c)
        c.add_argument("--edition", required=name == "upgrade")
        if name == "modify":
            live = c.add_mutually_exclusive_group()
            live.add_argument("--live-unlimited", dest="live_unlimited", action="store_true", default=None)
            live.add_argument("--no-live-unlimited", dest="live_unlimited", action="store_false")
        else:
            c.add_argument("--live-unlimited", dest="live_unlimited", action="store_true", default=None)
        c.add_argument("--groups-per-user", type=_count)
        c.add_argument("--members-per-group", type=_count)
        c.add_argument("--history-days", type=_count)
    halt = a.add_parser("halt", parents=[fmt], help="deactivate apps now")
    _app_ids(halt, many=True)
    halt.add_argument("--reason", required=True)
    halt.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    react = a.add_parser("reactivate", parents=[fmt], help="reactivate apps within 90 days")
    _app_ids(react, many=True)

    bills = sub.add_parser("bills", parents=[fmt], help="a month's bill")
    bills.add_argument("--month", type=_month)
    bills.add_argument("--account").completer = _complete_accounts  # type: ignore[attr-defined]
    bills.add_argument("--app", type=_app_id).completer = _complete_apps  # type: ignore[attr-defined]

    users = sub.add_parser("users", help="roles: viewer, responder, operator, admin")
    u = users.add_subparsers(dest="users_command", parser_class=Parser, required=True)
    u.add_parser("list", parents=[fmt], help="users with a role")
    grant = u.add_parser("grant", parents=[fmt], help="give a user a role (admin only)")
    grant.add_argument("user")
    grant.add_argument("role", choices=ROLES)
    revoke = u.add_parser("revoke", parents=[fmt], help="take a user's role away (admin only)")
    revoke.add_argument("user")

    usage = sub.add_parser("usage", help="import and show usage records")
    us = usage.add_subparsers(dest="usage_command", parser_class=Parser, required=True)
    imp = us.add_parser("import", parents=[fmt], help="import a usage file (CSV or JSON lines; - for standard input)")
    imp.add_argument("file", metavar="FILE")
    imp.add_argument("--input-format", choices=("csv", "jsonl"))
    ushow = us.add_parser("show", parents=[fmt], help="an app's daily usage of a month and its peaks")
    _app_ids(ushow)
    ushow.add_argument("--month", type=_month)

    review = sub.add_parser("review", parents=[fmt], help="headroom and right-sizing suggestions")
    review.add_argument("--account").completer = _complete_accounts  # type: ignore[attr-defined]
    review.add_argument("--near", action="store_true", help="only apps near or at a limit or quota")
    review.add_argument("--suggest", action="store_true", help="only apps with a suggestion")

    rec = sub.add_parser("reconcile", parents=[fmt], help="compare every app's status with the platform's")
    rec.add_argument("--fix", action="store_true", help="make the platform match imtui (audited)")

    cp = sub.add_parser("control-plane", help="the platform simulator, as its own process")
    cps = cp.add_subparsers(dest="control_plane_command", required=True, parser_class=Parser)
    serve = cps.add_parser("serve", help="serve the simulated platform over HTTP until interrupted")
    serve.add_argument("--listen", default="127.0.0.1:8765", metavar="HOST:PORT", help="default 127.0.0.1:8765")
    serve.add_argument("--socket", metavar="PATH", help="serve on this Unix socket instead (mode 600)")
    serve.add_argument("--store", metavar="PATH", help="the platform's own SQLite store")
    serve.add_argument("--token-file", metavar="PATH", help="file holding the token (mode 600; made if missing)")
    serve.add_argument("--latency", type=float, default=0.05, help="seconds each stop or start takes")
    serve.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="MODE[:RATE][:after]",
        help="inject faults at random: fail, hang, drop, reset or slow (repeatable)",
    )
    serve.add_argument("--seed", type=int, help="seed of the random faults")

    audit = sub.add_parser("audit", parents=[fmt], help="the audit trail, newest first")
    audit.add_argument("--app", type=_app_id).completer = _complete_apps  # type: ignore[attr-defined]
    audit.add_argument("--limit", type=_positive, default=100)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    if argv is None and hasattr(signal, "SIGPIPE"):
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # `imtui apps list | head` ends quietly
    parser = build_parser()
    if argv is None and "_ARGCOMPLETE" in os.environ:
        import argcomplete  # only when the shell asks for completions

        argcomplete.autocomplete(parser)
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    undecodable = next((a for a in argv if not _is_text(a)), None)
    if undecodable is not None:
        print(f"argument {output.printable_line(undecodable)!s} is not valid UTF-8 text", file=sys.stderr)
        return 2
    try:
        args = parser.parse_args(argv)
    except UsageError as exc:
        print(exc, file=sys.stderr)
        return 2
    if args.command == "control-plane":
        from imtui.bootstrap import serve_control_plane

        return serve_control_plane(args)
    try:
        from imtui.bootstrap import clock_for, open_services, settings_from_env, tune_dashboard_process

        dashboard = args.command is None
        now = parse_instant(args.now, os.environ.get("IMTUI_BILLING_TZ") or "Asia/Shanghai") if args.now else None
        settings = settings_from_env(args.db, args.read_only, now, args.control_plane)
        clock = clock_for(settings, dashboard)
        if dashboard:
            tune_dashboard_process()
            services = open_services(settings, clock)
            try:
                services.fleet.preload()  # the first frame shows rows
                from imtui.ui.app import run_dashboard  # Textual is loaded only for the dashboard

                return run_dashboard(services, settings)
            finally:
                services.close()
        return asyncio.run(_run(args, lambda: open_services(settings, clock)))
    except ImtuiError as exc:
        print(exc.message, file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted; nothing more was changed", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001  (the contract: no traceback unless --debug)
        if debug:
            raise
        print(f"imtui failed unexpectedly: {type(exc).__name__}: {exc} (run with --debug for details)", file=sys.stderr)
        return 1


async def _run(args: argparse.Namespace, open_services: Callable) -> int:
    services = await asyncio.to_thread(open_services)
    try:
        sub = next(
            (
                getattr(args, f"{c}_command", None)
                for c in ("apps", "users", "usage")
                if getattr(args, f"{c}_command", None)
            ),
            None,
        )
        handler = COMMANDS[(args.command, sub)]
        if not services.read_only and args.command not in ("demo", "reconcile"):
            await services.intents.recover()  # whatever a killed run left unsettled, settled first
        return await handler(services, args)
    finally:
        services.close()


def _emit(args, records: list[dict[str, Any]] | dict[str, Any], fields: Sequence[str], single: bool = False) -> None:
    fmt = getattr(args, "format", "table")
    if fmt == "json":
        print(output.to_json(records))
        return
    rows = [records] if single else records
    if fmt == "csv":
        print(output.to_csv(rows, fields))
    elif single:
        print(output.to_keyvalue(records))
    else:
        print(output.to_table(rows, fields) if rows else "nothing to show")


async def cmd_demo(sv, args) -> int:
    summary = await sv.demo.build(apps=args.apps, accounts=args.accounts, seed=args.seed)
    print(summary)
    return 0


async def cmd_list(sv, args) -> int:
    from imtui.services.queries import AppFilter

    apps = await sv.apps.list(AppFilter(args.status, args.edition, args.account, args.search))
    tz = sv.tz
    fields = (
        output.APP_FIELDS
        if args.format != "table"
        else (
            "app_id",
            "name",
            "account",
            "edition",
            "status",
            "live_groups",
            "groups_per_user",
            "members_per_group",
            "history_days",
            "locked_items",
        )
    )
    _emit(args, [output.app_record(a, tz) for a in apps], fields)
    return 0


async def cmd_show(sv, args) -> int:
    app = await sv.apps.show(args.app_id)
    _emit(args, output.app_record(app, sv.tz), output.APP_FIELDS, single=True)
    return 0


async def cmd_create(sv, args) -> int:
    app = await sv.changes.create(args.name, args.account)
    _emit(args, output.app_record(app, sv.tz), output.APP_FIELDS, single=True)
    return 0


def _request(args) -> ChangeRequest:
    return ChangeRequest(
        edition=args.edition,
        live_unlimited=args.live_unlimited,
        groups_per_user=args.groups_per_user,
        members_per_group=args.members_per_group,
        history_days=args.history_days,
    )


async def _change(sv, args, fn: Callable) -> int:
    result = await fn(args.app_id, _request(args))
    _emit(args, output.app_record(result.app, sv.tz), output.APP_FIELDS, single=True)
    if result.nothing_to_change:
        print(f"app {args.app_id}: nothing to change", file=sys.stderr)
    return 0


async def cmd_upgrade(sv, args) -> int:
    return await _change(sv, args, sv.changes.upgrade)


async def cmd_modify(sv, args) -> int:
    return await _change(sv, args, sv.changes.modify)


def _confirm_halt(args) -> None:
    if args.yes:
        return
    if not sys.stdin.isatty():
        raise InvalidInput("refusing to halt without --yes: standard input is not a terminal")
    ids = " ".join(str(a) for a in args.app_ids)
    n = len(args.app_ids)
    print(
        f"Halt {n} app{'s' if n > 1 else ''}: {ids}\nService stops at once; data is unrecoverable after 90 days.",
        file=sys.stderr,
    )
    expected = str(n) if n > 1 else "yes"
    answer = input(f"Type {expected!r} to confirm: ").strip()
    if answer != expected:
        raise InvalidInput("halt not confirmed; nothing was changed")


async def _bulk(sv, args, results) -> int:
    if args.format == "table":
        for r in results:
            print(f"app {r.app_id}: {'done' if r.ok else r.error}")
    else:
        _emit(args, [output.bulk_record(r) for r in results], output.BULK_FIELDS)
    failed = [r for r in results if not r.ok]
    for r in failed:
        print(r.error, file=sys.stderr)
    return failed[0].exit_code if failed else 0


async def cmd_halt(sv, args) -> int:
    sv.require_writable()
    _confirm_halt(args)
    return await _bulk(sv, args, await sv.lifecycle.halt(args.app_ids, args.reason))


async def cmd_reactivate(sv, args) -> int:
    return await _bulk(sv, args, await sv.lifecycle.reactivate(args.app_ids))


async def cmd_bills(sv, args) -> int:
    bill = await sv.billing.bill(args.month, args.account, args.app)
    tz = sv.tz
    if args.format == "json":
        print(output.to_json(output.bill_record(bill, tz)))
    elif args.format == "csv":
        print(output.to_csv(output.bill_rows(bill), output.BILL_CSV_FIELDS))
    else:
        print(output.bill_table(bill, tz))
    return 0


async def cmd_usage_import(sv, args) -> int:
    from imtui.services.usage import UsageRefused

    sv.require_writable()
    try:
        if args.file == "-":
            summary = await sv.usage.import_file(sys.stdin.buffer, "standard input", args.input_format)
        else:
            try:
                stream = open(args.file, "rb")  # noqa: SIM115  (closed below)
            except OSError as exc:
                raise InvalidInput(f"cannot read {args.file}: {exc.strerror}") from None
            with stream:
                summary = await sv.usage.import_file(stream, args.file, args.input_format)
    except UsageRefused as refused:
        for line in refused.lines:
            print(output.printable_line(line), file=sys.stderr)
        return refused.exit_code
    if summary.ignored:
        print(f"note: ignored the column(s) {', '.join(summary.ignored)}", file=sys.stderr)
    _emit(args, output.import_record(summary), output.IMPORT_FIELDS, single=True)
    return 0


async def cmd_usage_show(sv, args) -> int:
    view = await sv.usage.month(args.app_id, args.month)
    if args.format == "json":
        print(output.to_json(output.usage_record(view)))
    elif args.format == "csv":
        print(output.to_csv(output.usage_rows(view), output.USAGE_FIELDS))
    else:
        print(output.usage_table(view))
    return 0


async def cmd_review(sv, args) -> int:
    from imtui.services.context import no_cyclic_gc

    # a fleet's reviews are a million small objects, all freed by reference counting once
    # written out: the cyclic collector resumes only then, with nothing of them left to walk
    with no_cyclic_gc():
        reviews = await sv.review.review(args.account, args.near, args.suggest)
        if args.format == "json":
            text = output.reviews_json(reviews)
        elif args.format == "csv":
            text = output.to_csv(output.review_rows(reviews), output.REVIEW_CSV_FIELDS)
        else:
            text = output.review_table(reviews)
        del reviews
        await asyncio.sleep(0)  # the event loop lets go of the finished future that held them too
    print(text)
    return 0


async def cmd_audit(sv, args) -> int:
    entries = await sv.audit.trail(args.app, args.limit)
    _emit(args, [output.audit_record(e, sv.tz) for e in entries], output.AUDIT_FIELDS)
    return 0


async def cmd_reconcile(sv, args) -> int:
    found = await (sv.reconcile.fix() if args.fix else sv.reconcile.check())
    records = [output.drift_record(d, found.fixed, args.fix) for d in found.drift]
    if args.format == "table":
        print(f"{found.checked} apps checked, {len(found.drift)} drifted")
        if records:
            print(output.to_table(records, output.DRIFT_FIELDS + (("fixed",) if args.fix else ())))
    elif args.format == "json":
        print(output.to_json({"checked": found.checked, "drift": records}))
    else:
        print(output.to_csv(records, output.DRIFT_FIELDS + (("fixed",) if args.fix else ())))
    failed = [r for r in records if args.fix and r.get("error")]
    for r in failed:
        print(f"app {r['app_id']}: {r['error']}", file=sys.stderr)
    return 1 if failed else 0


USER_FIELDS = ("name", "role", "granted_at", "granted_by")


def _user_record(user, tz: str) -> dict[str, Any]:
    return {
        "name": user.name,
        "role": user.role,
        "granted_at": iso_local(user.granted_at, tz),
        "granted_by": user.granted_by,
    }


async def cmd_users_list(sv, args) -> int:
    _emit(args, [_user_record(u, sv.tz) for u in await sv.users.list()], USER_FIELDS)
    return 0


async def cmd_users_grant(sv, args) -> int:
    user = await sv.users.grant(args.user, args.role)
    _emit(args, _user_record(user, sv.tz), USER_FIELDS, single=True)
    return 0


async def cmd_users_revoke(sv, args) -> int:
    user = await sv.users.revoke(args.user)
    _emit(args, _user_record(user, sv.tz), USER_FIELDS, single=True)
    return 0


COMMANDS = {
    ("users", "list"): cmd_users_list,
    ("users", "grant"): cmd_users_grant,
    ("users", "revoke"): cmd_users_revoke,
    ("demo", None): cmd_demo,
    ("apps", "list"): cmd_list,
    ("apps", "show"): cmd_show,
    ("apps", "create"): cmd_create,
    ("apps", "upgrade"): cmd_upgrade,
    ("apps", "modify"): cmd_modify,
    ("apps", "halt"): cmd_halt,
    ("apps", "reactivate"): cmd_reactivate,
    ("bills", None): cmd_bills,
    ("audit", None): cmd_audit,
    ("usage", "import"): cmd_usage_import,
    ("usage", "show"): cmd_usage_show,
    ("review", None): cmd_review,
    ("reconcile", None): cmd_reconcile,
}
