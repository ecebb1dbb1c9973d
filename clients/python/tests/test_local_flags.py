"""What local evaluation answers from the flags it holds, one flag's trouble staying that flag's."""

from __future__ import annotations

import unittest
from typing import Any

from tests.support import StubService, flag_answer
from vexil_client import FeatureFlagClient
from vexil_client.local_flags import LocalFlags

WTIME = "2026-12-07 10:00:00.000000"


def entry(flag_type: str, name: str, revision: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "flagType": flag_type, "wtime": WTIME, "revision": {"Name": name, **revision}}


FLAGS = [
    entry("feature", "good", {"Type": "FEATURE", "ControlValue": True, "Treatments": []}),
    entry("feature", "broken", {"Type": "FEATURE", "ControlValue": "yes", "Treatments": []}),
    entry("feature", "gone", {"Type": "FEATURE", "ControlValue": True, "Treatments": [], "Archived": True}),
    entry("data", "model", {"Type": "DATA", "ControlValue": "gpt-4o", "Treatments": []}),
    entry("json", "layout", {"Type": "JSON", "FormatVersion": 2, "ControlValue": {"columns": 1}, "Treatments": []}),
    entry("segment", "beta", {"Type": "SEGMENT", "FormatVersion": 2, "Included": ["A1"]}),
]


class LocalAnswers(unittest.TestCase):
    def setUp(self) -> None:
        self.flags = LocalFlags("p")
        self.flags.apply_snapshot(FLAGS)

    def code(self, flag_type: str, name: str) -> str:
        outcome = self.flags.evaluate(flag_type, name, {"targetingKey": "A1"})
        self.assertIsInstance(outcome, Exception)
        return outcome.code  # type: ignore[union-attr]

    def test_a_revision_that_does_not_validate_answers_only_that_flags_default(self) -> None:
        self.assertEqual(self.code("feature", "broken"), "PARSE_ERROR")
        self.assertIn("ControlValue", str(self.flags.evaluate("feature", "broken", {})))
        result = self.flags.evaluate("feature", "good", {"targetingKey": "A1"})
        self.assertEqual(result[1].value, True)  # type: ignore[index]

    def test_archived_unknown_mistyped_and_segment_names_are_not_found_or_mismatched(self) -> None:
        self.assertEqual(self.code("feature", "gone"), "FLAG_NOT_FOUND")
        self.assertEqual(self.code("feature", "nope"), "FLAG_NOT_FOUND")
        self.assertEqual(self.code("feature", "model"), "TYPE_MISMATCH")
        self.assertEqual(self.code("feature", "beta"), "FLAG_NOT_FOUND")
        self.assertIn("is a segment", str(self.flags.evaluate("feature", "beta", {})))

    def test_the_version_is_the_services_hash_of_types_names_and_times(self) -> None:
        import hashlib

        ordered = sorted(FLAGS, key=lambda f: (f["flagType"], f["name"]))
        text = "".join(f"{f['flagType']}\n{f['name']}\n{f['wtime']}\n" for f in ordered)
        self.assertEqual(self.flags.version, hashlib.sha256(text.encode()).hexdigest()[:32])


class OwnCopies(unittest.TestCase):
    def test_a_json_value_answered_is_the_callers_to_change(self) -> None:
        stub = StubService(flag_answer({"columns": 1}))
        self.addCleanup(stub.stop)
        client = FeatureFlagClient(project_name="p", base_url=stub.url)
        first = client.get_flag_json("layout", "A1", {})
        first["columns"] = 99
        self.assertEqual(client.get_flag_json("layout", "A1", {}), {"columns": 1})
        self.assertEqual(len(stub.requests), 1)  # the second came from the cache, unchanged


if __name__ == "__main__":
    unittest.main()
