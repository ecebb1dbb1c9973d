"""Checks the reference against cases it did not compute: the runbook vectors that a
third implementation computed (packages/core/test/fixtures/evaluation-vectors.json) and
SemVer 2.0.0's own precedence example. Run: python3 self_check.py"""

from __future__ import annotations

import json
import pathlib
import sys

from dates import parse_date_string
from evaluator import BITS, evaluate, first_bucket, hash_value
from semver import compare_versions, parse_version

ROOT = pathlib.Path(__file__).resolve().parents[2]
RUNBOOK_VECTORS = ROOT / "packages/core/test/fixtures/evaluation-vectors.json"


def check_runbook_vectors() -> int:
    vectors = json.loads(RUNBOOK_VECTORS.read_text())
    for case in vectors["rollout"]:
        h, bits = hash_value({"HashAlgorithm": case["algorithm"]}, case["key"])
        inside = first_bucket(h, bits, [case["percent"]]) is not None
        assert inside == case["in_rollout"], case
    for case in vectors["evaluate"]:
        answer = evaluate(case["revision"], {"targetingKey": case["instance_id"]})
        assert (answer["value"], answer["group"]) == (case["flag_value"], case["rollout_group"]), case
    return len(vectors["rollout"]) + len(vectors["evaluate"])


def check_semver_precedence() -> None:
    # SemVer 2.0.0 §11's example, in increasing precedence.
    ordered = ["1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta", "1.0.0-beta.2",
               "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0", "2.0.0", "2.1.0", "2.1.1"]
    parsed = [parse_version(v) for v in ordered]
    for i, a in enumerate(parsed):
        for j, b in enumerate(parsed):
            assert compare_versions(a, b) == (i > j) - (i < j), (ordered[i], ordered[j])
    for bad in ("1.2", "01.2.3", "1.2.3-01", "1.2.3-", "1.2.3+", "vv1.2.3", " 1.2.3", "1.2.3-a..b"):
        assert parse_version(bad) is None, bad
    assert compare_versions(parse_version("v1.2.3+a"), parse_version("1.2.3+b")) == 0


def check_dates() -> None:
    assert parse_date_string("1970-01-01") == 0
    assert parse_date_string("1970-01-01T01:00:00+01:00") == 0
    assert parse_date_string("2000-03-01T00:00:00Z") == 951868800  # date -d 2000-03-01 +%s
    assert parse_date_string("2026-12-01T09:30:00.25Z") - parse_date_string("2026-12-01T09:30:00Z") == 0.25
    for bad in ("2025-02-29", "2026-13-01", "2026-12-01T24:00:00Z", "2026-12-01T09:30Z", "2026-12-01T09:30:00"):
        assert parse_date_string(bad) is None, bad


if __name__ == "__main__":
    count = check_runbook_vectors()
    check_semver_precedence()
    check_dates()
    print(f"reference agrees with {count} runbook vectors; semver and date checks pass", file=sys.stderr)
