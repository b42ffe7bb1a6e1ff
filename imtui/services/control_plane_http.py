"""The platform over HTTP (the `imtui control-plane serve` simulator, or anything speaking its API).

aiohttp is imported here only, and this module only when `--control-plane` names a URL, so the
embedded default starts no faster or slower. Each call is retried with the same idempotency key
(never acting twice) on timeouts, refused or reset connections and server errors, with a bounded
exponential backoff; after that its outcome is unknown (`ControlPlaneUnreachable`) and the caller
asks `resolve`. While the platform keeps failing, a breaker answers at once for a short while
rather than letting every app of a bulk wait through its own retries.
"""

from __future__ import annotations

import asyncio
import random
import time
from datetime import datetime

import aiohttp

from imtui.services.control_plane import ControlPlaneError, ControlPlaneUnreachable, Outcome

ATTEMPT_SECONDS = 3.0
"""How long one attempt may take before it counts as unanswered."""
ATTEMPTS = 5
BACKOFF = 0.25
"""Seconds before the first retry; doubled each time (with jitter), at most BACKOFF_MAX."""
BACKOFF_MAX = 2.0
BREAKER_AFTER = 8
"""Consecutive unanswered calls after which calls fail at once for BREAKER_SECONDS."""
BREAKER_SECONDS = 5.0


class HttpControlPlane:
    def __init__(self, url: str, token: str, attempt_seconds: float = ATTEMPT_SECONDS, attempts: int = ATTEMPTS):
        self.url = url.rstrip("/")
        self.token = token
        self.attempt_seconds = attempt_seconds
        self.attempts = attempts
        self._unanswered = 0
        self._open_until = 0.0
        self._socket = url[len("unix://") :] if url.startswith("unix://") else None
        self._base = "http://platform" if self._socket else self.url

    def _session(self) -> aiohttp.ClientSession:
        connector = aiohttp.UnixConnector(path=self._socket) if self._socket else aiohttp.TCPConnector(force_close=True)
        return aiohttp.ClientSession(
            connector=connector,
            headers={"Authorization": f"Bearer {self.token}"},
            timeout=aiohttp.ClientTimeout(total=self.attempt_seconds),
        )

    async def _request(self, method: str, path: str, what: str, key: str | None = None) -> dict:
        """One request with retries; refusals (4xx) are final, everything else is retried."""
        if time.monotonic() < self._open_until:
            raise ControlPlaneError(f"the control plane is not answering; {what} was not tried")
        headers = {"Idempotency-Key": key} if key else {}
        problem = "no answer"
        delivered = False  # whether any attempt may have reached the platform
        for attempt in range(self.attempts):
            if attempt:
                await asyncio.sleep(min(BACKOFF_MAX, BACKOFF * 2 ** (attempt - 1)) * random.uniform(0.5, 1.0))
            try:
                async with self._session() as session, session.request(method, self._base + path, headers=headers) as r:
                    body = await r.json(content_type=None) if r.content_length != 0 else {}
                    if r.status < 400:
                        self._unanswered = 0
                        return body or {}
                    message = (body or {}).get("error", r.reason) if isinstance(body, dict) else r.reason
                    if r.status < 500:
                        self._unanswered = 0
                        raise ControlPlaneError(f"the control plane refused to {what}: {message}")
                    problem = f"HTTP {r.status} ({message})"
                    delivered = True
            except aiohttp.ClientConnectorError as exc:  # no connection: the request never left
                problem = _describe(exc, self.attempt_seconds)
            except (TimeoutError, aiohttp.ClientError, OSError, ValueError) as exc:
                problem = _describe(exc, self.attempt_seconds)
                delivered = True
        self._unanswered += 1
        if self._unanswered >= BREAKER_AFTER:
            self._open_until = time.monotonic() + BREAKER_SECONDS
        message = f"the control plane did not answer to {what} ({problem}, {self.attempts} tries)"
        raise ControlPlaneUnreachable(message) if delivered else ControlPlaneError(message)

    async def _act(self, verb: str, action: str, app_id: int, key: str) -> datetime | None:
        body = await self._request("POST", f"/v1/apps/{app_id}/{verb}", f"{action} app {app_id}", key)
        return _instant(body.get("at"))

    async def deactivate(self, app_id: int, key: str) -> datetime | None:
        return await self._act("stop", "deactivate", app_id, key)

    async def activate(self, app_id: int, key: str) -> datetime | None:
        return await self._act("start", "activate", app_id, key)

    async def resolve(self, key: str) -> Outcome:
        body = await self._request("POST", f"/v1/operations/{key}/resolve", f"settle request {key}")
        return Outcome(str(body.get("state")), _instant(body.get("at")))

    async def stopped(self) -> set[int] | None:
        body = await self._request("GET", "/v1/stopped", "list the stopped apps")
        return {int(a) for a in body.get("stopped", [])}


def _instant(text: object) -> datetime | None:
    try:
        return datetime.fromisoformat(str(text)) if text else None
    except ValueError:
        return None


def _describe(exc: BaseException, seconds: float) -> str:
    if isinstance(exc, TimeoutError):
        return f"no answer within {seconds:g} s"
    if isinstance(exc, aiohttp.ClientConnectorError):
        return "connection refused"
    if isinstance(exc, aiohttp.ServerDisconnectedError | ConnectionResetError | aiohttp.ClientOSError):
        return "connection dropped"
    return type(exc).__name__
