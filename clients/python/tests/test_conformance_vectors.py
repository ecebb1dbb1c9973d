"""Local evaluation gives the service's answers for every conformance vector (pure Python, no service).

The vectors are packages/core/test/fixtures/: the runbook rollout and whole-revision
cases (evaluation-vectors.json) and the flag model's (flag-model-vectors.json), both
computed by implementations independent of Vexil's TypeScript core and of this one.
"""

from __future__ import annotations

import json
import unittest
from collections import Counter
from typing import Any

from tests.support import FIXTURES
from vexil_client.evaluation import InvalidRevision, TargetingKeyMissing, compile_flag, compile_segment
from vexil_client.evaluation.hashing import basis_points, bucket_index
from vexil_client.evaluation.json_values import json_equal
from vexil_client.local_flags import LocalFlags


def load(name: str) -> Any:
    path = FIXTURES / name
    if not path.exists():
        raise unittest.SkipTest(f"{path} is not here (the client was copied out of the repository)")
    return json.loads(path.read_text(encoding="utf-8"))


def answer(case: dict[str, Any]) -> dict[str, Any]:
    """What local evaluation answers for a flag-model case, in the vectors' shape."""
    try:
        compiled = compile_flag(case["revision"])
    except InvalidRevision as error:
        return {"invalid": str(error)}
    if compiled is None:
        return {"error": "FLAG_NOT_FOUND"}
    segments: dict[str, Any] = {}
    for name, revision in case["segments"].items():
        try:
            segments[name] = compile_segment(revision)
        except InvalidRevision:
            segments[name] = None
    try:
        result = compiled.evaluate(case["context"], segments)
    except TargetingKeyMissing:
        return {"error": "TARGETING_KEY_MISSING"}
    return {"value": result.value, "group": result.group, "reason": result.reason, "variant": result.variant}


class FlagModelVectors(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        cls.vectors = load("flag-model-vectors.json")

    def test_every_category_is_present_with_its_count(self) -> None:
        counts = Counter(case["category"] for case in self.vectors["cases"])
        self.assertEqual(dict(counts), self.vectors["counts"])
        self.assertGreaterEqual(len(self.vectors["cases"]), 5000)

    def test_local_evaluation_agrees_with_every_case(self) -> None:
        for category in self.vectors["counts"]:
            with self.subTest(category=category):
                cases = [c for c in self.vectors["cases"] if c["category"] == category]
                wrong = [
                    {"id": c["id"], "expected": c["expected"], "got": answer(c)}
                    for c in cases
                    if not json_equal(answer(c), c["expected"])
                ]
                self.assertEqual(wrong[:5], [], f"{len(wrong)} of {len(cases)} {category} cases disagree")
        print(f"\nflag-model vectors: {len(self.vectors['cases'])} cases agree")

    def test_the_same_answers_through_a_snapshot(self) -> None:
        # The client's own path: a snapshot of flag and segments, evaluated by name.
        wrong = 0
        sample = self.vectors["cases"][::7]
        for case in sample:
            revision = case["revision"]
            flag_type = revision["Type"].lower()
            flags = [{"name": revision["Name"], "flagType": flag_type, "wtime": "2026-12-07 10:00:00.000000", "revision": revision}]
            flags += [
                {"name": name, "flagType": "segment", "wtime": "2026-12-07 10:00:00.000000", "revision": seg}
                for name, seg in case["segments"].items()
            ]
            local = LocalFlags("p")
            local.apply_snapshot(flags)
            expected = case["expected"]
            try:
                outcome = local.evaluate(flag_type, revision["Name"], case["context"])
            except TargetingKeyMissing:
                wrong += expected != {"error": "TARGETING_KEY_MISSING"}
                continue
            if isinstance(outcome, Exception):
                wrong += expected != {"error": getattr(outcome, "code", "")}
                continue
            result = outcome[1]
            got = {"value": result.value, "group": result.group, "reason": result.reason, "variant": result.variant}
            wrong += not json_equal(got, expected)
        self.assertEqual(wrong, 0, f"{wrong} of {len(sample)} cases differ through LocalFlags")


class RunbookVectors(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        cls.vectors = load("evaluation-vectors.json")

    def test_every_rollout_case(self) -> None:
        cases = self.vectors["rollout"]
        wrong = [
            c
            for c in cases
            if (bucket_index(c["algorithm"], c["key"], [basis_points(c["percent"])]) == 0) != c["in_rollout"]
        ]
        self.assertEqual(len(cases), 1500)
        self.assertEqual(wrong[:5], [])

    def test_every_whole_revision_case(self) -> None:
        cases = self.vectors["evaluate"]
        wrong = []
        for c in cases:
            compiled = compile_flag(c["revision"])
            assert compiled is not None
            result = compiled.evaluate({"targetingKey": c["instance_id"]}, {})
            if (result.value, result.group) != (c["flag_value"], c["rollout_group"]):
                wrong.append({"case": c, "got": (result.value, result.group)})
        self.assertEqual(len(cases), 600)
        self.assertEqual(wrong[:5], [])


class StoredRevisionChecks(unittest.TestCase):
    def test_a_revision_that_does_not_validate_is_refused_naming_the_field(self) -> None:
        bad = {"Name": "x", "Type": "FEATURE", "ControlValue": "yes", "Treatments": []}
        with self.assertRaises(InvalidRevision) as caught:
            compile_flag(bad)
        self.assertEqual(caught.exception.field, "ControlValue")

    def test_percentages_over_100_in_total_are_refused(self) -> None:
        bad = {
            "Name": "x",
            "Type": "FEATURE",
            "ControlValue": False,
            "Treatments": [
                {"OverrideList": [], "PercentRollout": 60, "Value": True},
                {"OverrideList": [], "PercentRollout": 40.01, "Value": True},
            ],
        }
        with self.assertRaises(InvalidRevision) as caught:
            compile_flag(bad)
        self.assertEqual(caught.exception.field, "Treatments")

    def test_true_is_not_the_number_one(self) -> None:
        revision = {
            "Name": "x",
            "Type": "DATA",
            "FormatVersion": 2,
            "ControlValue": "off",
            "Treatments": [],
            "Rules": [{"Conditions": [{"Attribute": "n", "Operator": "equals", "Values": [1]}], "Value": "on"}],
        }
        compiled = compile_flag(revision)
        assert compiled is not None
        self.assertEqual(compiled.evaluate({"n": True}, {}).value, "off")
        self.assertEqual(compiled.evaluate({"n": 1.0}, {}).value, "on")


if __name__ == "__main__":
    unittest.main()
