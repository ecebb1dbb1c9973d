"""Vexil's evaluation, re-implemented from the specification text alone.

docs/flag-model.md ("Evaluation", "Rules", "Segments") on top of docs/design.md ("A
revision", "Evaluation"). This module assumes valid input (validation.py checks it); it
is written for clarity, not speed, and shares no code with @vexil/core.
"""

from __future__ import annotations

import hashlib
from decimal import Decimal
from typing import Any, Optional

from conditions import DEFAULT_READING, condition_holds
from json_values import json_equal

BITS = {"md5": 128, "sha1": 160, "sha256": 256}


class EvaluationError(Exception):
    """An evaluation that has no answer: `code` is FLAG_NOT_FOUND or TARGETING_KEY_MISSING."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


def basis_points(percent: Any) -> int:
    """A percentage with at most two decimals as an exact integer of basis points.

    JSON numbers arrive as floats; repr() gives the shortest decimal that reads back as the
    same float, which for a value with at most two decimals is that decimal itself.
    """
    exact = Decimal(repr(percent)) * 100
    if exact != exact.to_integral_value():
        raise ValueError(f"more than two decimals: {percent!r}")
    return int(exact)


def hash_value(revision: dict, targeting_key: str) -> tuple[int, int]:
    """(h, bits): the digest of `Salt:key` (or the key alone) read as an unsigned integer."""
    algorithm = revision.get("HashAlgorithm", "md5")
    key = f"{revision['Salt']}:{targeting_key}" if "Salt" in revision else targeting_key
    digest = hashlib.new(algorithm, key.encode("utf-8")).digest()
    return int.from_bytes(digest, "big"), BITS[algorithm]


def first_bucket(h: int, bits: int, percents: list) -> Optional[int]:
    """0-based index of the first bucket with h × 10000 < cum × 2^bits, else None."""
    cum = 0
    for index, percent in enumerate(percents):
        cum += basis_points(percent)
        if h * 10000 < cum * (1 << bits):
            return index
    return None


def segment_membership(segments: dict, reading: dict):
    """A lookup: segment name -> membership of a context (None: unknown segment)."""

    def member(name: str, context: dict) -> Optional[bool]:
        segment = segments.get(name)
        if segment is None:
            return None
        if segment.get("Archived") is True:
            return False
        key = context.get("targetingKey")
        if isinstance(key, str):
            if key in segment.get("Excluded", []):
                return False
            if key in segment.get("Included", []):
                return True
        conditions = segment.get("Conditions", [])
        return bool(conditions) and all(condition_holds(c, context, None, reading) for c in conditions)

    return member


def variant_of(revision: dict, value: Any, group: str) -> Optional[str]:
    if value is None:
        return None
    variants = revision.get("Variants")
    if variants is None:
        return group
    for name, variant_value in variants.items():
        if json_equal(variant_value, value):
            return name
    raise ValueError(f"value {value!r} is none of the variants (an invalid revision)")


def _answer(revision: dict, value: Any, group: str, reason: str) -> dict:
    return {"value": value, "group": group, "reason": reason, "variant": variant_of(revision, value, group)}


def targets_nobody(revision: dict) -> bool:
    treatments = revision.get("Treatments", [])
    return (
        not any(t.get("OverrideList") for t in treatments)
        and not any(basis_points(t["PercentRollout"]) > 0 for t in treatments)
        and not revision.get("Rules")
    )


def evaluate(revision: dict, context: dict, segments: Optional[dict] = None, reading: Optional[dict] = None) -> dict:
    """{value, group, reason, variant} for a context, or raises EvaluationError."""
    reading = {**DEFAULT_READING, **(reading or {})}
    segments = segments or {}

    # An archived revision has no value: the flag is not found, before anything else.
    if revision.get("Archived") is True:
        raise EvaluationError("FLAG_NOT_FOUND")

    # 1. Disabled: the kill switch.
    if revision.get("Disabled") is True:
        return _answer(revision, revision["ControlValue"], "disabled", "DISABLED")

    treatments = revision.get("Treatments", [])
    numbered = len(treatments) > 1
    key = context.get("targetingKey")
    has_key = isinstance(key, str)

    # 2. Overrides: the first treatment listing the key wins, whatever its percentage.
    if has_key:
        for index, treatment in enumerate(treatments):
            if key in treatment.get("OverrideList", []):
                group = f"override-{index + 1}" if numbered else "override"
                return _answer(revision, treatment["Value"], group, "TARGETING_MATCH")

    # 3. Rules, in order: the first whose conditions all hold.
    membership = segment_membership(segments, reading)
    for rule_index, rule in enumerate(revision.get("Rules", [])):
        if not all(condition_holds(c, context, membership, reading) for c in rule["Conditions"]):
            continue
        if "Split" not in rule:
            return _answer(revision, rule["Value"], f"rule-{rule_index + 1}", "TARGETING_MATCH")
        if not has_key:
            raise EvaluationError("TARGETING_KEY_MISSING")
        h, bits = hash_value(revision, key)
        bucket = first_bucket(h, bits, [b["Percent"] for b in rule["Split"]])
        if bucket is None:
            raise ValueError("split percentages do not add up to 100 (an invalid revision)")
        group = f"rule-{rule_index + 1}-split-{bucket + 1}"
        return _answer(revision, rule["Split"][bucket]["Value"], group, "SPLIT")

    # 4. Rollout over the treatments; treatments of 0 % need no key.
    if any(basis_points(t["PercentRollout"]) > 0 for t in treatments):
        if not has_key:
            raise EvaluationError("TARGETING_KEY_MISSING")
        h, bits = hash_value(revision, key)
        index = first_bucket(h, bits, [t["PercentRollout"] for t in treatments])
        if index is not None:
            group = f"treatment-{index + 1}" if numbered else "treatment"
            return _answer(revision, treatments[index]["Value"], group, "SPLIT")

    # 5. Control.
    reason = "STATIC" if targets_nobody(revision) else "DEFAULT"
    return _answer(revision, revision["ControlValue"], "control", reason)
