"""The simulated platform as its own process: HTTP (or HTTPS) with JSON over aiohttp, token required.

    POST /v1/apps/{id}/stop | /start   (Idempotency-Key header)  → the operation
    POST /v1/operations/{key}/resolve                              → done, or cancelled (fenced)
    GET  /v1/apps/{id}  ·  GET /v1/stopped  ·  GET /v1/log[?app=]
    GET  /v1/identity                                              → {"platform": "<stable id>"}
    GET|PUT /v1/faults   (latency, seed, fault rules for drills and tests; PUT only for drills)

Faults apply to stop and start requests: `fail` (HTTP 500), `hang` (never answers), `drop`
(closes the connection without an answer), `reset` (resets it), `slow` (answers late). Each
rule may be limited to some apps, a probability, a number of times, and may strike `after` the
action was carried out (the call took effect but its answer is lost). They are injected only by a
server started for drills (`allow_faults`, `--allow-faults`); any other answers `PUT /v1/faults`
with 403, so a token alone cannot make the platform misbehave.

Made to face a network: every request needs the token, and anything else in `Authorization`
(missing, wrong, repeated, not UTF-8) is 401, never an error; an app ID is exactly 10 ASCII digits
(anything else is 404 in a path, 400 elsewhere), an idempotency key 1-200 URL-safe characters.
A connection that has not yet sent a request bearing the token is dropped after READ_SECONDS
(headers that never end, a flood of wrong tokens), and at most UNAUTHENTICATED_MAX of them are
held at once: a newcomer beyond that drops the oldest (the likeliest stalled), so operators'
requests still get through a flood. An idle or stalled keep-alive connection is closed after
READ_SECONDS too, a request body must arrive within as long, and a TLS handshake as well.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import os
import random
import re
import signal
import socket
import ssl
import struct
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from functools import partial

from aiohttp import web

from imtui.simulator.store import START, STOP, KeyCancelled, KeyMismatch, Store

MODES = ("fail", "hang", "drop", "reset", "slow")

READ_SECONDS = 5.0
"""How long a connection may take to authenticate (its first request with the token, headers
and all), a request its body, a TLS client its handshake; how long an idle connection is kept."""
UNAUTHENTICATED_MAX = 256
"""Connections held at once that have not authenticated yet."""
MAX_BODY = 64 * 1024
"""The largest request body (a fault plan)."""

_APP_ID = re.compile(r"[1-9][0-9]{9}")  # [0-9], not \d: ASCII digits only
_KEY = re.compile(r"[A-Za-z0-9._~:-]{1,200}")
_APP_IDS = range(1_000_000_000, 10_000_000_000)


def canonical_app_id(text: str) -> int | None:
    """The SDKAppID written in `text` if it is one, exactly as imtui writes them (10 ASCII digits,
    the first not 0); None for anything else (`1_400_000_001`, full-width digits, `-5`, `+1…`)."""
    return int(text) if _APP_ID.fullmatch(text) else None


@dataclass
class Fault:
    """One fault the simulator injects into matching requests, for drills and tests."""

    mode: str
    apps: list[int] | None = None
    """Only requests for these apps (None: any app)."""
    rate: float = 1.0
    """Probability per matching request."""
    count: int | None = None
    """How many more times it may strike (None: without end)."""
    after: bool = False
    """Strike after the action was carried out."""
    seconds: float = 2.0
    """`slow`: how much later the answer comes."""

    @classmethod
    def parse(cls, spec: str) -> Fault:
        """`mode[:rate][:after]`, as given on the command line (`fail:0.1`, `hang:0.05:after`)."""
        parts = spec.split(":")
        if parts[0] not in MODES or len(parts) > 3 or (len(parts) == 3 and parts[2] != "after"):
            raise ValueError(f"--fault {spec!r}: MODE[:RATE][:after], MODE one of {', '.join(MODES)}")
        try:
            rate = float(parts[1]) if len(parts) > 1 and parts[1] else 1.0
        except ValueError:
            rate = -1.0
        if not 0 <= rate <= 1:
            raise ValueError(f"--fault {spec!r}: the rate must be a number from 0 to 1")
        return cls(parts[0], rate=rate, after=len(parts) > 2)

    @classmethod
    def of_json(cls, rule: object) -> Fault:
        """A rule of `PUT /v1/faults`, every field checked (a bad one is a ValueError)."""
        if not isinstance(rule, dict):
            raise ValueError("each fault must be an object")
        unknown = set(rule) - {"mode", "apps", "rate", "count", "after", "seconds"}
        if unknown:
            raise ValueError(f"unknown fault field(s): {', '.join(sorted(map(str, unknown)))}")
        if rule.get("mode") not in MODES:
            raise ValueError(f"fault mode must be one of {', '.join(MODES)}")
        apps = rule.get("apps")
        if apps is not None and not (
            isinstance(apps, list) and len(apps) <= 100_000 and all(_is_int(a) and a in _APP_IDS for a in apps)
        ):
            raise ValueError("apps must be a list of SDKAppIDs (10-digit numbers)")
        count = rule.get("count")
        if count is not None and not (_is_int(count) and 0 <= count <= 10**9):
            raise ValueError("count must be a whole number from 0 to 1000000000")
        after = rule.get("after", False)
        if not isinstance(after, bool):
            raise ValueError("after must be true or false")
        return cls(
            rule["mode"],
            apps=apps,
            rate=_number(rule.get("rate", 1.0), "rate", 0, 1),
            count=count,
            after=after,
            seconds=_number(rule.get("seconds", 2.0), "seconds", 0, 600),
        )


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _number(value: object, name: str, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise ValueError(f"{name} must be a number from {low:g} to {high:g}")
    return float(value)


@dataclass
class Faults:
    """The simulator's added latency and fault rules, drawn from a seedable random source."""

    latency: float = 0.0
    rules: list[Fault] = field(default_factory=list)
    seed: int | None = None

    def __post_init__(self) -> None:
        self.random = random.Random(self.seed)

    def pick(self, app_id: int) -> Fault | None:
        for rule in self.rules:
            if rule.count == 0 or (rule.apps is not None and app_id not in rule.apps):
                continue
            if self.random.random() < rule.rate:
                if rule.count is not None:
                    rule.count -= 1
                return rule
        return None

    def json(self) -> dict:
        return {"latency": self.latency, "seed": self.seed, "faults": [asdict(r) for r in self.rules]}

    @classmethod
    def of_json(cls, body: object) -> Faults:
        """A fault plan as `PUT /v1/faults` takes it; anything malformed is a ValueError."""
        if not isinstance(body, dict):
            raise ValueError("the plan must be a JSON object")
        unknown = set(body) - {"latency", "seed", "faults"}
        if unknown:
            raise ValueError(f"unknown field(s): {', '.join(sorted(map(str, unknown)))}")
        rules = body.get("faults", [])
        if not isinstance(rules, list) or len(rules) > 100:
            raise ValueError("faults must be a list of at most 100 rules")
        seed = body.get("seed")
        if seed is not None and not (_is_int(seed) and -(2**63) <= seed < 2**63):
            raise ValueError("seed must be a whole number")
        return cls(_number(body.get("latency", 0.0), "latency", 0, 60), [Fault.of_json(r) for r in rules], seed)


