"""JSON values as the specification sees them.

Python's own comparisons do not fit the spec: `True == 1` and `[1] == [True]` hold in
Python, while in JSON a boolean is never a number. Everything here keeps the JSON types
apart.
"""

from __future__ import annotations

import math
from typing import Any


def is_bool(value: Any) -> bool:
    return isinstance(value, bool)


def is_number(value: Any) -> bool:
    """A JSON number: an int or float that is not a bool."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def is_finite_number(value: Any) -> bool:
    return is_number(value) and math.isfinite(value)


def is_string(value: Any) -> bool:
    return isinstance(value, str)


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if is_bool(value):
        return "boolean"
    if is_number(value):
        return "number"
    if is_string(value):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    raise TypeError(f"not a JSON value: {value!r}")


def json_equal(a: Any, b: Any) -> bool:
    """Equality by content: same JSON type, arrays in order, objects with key order ignored."""
    type_a = json_type(a)
    if type_a != json_type(b):
        return False
    if type_a == "array":
        return len(a) == len(b) and all(json_equal(x, y) for x, y in zip(a, b))
    if type_a == "object":
        return a.keys() == b.keys() and all(json_equal(a[k], b[k]) for k in a)
    return a == b
