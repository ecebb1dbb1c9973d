"""Targeting conditions (docs/flag-model.md, "Rules"): when one holds for a context.

A condition whose attribute is missing, null or of the wrong type for its operator does
not hold (for the negated operators too); nothing here raises for a context.
"""

from __future__ import annotations

from typing import Any, Callable, Optional

from dates import instant_of_attribute, parse_date_string
from json_values import is_bool, is_finite_number, is_number, is_string, json_type
from semver import compare_versions, parse_version

# Points where the specification can be read two ways. The evaluator takes one reading
# for each; the generator evaluates every case under every reading and writes only the
# cases on which all readings agree (see README.md).
#
# segment_without_key: an `in_segment`/`not_in_segment` condition when the context has no
#   targetingKey. "literal": its Attribute (`targetingKey`) is missing, so it does not
#   hold. "membership": it names no attribute of its own and holds as membership says
#   (a segment's Conditions may admit a context without a key).
# unknown_among_segments: a condition naming several segments, one of them unknown.
#   "condition_fails": "an unknown segment makes the condition not hold". "ignored": the
#   unknown segment counts as one the context is not a member of.
READINGS: dict[str, tuple[str, ...]] = {
    "segment_without_key": ("literal", "membership"),
    "unknown_among_segments": ("condition_fails", "ignored"),
}
DEFAULT_READING = {name: options[0] for name, options in READINGS.items()}

OPERATORS = (
    "equals", "not_equals", "in", "not_in", "starts_with", "ends_with", "contains",
    "lt", "lte", "gt", "gte",
    "semver_eq", "semver_lt", "semver_lte", "semver_gt", "semver_gte",
    "before", "after", "in_segment", "not_in_segment",
)
SEGMENT_OPERATORS = ("in_segment", "not_in_segment")

_MISSING = object()


def _same_type_equal(a: Any, b: Any) -> bool:
    return json_type(a) == json_type(b) and a == b


def _is_scalar(value: Any) -> bool:
    return is_string(value) or is_bool(value) or is_finite_number(value)


def _string_or_number(value: Any) -> bool:
    return is_string(value) or is_finite_number(value)


def _string_test(test: Callable[[str, str], bool]) -> Callable[[Any, list], bool]:
    def holds(attr: Any, values: list) -> bool:
        return is_string(attr) and any(test(attr, v) for v in values)
    return holds


def _numeric(test: Callable[[Any, Any], bool]) -> Callable[[Any, list], bool]:
    def holds(attr: Any, values: list) -> bool:
        return is_finite_number(attr) and test(attr, values[0])
    return holds


def _semver(test: Callable[[int], bool]) -> Callable[[Any, list], bool]:
    def holds(attr: Any, values: list) -> bool:
        if not is_string(attr):
            return False
        version = parse_version(attr)
        if version is None:
            return False
        return test(compare_versions(version, parse_version(values[0])))
    return holds


def _date(test: Callable[[Any, Any], bool]) -> Callable[[Any, list], bool]:
    def holds(attr: Any, values: list) -> bool:
        instant = instant_of_attribute(attr)
        return instant is not None and test(instant, parse_date_string(values[0]))
    return holds


_ATTRIBUTE_TESTS: dict[str, Callable[[Any, list], bool]] = {
    "equals": lambda a, vs: _is_scalar(a) and _same_type_equal(a, vs[0]),
    "not_equals": lambda a, vs: _is_scalar(a) and json_type(a) == json_type(vs[0]) and a != vs[0],
    "in": lambda a, vs: _string_or_number(a) and any(_same_type_equal(a, v) for v in vs),
    "not_in": lambda a, vs: _string_or_number(a) and not any(_same_type_equal(a, v) for v in vs),
    "starts_with": _string_test(lambda a, v: a.startswith(v)),
    "ends_with": _string_test(lambda a, v: a.endswith(v)),
    "contains": _string_test(lambda a, v: v in a),
    "lt": _numeric(lambda a, v: a < v),
    "lte": _numeric(lambda a, v: a <= v),
    "gt": _numeric(lambda a, v: a > v),
    "gte": _numeric(lambda a, v: a >= v),
    "semver_eq": _semver(lambda c: c == 0),
    "semver_lt": _semver(lambda c: c < 0),
    "semver_lte": _semver(lambda c: c <= 0),
    "semver_gt": _semver(lambda c: c > 0),
    "semver_gte": _semver(lambda c: c >= 0),
    "before": _date(lambda a, v: a < v),
    "after": _date(lambda a, v: a > v),
}


SegmentMembership = Callable[[str, dict], Optional[bool]]
"""name, context -> True/False for a known segment, None for an unknown one."""


def condition_holds(
    condition: dict,
    context: dict,
    membership: Optional[SegmentMembership],
    reading: dict[str, str],
) -> bool:
    operator = condition["Operator"]
    values = condition["Values"]
    attr = context.get(condition["Attribute"], _MISSING)

    if operator in SEGMENT_OPERATORS:
        return _segment_condition_holds(operator, values, attr, context, membership, reading)

    if attr is _MISSING or attr is None:
        return False
    return _ATTRIBUTE_TESTS[operator](attr, values)


def _segment_condition_holds(
    operator: str,
    names: list,
    attr: Any,
    context: dict,
    membership: Optional[SegmentMembership],
    reading: dict[str, str],
) -> bool:
    if (attr is _MISSING or attr is None or not is_string(attr)) and reading["segment_without_key"] == "literal":
        return False
    if membership is None:
        raise ValueError("segment conditions are not allowed here (a segment's own conditions)")
    answers = [membership(name, context) for name in names]
    if None in answers:
        if reading["unknown_among_segments"] == "condition_fails" or all(a is None for a in answers):
            return False
    member_of_one = any(a is True for a in answers)
    return member_of_one if operator == "in_segment" else not member_of_one
