"""Revisions and segments checked once and compiled for evaluation.

The order of evaluation is docs/flag-model.md#evaluation's: the kill switch, the
override lists, the targeting rules, the percentage rollout, the control value. A
revision in the runbook format (no Rules, no Disabled) evaluates as docs/design.md
says.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .conditions import Segments, Test, compile_condition, ConditionError, targeting_key
from .dates import valid_date
from .hashing import HASH_ALGORITHMS, basis_points, bucket_index
from .json_values import is_finite_number, json_depth_ok, json_equal

FLAG_TYPES = {"FEATURE": "feature", "DATA": "data", "NUMBER": "number", "JSON": "json"}
MAX_INSTANCE_ID_LENGTH = 1000

_FLAG_NAME = re.compile(r"[a-z0-9_][a-z0-9_.-]{0,199}", re.ASCII)
_VARIANT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}", re.ASCII)
_METADATA_KEY = re.compile(r"[A-Za-z0-9_.-]{1,100}", re.ASCII)
_EXPIRES = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})", re.ASCII)
MAX_METADATA_KEYS = 50
MAX_METADATA_TEXT = 1000


class InvalidRevision(ValueError):
    """A stored revision that does not validate: the flag answers its default until a revision fixes it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field} {message}")
        self.field = field


class TargetingKeyMissing(Exception):
    """The revision needs a targetingKey (an override list or a percentage decides) and the context has none."""


@dataclass(frozen=True)
class EvaluationResult:
    """A value (None: the revision gives none, the caller's default), its rollout group, reason and variant."""

    value: Any
    group: str
    reason: str
    variant: str | None


def value_of_type(value: Any, flag_type: str) -> bool:
    if flag_type == "feature":
        return isinstance(value, bool)
    if flag_type == "data":
        return isinstance(value, str)
    if flag_type == "number":
        return is_finite_number(value)
    if flag_type == "json":
        return isinstance(value, (dict, list)) and json_depth_ok(value)
    return False


@dataclass(frozen=True)
class _Treatment:
    overrides: frozenset[str]
    basis_points: int
    value: Any


@dataclass(frozen=True)
class _Rule:
    conditions: tuple[Test, ...]
    value: Any
    split: tuple[tuple[int, Any], ...] | None  # (cumulative basis points, value)