class _Refused(Exception):
    """Ends a request with an error status and a JSON `{"error": ...}`."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


# --- connections that have not authenticated -----------------------------------------------------


class Gate:
    """The connections that have not (yet) sent a request bearing the token: each may stay
    `seconds`, and at most `limit` are held at once; a newcomer beyond that drops the oldest.
    A connection leaves the gate at its first authenticated request (`admit`)."""

    def __init__(self, limit: int = UNAUTHENTICATED_MAX, seconds: float = READ_SECONDS):
        self.limit = max(1, limit)
        self.seconds = seconds
        self.waiting: dict[asyncio.BaseProtocol, _Guarded] = {}  # by aiohttp's handler; oldest first
        self.dropped = 0

    def factory(self, make: Callable[[], asyncio.Protocol]) -> Callable[[], asyncio.Protocol]:
        """A protocol factory for `create_server`: each connection's protocol from `make`, guarded.
        Called as the connection is accepted (for TLS, before its handshake)."""
        return lambda: _Guarded(self, make())

    def admit(self, protocol: asyncio.BaseProtocol | None) -> None:
        guarded = self.waiting.pop(protocol, None) if protocol is not None else None
        if guarded is not None:
            guarded.timer.cancel()


class _Guarded(asyncio.Protocol):
    """Passes everything to the guarded protocol until its connection is dropped by the gate."""

    def __init__(self, gate: Gate, inner: asyncio.Protocol):
        self.gate = gate
        self.inner = inner
        self.transport: asyncio.BaseTransport | None = None
        self.started = False
        self.dropped = False
        while len(gate.waiting) >= gate.limit:
            next(iter(gate.waiting.values())).drop()
        gate.waiting[inner] = self
        self.timer = asyncio.get_running_loop().call_later(gate.seconds, self.drop)

    def drop(self) -> None:
        self.timer.cancel()
        if self.gate.waiting.pop(self.inner, None) is None or self.dropped:
            return
        self.dropped = True
        self.gate.dropped += 1
        if self.transport is not None:
            self.transport.abort()  # otherwise at once when it is made (after a TLS handshake)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport
        if self.dropped:
            transport.abort()
            return
        self.started = True
        self.inner.connection_made(transport)

    def connection_lost(self, exc: Exception | None) -> None:
        self.timer.cancel()
        if self.gate.waiting.get(self.inner) is self:
            del self.gate.waiting[self.inner]
        if self.started:
            self.inner.connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self.started:
            self.inner.data_received(data)

    def eof_received(self) -> bool | None:
        return self.inner.eof_received() if self.started else None

    def pause_writing(self) -> None:
        if self.started:
            self.inner.pause_writing()

    def resume_writing(self) -> None:
        if self.started:
            self.inner.resume_writing()


# --- the application -----------------------------------------------------------------------------


def make_app(
    store: Store, token: str, faults: Faults | None = None, allow_faults: bool = False, gate: Gate | None = None
) -> web.Application:
    """The platform's HTTP API over `store`, for callers holding `token`."""
    routes = _Routes(store, token, faults or Faults(), allow_faults, gate)
    app = web.Application(middlewares=[routes.guard], client_max_size=MAX_BODY)
    app.add_routes(
        [
            web.post(r"/v1/apps/{app_id}/stop", routes.act(STOP)),
            web.post(r"/v1/apps/{app_id}/start", routes.act(START)),
            web.post("/v1/operations/{key}/resolve", routes.resolve),
            web.get(r"/v1/apps/{app_id}", routes.app_status),
            web.get("/v1/stopped", routes.stopped),
            web.get("/v1/log", routes.log),
            web.get("/v1/identity", routes.identity),
            web.get("/v1/faults", routes.get_faults),
            web.put("/v1/faults", routes.put_faults),
        ]
    )
    return app


