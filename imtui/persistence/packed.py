"""Whole numbers stored packed: an `array("i")` as little-endian int32 bytes, whatever the
machine (a usage month's records, a month plan's curve)."""

from __future__ import annotations

import sys
from array import array


def pack(values: array) -> bytes:
    """The array as little-endian int32 bytes."""
    if sys.byteorder != "little":
        values = array("i", values)
        values.byteswap()
    return values.tobytes()


def unpack(blob: bytes) -> array:
    """`pack` undone."""
    values = array("i")
    values.frombytes(blob)
    if sys.byteorder != "little":
        values.byteswap()
    return values
