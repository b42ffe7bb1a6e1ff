"""What the benches do in a loaded dashboard, shared by `run.py` (this checkout's figures) and
`halt_ab.py` (both sides of an A/B run): their own module, so neither imports the other for it."""

from __future__ import annotations


async def idle(pilot, app, refresh_seconds: float) -> None:
    """Until the dashboard's poll has seen the last change and every reload it started is done."""
    await pilot.pause(refresh_seconds + 0.2)
    while any(w.is_running for w in app.workers):
        await pilot.pause(0.01)


async def halt_bulks(pilot, app, services, clock, refresh_seconds: float, halts: int) -> list[float]:
    """`halts` bulk halts of 1,000 other active apps each, in a loaded dashboard, every one once
    it is idle again; the seconds of each (every app of each bulk must be halted)."""
    import time

    active = [r.app_id for r in app.main.model.rows if r.status == "active"]
    seconds = []
    for k in range(halts):
        clock.advance(minutes=1)
        t = time.perf_counter()
        results = await services.lifecycle.halt(active[k * 1000 : (k + 1) * 1000], "bench")
        seconds.append(time.perf_counter() - t)
        assert sum(r.ok for r in results) == 1000, "every app of the bulk should be halted"
        await idle(pilot, app, refresh_seconds)
    return seconds
