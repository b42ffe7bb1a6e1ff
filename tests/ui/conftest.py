"""Fixtures for the dashboard tests: a FixedClock, a fresh SQLite database per test, the simulated
control plane without latency, services built from them, and a factory for the App."""

from __future__ import annotations

import pytest

from tests.support.ui import UiEnv


@pytest.fixture(autouse=True)
def _pinned_terminal(monkeypatch, tmp_path):
    """Everything that could make the screen differ between runs is pinned."""
    monkeypatch.setenv("TEXTUAL_ANIMATIONS", "none")
    monkeypatch.setenv("COLUMNS", "80")
    monkeypatch.setenv("LINES", "24")
    monkeypatch.setenv("TERM", "xterm-256color")
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("IMTUI_NOW", raising=False)
    monkeypatch.delenv("IMTUI_DB", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))


@pytest.fixture
def env(tmp_path):
    """A writable environment; `env.services`, `env.clock`, `env.cp`, `env.make_app()`."""
    e = UiEnv(tmp_path)
    yield e
    e.close()
