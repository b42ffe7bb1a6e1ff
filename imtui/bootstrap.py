"""The composition root: settings, clock, database and services are built here, once, and the
command line and the dashboard receive the narrow `Services` face (never the engine)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from imtui.clock import Clock, FixedClock, OffsetClock, SystemClock
from imtui.config import Settings, data_dir, environment
from imtui.domain.calendar import check_zone, parse_instant
from imtui.domain.errors import InvalidInput
from imtui.domain.prices import load_price_list
from imtui.persistence.database import Database
from imtui.persistence.engine import url_password
from imtui.persistence.engine import without_passwords as _without_passwords
from imtui.services.context import ServiceContext
from imtui.services.control_plane import ControlPlane, SimulatedControlPlane
from imtui.services.face import Services
from imtui.services.identity import actor_of
from imtui.services.opening import make_first_user_admin, open_database
from imtui.token import TokenError, create_token_file, token_from_env

TOKEN_FILE = "control-plane.token"
"""Where the simulator keeps its token by default, beside imtui's database (mode 600)."""


def settings_from_env(
    db: str | None = None,
    read_only: bool = False,
    now: datetime | str | None = None,
    control_plane: str | None = None,
) -> Settings:
    """Settings from options and the environment. `now` may be the text of `--now` (`IMTUI_NOW`),
    parsed here: without an offset it is read in the billing time zone. An unknown zone in
    `IMTUI_BILLING_TZ` is refused (exit 2) before anything else, named as the zone."""
    settings = Settings(read_only=read_only, control_plane_url=control_plane or None)
    if db:
        settings = replace(settings, db=db)
    tz = environment().billing_tz
    if tz:
        try:
            check_zone(tz)
        except InvalidInput as exc:
            raise InvalidInput(f"IMTUI_BILLING_TZ: {exc.message}") from None
        settings = replace(settings, billing_tz=tz)
    if isinstance(now, str):
        try:
            now = parse_instant(now, settings.billing_tz)
        except InvalidInput as exc:
            raise InvalidInput(f"--now: {exc.message}") from None
    return replace(settings, now=now)


def password_warning(db_option: str) -> str | None:
    """The warning for a `--db` URL with a password in it: any user of the host sees a process's
    arguments (`ps`); None when it holds none."""
    if not url_password(db_option):
        return None
    return (
        "warning: the password in --db is visible to other users in the process list; "
        "set the URL in IMTUI_DB instead, or keep the password in ~/.pgpass (or the file PGPASSFILE names)"
    )


def without_passwords(message: str, db: str | None) -> str:
    """A message as the command line shows it: the database URL's password (any URL's) masked."""
    return _without_passwords(message, db)


def tune_dashboard_process() -> None:
    """Memory settings for the dashboard's long-lived process, before any thread starts: glibc
    otherwise gives each worker thread its own heap, and memory freed in one is not reused by
    another, so the process grows well past what it holds (bench/README.md has the figures). A
    no-op where the C library is not glibc."""
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(-8, 1)  # M_ARENA_MAX: one heap for every thread
    except (OSError, AttributeError):
        pass


def clock_for(settings: Settings, dashboard: bool) -> Clock:
    """`--now` fixes a subcommand's clock at exactly that instant (successive runs with the same
    `--now` act at the same instant); the dashboard's clock starts there and runs on."""
    if settings.now is None:
        return SystemClock()
    return OffsetClock(settings.now) if dashboard else FixedClock(settings.now)


def control_plane_of(settings: Settings) -> ControlPlane:
    """The platform over HTTP when a URL is set (token from the environment or the token file
    the simulator writes by default), else the embedded simulator."""
    url = settings.control_plane_url
    if not url:
        return SimulatedControlPlane(settings.control_plane_latency)
    if not url.startswith(("http://", "https://", "unix:///")):
        raise InvalidInput(f"--control-plane must be an http://, https:// or unix:/// URL, not {url!r}")
    from imtui.services.control_plane_http import HttpControlPlane

    try:
        token = token_from_env(data_dir() / TOKEN_FILE)
    except TokenError as exc:
        raise InvalidInput(f"{exc} (or set IMTUI_CONTROL_PLANE_TOKEN)") from None
    env = environment()
    seconds = (env.control_plane_timeout or "").strip()
    try:
        attempt_seconds = float(seconds) if seconds else None
    except ValueError:
        raise InvalidInput(f"IMTUI_CONTROL_PLANE_TIMEOUT must be a number of seconds, not {seconds!r}") from None
    if attempt_seconds is not None and not 0 < attempt_seconds <= 600:
        raise InvalidInput("IMTUI_CONTROL_PLANE_TIMEOUT must be between 0 and 600 seconds")
    ca_file = (env.control_plane_ca or "").strip() or None  # https:// verified against it
    try:
        if attempt_seconds:
            return HttpControlPlane(url, token, attempt_seconds, ca_file=ca_file)
        return HttpControlPlane(url, token, ca_file=ca_file)
    except ValueError as exc:  # the CA bundle
        raise InvalidInput(str(exc)) from None


