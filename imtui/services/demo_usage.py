"""The demo fleet's daily usage: believable and deterministic for a seed.

Each app's figures follow a curve with a weekly rhythm (weekends quieter) and growth, scaled so its
recent peak lands where the app's profile wants it: most apps comfortably inside their package,
some over the included daily active users or groups, some near each limit, some paying for
settings they never use. Trial days stay under trial's caps, limits are never exceeded (the
platform refuses the excess), days deactivated whole have zero usage, and a purged app has no
records after its purge day. Generated with NumPy, a chunk of apps at a time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from imtui.domain.calendar import zone
from imtui.domain.editions import TRIAL, Package
from imtui.domain.headroom import LOWER_FITS_PCT, QUOTA_DAU, QUOTA_GROUPS, TRIAL_DAU, TRIAL_GROUPS

CHUNK = 8_000
"""Apps generated at once (bounds the memory the arrays take)."""
TEMPLATES = 64
SLOTS = 31

# profiles (share of paid apps); the rest are comfortable
OVER_DAU, OVER_GROUPS, NEAR_LIVE, NEAR_GPU, NEAR_MPG, UNUSED = range(6)
PROFILE_SHARES = (0.06, 0.03, 0.05, 0.05, 0.05, 0.12)


@dataclass(frozen=True, slots=True)
class Life:
    """What the usage of one demo app depends on."""

    app_id: int
    created: datetime
    paid_since: datetime | None
    package: Package
    """The package it ends with (limits of its paid days)."""
    halted: tuple[tuple[datetime, datetime | None], ...]
    purged_at: datetime | None


def generate(lives: list[Life], first_day: date, today: date, tz: str, seed: int) -> dict[tuple[int, str], bytes]:
    """Packed months (see `persistence.repos.usage`) of every app with records, by (app, month)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    n_days = (today - first_day).days + 1
    templates = _templates(rng, first_day, n_days)
    months = _months(first_day, today)
    out: dict[tuple[int, str], bytes] = {}
    local = zone(tz)
    for start in range(0, len(lives), CHUNK):
        chunk = lives[start : start + CHUNK]
        values = _chunk(np, rng, templates, chunk, first_day, n_days, local)
        for key, lo, hi, pad in months:
            block = np.full((len(chunk), 5, SLOTS), -1, dtype="<i4")
            block[:, :, pad : pad + hi - lo] = values[:, :, lo:hi]
            present = (block[:, 0, :] >= 0).any(axis=1)
            for i in np.flatnonzero(present):
                out[(chunk[i].app_id, key)] = block[i].tobytes()
    return out


def _months(first_day: date, today: date) -> list[tuple[str, int, int, int]]:
    """(month, first day index, end index, slot of the first day) of every month covered."""
    out = []
    day = first_day
    while day <= today:
        nxt = date(day.year + (day.month == 12), day.month % 12 + 1, 1)
        end = min(nxt - timedelta(days=1), today)
        lo, hi = (day - first_day).days, (end - first_day).days + 1
        out.append((f"{day.year:04d}-{day.month:02d}", lo, hi, day.day - 1))
        day = nxt
    return out


def _templates(rng, first_day: date, n_days: int):
    """Curves in (0, 1] with growth and a weekly rhythm; each peaks at 1 in its last 30 days."""
    import numpy as np

    days = np.arange(n_days)
    weekday = (first_day.weekday() + days) % 7
    weekly = np.where(weekday >= 5, 0.72, 1.0)
    growth = rng.uniform(0.2, 1.4, size=(TEMPLATES, 1))
    trend = np.exp(growth * (days - n_days + 1) / max(n_days, 1))
    noise = rng.uniform(0.85, 1.0, size=(TEMPLATES, n_days))
    curves = trend * weekly * noise
    recent = curves[:, -30:].max(axis=1, keepdims=True)
    return (curves / recent).astype("f4")