def _app_id_of(request: web.Request) -> int:
    app_id = canonical_app_id(request.match_info["app_id"])
    if app_id is None:
        raise _Refused(404, "no such app: an SDKAppID is 10 digits such as 1400000001")
    return app_id


def _key_of(text: str) -> str:
    if not _KEY.fullmatch(text):
        raise _Refused(400, "an idempotency key is 1 to 200 letters, digits or . _ ~ : -")
    return text


async def _strike(request: web.Request, fault: Fault) -> web.Response | None:
    """Carries out an injected fault: None to go on (after a delay), an answer to give, or the
    connection dropped (reset or closed) with nothing answered."""
    if fault.mode == "slow":
        await asyncio.sleep(fault.seconds)
        return None
    if fault.mode == "fail":
        return _error(500, "injected failure")
    if fault.mode == "hang":
        await asyncio.Event().wait()
    transport = request.transport
    if transport is not None:
        sock = transport.get_extra_info("socket")
        if fault.mode == "reset" and sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        transport.abort() if fault.mode == "reset" else transport.close()
    raise asyncio.CancelledError  # nothing is answered on a dropped connection


class _Routes:
    """The API's handlers and the middleware guarding them (the token, the gate, errors as JSON)."""

    def __init__(self, store: Store, token: str, faults: Faults, allow_faults: bool, gate: Gate | None) -> None:
        self.store, self.faults, self.allow_faults, self.gate = store, faults, allow_faults, gate
        self.expected = f"Bearer {token}".encode()

    def authorized(self, request: web.Request) -> bool:
        given = request.headers.getall("Authorization", [])
        if len(given) != 1:
            return False
        try:
            raw = given[0].encode()  # bytes that were not UTF-8 arrive as surrogates
        except UnicodeEncodeError:
            return False
        return hmac.compare_digest(raw, self.expected)

    @web.middleware
    async def guard(self, request: web.Request, handler):
        if not self.authorized(request):
            return _error(401, "missing or wrong token")
        if self.gate is not None:
            self.gate.admit(request.protocol)
        try:
            return await handler(request)
        except _Refused as exc:
            return _error(exc.status, str(exc))
        except web.HTTPException as exc:  # no such route, method, a body too large: JSON too
            if exc.status < 400:
                raise
            return _error(exc.status, exc.reason)

    def act(self, action: str):
        """The handler that stops (`STOP`) or starts (`START`) the app of a request."""
        return partial(self._act, action)

    async def _act(self, action: str, request: web.Request) -> web.Response:
        """Stops or starts an app under an idempotency key, with the faults a drill injected."""
        app_id = _app_id_of(request)
        if "Idempotency-Key" not in request.headers:
            raise _Refused(400, "an Idempotency-Key header is required")
        key = _key_of(request.headers["Idempotency-Key"])
        faults = self.faults
        if faults.latency:
            await asyncio.sleep(faults.latency)
        fault = faults.pick(app_id) if self.allow_faults else None
        if fault is not None and not fault.after and (answer := await _strike(request, fault)) is not None:
            return answer
        try:
            op = self.store.act(key, app_id, action)
        except KeyCancelled as exc:
            return _error(409, str(exc))
        except KeyMismatch as exc:
            return _error(422, str(exc))
        if fault is not None and fault.after and (answer := await _strike(request, fault)) is not None:
            return answer
        return web.json_response(op.json())

    async def resolve(self, request: web.Request) -> web.Response:
        return web.json_response(self.store.resolve(_key_of(request.match_info["key"])).json())

    async def app_status(self, request: web.Request) -> web.Response:
        app_id = _app_id_of(request)
        return web.json_response({"app_id": app_id, "serving": self.store.serving(app_id)})

    async def stopped(self, request: web.Request) -> web.Response:
        return web.json_response({"stopped": self.store.stopped()})

    async def log(self, request: web.Request) -> web.Response:
        app = request.query.get("app")
        app_id = canonical_app_id(app) if app is not None else None
        if app is not None and app_id is None:
            raise _Refused(400, "app must be an SDKAppID (10 digits such as 1400000001)")
        return web.json_response({"entries": self.store.log(app_id)})

    async def identity(self, request: web.Request) -> web.Response:
        return web.json_response({"platform": self.store.identity})

    async def get_faults(self, request: web.Request) -> web.Response:
        return web.json_response({**self.faults.json(), "allowed": self.allow_faults})

    async def put_faults(self, request: web.Request) -> web.Response:
        if not self.allow_faults:
            raise _Refused(403, "fault injection is off; start the control plane with --allow-faults (drills only)")
        try:
            async with asyncio.timeout(READ_SECONDS):
                raw = await request.read()
        except TimeoutError:
            answer = _error(408, f"the request body did not arrive within {READ_SECONDS:g} s")
            answer.force_close()
            return answer
        try:
            plan = Faults.of_json(json.loads(raw))
        except (ValueError, RecursionError) as exc:  # UnicodeDecodeError and JSONDecodeError included
            return _error(400, f"bad fault plan: {exc}")
        self.faults = plan
        return web.json_response(plan.json())


