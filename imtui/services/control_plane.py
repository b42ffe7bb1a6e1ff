"""The control plane that really starts and stops an app's service, behind an async interface.

Every call carries an idempotency key (the intent's): the platform acts once per key however
often the call is repeated. `resolve(key)` asks what became of a key whose answer was lost; a key
the platform never received is fenced there, so a late request cannot act after imtui gave up.

`SimulatedControlPlane` is the embedded default (in this process, no separate state, injectable
faults); `control_plane_http.HttpControlPlane` talks to the platform simulator over the network.

Each platform says who it is (`identity`): a database belongs to one platform (cli.md), and
`services.binding` refuses to act through any other. The embedded simulator is `embedded`.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from urllib.parse import urlsplit

from imtui.domain.errors import Unavailable

DONE, CANCELLED = "done", "cancelled"
EMBEDDED = "embedded"
"""The identity of the simulator inside the process (no `--control-plane`)."""
NOT_DONE = "not done: the platform did not answer; nothing changed"
"""An operation the platform never acted on because it did not answer (not a refusal)."""


class ControlPlaneError(Exception):
    """The control plane refused: the app was not changed there."""


class ControlPlaneUnreachable(ControlPlaneError):
    """No answer (timeouts, refused or reset connections, server errors, after the retries):
    whether the platform acted is unknown until `resolve` says."""


class NotDone(Unavailable):
    """An app's operation the platform never acted on because it did not answer (exit 1): not a
    refusal, nothing changed; trying again later may work."""


class NotKnownYet(Unavailable):
    """Sent, never answered, and the platform cannot say yet what became of it (exit 1): the app
    is shown as it was until the next run settles it."""


class ControlPlaneSilent(ControlPlaneError):
    """No answer, and no request reached the platform (the connection was refused, or the breaker
    did not even try): it did not act, nothing changed there."""


@dataclass(frozen=True)
class Outcome:
    """What became of a key: `done` (acted, at the platform's instant) or `cancelled` (never will)."""

    state: str
    at: datetime | None = None


def redact(url: str) -> str:
    """A control plane's URL as it may be shown and stored: without user, password, query or
    fragment (where secrets hide)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        if ":" in host:
            host = f"[{host}]"
        netloc = f"{host}:{parts.port}" if parts.port else host
    except ValueError:  # malformed (a port out of range): cut what may be secret all the same
        scheme, _, rest = url.split("?", 1)[0].split("#", 1)[0].rpartition("://")
        netloc, slash, path = rest.partition("/")
        return f"{scheme}://{netloc.rpartition('@')[2]}{slash}{path}" if scheme else netloc.rpartition("@")[2]
    return f"{parts.scheme}://{netloc}{parts.path}"


class ControlPlane(Protocol):
    """The platform that stops and starts apps' service: the simulator in the process, or one over HTTP."""

    location: str | None
    """Where it is (the redacted URL); None for the simulator inside the process."""

    async def identity(self) -> str:
        """The platform's stable identity (the database records which one it belongs to)."""

    async def deactivate(self, app_id: int, key: str) -> datetime | None:
        """Stops the app's service; returns the platform's instant of it, when it says."""

    async def activate(self, app_id: int, key: str) -> datetime | None: ...

    async def resolve(self, key: str) -> Outcome: ...

    async def stopped(self) -> set[int] | None:
        """Every app the platform is not serving; None when it keeps no state apart from imtui."""


class SimulatedControlPlane:
    """In-process control plane with latency and injectable faults; it acts at once and keeps no
    state beyond this process, so it never drifts from the database."""

    location: str | None = None

    def __init__(self, latency: float = 0.1, timeout: float = 5.0):
        self.latency = latency
        self.timeout = timeout
        """Seconds after which a call counts as unanswered (the app stays as it was)."""
        self.fail: set[int] = set()
        """Apps whose calls fail."""
        self.hang: set[int] = set()
        """Apps whose calls never answer (they time out)."""
        self.fail_all = False
        self.calls: list[tuple[str, int]] = []
        self.keys: dict[str, str] = {}

    async def _call(self, action: str, app_id: int, key: str) -> None:
        async def work() -> None:
            if app_id in self.hang:
                await asyncio.Event().wait()
            if self.latency:
                await asyncio.sleep(self.latency)
            if self.fail_all or app_id in self.fail:
                raise ControlPlaneError(f"the control plane failed to {action} app {app_id}")

        if self.keys.get(key) == CANCELLED:
            raise ControlPlaneError(f"the control plane had cancelled the request to {action} app {app_id}")
        if key in self.keys:
            return
        try:
            async with asyncio.timeout(self.timeout):  # no task of its own per call (a bulk makes thousands)
                await work()
        except TimeoutError:
            raise ControlPlaneUnreachable(
                f"the control plane did not answer within {self.timeout:g} s to {action} app {app_id}"
            ) from None
        self.keys[key] = DONE
        self.calls.append((action, app_id))

    async def deactivate(self, app_id: int, key: str) -> datetime | None:
        await self._call("deactivate", app_id, key)
        return None

    async def activate(self, app_id: int, key: str) -> datetime | None:
        await self._call("activate", app_id, key)
        return None

    async def resolve(self, key: str) -> Outcome:
        return Outcome(self.keys.setdefault(key, CANCELLED))

    async def stopped(self) -> set[int] | None:
        return None

    async def identity(self) -> str:
        return EMBEDDED
