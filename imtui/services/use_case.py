"""A use case's preconditions, declared once at its head (`@use_case`) and carried out here in one
order, so none can be forgotten or reordered: a read-only run is refused first (so it never
purges or closes a month), then the arguments' own checks (a bad argument changes nothing), then
the catch-up (the purges and month closes due, `services.housekeeping`), then the recovery of the
intents a killed run left behind (`services.intents`).

Every public coroutine of a service is declared, even one that needs nothing (a test holds to
it), so each says what it needs where it is written.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeVar

from imtui.domain.errors import InvalidInput

F = TypeVar("F", bound=Callable[..., Any])

Check = Callable[[Mapping[str, Any]], object]
"""Checks a use case's arguments (given by name, defaults filled in); raises to refuse."""


@dataclass(frozen=True)
class Needs:
    """What a use case needs before it runs (as declared; kept on it as `__use_case__`)."""

    writes: bool
    """It changes something: refused in a read-only run, before anything else."""
    catches_up: bool
    """The purges and month closes due are carried out first."""
    recovers: bool
    """The intents a killed run left behind are settled first (after the catch-up)."""


def use_case(*, writes: bool = False, catches_up: bool = True, recovers: bool = False, check: Check | None = None):
    """Declares a service method a use case and what it needs first (see the module). The service
    holds `ctx`, and `housekeeping` when it catches up, `intents` when it recovers. A use case
    that needs nothing is left as it is (marked only), so it costs nothing per call."""
    needs = Needs(writes, catches_up, recovers)

    def declare(fn: F) -> F:
        if not (writes or catches_up or recovers or check):
            fn.__use_case__ = needs  # type: ignore[attr-defined]
            return fn
        signature = inspect.signature(fn)

        @wraps(fn)
        async def run(self, *args, **kwargs):
            if writes:
                self.ctx.require_writable()
            if check is not None:
                bound = signature.bind(self, *args, **kwargs)
                bound.apply_defaults()
                check(bound.arguments)
            if catches_up:
                await self.housekeeping.catch_up()
            if recovers:
                await self.intents.recover()
            return await fn(self, *args, **kwargs)

        run.__use_case__ = needs  # type: ignore[attr-defined]
        return run  # type: ignore[return-value]

    return declare


def account_named(args: Mapping[str, Any]) -> None:
    """A `check`: the `account` argument, when given, holds no NUL character (exit 2)."""
    account = args["account"]
    if account is not None and "\x00" in account:
        raise InvalidInput("an account name cannot contain a NUL character")
