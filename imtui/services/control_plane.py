"""The control plane that really starts and stops an app's service, behind an async interface.

`SimulatedControlPlane` stands in for the cloud's API: it takes a configurable latency and can
be told to fail or hang for chosen apps, so the services' all-or-nothing handling is testable.
"""

from __future__ import annotations

import asyncio
from typing import Protocol


class ControlPlaneError(Exception):
    """The control plane refused or failed; the app was not changed there."""


class ControlPlane(Protocol):
    async def deactivate(self, app_id: int) -> None: ...

    async def activate(self, app_id: int) -> None: ...


class SimulatedControlPlane:
    """In-process control plane with latency and injectable faults."""

    def __init__(self, latency: float = 0.1, timeout: float = 5.0):
        self.latency = latency
        self.timeout = timeout
        """Seconds after which a call counts as failed (the app stays as it was)."""
        self.fail: set[int] = set()
        """Apps whose calls fail."""
        self.hang: set[int] = set()
        """Apps whose calls never answer (they time out)."""
        self.fail_all = False
        self.calls: list[tuple[str, int]] = []

    async def _call(self, action: str, app_id: int) -> None:
        async def work() -> None:
            if app_id in self.hang:
                await asyncio.Event().wait()
            if self.latency:
                await asyncio.sleep(self.latency)
            if self.fail_all or app_id in self.fail:
                raise ControlPlaneError(f"the control plane failed to {action} app {app_id}")

        try:
            await asyncio.wait_for(work(), self.timeout)
        except TimeoutError:
            raise ControlPlaneError(
                f"the control plane did not answer within {self.timeout:g} s to {action} app {app_id}"
            ) from None
        self.calls.append((action, app_id))

    async def deactivate(self, app_id: int) -> None:
        await self._call("deactivate", app_id)

    async def activate(self, app_id: int) -> None:
        await self._call("activate", app_id)
