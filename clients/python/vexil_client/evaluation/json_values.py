"""JSON value helpers that keep JSON's types apart (Python's ``True == 1`` must not leak in)."""

from __future__ import annotations

import math
from typing import Any

MAX_JSON_DEPTH = 64


def is_number(value: Any) -> bool:
    """A JSON number: an int or float, never a bool."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def is_finite_number(value: Any) -> bool:
    return is_number(value) and math.isfinite(value)


def json_kind(value: Any) -> str:
    """The JSON type of a value: null, boolean, number, string, array, object (or '' for none)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if is_number(value):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return ""


def json_equal(a: Any, b: Any) -> bool:
    """Equal as JSON values: same types, objects compared by content whatever their key order."""
    kind = json_kind(a)
    if kind != json_kind(b):
        return False
    if kind == "array":
        return len(a) == len(b) and all(json_equal(x, y) for x, y in zip(a, b))
    if kind == "object":
        return a.keys() == b.keys() and all(json_equal(a[k], b[k]) for k in a)
    return bool(a == b)


def json_depth_ok(value: Any, depth: int = 1) -> bool:
    """Whether a JSON value nests at most MAX_JSON_DEPTH deep and holds only JSON values."""
    if depth > MAX_JSON_DEPTH:
        return False
    if isinstance(value, list):
        return all(json_depth_ok(item, depth + 1) for item in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and json_depth_ok(v, depth + 1) for k, v in value.items())
    if isinstance(value, float):
        return math.isfinite(value)
    return value is None or isinstance(value, (bool, int, str))
