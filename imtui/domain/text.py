"""What a name or a reason may be: plain text that prints on one line."""

from __future__ import annotations

import unicodedata

from imtui.domain.errors import InvalidInput

MAX_NAME = 200
"""Longest app, account or user name."""
MAX_REASON = 500
"""Longest halt reason."""

_CONTROL = ("Cc", "Cf", "Cs", "Zl", "Zp")


def check_text(kind: str, text: str, most: int) -> str:
    """The text stripped of surrounding blanks: not empty, at most `most` characters, one line and
    no control characters (exit 2 otherwise)."""
    text = text.strip()
    if not text:
        raise InvalidInput(f"the {kind} is empty")
    if len(text) > most:
        raise InvalidInput(f"the {kind} is {len(text)} characters long; at most {most}")
    if any(unicodedata.category(ch) in _CONTROL for ch in text):
        raise InvalidInput(f"the {kind} must be one line without control characters")
    return text


def check_name(kind: str, name: str) -> str:
    """An app, account or user name (`kind` is `app`, `account` or `user`)."""
    return check_text(f"{kind} name", name, MAX_NAME)
