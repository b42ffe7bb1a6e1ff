"""Every use case states its preconditions once (`services.use_case`), and they run in one order:
read-only refusal, the arguments' checks, the catch-up, intent recovery, then the use case."""

from __future__ import annotations

import dataclasses
import inspect
from functools import cached_property

import pytest

from imtui.domain.errors import InvalidInput, PermissionDenied
from imtui.services.face import Services
from imtui.services.use_case import use_case

MECHANISMS = {"housekeeping", "intents", "_ctx"}
"""What `Services` holds that carries preconditions out rather than being a use case."""


def service_objects(services: Services) -> dict[str, object]:
    names = [f.name for f in dataclasses.fields(Services) if f.name not in MECHANISMS]
    names += [n for n, v in vars(Services).items() if isinstance(v, cached_property)]
    return {n: getattr(services, n) for n in names}


def test_every_public_coroutine_of_a_service_is_a_declared_use_case(services):
    undeclared = [
        f"{name}.{method}"
        for name, service in service_objects(services).items()
        for method, fn in vars(type(service)).items()
        if not method.startswith("_") and inspect.iscoroutinefunction(fn) and not hasattr(fn, "__use_case__")
    ]
    assert undeclared == []


class Recorder:
    """Stands in for ctx, housekeeping and intents, noting what is done in which order."""

    def __init__(self, read_only: bool = False):
        self.read_only = read_only
        self.done: list[str] = []

    def require_writable(self) -> None:
        self.done.append("writable")
        if self.read_only:
            raise PermissionDenied("read-only")

    async def catch_up(self) -> None:
        self.done.append("catch_up")

    async def recover(self) -> int:
        self.done.append("recover")
        return 0


class Service:
    """A service with one use case that needs everything."""

    def __init__(self, recorder: Recorder):
        self.ctx = self.housekeeping = self.intents = recorder

    @use_case(writes=True, recovers=True, check=lambda args: _positive(args["n"]))
    async def act(self, n: int, note: str = "") -> int:
        self.ctx.done.append("act")
        return n

    @use_case(catches_up=False)
    async def plain(self) -> str:
        return "as written"


def _positive(n: int) -> None:
    if n < 1:
        raise InvalidInput("n must be positive")


async def test_preconditions_run_in_their_one_order():
    recorder = Recorder()
    assert await Service(recorder).act(n=2) == 2
    assert recorder.done == ["writable", "catch_up", "recover", "act"]


async def test_a_read_only_run_is_refused_before_anything_else():
    recorder = Recorder(read_only=True)
    with pytest.raises(PermissionDenied):
        await Service(recorder).act(0)  # a bad argument too: read-only is said first
    assert recorder.done == ["writable"]


async def test_a_bad_argument_is_refused_before_the_catch_up():
    recorder = Recorder()
    with pytest.raises(InvalidInput):
        await Service(recorder).act(0)
    assert recorder.done == ["writable"]


def test_a_use_case_that_needs_nothing_is_left_as_written():
    assert Service.plain.__qualname__ == "Service.plain"
    assert not hasattr(Service.plain, "__wrapped__")
