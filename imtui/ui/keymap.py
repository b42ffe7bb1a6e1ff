"""The user's keymap file: `binding-id = "key"` lines, e.g. `main.halt = "x"` (TOML)."""

from __future__ import annotations

import tomllib
from pathlib import Path

#: Keys that tmux or terminals commonly take: never accepted for a binding.
UNSAFE_KEYS = {
    "ctrl+a",
    "ctrl+b",
    "ctrl+h",
    "ctrl+j",
    "ctrl+k",
    "ctrl+l",
    "ctrl+s",
    "ctrl+space",
    "ctrl+enter",
}


def load_keymap(path: Path | None) -> tuple[dict[str, str], list[str]]:
    """The remapped keys by binding id, and one message per problem found in the file."""
    if path is None or not path.is_file():
        return {}, []
    try:
        data = tomllib.loads(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        return {}, [f"{path}: ignored, not a valid TOML keymap ({exc})"]
    keymap: dict[str, str] = {}
    problems: list[str] = []
    for binding_id, key in data.items():
        if not isinstance(key, str) or not key.strip():
            problems.append(f'{path}: {binding_id} must be a key name such as "x" or "f5"')
            continue
        keys = [k.strip() for k in key.split(",")]
        unsafe = [k for k in keys if k in UNSAFE_KEYS]
        if unsafe:
            problems.append(f"{path}: {binding_id}: {', '.join(unsafe)} is taken by tmux or terminals")
            continue
        keymap[binding_id] = ",".join(keys)
    return keymap, problems
