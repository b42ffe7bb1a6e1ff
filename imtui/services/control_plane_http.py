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
import ssl
import time
from datetime import datetime

import aiohttp

from imtui.services.control_plane import (
    EMBEDDED,
    ControlPlaneError,
    ControlPlaneSilent,
    ControlPlaneUnreachable,
    Outcome,
    redact,
)

ATTEMPT_SECONDS = 3.0
"""How long one attempt may take before it counts as unanswered."""
ATTEMPTS = 5
BACKOFF = 0.25
"""Seconds before the first retry; doubled each time (with jitter), at most BACKOFF_MAX."""
BACKOFF_MAX = 2.0
BREAKER_AFTER = 8
"""Consecutive unanswered calls after which calls fail at once for BREAKER_SECONDS."""
BREAKER_SECONDS = 5.0
IDENTITY_MAX = 200
"""The longest platform identity taken (the simulator's is a UUID)."""
IDENTITY_SECONDS = 10.0
"""How long an answer to `identity` is taken as still true (a long-lived dashboard asks again, so
another platform put behind the same address is noticed)."""


class HttpControlPlane:
    """The control plane across the network (`IMTUI_CONTROL_PLANE`), over aiohttp: each call tried
    a few times, each attempt time-limited; https verified against the system's or a given CA."""

    def __init__(
        self,
        url: str,
        token: str,
        attempt_seconds: float = ATTEMPT_SECONDS,
        attempts: int = ATTEMPTS,
        ca_file: str | None = None,
    ):
        """`ca_file`: the CA bundle an https:// platform's certificate is verified against
        (`IMTUI_CONTROL_PLANE_CA`); without it, the system's. A bad bundle is a ValueError."""
        self.url = url.rstrip("/")
        self._tls = _client_tls(ca_file) if url.startswith("https://") else None
        self.token = token
        self.attempt_seconds = attempt_seconds
        self.attempts = attempts
        self._unanswered = 0
        self._open_until = 0.0
        self._socket = url[len("unix://") :] if url.startswith("unix://") else None
        self._base = "http://platform" if self._socket else self.url
        self.location: str | None = redact(url)
        self._identity: tuple[str, float] | None = None

    def _session(self) -> aiohttp.ClientSession:
        connector = (
            aiohttp.UnixConnector(path=self._socket)
            if self._socket
            else aiohttp.TCPConnector(force_close=True, ssl=self._tls if self._tls is not None else True)
        )
        return aiohttp.ClientSession(
            connector=connector,
            headers={"Authorization": f"Bearer {self.token}"},
            timeout=aiohttp.ClientTimeout(total=self.attempt_seconds),
        )

    async def _request(self, method: str, path: str, what: str, key: str | None = None) -> dict:
        """One request with retries; refusals (4xx) are final, everything else is retried."""
        if time.monotonic() < self._open_until:
            raise ControlPlaneSilent(f"the control plane is not answering; {what} was not tried")
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
            except aiohttp.ClientSSLError as exc:  # TLS failed before any request left: final
                raise ControlPlaneError(f"cannot {what}: {_tls_problem(exc)}") from None
            except aiohttp.ClientConnectorError as exc:  # no connection: the request never left
                problem = _describe(exc, self.attempt_seconds)
            except (TimeoutError, aiohttp.ClientError, OSError, ValueError) as exc:
                problem = _describe(exc, self.attempt_seconds)
                delivered = True
        self._unanswered += 1
        if self._unanswered >= BREAKER_AFTER:
            self._open_until = time.monotonic() + BREAKER_SECONDS
        message = f"the control plane did not answer to {what} ({problem}, {self.attempts} tries)"
        raise ControlPlaneUnreachable(message) if delivered else ControlPlaneSilent(message)

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

    async def identity(self) -> str:
        """`GET /v1/identity`: the platform's stable id (asked again after IDENTITY_SECONDS)."""
        if self._identity is None or time.monotonic() - self._identity[1] > IDENTITY_SECONDS:
            body = await self._request("GET", "/v1/identity", "say which platform it is")
            found = body.get("platform") if isinstance(body, dict) else None
            if (
                not isinstance(found, str)
                or not 0 < len(found) <= IDENTITY_MAX
                or not found.isprintable()
                or found.strip() != found
                or found == EMBEDDED
            ):
                raise ControlPlaneError(f"the control plane at {self.location} did not say which platform it is")
            self._identity = (found, time.monotonic())
        return self._identity[0]


def _client_tls(ca_file: str | None) -> ssl.SSLContext:
    """Verifies the platform's certificate and host name: against `ca_file` only when given,
    else against the system's CAs."""
    try:
        return ssl.create_default_context(cafile=ca_file) if ca_file else ssl.create_default_context()
    except (OSError, ValueError) as exc:  # ssl.SSLError is an OSError
        why = getattr(exc, "reason", None) or exc.strerror if isinstance(exc, OSError) else str(exc)
        raise ValueError(
            f"IMTUI_CONTROL_PLANE_CA names {ca_file}, which is not a readable PEM file of CA certificates ({why})"
        ) from None


def _tls_problem(exc: aiohttp.ClientSSLError) -> str:
    if isinstance(exc, aiohttp.ClientConnectorCertificateError):
        cause = exc.certificate_error
        why = getattr(cause, "verify_message", None) or getattr(cause, "reason", None) or str(cause)
        return (
            f"the control plane's TLS certificate could not be verified ({why}); "
            "set IMTUI_CONTROL_PLANE_CA to the CA certificate that signed it"
        )
    reason = getattr(exc.os_error, "reason", None)
    why = reason.lower().replace("_", " ") if isinstance(reason, str) else str(exc.os_error) or type(exc).__name__
    return f"no secure connection to the control plane ({why}); is it serving https:// (--tls-cert)?"


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
