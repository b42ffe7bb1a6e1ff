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
from decimal import Decimal
from typing import Any

from imtui import __version__, output
from imtui.config import environment
from imtui.domain.apps import check_app_id
from imtui.domain.calendar import Month, iso_local
from imtui.domain.changes import ChangeRequest
from imtui.domain.errors import ImtuiError, InvalidInput
from imtui.domain.guardrails import check_max_monthly_delta
from imtui.domain.roles import ROLES

FORMATS = ("table", "json", "csv")


class UsageError(Exception):
    """Bad arguments: one line on standard error, exit 2."""


class Parser(argparse.ArgumentParser):
    """argparse's parser, raising `UsageError` (exit 2, one printable line) instead of printing usage
    and exiting itself."""

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


def _max_monthly_delta(text: str) -> Decimal:
    try:
        return check_max_monthly_delta(text)
    except InvalidInput as exc:
        raise argparse.ArgumentTypeError(exc.message.removeprefix("--max-monthly-delta ")) from None


def _dry_run(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="check everything and show what would be done (monthly price before → after); change nothing",
    )


def build_parser() -> Parser:  # noqa: PLR0915  (the argument parser: a statement per option)
    fmt = Parser(add_help=False)
    fmt.add_argument("--format", choices=FORMATS, default="table", help="output format")

    p = Parser(prog="imtui", description="Operate a fleet of IM applications.")
    p.add_argument("--version", action="version", version=f"imtui {__version__}")
    env = environment()
    p.add_argument("--db", default=env.db, help="SQLite path or SQLAlchemy URL")
    p.add_argument("--now", default=env.now, help="act at exactly this ISO 8601 instant")
    p.add_argument("--read-only", action="store_true", help="change nothing in this run")
    p.add_argument("--debug", action="store_true", help="show tracebacks")
    p.add_argument(
        "--control-plane",
        default=env.control_plane,
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
        c = a.add_parser(name, parents=[fmt], help=f"{name} apps' packages (several IDs: one bulk operation)")
        _app_ids(c, many=True)
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
        c.add_argument(
            "--max-monthly-delta",
            type=_max_monthly_delta,
            metavar="AMOUNT",
            help="refuse (exit 3) if the monthly price of all the apps named would rise by more than AMOUNT",
        )
        _dry_run(c)
    halt = a.add_parser("halt", parents=[fmt], help="deactivate apps now")
    _app_ids(halt, many=True)
    halt.add_argument("--reason", required=True)
    halt.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    _dry_run(halt)
    react = a.add_parser("reactivate", parents=[fmt], help="reactivate apps within 90 days")
    _app_ids(react, many=True)
    _dry_run(react)

    bills = sub.add_parser("bills", parents=[fmt], help="a month's bill")
    bills.add_argument("--month", type=_month)
    bills.add_argument("--account").completer = _complete_accounts  # type: ignore[attr-defined]
    bills.add_argument("--app", type=_app_id).completer = _complete_apps  # type: ignore[attr-defined]
    bs = bills.add_subparsers(dest="bills_command", parser_class=Parser)
    export = bs.add_parser("export", help="the month's bill as FOCUS CSV (standard output by default)")
    # SUPPRESS: given before `export` (`bills --month M export`), the option keeps its value
    export.add_argument("--month", type=_month, default=argparse.SUPPRESS, help="YYYY-MM (default: this month)")
    export.add_argument(
        "--account", default=argparse.SUPPRESS, help="one account's rows only"
    ).completer = _complete_accounts  # type: ignore[attr-defined]
    export.add_argument("--output", metavar="FILE", help="write the CSV to FILE (replaced whole once written)")

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

    plat = sub.add_parser("platform", help="the platform the database belongs to")
    pl = plat.add_subparsers(dest="platform_command", parser_class=Parser, required=True)
    pl.add_parser("show", parents=[fmt], help="the platform the database belongs to")
    bind = pl.add_parser("bind", parents=[fmt], help="move the database to another platform (admin, audited)")
    bind.add_argument("url", metavar="URL", help="the platform's control plane URL, or `embedded`")

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
        help="inject faults at random: fail, hang, drop, reset or slow (repeatable; needs --allow-faults)",
    )
    serve.add_argument("--seed", type=int, help="seed of the random faults")
    serve.add_argument(
        "--allow-faults",
        action="store_true",
        help="for drills: allow --fault and PUT /v1/faults (otherwise refused)",
    )
    serve.add_argument("--tls-cert", metavar="FILE", help="serve HTTPS with this PEM certificate (chain)")
    serve.add_argument("--tls-key", metavar="FILE", help="the PEM private key of --tls-cert")

    metrics = sub.add_parser("metrics", help="Prometheus metrics of costs, budgets, apps and signals")
    metrics.add_argument("--per-app", action="store_true", help="also every app's costs and headroom (many series)")
    ms = metrics.add_subparsers(dest="metrics_command", parser_class=Parser)
    mserve = ms.add_parser("serve", help="serve /metrics over HTTP until interrupted (recomputed at most every 15 s)")
    mserve.add_argument("--listen", default="127.0.0.1:9464", metavar="HOST:PORT", help="default 127.0.0.1:9464")
    mserve.add_argument(
        "--per-app", action="store_true", default=argparse.SUPPRESS, help="also every app's costs and headroom"
    )

    audit = sub.add_parser("audit", parents=[fmt], help="the audit trail, newest first")
    audit.add_argument("--app", type=_app_id).completer = _complete_apps  # type: ignore[attr-defined]
    audit.add_argument("--limit", type=_positive, default=100)
    _signal_parsers(sub, fmt)
    return p