class CompiledRevision:
    """A flag's newest revision, ready to evaluate for any context."""

    def __init__(self, revision: Mapping[str, Any], flag_type: str) -> None:
        self.flag_type = flag_type
        variants = revision.get("Variants")
        self._variants: list[tuple[str, Any]] | None = None
        if variants is not None:
            if not isinstance(variants, dict) or len(variants) == 0:
                raise InvalidRevision("Variants", "must be an object of at least one {name: value}")
            pairs: list[tuple[str, Any]] = []
            for name, value in variants.items():
                if _VARIANT_NAME.fullmatch(name) is None:
                    raise InvalidRevision(f"Variants.{name}", "is not a variant name (1-100 letters, digits, _, - or .)")
                if not value_of_type(value, flag_type):
                    raise InvalidRevision(f"Variants.{name}", f"must be a value of a {flag_type} flag")
                if any(json_equal(value, other) for _, other in pairs):
                    raise InvalidRevision(f"Variants.{name}", "repeats another variant's value")
                pairs.append((name, value))
            self._variants = pairs

        def result_value(value: Any, field: str) -> Any:
            if value is None:
                return None
            if not value_of_type(value, flag_type):
                raise InvalidRevision(field, f"must be a value of a {flag_type} flag or null")
            if self._variants is not None and not any(json_equal(value, v) for _, v in self._variants):
                raise InvalidRevision(field, "must be one of the Variants' values")
            return value

        if "ControlValue" not in revision:
            raise InvalidRevision("ControlValue", "is required")
        self._control = result_value(revision["ControlValue"], "ControlValue")

        treatments = revision.get("Treatments")
        if treatments is None:
            treatments = []
        if not isinstance(treatments, list):
            raise InvalidRevision("Treatments", "must be a list")
        compiled: list[_Treatment] = []
        total = 0
        for index, raw in enumerate(treatments):
            at = f"Treatments[{index}]"
            if not isinstance(raw, dict):
                raise InvalidRevision(at, "must be {OverrideList, PercentRollout, Value}")
            overrides = raw.get("OverrideList")
            if overrides is None:
                overrides = []
            if not isinstance(overrides, list) or not all(isinstance(i, str) for i in overrides):
                raise InvalidRevision(f"{at}.OverrideList", "must be a list of string ids")
            points = basis_points(raw.get("PercentRollout"))
            if points is None or points < 0 or points > 10000:
                raise InvalidRevision(f"{at}.PercentRollout", "must be a number in [0, 100] with at most two decimals")
            total += points
            if "Value" not in raw:
                raise InvalidRevision(f"{at}.Value", "is required")
            compiled.append(_Treatment(frozenset(overrides), points, result_value(raw["Value"], f"{at}.Value")))
        if total > 10000:
            raise InvalidRevision("Treatments", "PercentRollout values add up to more than 100")
        self._treatments = tuple(compiled)
        self._numbered = len(compiled) > 1
        cumulative = 0
        self._cumulative: list[int] = []
        for treatment in compiled:
            cumulative += treatment.basis_points
            self._cumulative.append(cumulative)

        algorithm = revision.get("HashAlgorithm")
        if algorithm is None:
            algorithm = "md5"
        if algorithm not in HASH_ALGORITHMS:
            raise InvalidRevision("HashAlgorithm", f"must be one of {', '.join(HASH_ALGORITHMS)}")
        self._algorithm: str = algorithm
        salt = revision.get("Salt")
        if salt is not None and not isinstance(salt, str):
            raise InvalidRevision("Salt", "must be a string")
        self._salt_prefix = "" if salt is None else f"{salt}:"

        disabled = revision.get("Disabled")
        if disabled is not None and not isinstance(disabled, bool):
            raise InvalidRevision("Disabled", "must be true or false")
        self._disabled = disabled is True
        _check_metadata(revision.get("Metadata"))

        segment_names: list[str] = []
        rules: list[_Rule] = []
        raw_rules = revision.get("Rules")
        if raw_rules is not None:
            if not isinstance(raw_rules, list):
                raise InvalidRevision("Rules", "must be a list")
            for index, raw in enumerate(raw_rules):
                rules.append(self._compile_rule(raw, f"Rules[{index}]", result_value, segment_names))
        self._rules = tuple(rules)
        self.segment_names = tuple(dict.fromkeys(segment_names))

        targets_anyone = bool(rules) or any(t.overrides or t.basis_points > 0 for t in compiled)
        self._control_reason = "DEFAULT" if targets_anyone else "STATIC"
        self._needs_key_for_rollout = any(t.basis_points > 0 for t in compiled)

    @staticmethod
    def _compile_rule(raw: Any, at: str, result_value: Any, segment_names: list[str]) -> _Rule:
        if not isinstance(raw, dict):
            raise InvalidRevision(at, "must be {Conditions, Value} or {Conditions, Split}")
        conditions = raw.get("Conditions")
        if not isinstance(conditions, list):
            raise InvalidRevision(f"{at}.Conditions", "must be a list")
        tests: list[Test] = []
        for index, condition in enumerate(conditions):
            try:
                test, names = compile_condition(condition, f"{at}.Conditions[{index}]")
            except ConditionError as error:
                raise InvalidRevision(error.field, str(error)[len(error.field) + 1 :]) from error
            tests.append(test)
            segment_names.extend(names)
        has_value, has_split = "Value" in raw, "Split" in raw
        if has_value == has_split:
            raise InvalidRevision(at, "must have either Value or Split")
        if has_value:
            return _Rule(tuple(tests), result_value(raw["Value"], f"{at}.Value"), None)
        split = raw["Split"]
        if not isinstance(split, list) or len(split) == 0:
            raise InvalidRevision(f"{at}.Split", "must be a non-empty list of {Percent, Value}")
        buckets: list[tuple[int, Any]] = []
        cumulative = 0
        for index, bucket in enumerate(split):
            where = f"{at}.Split[{index}]"
            if not isinstance(bucket, dict) or "Value" not in bucket:
                raise InvalidRevision(where, "must be {Percent, Value}")
            points = basis_points(bucket.get("Percent"))
            if points is None or points < 0 or points > 10000:
                raise InvalidRevision(f"{where}.Percent", "must be a number in [0, 100] with at most two decimals")
            cumulative += points
            buckets.append((cumulative, result_value(bucket["Value"], f"{where}.Value")))
        if cumulative != 10000:
            raise InvalidRevision(f"{at}.Split", "Percents must add up to exactly 100")
        return _Rule(tuple(tests), None, tuple(buckets))

    def _answer(self, value: Any, group: str, reason: str) -> EvaluationResult:
        variant: str | None
        if value is None:
            variant = None
        elif self._variants is None:
            variant = group
        else:
            variant = next((name for name, v in self._variants if json_equal(value, v)), None)
        # Callers get their own copy of a JSON object or array, so the compiled revision stays as stored.
        return EvaluationResult(copy.deepcopy(value) if isinstance(value, (dict, list)) else value, group, reason, variant)

    def evaluate(self, context: Mapping[str, Any], segments: Segments) -> EvaluationResult:
        """The answer for a context; raises TargetingKeyMissing when a percentage needs a key the context lacks."""
        if self._disabled:
            return self._answer(self._control, "disabled", "DISABLED")
        key = targeting_key(context)
        if key is not None:
            for index, treatment in enumerate(self._treatments):
                if key in treatment.overrides:
                    group = f"override-{index + 1}" if self._numbered else "override"
                    return self._answer(treatment.value, group, "TARGETING_MATCH")
        for index, rule in enumerate(self._rules):
            if all(test(context, segments) for test in rule.conditions):
                if rule.split is None:
                    return self._answer(rule.value, f"rule-{index + 1}", "TARGETING_MATCH")
                if key is None:
                    raise TargetingKeyMissing()
                chosen = bucket_index(self._algorithm, self._salt_prefix + key, [c for c, _ in rule.split])
                if chosen is not None:
                    return self._answer(rule.split[chosen][1], f"rule-{index + 1}-split-{chosen + 1}", "SPLIT")
                # Unreachable: the split's percentages add up to 100.
        if self._needs_key_for_rollout:
            if key is None:
                raise TargetingKeyMissing()
            chosen = bucket_index(self._algorithm, self._salt_prefix + key, self._cumulative)
            if chosen is not None:
                group = f"treatment-{chosen + 1}" if self._numbered else "treatment"
                return self._answer(self._treatments[chosen].value, group, "SPLIT")
        return self._answer(self._control, "control", self._control_reason)