def _chunk(np, rng, templates, chunk: list[Life], first_day: date, n_days: int, tz):
    """The figures (apps × 5 × days) of a chunk of apps; -1 where a day has no record."""
    n = len(chunk)
    pkg_live = np.array([_limit(life.package.live_groups, 10**9) for life in chunk], dtype="f8")
    pkg_gpu = np.array([life.package.groups_per_user for life in chunk], dtype="f8")
    pkg_mpg = np.array([life.package.members_per_group for life in chunk], dtype="f8")
    paid = np.array([life.package.edition != TRIAL for life in chunk])
    profile = np.where(paid, _profiles(rng, n), -1)

    dau = np.where(paid, rng.uniform(300, 7_000, n), rng.uniform(5, TRIAL_DAU * 0.9, n))
    groups = np.where(paid, rng.uniform(1_000, 70_000, n), rng.uniform(5, TRIAL_GROUPS * 0.8, n))
    live = np.minimum(rng.uniform(0.3, 0.7, n) * np.minimum(pkg_live, 60), pkg_live)
    gpu = rng.uniform(0.45, 0.75, n) * pkg_gpu
    mpg = rng.uniform(0.45, 0.75, n) * pkg_mpg
    dau = np.where(profile == OVER_DAU, rng.uniform(QUOTA_DAU * 1.05, QUOTA_DAU * 3.5, n), dau)
    groups = np.where(profile == OVER_GROUPS, rng.uniform(QUOTA_GROUPS * 1.01, QUOTA_GROUPS * 2.6, n), groups)
    near = rng.uniform(0.82, 1.0, n)
    live = np.where((profile == NEAR_LIVE) & (pkg_live < 10**9), near * pkg_live, live)
    gpu = np.where(profile == NEAR_GPU, near * pkg_gpu, gpu)
    mpg = np.where(profile == NEAR_MPG, near * pkg_mpg, mpg)
    # paying for capacity it never uses: under the lower setting with a fifth to spare
    unused = profile == UNUSED
    low = rng.uniform(0.2, LOWER_FITS_PCT / 100 - 0.05, n)
    live = np.where(unused & (pkg_live >= 10**9), low * 50, live)
    gpu = np.where(unused, np.minimum(gpu, low * np.where(pkg_gpu > 1000, 1000, 500)), gpu)
    mpg = np.where(unused, np.minimum(mpg, low * np.where(pkg_mpg > 2000, 2000, 200)), mpg)

    pick = rng.integers(0, TEMPLATES, size=(2, n))
    activity, load = templates[pick[0]], templates[pick[1]]
    peaks = np.stack([dau, groups, live, gpu, mpg], axis=1)[:, :, None]
    curves = np.stack([activity, activity, load, load, load], axis=1)
    values = np.floor(peaks * curves).astype("i8")
    # limits are never exceeded; trial days stay under trial's caps
    day_index = np.arange(n_days)[None, :]
    paid_from = np.array([_index(life.paid_since, first_day, tz, n_days + 1) for life in chunk])[:, None]
    trial_day = day_index < paid_from
    caps = [(2, pkg_live, 10), (3, pkg_gpu, 50), (4, pkg_mpg, 20), (0, np.full(n, 10**12), TRIAL_DAU)]
    for f, paid_cap, trial_cap in caps:
        values[:, f, :] = np.minimum(values[:, f, :], np.where(trial_day, trial_cap, paid_cap[:, None]))
    values[:, 1, :] = np.where(trial_day, np.minimum(values[:, 1, :], values[:, 2, :] + TRIAL_GROUPS), values[:, 1, :])
    values = np.maximum(values, 0)
    for i, life in enumerate(chunk):
        first = _index(life.created, first_day, tz, 0)
        values[i, :, :first] = -1
        if life.purged_at is not None:
            values[i, :, _index(life.purged_at, first_day, tz, n_days) + 1 :] = -1
        for start, end in life.halted:
            lo = _index(start, first_day, tz, 0, whole=True)
            hi = n_days if end is None else _index(end, first_day, tz, n_days)
            if lo < hi:
                values[i, :, lo:hi] = np.where(values[i, :, lo:hi] >= 0, 0, -1)
    return values.astype("<i4")


def _profiles(rng, n: int):
    import numpy as np

    draw = rng.uniform(size=n)
    edges = np.cumsum(PROFILE_SHARES)
    return np.where(draw < edges[-1], np.searchsorted(edges, draw, side="right"), -2)


def _limit(value: int | None, unlimited: int) -> int:
    return unlimited if value is None else value


def _index(instant: datetime | None, first_day: date, tz, default: int, whole: bool = False) -> int:
    """The day index of an instant (with `whole`, of the first day that starts after it)."""
    if instant is None:
        return default
    local = instant.astimezone(tz)
    day = (local.date() - first_day).days
    if whole and local.time() != datetime.min.time():
        day += 1
    return max(day, 0)