def _signal_parsers(sub, fmt: Parser) -> None:
    """`budgets list|set|remove` and `check` (signals.md §1-3)."""
    budgets = sub.add_parser("budgets", help="monthly budgets per account and for the fleet")
    bg = budgets.add_subparsers(dest="budgets_command", parser_class=Parser, required=True)
    bg.add_parser("list", parents=[fmt], help="every budget with this month's figures and state")
    bset = bg.add_parser(
        "set",
        parents=[fmt],
        usage="imtui budgets set (ACCOUNT | --fleet) AMOUNT [--warn-at PCT] [--format F]",
        help="set or change a budget (operator, audited)",
    )
    bset.add_argument("target", nargs="+", metavar="ACCOUNT AMOUNT", help="the account and the monthly amount")
    bset.add_argument("--fleet", action="store_true", help="the fleet's budget (then only AMOUNT)")
    bset.add_argument("--warn-at", metavar="PCT", help="warning threshold, a whole percent (default 80)")
    brm = bg.add_parser(
        "remove",
        parents=[fmt],
        usage="imtui budgets remove (ACCOUNT | --fleet) [--format F]",
        help="remove a budget (operator, audited)",
    )
    brm.add_argument("account", nargs="?", metavar="ACCOUNT").completer = _complete_accounts  # type: ignore[attr-defined]
    brm.add_argument("--fleet", action="store_true", help="the fleet's budget")

    check = sub.add_parser("check", parents=[fmt], help="the signals now; exit 6 when one is at or above --fail-on")
    check.add_argument("--account", help="only this account's signals and its apps'").completer = _complete_accounts  # type: ignore[attr-defined]
    check.add_argument("--fail-on", choices=("warning", "critical", "never"), default="critical")
    check.add_argument("--notify", metavar="URL", help="deliver what is new to this webhook (JSON POST)")
    check.add_argument("--spike-ratio", metavar="R", help="usage_spike: dau at least R × the median (default 2)")
    check.add_argument("--spike-min", metavar="N", help="usage_spike: and at least N above it (default 1000)")
    check.add_argument("--purge-days", metavar="D", help="purge_soon: purged within D days (default 7)")


def main(argv: Sequence[str] | None = None) -> int:
    if argv is None and hasattr(signal, "SIGPIPE"):
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # `imtui apps list | head` ends quietly
    parser = build_parser()
    if argv is None and environment().completing:
        import argcomplete  # only when the shell asks for completions

        argcomplete.autocomplete(parser)
    own_command_line = argv is None  # what `ps` shows other users: this process's arguments
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
    if own_command_line:
        _warn_of_a_password(argv)
    if args.command == "control-plane":
        from imtui.bootstrap import serve_control_plane

        return serve_control_plane(args)
    return _run_command(args, debug)