class CompiledSegment:
    """A segment's membership test (docs/flag-model.md#segments)."""

    def __init__(self, revision: Mapping[str, Any]) -> None:
        self.archived = revision.get("Archived") is True
        lists: dict[str, frozenset[str]] = {}
        for field in ("Included", "Excluded"):
            ids = revision.get(field)
            if ids is None:
                ids = []
            if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
                raise InvalidRevision(field, "must be a list of string ids")
            lists[field] = frozenset(ids)
        self._included, self._excluded = lists["Included"], lists["Excluded"]
        conditions = revision.get("Conditions")
        if conditions is None:
            conditions = []
        if not isinstance(conditions, list):
            raise InvalidRevision("Conditions", "must be a list")
        tests: list[Test] = []
        for index, condition in enumerate(conditions):
            try:
                test, _ = compile_condition(condition, f"Conditions[{index}]", allow_segments=False)
            except ConditionError as error:
                raise InvalidRevision(error.field, str(error)[len(error.field) + 1 :]) from error
            tests.append(test)
        self._conditions = tuple(tests)

    def contains(self, context: Mapping[str, Any]) -> bool:
        if self.archived:
            return False
        key = targeting_key(context)
        if key is not None:
            if key in self._excluded:
                return False
            if key in self._included:
                return True
        return len(self._conditions) > 0 and all(test(context, {}) for test in self._conditions)


