"""Settings (config.py): the environment read in one place, and settings that cannot work refused
with one line when they are made, not later in the middle of a bulk operation."""

from __future__ import annotations

import pytest

from imtui.config import Settings, environment
from imtui.domain.errors import InvalidInput


def test_the_environment_is_read_as_it_is_now(monkeypatch):
    monkeypatch.setenv("IMTUI_DB", "/srv/imtui.db")
    monkeypatch.setenv("IMTUI_CONTROL_PLANE_TIMEOUT", "7")
    monkeypatch.delenv("IMTUI_NOW", raising=False)
    monkeypatch.setenv("NO_COLOR", "")
    env = environment()
    assert (env.db, env.control_plane_timeout, env.now, env.no_color) == ("/srv/imtui.db", "7", None, True)
    monkeypatch.delenv("NO_COLOR")
    assert environment().no_color is False


@pytest.mark.parametrize("concurrency", [0, -1, 257, 2.5])
def test_a_bulk_concurrency_that_cannot_work_is_refused(concurrency):
    with pytest.raises(InvalidInput, match="bulk_concurrency must be a whole number from 1 to 256"):
        Settings(db="x.db", bulk_concurrency=concurrency)


@pytest.mark.parametrize("seconds", [0, -2, float("nan"), float("inf"), 86_401])
def test_a_refresh_interval_that_cannot_work_is_refused(seconds):
    with pytest.raises(InvalidInput, match="refresh_seconds must be"):
        Settings(db="x.db", refresh_seconds=seconds)


def test_the_defaults_hold():
    settings = Settings(db="x.db")
    assert (settings.bulk_concurrency, settings.refresh_seconds, settings.billing_tz) == (16, 2.0, "Asia/Shanghai")
