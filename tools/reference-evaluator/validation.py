"""What a valid revision is (docs/design.md "A revision", "Validation"; docs/flag-model.md).

The generator checks every revision and segment it writes with this, so that the vectors
hold only input that core must accept; an invalid one is a generator bug.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from conditions import OPERATORS
from dates import parse_date_string
from json_values import is_bool, is_finite_number, is_string, json_equal
from semver import parse_version

NAME = re.compile(r"[a-z0-9_][a-z0-9_.-]{0,199}")
RUNBOOK_NAME = re.compile(r"[a-z0-9_]{1,200}")
VARIANT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")
METADATA_KEY = re.compile(r"[A-Za-z0-9_.-]{1,100}")
EXPIRES = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
VALUE_TYPES = ("FEATURE", "DATA", "NUMBER", "JSON")
HASH_ALGORITHMS = ("md5", "sha1", "sha256")
MODEL_FIELDS = ("Variants", "Rules", "Disabled", "Metadata")


class Invalid(Exception):
    pass


def _check(ok: bool, message: str) -> None:
    if not ok:
        raise Invalid(message)


def _of_type(flag_type: str, value: Any) -> bool:
    if flag_type == "FEATURE":
        return is_bool(value)
    if flag_type == "DATA":
        return is_string(value)
    if flag_type == "NUMBER":
        return is_finite_number(value)
    return isinstance(value, (dict, list))


def _percent(value: Any, field: str) -> int:
    _check(is_finite_number(value) and 0 <= value <= 100, f"{field}: a number in [0, 100]")
    exact = Decimal(repr(value)) * 100
    _check(exact == exact.to_integral_value(), f"{field}: at most two decimals")
    return int(exact)


def uses_model(revision: dict) -> bool:
    """Whether a revision uses anything of docs/flag-model.md (then FormatVersion is 2)."""
    if revision["Type"] not in ("FEATURE", "DATA") or any(f in revision for f in MODEL_FIELDS):
        return True
    if not RUNBOOK_NAME.fullmatch(revision["Name"]):
        return True
    values = [revision["ControlValue"]] + [t["Value"] for t in revision["Treatments"]]
    return any(v is None for v in values)


def check_condition(condition: dict, where: str, in_segment: bool) -> None:
    _check(set(condition) == {"Attribute", "Operator", "Values"}, f"{where}: Attribute, Operator, Values")
    attribute, operator, values = condition["Attribute"], condition["Operator"], condition["Values"]
    _check(is_string(attribute) and attribute != "", f"{where}.Attribute")
    _check(operator in OPERATORS, f"{where}.Operator")
    _check(isinstance(values, list) and len(values) >= 1, f"{where}.Values: 1+ entries")
    one = len(values) == 1
    if operator in ("equals", "not_equals"):
        _check(one and (is_string(values[0]) or is_bool(values[0]) or is_finite_number(values[0])), where)
    elif operator in ("in", "not_in"):
        _check(all(is_string(v) or is_finite_number(v) for v in values), where)
    elif operator in ("starts_with", "ends_with", "contains"):
        _check(all(is_string(v) for v in values), where)
    elif operator in ("lt", "lte", "gt", "gte"):
        _check(one and is_finite_number(values[0]), where)
    elif operator.startswith("semver_"):
        _check(one and is_string(values[0]) and parse_version(values[0]) is not None, where)
    elif operator in ("before", "after"):
        _check(one and is_string(values[0]) and parse_date_string(values[0]) is not None, where)
    else:
        _check(not in_segment, f"{where}: a segment's conditions name no segment")
        _check(attribute == "targetingKey", f"{where}.Attribute: targetingKey")
        _check(all(is_string(v) and NAME.fullmatch(v) for v in values), where)


def check_revision(revision: dict) -> None:
    """Raises Invalid unless the revision is a valid flag revision, as stored."""
    flag_type = revision["Type"]
    _check(flag_type in VALUE_TYPES, "Type")
    _check(is_string(revision["Name"]) and NAME.fullmatch(revision["Name"]) is not None, "Name")
    _check(revision.get("FormatVersion") == (2 if uses_model(revision) else 1), "FormatVersion")
    _check(revision.get("HashAlgorithm", "md5") in HASH_ALGORITHMS, "HashAlgorithm")
    _check(is_string(revision.get("Salt", "")), "Salt")
    _check(revision.get("Archived", False) in (True, False), "Archived")
    _check(revision.get("Disabled", False) in (True, False), "Disabled")

    def check_value(value: Any, field: str) -> None:
        _check(value is None or _of_type(flag_type, value), f"{field}: of the flag's type or null")
        if "Variants" in revision and value is not None:
            _check(any(json_equal(value, v) for v in revision["Variants"].values()), f"{field}: a variant's value")

    variants = revision.get("Variants")
    if variants is not None:
        _check(isinstance(variants, dict) and len(variants) >= 1, "Variants")
        for name, value in variants.items():
            _check(VARIANT_NAME.fullmatch(name) is not None, f"Variants.{name}")
            _check(_of_type(flag_type, value), f"Variants.{name}: of the flag's type")
        values = list(variants.values())
        for i, a in enumerate(values):
            _check(not any(json_equal(a, b) for b in values[i + 1:]), "Variants: pairwise different")

    check_value(revision["ControlValue"], "ControlValue")
    total = 0
    for i, treatment in enumerate(revision["Treatments"]):
        where = f"Treatments[{i}]"
        _check(set(treatment) == {"OverrideList", "PercentRollout", "Value"}, where)
        _check(all(is_string(x) for x in treatment["OverrideList"]), f"{where}.OverrideList")
        total += _percent(treatment["PercentRollout"], f"{where}.PercentRollout")
        check_value(treatment["Value"], f"{where}.Value")
    _check(total <= 10000, "Treatments: sum at most 100")

    for i, rule in enumerate(revision.get("Rules", [])):
        where = f"Rules[{i}]"
        _check(set(rule) in ({"Conditions", "Value"}, {"Conditions", "Split"}), where)
        for j, condition in enumerate(rule["Conditions"]):
            # A segment name need not exist: writes refuse unknown segments, but a stored
            # row may name one that was never written, and reads must evaluate it.
            check_condition(condition, f"{where}.Conditions[{j}]", in_segment=False)
        if "Split" in rule:
            _check(len(rule["Split"]) >= 1, f"{where}.Split")
            split_total = 0
            for j, bucket in enumerate(rule["Split"]):
                _check(set(bucket) == {"Percent", "Value"}, f"{where}.Split[{j}]")
                split_total += _percent(bucket["Percent"], f"{where}.Split[{j}].Percent")
                check_value(bucket["Value"], f"{where}.Split[{j}].Value")
            _check(split_total == 10000, f"{where}.Split: adds up to exactly 100")
        else:
            check_value(rule["Value"], f"{where}.Value")

    metadata = revision.get("Metadata")
    if metadata is not None:
        _check(isinstance(metadata, dict) and len(metadata) <= 50, "Metadata")
        for key, value in metadata.items():
            _check(METADATA_KEY.fullmatch(key) is not None, f"Metadata.{key}")
            _check(is_bool(value) or is_finite_number(value) or (is_string(value) and len(value) <= 1000), key)
        if "expires" in metadata:
            expires = metadata["expires"]
            _check(is_string(expires) and EXPIRES.fullmatch(expires) is not None, "Metadata.expires")
            _check(parse_date_string(expires) is not None, "Metadata.expires")


def check_segment(segment: dict) -> None:
    _check(segment["Type"] == "SEGMENT" and segment["FormatVersion"] == 2, "Type/FormatVersion")
    _check(NAME.fullmatch(segment["Name"]) is not None, "Name")
    allowed = {"Name", "Type", "FormatVersion", "Included", "Excluded", "Conditions", "Comment", "OwnerID",
               "CreatedTime", "Archived"}
    _check(set(segment) <= allowed, "segment fields")
    for field in ("Included", "Excluded"):
        _check(all(is_string(x) for x in segment.get(field, [])), field)
    for j, condition in enumerate(segment.get("Conditions", [])):
        check_condition(condition, f"Conditions[{j}]", in_segment=True)


def check_context(context: dict) -> None:
    if "targetingKey" in context:
        key = context["targetingKey"]
        _check(is_string(key) and 1 <= len(key) <= 1000, "targetingKey")