def _run_command(args, debug: bool) -> int:
    """Runs the parsed command (or the dashboard): an error a user can cause is its one line and
    exit code; anything else one line too, its traceback only with `--debug`."""
    try:
        from imtui.bootstrap import clock_for, open_services, settings_from_env, tune_dashboard_process

        dashboard = args.command is None
        settings = settings_from_env(args.db, args.read_only, args.now or None, args.control_plane)
        clock = clock_for(settings, dashboard)
        if dashboard:
            tune_dashboard_process()
            return _dashboard(open_services(settings, clock), settings)
        return asyncio.run(_run(args, lambda: open_services(settings, clock)))
    except ImtuiError as exc:
        print(_masked(exc.message, args.db), file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted; nothing more was changed", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001  (the contract: no traceback unless --debug)
        if debug:
            raise
        message = f"imtui failed unexpectedly: {type(exc).__name__}: {exc} (run with --debug for details)"
        print(_masked(message, args.db), file=sys.stderr)
        return 1


def _warn_of_a_password(argv: list[str]) -> None:
    """Warns when this process's own command line (what `ps` shows other users) holds a
    database password."""
    if _db_option(argv):
        from imtui.bootstrap import password_warning

        warning = password_warning(_db_option(argv))
        if warning:
            print(warning, file=sys.stderr)


def _dashboard(services, settings) -> int:
    """Runs the dashboard on opened services until it is quit (the services closed after)."""
    try:
        services.fleet.preload()  # the first frame shows rows
        from imtui.ui.app import run_dashboard  # Textual is loaded only for the dashboard

        return run_dashboard(services, settings)
    finally:
        services.close()


def _db_option(argv: list[str]) -> str | None:
    """The value of `--db` as given on the command line (not from `IMTUI_DB`), if any."""
    for i, arg in enumerate(argv):
        if arg == "--":
            break
        if arg == "--db" and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith("--db="):
            return arg[len("--db=") :]
    return None


def _masked(message: str, db: str | None) -> str:
    """A message as it may be shown: no database password in it, whatever failed."""
    from imtui.bootstrap import without_passwords

    return without_passwords(message, db)


async def _run(args: argparse.Namespace, open_services: Callable) -> int:
    services = await asyncio.to_thread(open_services)
    try:
        sub = next(
            (
                getattr(args, f"{c}_command", None)
                for c in ("apps", "users", "usage", "platform", "bills", "metrics", "budgets")
                if getattr(args, f"{c}_command", None)
            ),
            None,
        )
        handler = COMMANDS[(args.command, sub)]
        dry_run = getattr(args, "dry_run", False)  # changes nothing, asks no platform to act
        if not services.read_only and not dry_run and args.command not in ("demo", "reconcile"):
            await services.intents.recover()  # whatever a killed run left unsettled, settled first
            if services.intents.waiting and sub not in ("halt", "reactivate"):  # those say it themselves
                print(output.printable_line(services.intents.waiting), file=sys.stderr)
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


async def _change(sv, args, kind: str) -> int:
    """Upgrade or modify: several IDs act as one bulk operation with a result per app (the
    dashboard's bulk change, through the same service); one ID prints the app as it is after."""
    request = _request(args)
    if args.dry_run:
        return _dry(args, await sv.changes.dry_run(kind, args.app_ids, request, args.max_monthly_delta), kind)
    results = await sv.changes.apply(kind, args.app_ids, request, args.max_monthly_delta)
    if len(args.app_ids) > 1:
        return await _bulk(sv, args, results)
    (result,) = results
    if not result.ok:
        print(output.printable_line(result.error or "refused"), file=sys.stderr)
        return result.exit_code
    _emit(args, output.app_record(result.app, sv.tz), output.APP_FIELDS, single=True)
    if result.error:
        print(f"app {result.app_id}: {result.error}", file=sys.stderr)
    return 0


async def cmd_upgrade(sv, args) -> int:
    return await _change(sv, args, "upgrade")


async def cmd_modify(sv, args) -> int:
    return await _change(sv, args, "modify")


def _dry(args, dry, verb: str) -> int:
    """`--dry-run`: what would be done, per app and in total; exits as the real run would."""
    if args.format == "table":
        print("\n".join(output.dry_run_lines(dry.results, verb)))
    else:
        _emit(args, [output.dry_run_record(r) for r in dry.results], output.DRY_RUN_FIELDS)
    for r in dry.results:
        if not r.ok:
            print(output.printable_line(r.error or "refused"), file=sys.stderr)
    if dry.refusal is not None:
        print(output.printable_line(dry.refusal), file=sys.stderr)
    return dry.exit_code


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
            print(f"app {r.app_id}: {(r.error or 'done') if r.ok else r.error}")  # ok: "nothing to change"
    else:
        _emit(args, [output.bulk_record(r) for r in results], output.BULK_FIELDS)
    failed = [r for r in results if not r.ok]
    for r in failed:
        print(r.error, file=sys.stderr)
    return failed[0].exit_code if failed else 0


async def cmd_halt(sv, args) -> int:
    sv.require_writable()
    if args.dry_run:  # nothing would be done without asking: nothing to confirm
        return _dry(args, await sv.lifecycle.dry_run("halt", args.app_ids, args.reason), "halt")
    _confirm_halt(args)
    return await _bulk(sv, args, await sv.lifecycle.halt(args.app_ids, args.reason))


async def cmd_reactivate(sv, args) -> int:
    if args.dry_run:
        return _dry(args, await sv.lifecycle.dry_run("reactivate", args.app_ids), "reactivate")
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


async def cmd_bills_export(sv, args) -> int:
    import secrets

    if args.output is None:

        def write(lines) -> None:
            sys.stdout.writelines(lines)
            sys.stdout.flush()

        await sv.billing.export(args.month, args.account, write)
        return 0
    # written beside FILE and moved over it once whole: a reader never sees half an export
    target = os.path.abspath(args.output)
    folder, name = os.path.split(target)
    partial = os.path.join(folder, f".{name}.{os.getpid()}-{secrets.token_hex(4)}.partial")
    try:
        stream = open(partial, "x", encoding="utf-8", newline="")  # noqa: SIM115  (closed below)
    except OSError as exc:
        raise InvalidInput(f"cannot write {args.output}: {exc.strerror}") from None
    try:
        with stream:
            await sv.billing.export(args.month, args.account, stream.writelines)
        os.replace(partial, target)
    except BaseException:
        os.unlink(partial)
        raise
    return 0


async def cmd_usage_import(sv, args) -> int:
    from imtui.domain.usage_file import UsageRefused

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
        # the names come from the file: escaped, so a column name cannot drive the terminal
        print(output.printable_line(f"note: ignored the column(s) {', '.join(summary.ignored)}"), file=sys.stderr)
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


async def cmd_metrics(sv, args) -> int:
    from imtui.exposition import render

    sys.stdout.write(render(await sv.metrics.snapshot(args.per_app)))
    return 0


def _listen(text: str) -> tuple[str, int]:
    """HOST:PORT (an IPv6 host in brackets: [::1]:9464)."""
    host, _, port = text.rpartition(":")
    host = host.removeprefix("[").removesuffix("]")
    if not host or not port.isdigit() or not 1 <= int(port) <= 65535:
        raise InvalidInput(f"--listen {text!r} is not HOST:PORT")
    return host, int(port)


async def cmd_metrics_serve(sv, args) -> int:
    from imtui.exposition import SnapshotCollector, serve

    host, port = _listen(args.listen)
    loop = asyncio.get_running_loop()

    def read():  # on a request's thread: the services run on this event loop
        return asyncio.run_coroutine_threadsafe(sv.metrics.snapshot(args.per_app), loop).result()

    def failed(exc: Exception) -> str:
        if isinstance(exc, ImtuiError):
            line = f"metrics not computed: {exc.message}"
        else:
            line = f"metrics not computed: {type(exc).__name__}: {exc}"
        print(output.printable_line(line), file=sys.stderr, flush=True)
        return line

    try:
        server, thread = serve(SnapshotCollector(read), host, port, failed)
    except OSError as exc:
        raise InvalidInput(f"cannot listen on {args.listen}: {exc.strerror}") from None
    stop = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    shown = f"[{host}]" if ":" in host else host
    print(f"serving metrics on http://{shown}:{port}/metrics (Ctrl-C to stop)", file=sys.stderr, flush=True)
    try:
        await stop.wait()
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
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


PLATFORM_FIELDS = ("platform", "url", "bound_at")


def _platform_record(binding, tz: str) -> dict[str, Any]:
    return {"platform": binding.platform, "url": binding.url, "bound_at": iso_local(binding.bound_at, tz)}


async def cmd_platform_show(sv, args) -> int:
    _emit(args, _platform_record(await sv.platform.show(), sv.tz), PLATFORM_FIELDS, single=True)
    return 0


async def cmd_platform_bind(sv, args) -> int:
    from imtui.bootstrap import control_plane_of, settings_from_env
    from imtui.services.control_plane import EMBEDDED

    sv.require_writable()
    url = None if args.url.strip() == EMBEDDED else args.url
    plane = control_plane_of(settings_from_env(args.db, args.read_only, None, url))
    result = await sv.platform.bind(plane)
    _emit(args, _platform_record(result.binding, sv.tz), PLATFORM_FIELDS, single=True)
    if not result.changed:
        print("nothing to change: the database already belongs to this platform", file=sys.stderr)
    return 0


async def cmd_budgets_list(sv, args) -> int:
    statuses = await sv.budgets.list()
    if args.format == "table":
        print(output.budget_table(statuses))
    else:
        _emit(args, [output.budget_record(b) for b in statuses], output.BUDGET_FIELDS)
    return 0


def _budget_target(args, with_amount: bool) -> tuple[str | None, str | None]:
    """(account or None for --fleet, amount) from `budgets set|remove`'s arguments."""
    given = list(args.target) if with_amount else ([args.account] if args.account is not None else [])
    want = (1 if with_amount else 0) + (0 if args.fleet else 1)
    if len(given) != want:
        shape = "ACCOUNT or --fleet" + (", then AMOUNT" if with_amount else "")
        raise InvalidInput(f"budgets {args.budgets_command} needs {shape}, not {len(given)} argument(s)")
    account = None if args.fleet else given[0]
    return account, given[-1] if with_amount else None


async def cmd_budgets_set(sv, args) -> int:
    account, amount = _budget_target(args, with_amount=True)
    change = await sv.budgets.set(account, amount, args.warn_at)
    if args.format == "table":
        print(output.budget_table([change.status]))
    else:
        _emit(args, output.budget_record(change.status), output.BUDGET_FIELDS, single=True)
    if not change.changed:
        print("nothing to change: the budget is already this", file=sys.stderr)
    return 0


async def cmd_budgets_remove(sv, args) -> int:
    account, _ = _budget_target(args, with_amount=False)
    change = await sv.budgets.remove(account)
    _emit(args, output.removed_budget_record(account, change.before), output.BUDGET_REMOVED_FIELDS, single=True)
    if not change.changed:
        print(f"nothing to change: {'the fleet' if account is None else account} has no budget", file=sys.stderr)
    return 0


async def cmd_check(sv, args) -> int:
    import json

    from imtui.domain.signals import check_thresholds, exceeds
    from imtui.services.signals import signal_record
    from imtui.services.webhook import check_url

    thresholds = check_thresholds(args.spike_ratio, args.spike_min, args.purge_days)
    if args.notify is not None:
        check_url(args.notify)
        sv.require_writable()  # refused at once, before anything is read
    report = await sv.signals.report(args.account, thresholds)
    records = [signal_record(s, sv.tz) for s in report.signals]
    if args.format == "json":
        data = {"at": iso_local(report.at, sv.tz), "signals": records}
        # indented while a person might read it; a fleet's thousands compact (the C encoder)
        print(output.to_json(data) if len(records) <= 50 else json.dumps(data, ensure_ascii=False))
    elif args.format == "csv":
        rows = [output.signal_row(r, s.account) for r, s in zip(records, report.signals)]
        print(output.to_csv(rows, output.SIGNAL_CSV_FIELDS))
    else:
        print(output.signals_table(records))
    for note in report.notes:
        print(output.printable_line(f"note: {note}"), file=sys.stderr)
    if args.notify is not None:
        sys.stdout.flush()
        result = await sv.signals.notify(args.notify, report, args.account)  # never answered: exit 1
        if result.sent:
            print(
                output.printable_line(
                    f"notified {result.url}: {result.new} new, {result.escalated} escalated, {result.resolved} resolved"
                ),
                file=sys.stderr,
            )
    return 6 if exceeds(report.signals, None if args.fail_on == "never" else args.fail_on) else 0


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
    ("bills", "export"): cmd_bills_export,
    ("metrics", None): cmd_metrics,
    ("metrics", "serve"): cmd_metrics_serve,
    ("audit", None): cmd_audit,
    ("usage", "import"): cmd_usage_import,
    ("usage", "show"): cmd_usage_show,
    ("review", None): cmd_review,
    ("reconcile", None): cmd_reconcile,
    ("platform", "show"): cmd_platform_show,
    ("platform", "bind"): cmd_platform_bind,
    ("budgets", "list"): cmd_budgets_list,
    ("budgets", "set"): cmd_budgets_set,
    ("budgets", "remove"): cmd_budgets_remove,
    ("check", None): cmd_check,
}