def _check_metadata(metadata: Any) -> None:
    """Metadata as docs/flag-model.md#revision-fields allows it (absent or null: none)."""
    if metadata is None:
        return
    if not isinstance(metadata, dict) or len(metadata) > MAX_METADATA_KEYS:
        raise InvalidRevision("Metadata", f"must be an object of at most {MAX_METADATA_KEYS} keys")
    for key, value in metadata.items():
        if _METADATA_KEY.fullmatch(key) is None:
            raise InvalidRevision(f"Metadata.{key}", "is not a metadata key (1-100 letters, digits, _, - or .)")
        if isinstance(value, str):
            if len(value) > MAX_METADATA_TEXT:
                raise InvalidRevision(f"Metadata.{key}", f"is longer than {MAX_METADATA_TEXT} characters")
        elif not (isinstance(value, bool) or is_finite_number(value)):
            raise InvalidRevision(f"Metadata.{key}", "must be a string, number or boolean")
    expires = metadata.get("expires")
    if expires is not None:
        match = _EXPIRES.fullmatch(expires) if isinstance(expires, str) else None
        if match is None or not valid_date(*(int(part) for part in match.groups())):
            raise InvalidRevision("Metadata.expires", "must be a real date YYYY-MM-DD")


def _check_header(revision: Any, flag_type: str | None, name: str | None) -> str:
    """The revision's flag type after checking Type, Name and FormatVersion (against the row's when known)."""
    if not isinstance(revision, dict):
        raise InvalidRevision("revision", "must be an object")
    stored = revision.get("Type")
    kind = "segment" if stored == "SEGMENT" else FLAG_TYPES.get(stored) if isinstance(stored, str) else None
    if kind is None:
        raise InvalidRevision("Type", "must be FEATURE, DATA, NUMBER, JSON or SEGMENT")
    if flag_type is not None and kind != flag_type:
        raise InvalidRevision("Type", f"is {stored} but the flag type is {flag_type}")
    stored_name = revision.get("Name")
    if not isinstance(stored_name, str) or _FLAG_NAME.fullmatch(stored_name) is None:
        raise InvalidRevision("Name", "must be a name of 1-200 lower-case letters, digits, _, - or .")
    if name is not None and stored_name != name:
        raise InvalidRevision("Name", f"is {stored_name} but the flag is {name}")
    version = revision.get("FormatVersion")
    if version is not None and not (isinstance(version, int) and not isinstance(version, bool) and version >= 1):
        raise InvalidRevision("FormatVersion", "must be a whole number of at least 1")
    return kind


def compile_flag(revision: Any, flag_type: str | None = None, name: str | None = None) -> CompiledRevision | None:
    """A flag's revision compiled; None when it is archived (no value: the flag is not found).

    Raises InvalidRevision when it does not validate.
    """
    kind = _check_header(revision, flag_type, name)
    if kind == "segment":
        raise InvalidRevision("Type", "is SEGMENT: a segment is not a flag")
    archived = revision.get("Archived")
    if archived is not None and not isinstance(archived, bool):
        raise InvalidRevision("Archived", "must be true or false")
    compiled = CompiledRevision(revision, kind)
    return None if archived is True else compiled


def compile_segment(revision: Any, name: str | None = None) -> CompiledSegment:
    """A segment's revision compiled (an archived one has no members); raises InvalidRevision."""
    _check_header(revision, "segment", name)
    return CompiledSegment(revision)
