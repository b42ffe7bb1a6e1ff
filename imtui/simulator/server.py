"""The simulated platform as its own process: HTTP with JSON over aiohttp, token required.

    POST /v1/apps/{id}/stop | /start   (Idempotency-Key header)  → the operation
    POST /v1/operations/{key}/resolve                              → done, or cancelled (fenced)
    GET  /v1/apps/{id}  ·  GET /v1/stopped  ·  GET /v1/log[?app=]
    GET|PUT /v1/faults   (latency, seed, fault rules for drills and tests)

Faults apply to stop and start requests: `fail` (HTTP 500), `hang` (never answers), `drop`
(closes the connection without an answer), `reset` (resets it), `slow` (answers late). Each
rule may be limited to some apps, a probability, a number of times, and may strike `after` the
action was carried out (the call took effect but its answer is lost).
"""

from __future__ import annotations

import asyncio
import hmac
import random
import socket
import struct
from dataclasses import asdict, dataclass, field

from aiohttp import web

from imtui.simulator.store import START, STOP, KeyCancelled, KeyMismatch, Store

MODES = ("fail", "hang", "drop", "reset", "slow")


@dataclass
class Fault:
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
        if parts[0] not in MODES:
            raise ValueError(f"fault mode must be one of {', '.join(MODES)}")
        rate = float(parts[1]) if len(parts) > 1 and parts[1] else 1.0
        if not 0 <= rate <= 1:
            raise ValueError("fault rate must be between 0 and 1")
        return cls(parts[0], rate=rate, after=len(parts) > 2 and parts[2] == "after")


@dataclass
class Faults:
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
    def of_json(cls, body: dict) -> Faults:
        rules = []
        for r in body.get("faults", []):
            if r.get("mode") not in MODES:
                raise ValueError(f"fault mode must be one of {', '.join(MODES)}")
            rules.append(Fault(**{k: r[k] for k in ("mode", "apps", "rate", "count", "after", "seconds") if k in r}))
        return cls(float(body.get("latency", 0.0)), rules, body.get("seed"))


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


def make_app(store: Store, token: str, faults: Faults | None = None) -> web.Application:
    state = {"faults": faults or Faults()}

    @web.middleware
    async def auth(request: web.Request, handler):
        given = request.headers.get("Authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            return _error(401, "missing or wrong token")
        return await handler(request)

    def app_id_of(request: web.Request) -> int:
        try:
            return int(request.match_info["app_id"])
        except ValueError:
            raise web.HTTPNotFound() from None

    async def strike(request: web.Request, fault: Fault) -> web.Response | None:
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

    def act(action: str):
        async def handler(request: web.Request) -> web.Response:
            app_id = app_id_of(request)
            key = request.headers.get("Idempotency-Key", "").strip()
            if not key or len(key) > 200:
                return _error(400, "an Idempotency-Key header is required")
            faults: Faults = state["faults"]
            if faults.latency:
                await asyncio.sleep(faults.latency)
            fault = faults.pick(app_id)
            if fault is not None and not fault.after:
                answer = await strike(request, fault)
                if answer is not None:
                    return answer
            try:
                op = store.act(key, app_id, action)
            except KeyCancelled as exc:
                return _error(409, str(exc))
            except KeyMismatch as exc:
                return _error(422, str(exc))
            if fault is not None and fault.after:
                answer = await strike(request, fault)
                if answer is not None:
                    return answer
            return web.json_response(op.json())

        return handler

    async def resolve(request: web.Request) -> web.Response:
        return web.json_response(store.resolve(request.match_info["key"]).json())

    async def app_status(request: web.Request) -> web.Response:
        app_id = app_id_of(request)
        return web.json_response({"app_id": app_id, "serving": store.serving(app_id)})

    async def stopped(request: web.Request) -> web.Response:
        return web.json_response({"stopped": store.stopped()})

    async def log(request: web.Request) -> web.Response:
        app = request.query.get("app")
        return web.json_response({"entries": store.log(int(app) if app and app.isdigit() else None)})

    async def get_faults(request: web.Request) -> web.Response:
        return web.json_response(state["faults"].json())

    async def put_faults(request: web.Request) -> web.Response:
        try:
            state["faults"] = Faults.of_json(await request.json())
        except (ValueError, TypeError, AttributeError) as exc:
            return _error(400, f"bad fault plan: {exc}")
        return web.json_response(state["faults"].json())

    app = web.Application(middlewares=[auth])
    app.add_routes(
        [
            web.post(r"/v1/apps/{app_id}/stop", act(STOP)),
            web.post(r"/v1/apps/{app_id}/start", act(START)),
            web.post("/v1/operations/{key}/resolve", resolve),
            web.get(r"/v1/apps/{app_id}", app_status),
            web.get("/v1/stopped", stopped),
            web.get("/v1/log", log),
            web.get("/v1/faults", get_faults),
            web.put("/v1/faults", put_faults),
        ]
    )
    return app


async def serve(store: Store, token: str, faults: Faults, host: str, port: int, unix: str | None) -> None:
    """Serves until cancelled; prints one line with the address once it listens."""
    runner = web.AppRunner(make_app(store, token, faults), access_log=None, handle_signals=True)
    await runner.setup()
    try:
        if unix:
            site: web.BaseSite = web.UnixSite(runner, unix)
            await site.start()
            import os

            os.chmod(unix, 0o600)
            address = f"unix://{unix}"
        else:
            site = web.TCPSite(runner, host, port)
            await site.start()
            bound = site._server.sockets[0].getsockname()  # type: ignore[union-attr]
            address = f"http://{host}:{bound[1]}"
        print(f"control plane serving on {address}", flush=True)
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()
        store.close()
