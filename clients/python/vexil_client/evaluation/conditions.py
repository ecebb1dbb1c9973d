"""Targeting-rule conditions (docs/flag-model.md#rules), checked once and compiled to tests.

A condition whose attribute is missing, null or of the wrong type for its operator does
not hold (the negated operators too) and never raises.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from .dates import instant_of, parse_date_text
from .json_values import is_finite_number, is_number
from .semver import compare_semver, parse_semver

if TYPE_CHECKING:
    from .compiled import CompiledSegment

TARGETING_KEY = "targetingKey"

Segments = Mapping[str, "CompiledSegment | None"]
"""The project's segments by name: a compiled segment, or None for one that does not validate."""

Test = Callable[[Mapping[str, Any], Segments], bool]

SEGMENT_OPERATORS = ("in_segment", "not_in_segment")
_ORDER = {"lt": lambda c: c < 0, "lte": lambda c: c <= 0, "gt": lambda c: c > 0, "gte": lambda c: c >= 0}
_SEMVER = {
    "semver_eq": lambda c: c == 0,
    "semver_lt": lambda c: c < 0,
    "semver_lte": lambda c: c <= 0,
    "semver_gt": lambda c: c > 0,
    "semver_gte": lambda c: c >= 0,
}
OPERATORS = (
    "equals",
    "not_equals",
    "in",
    "not_in",
    "starts_with",
    "ends_with",
    "contains",
    *_ORDER,
    *_SEMVER,
    "before",
    "after",
    *SEGMENT_OPERATORS,
)


class ConditionError(ValueError):
    """A stored condition that does not validate; ``field`` names the part at fault."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field} {message}")
        self.field = field


def attribute_of(context: Mapping[str, Any], name: str) -> Any:
    """The attribute by its exact name; a targetingKey that is not a non-empty string counts as absent."""
    value = context.get(name)
    if name == TARGETING_KEY and not (isinstance(value, str) and value != ""):
        return None
    return value


def targeting_key(context: Mapping[str, Any]) -> str | None:
    key = attribute_of(context, TARGETING_KEY)
    return key if isinstance(key, str) else None


def _same_scalar(a: Any, b: Any) -> bool:
    """Equal and of the same JSON type (string, number or boolean)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if is_number(a) and is_number(b):
        return a == b
    return isinstance(a, str) and isinstance(b, str) and a == b


def compile_condition(raw: Any, field: str, allow_segments: bool = True) -> tuple[Test, tuple[str, ...]]:
    """A condition's test, with the segment names it uses; raises ConditionError when it does not validate."""
    if not isinstance(raw, dict):
        raise ConditionError(field, "must be {Attribute, Operator, Values}")
    attribute = raw.get("Attribute")
    operator = raw.get("Operator")
    values = raw.get("Values")
    if not isinstance(attribute, str) or attribute == "":
        raise ConditionError(f"{field}.Attribute", "must be a non-empty string")
    if operator not in OPERATORS:
        raise ConditionError(f"{field}.Operator", f"must be one of {', '.join(OPERATORS)}")
    if not isinstance(values, list) or len(values) == 0:
        raise ConditionError(f"{field}.Values", "must be a non-empty list")

    def one(check: Callable[[Any], bool], what: str) -> Any:
        if len(values) != 1 or not check(values[0]):
            raise ConditionError(f"{field}.Values", f"must hold one {what} for {operator}")
        return values[0]

    def every(check: Callable[[Any], bool], what: str) -> None:
        for index, value in enumerate(values):
            if not check(value):
                raise ConditionError(f"{field}.Values[{index}]", f"must be {what} for {operator}")

    if operator in ("equals", "not_equals"):
        expected = one(lambda v: isinstance(v, (str, bool)) or is_finite_number(v), "string, number or boolean")
        negate = operator == "not_equals"

        def equals(context: Mapping[str, Any], _segments: Segments) -> bool:
            actual = attribute_of(context, attribute)
            if not (isinstance(actual, (str, bool)) or is_number(actual)):
                return False
            same_type = isinstance(actual, bool) == isinstance(expected, bool) and isinstance(
                actual, str
            ) == isinstance(expected, str)
            if not same_type:
                return False
            return _same_scalar(actual, expected) != negate

        return equals, ()

    if operator in ("in", "not_in"):
        every(lambda v: isinstance(v, str) or is_finite_number(v), "a string or a number")
        listed = list(values)
        negate = operator == "not_in"

        def member(context: Mapping[str, Any], _segments: Segments) -> bool:
            actual = attribute_of(context, attribute)
            if not (isinstance(actual, str) or is_number(actual)):
                return False
            return any(_same_scalar(actual, v) for v in listed) != negate

        return member, ()

    if operator in ("starts_with", "ends_with", "contains"):
        every(lambda v: isinstance(v, str), "a string")
        texts = tuple(values)

        def text(context: Mapping[str, Any], _segments: Segments) -> bool:
            actual = attribute_of(context, attribute)
            if not isinstance(actual, str):
                return False
            if operator == "starts_with":
                return actual.startswith(texts)
            if operator == "ends_with":
                return actual.endswith(texts)
            return any(t in actual for t in texts)

        return text, ()

    if operator in _ORDER:
        bound = one(is_finite_number, "finite number")
        holds = _ORDER[operator]

        def order(context: Mapping[str, Any], _segments: Segments) -> bool:
            actual = attribute_of(context, attribute)
            if not is_finite_number(actual):
                return False
            return holds((actual > bound) - (actual < bound))

        return order, ()

    if operator in _SEMVER:
        version = parse_semver(one(lambda v: parse_semver(v) is not None, "semantic version"))
        assert version is not None
        holds_semver = _SEMVER[operator]

        def semver(context: Mapping[str, Any], _segments: Segments) -> bool:
            actual = parse_semver(attribute_of(context, attribute))
            return actual is not None and holds_semver(compare_semver(actual, version))

        return semver, ()

    if operator in ("before", "after"):
        when = parse_date_text(
            one(lambda v: isinstance(v, str) and parse_date_text(v) is not None, "date (RFC 3339 or YYYY-MM-DD)")
        )
        assert when is not None
        before = operator == "before"

        def date(context: Mapping[str, Any], _segments: Segments) -> bool:
            actual = instant_of(attribute_of(context, attribute))
            if actual is None:
                return False
            return actual < when if before else actual > when

        return date, ()

    # in_segment / not_in_segment
    if not allow_segments:
        raise ConditionError(f"{field}.Operator", "cannot be a segment operator in a segment (no segment depends on another)")
    if attribute != TARGETING_KEY:
        raise ConditionError(f"{field}.Attribute", f"must be {TARGETING_KEY} for {operator}")
    every(lambda v: isinstance(v, str) and v != "", "a segment name")
    names = tuple(values)
    negate = operator == "not_in_segment"

    def segment(context: Mapping[str, Any], segments: Segments) -> bool:
        found = []
        for name in names:
            compiled = segments.get(name)
            if compiled is None:
                # An unknown segment (or one that does not validate) makes the condition not hold.
                return False
            found.append(compiled)
        is_member = any(s.contains(context) for s in found)
        return is_member != negate

    return segment, names