# --- options and serving -------------------------------------------------------------------------


def parse_listen(text: str) -> tuple[str, int]:
    """`HOST:PORT` (`[::1]:8765` for IPv6; port 0 picks a free one) → (host, port)."""
    host, _, port = text.rpartition(":")
    host = host.strip()
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if not host or not (port.isascii() and port.isdigit()) or int(port) > 65535:
        raise ValueError(f"--listen must be HOST:PORT with a port from 0 to 65535, not {text!r}")
    return host, int(port)


def tls_context(cert: str | None, key: str | None) -> ssl.SSLContext | None:
    """The server's TLS from `--tls-cert` and `--tls-key` (both or neither); a ValueError that
    says which file is wrong."""
    if not cert and not key:
        return None
    if not cert or not key:
        raise ValueError("--tls-cert and --tls-key go together: give both, or neither for plain HTTP")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    for path, what in ((cert, "--tls-cert"), (key, "--tls-key")):
        try:
            with open(path, "rb"):
                pass
        except OSError as exc:
            raise ValueError(f"{what} {path}: {exc.strerror or exc}") from None
    try:
        context.load_cert_chain(cert, key)
    except ssl.SSLError as exc:
        why = f" ({exc.reason.lower().replace('_', ' ')})" if exc.reason else ""
        raise ValueError(
            f"--tls-cert {cert} and --tls-key {key} are not a PEM certificate and its private key{why}"
        ) from None
    except (OSError, ValueError) as exc:
        raise ValueError(f"--tls-cert {cert} / --tls-key {key}: {exc}") from None
    return context