def serve_control_plane(args) -> int:
    """`imtui control-plane serve`: the platform simulator in this process until interrupted. A bad
    option, token, store or certificate is one line on standard error and exit 2 (the options are
    checked before any file is made); an address it cannot listen on (in use, not allowed) exit 1."""
    import asyncio
    import socket
    import sys

    from imtui.simulator.server import serve
    from imtui.simulator.store import StoreError

    def fail(message: str, code: int = 2) -> int:
        print(f"control plane: {message}", file=sys.stderr)
        return code

    try:
        faults, host, port, tls, token, store = _control_plane_options(args)
    except (ValueError, TokenError, StoreError) as exc:
        return fail(str(exc))
    except OSError as exc:
        return fail(f"{exc.strerror or exc}")
    where = args.socket or args.listen
    try:
        asyncio.run(serve(store, token, faults, host, port, args.socket, allow_faults=args.allow_faults, tls=tls))
    except KeyboardInterrupt:
        pass
    except (socket.gaierror, UnicodeError):
        return fail(f"cannot listen on {where}: no such host")
    except OSError as exc:
        return fail(*_cannot_listen(where, exc))
    return 0


def _control_plane_options(args):
    """`control-plane serve`'s options checked, then its token and store made: (faults, host,
    port, TLS context, token, store). Raises ValueError, TokenError, StoreError or OSError."""
    import math
    from pathlib import Path

    from imtui.simulator.server import Fault, Faults, parse_listen, tls_context
    from imtui.simulator.store import Store, StoreError

    if args.fault and not args.allow_faults:
        raise ValueError("--fault injects failures for drills only; add --allow-faults to serve with them")
    if not (math.isfinite(args.latency) and 0 <= args.latency <= 60):
        raise ValueError("--latency must be a number of seconds from 0 to 60")
    faults = Faults(args.latency, [Fault.parse(f) for f in args.fault], args.seed)
    host, port = parse_listen(args.listen)
    if args.socket and (args.tls_cert or args.tls_key):
        raise ValueError("--tls-cert and --tls-key are for --listen; a --socket is reached from this host only")
    tls = tls_context(args.tls_cert, args.tls_key)
    shared = (environment().control_plane_token or "").strip()
    if shared and not args.token_file:
        token = shared
    else:
        token = create_token_file(Path(args.token_file or data_dir() / TOKEN_FILE).expanduser())
    store_path = Path(args.store or data_dir() / "control-plane.sqlite").expanduser()
    try:
        store_path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        parent = next((d for d in store_path.parents if d.exists()), store_path.parent)
        why = f"{parent} is not a directory" if not parent.is_dir() else exc.strerror or str(exc)
        raise StoreError(f"cannot use {store_path} as the control plane's store: {why}") from None
    return faults, host, port, tls, token, Store(store_path)


def _cannot_listen(where: str, exc: OSError) -> tuple[str, int]:
    """The one line and exit code of an address the simulator cannot listen on."""
    import errno

    if exc.errno == errno.EADDRNOTAVAIL:
        return f"cannot listen on {where}: not an address of this host", 2
    if exc.errno == errno.EADDRINUSE:
        return f"cannot listen on {where}: the address is already in use", 1
    return f"cannot listen on {where}: {exc.strerror or exc}", 1


def open_services(
    settings: Settings,
    clock: Clock,
    control_plane: ControlPlane | None = None,
    actor: str | None = None,
) -> Services:
    """Opens (and migrates) the database and wires every service on it."""
    db = Database(settings.db)
    try:
        tz, clock = open_database(db, clock, settings.billing_tz, settings.now is not None)
        actor = actor or actor_of(db)
        ctx = ServiceContext(
            db=db,
            clock=clock,
            prices=load_price_list(settings.price_list),
            tz=tz,
            actor=actor,
            control_plane=control_plane or control_plane_of(settings),
            read_only=settings.read_only,
            bulk_concurrency=settings.bulk_concurrency,
        )
        make_first_user_admin(db, actor, clock)
    except BaseException:
        db.close()
        raise
    services = Services.build(ctx)
    services.configure_notify(settings.notify_secret, settings.notify_timeout)
    return services


def completions(db_option: str | None, kind: str, prefix: str) -> list[str]:
    """App IDs (`kind` "apps") or account names ("accounts") starting with `prefix`, from the
    database the command line would use; nothing when it does not exist or cannot be read."""
    from pathlib import Path

    from imtui.domain.errors import ImtuiError
    from imtui.services import completion

    target = db_option or environment().db or Settings().db
    if "://" not in target and not Path(target).expanduser().is_file():
        return []
    try:
        db = Database(target)
    except ImtuiError:
        return []
    try:
        look = completion.app_ids if kind == "apps" else completion.account_names
        return look(db, prefix)
    except ImtuiError:
        return []
    except Exception:  # noqa: BLE001  (a schema from another release: complete nothing)
        return []
    finally:
        db.close()
