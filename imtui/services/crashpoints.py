"""Named points at which a drill or a test can have this process killed outright, to prove from
outside what survives a crash: `IMTUI_CRASH_AT=name` (or `name:n`, the n-th time the process
passes there) sends this process SIGKILL at that point. Unset, a crash point costs one lookup."""

from __future__ import annotations

import os
import signal

from imtui.config import crash_point

BEFORE_CALL = "before-call"
"""Intents written, no call made yet."""
AFTER_CONFIRM = "after-confirm"
"""The control plane confirmed; nothing written yet."""
DURING_WRITE = "during-write"
"""The confirmed apps written, the transaction not yet committed."""

_passed: dict[str, int] = {}


def crashpoint(name: str) -> None:
    spec = crash_point()
    if not spec:
        return
    target, _, nth = spec.partition(":")
    if target != name:
        return
    _passed[name] = _passed.get(name, 0) + 1
    if _passed[name] >= int(nth or 1):
        os.kill(os.getpid(), signal.SIGKILL)