async def serve(
    store: Store,
    token: str,
    faults: Faults,
    host: str,
    port: int,
    unix: str | None,
    *,
    allow_faults: bool = False,
    tls: ssl.SSLContext | None = None,
    gate: Gate | None = None,
) -> None:
    """Serves until SIGINT or SIGTERM (or cancelled); prints one line with the address once it
    listens. Listening errors (OSError) propagate before that line."""
    gate = gate or Gate()
    app = make_app(store, token, faults, allow_faults=allow_faults, gate=gate)
    runner = web.AppRunner(app, access_log=None, handle_signals=False, keepalive_timeout=gate.seconds)
    await runner.setup()
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    server: asyncio.AbstractServer | None = None
    try:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        assert runner.server is not None
        factory = gate.factory(runner.server)
        if unix:
            mask = os.umask(0o177)  # the socket is made mode 600, never readable by others a moment
            try:
                server = await loop.create_unix_server(factory, unix)
            finally:
                os.umask(mask)
            address = f"unix://{unix}"
        else:
            server = await loop.create_server(
                factory,
                host,
                port,
                ssl=tls,
                ssl_handshake_timeout=gate.seconds if tls else None,
                reuse_address=True,
                backlog=1024,
            )
            bound = server.sockets[0].getsockname()
            shown = f"[{host}]" if ":" in host else host
            address = f"{'https' if tls else 'http'}://{shown}:{bound[1]}"
        print(f"control plane serving on {address}", flush=True)
        await stop.wait()
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        if server is not None:
            server.close()
        await runner.cleanup()
        store.close()
