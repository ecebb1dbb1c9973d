"""Writes packages/core/test/fixtures/flag-model-vectors.json from the reference evaluator.

Deterministic: a fixed seed and no input but this folder, so running it twice writes the
same bytes. Run from anywhere: python3 tools/reference-evaluator/generate.py
"""

from __future__ import annotations

import copy
import itertools
import json
import pathlib
import random
import sys
from collections import Counter
from typing import Any, Optional

import pools
from conditions import DEFAULT_READING, READINGS, condition_holds
from evaluator import EvaluationError, evaluate
from validation import check_context, check_revision, check_segment, uses_model

SEED = 20261207
ROOT = pathlib.Path(__file__).resolve().parents[2]
OUTPUT = ROOT / "packages/core/test/fixtures/flag-model-vectors.json"
SPEC = [
    "docs/flag-model.md (Flag types and names, Revision fields, Evaluation context, Rules, Segments, Evaluation)",
    "docs/design.md (A revision, Evaluation, Validation)",
]
TYPES = ("FEATURE", "DATA", "NUMBER", "JSON")

rng = random.Random(SEED)
cases: list[dict] = []
left_out: Counter = Counter()


# --- building blocks -------------------------------------------------------------------


def revision(name: str, flag_type: str, control: Any, treatments: Optional[list] = None, **fields: Any) -> dict:
    """A revision as stored: the runbook's fields first, FormatVersion as Vexil writes it."""
    rev = {"Name": name, "Type": flag_type, "FormatVersion": 1, "ControlValue": control, "Treatments": treatments or []}
    rev.update(fields)
    rev["FormatVersion"] = 2 if uses_model(rev) else 1
    return rev


def treatment(percent: float, value: Any, overrides: Optional[list] = None) -> dict:
    return {"OverrideList": overrides or [], "PercentRollout": percent, "Value": value}


def cond(attribute: str, operator: str, values: list) -> dict:
    return {"Attribute": attribute, "Operator": operator, "Values": values}


def all_readings():
    names = list(READINGS)
    for choice in itertools.product(*(READINGS[n] for n in names)):
        yield dict(zip(names, choice))


def expected_of(rev: dict, context: dict, segments: dict, reading: dict) -> dict:
    try:
        return evaluate(rev, context, segments, reading)
    except EvaluationError as error:
        return {"error": error.code}


def add(category: str, about: str, rev: dict, context: dict, segments: Optional[list] = None) -> bool:
    """Adds a case when every reading of the spec gives the same answer; True if added."""
    segments = segments or []
    check_revision(rev)
    for segment in segments:
        check_segment(segment)
    check_context(context)
    by_name = {s["Name"]: s for s in segments}
    answers = [expected_of(rev, context, by_name, reading) for reading in all_readings()]
    if any(a != answers[0] for a in answers[1:]):
        left_out[category] += 1
        return False
    cases.append({
        "id": f"{category}-{sum(1 for c in cases if c['category'] == category) + 1}",
        "category": category,
        "about": about,
        "revision": copy.deepcopy(rev),
        "segments": copy.deepcopy(by_name),
        "context": copy.deepcopy(context),
        "expected": answers[0],
    })
    return True


def pick(seq):
    return seq[rng.randrange(len(seq))]


def flag_name(new_style: bool) -> str:
    base = pick(["checkout", "new_ui", "model_router", "search", "pricing", "onboarding", "dark_mode"])
    if new_style:
        return pick([f"{base}-v{rng.randint(2, 9)}", f"{base}.beta", f"boolean-flag-{rng.randint(1, 99)}",
                     f"{base}.{rng.randint(1, 99)}-x"])
    return f"{base}_{rng.randint(1, 999)}"


def random_key() -> str:
    if rng.random() < 0.6:
        return pick(pools.TARGETING_KEYS)
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789-._"
    return pick(["user-", "A", "", "cust_"]) + "".join(pick(alphabet) for _ in range(rng.randint(1, 24)))


def random_percent(maximum: int = 10000) -> float:
    """0 to maximum basis points, as a percentage with 0, 1 or 2 decimals."""
    bp = rng.randint(0, maximum)
    style = rng.random()
    if style < 0.5:
        bp -= bp % 100
    elif style < 0.75:
        bp -= bp % 10
    return bp // 100 if bp % 100 == 0 else bp / 100


def split_percents(count: int) -> list:
    """count percentages with at most two decimals adding up to exactly 100."""
    cuts = sorted(rng.randint(0, 10000) for _ in range(count - 1))
    if rng.random() < 0.5:
        cuts = sorted(c - c % 100 for c in cuts)
    bounds = [0] + cuts + [10000]
    bps = [b - a for a, b in zip(bounds, bounds[1:])]
    return [bp // 100 if bp % 100 == 0 else bp / 100 for bp in bps]


def hashing_fields(name: str) -> dict:
    fields: dict = {}
    algorithm = pick([None, "md5", "sha1", "sha256"])
    if algorithm:
        fields["HashAlgorithm"] = algorithm
    salt = pick([None, name, name, "campaign-2026", "ü:salt"])
    if salt is not None:
        fields["Salt"] = salt
    return fields


def random_value(flag_type: str, allow_null: bool = False) -> Any:
    if allow_null and rng.random() < 0.15:
        return None
    return copy.deepcopy(pick(pools.FLAG_VALUES[flag_type]))


def variants_for(flag_type: str) -> dict:
    values = pools.FLAG_VALUES[flag_type]
    count = rng.randint(2, min(4, len(values)))
    chosen = rng.sample(range(len(values)), count)
    names = rng.sample(pools.VARIANT_NAMES, count)
    result = {}
    for name, index in zip(names, chosen):
        value = copy.deepcopy(values[index])
        if isinstance(value, dict) and len(value) > 1 and rng.random() < 0.5:
            value = dict(reversed(list(value.items())))  # key order never matters
        result[name] = value
    return result


def value_source(flag_type: str, variants: Optional[dict], allow_null: bool):
    """A function giving values of the type; from the variants when there are some."""
    if variants is None:
        return lambda: random_value(flag_type, allow_null)

    def from_variants():
        if allow_null and rng.random() < 0.15:
            return None
        value = copy.deepcopy(pick(list(variants.values())))
        if isinstance(value, dict) and len(value) > 1 and rng.random() < 0.5:
            value = dict(reversed(list(value.items())))
        return value

    return from_variants


def random_context(with_key: Optional[bool] = None, key: Optional[str] = None) -> dict:
    context: dict = {}
    if with_key is None:
        with_key = rng.random() < 0.85
    if with_key:
        context["targetingKey"] = key or random_key()
    attribute_makers = {
        "country": lambda: pick(pools.COUNTRIES),
        "plan": lambda: pick(pools.PLANS),
        "age": lambda: pick([12, 17, 18, 18.0, 30, 65, 99.5]),
        "email": lambda: pick(pools.EMAILS),
        "version": lambda: pick(pools.VALID_VERSIONS + pools.INVALID_VERSIONS[:5]),
        "signupDate": lambda: pick([d for d in pools.DATE_ATTRIBUTES if isinstance(d, (str, int, float))]),
        "beta": lambda: pick([True, False]),
        "score": lambda: pick([0, 0.5, 10, 99.99, -1]),
        "lastSeen": lambda: pick([1796117400, 1700000000, 1800000000.5]),
        "groups": lambda: pick([["admin"], ["beta", "staff"], []]),
    }
    for name, make in attribute_makers.items():
        roll = rng.random()
        if roll < 0.55:
            context[name] = make()
        elif roll < 0.62:
            context[name] = copy.deepcopy(pick(pools.ODD_VALUES))
    return context


# --- segments --------------------------------------------------------------------------


def segment(name: str, **fields: Any) -> dict:
    result = {"Name": name, "Type": "SEGMENT", "FormatVersion": 2}
    result.update(fields)
    return result


SEGMENTS = {
    s["Name"]: s
    for s in [
        segment("beta-testers", Included=["user-1", "user-2", "alice"]),
        segment("eu-users", Excluded=["user-3"], Conditions=[cond("country", "in", ["de", "fr", "nl"])]),
        segment("paying", Conditions=[cond("plan", "in", ["pro", "team"]), cond("age", "gte", [18])]),
        segment("staff", Included=["alice", "bob"], Excluded=["bob"],
                Conditions=[cond("email", "ends_with", ["@vexil.dev"])], Comment="Excluded wins over Included"),
        segment("nobody", Comment="no ids, no conditions: no members"),
        segment("old-beta", Included=["alice", "user-1", "carol"], Archived=True),
        segment("mobile.v2", Conditions=[cond("version", "semver_gte", ["2.0.0"])], OwnerID="mobile-team"),
        segment("key-prefix", Conditions=[cond("targetingKey", "starts_with", ["user-"])],
                CreatedTime="2026-11-02 10:00:00.000000"),
    ]
}
UNKNOWN_SEGMENTS = ["ghost", "never-written"]


def segments_named(names) -> list:
    return [SEGMENTS[n] for n in dict.fromkeys(names) if n in SEGMENTS]


# --- categories ------------------------------------------------------------------------


def runbook_cases(count: int) -> None:
    """Runbook-format revisions, asked with a targetingKey only: the strict subset."""
    for _ in range(count):
        flag_type = pick(["FEATURE", "DATA"])
        name = flag_name(new_style=False)
        n = rng.choice([0, 1, 1, 1, 2, 3, 4])
        remaining = 10000
        treatments = []
        ids = []
        for _ in range(n):
            pct = random_percent(remaining)
            remaining -= round(pct * 100)
            overrides = [random_key() for _ in range(rng.choice([0, 0, 1, 2, 3]))]
            ids += overrides
            treatments.append(treatment(pct, random_value(flag_type), overrides))
        fields = hashing_fields(name) if rng.random() < 0.7 else {}
        if rng.random() < 0.3:
            fields.update(Comment="roll out to 10%", OwnerID="ml-platform", CreatedTime="2026-01-05 10:11:12.000000")
        rev = revision(name, flag_type, random_value(flag_type), treatments, **fields)
        key = pick(ids) if ids and rng.random() < 0.3 else random_key()
        add("runbook", "runbook-format revision, targetingKey only", rev, {"targetingKey": key})


def operator_cases() -> None:
    """Every operator against matching, non-matching, missing, null and wrongly typed attributes."""
    families = [
        (("equals", "not_equals"), pools.EQUALS_VALUES, pools.EQUALS_ATTRIBUTES),
        (("in", "not_in"), pools.IN_VALUES, pools.IN_ATTRIBUTES),
        (("starts_with", "ends_with", "contains"), pools.STRING_VALUES, pools.STRING_ATTRIBUTES),
        (("lt", "lte", "gt", "gte"), pools.NUMBER_VALUES, pools.NUMBER_ATTRIBUTES),
    ]
    missing = object()
    for operators, values_pool, attribute_pool in families:
        for operator in operators:
            for values in values_pool:
                for attribute in attribute_pool + [missing]:
                    # every case that holds, and a sample of the others
                    holds = attribute is not missing and condition_holds(
                        cond("a", operator, values), {"a": attribute}, None, DEFAULT_READING)
                    if holds or rng.random() < 0.6:
                        operator_case(operator, values, attribute, missing)


def operator_case(operator: str, values: list, attribute: Any, missing: object, category: str = "operator") -> None:
    flag_type = pick(TYPES)
    name = flag_name(new_style=rng.random() < 0.5)
    attribute_name = pick(pools.ATTRIBUTE_NAMES)
    on, off = rng.sample(pools.FLAG_VALUES[flag_type], 2)
    rev = revision(name, flag_type, off, [], Rules=[{"Conditions": [cond(attribute_name, operator, values)], "Value": on}])
    context = random_context()
    context.pop(attribute_name, None)
    if attribute is not missing:
        context[attribute_name] = copy.deepcopy(attribute)
    shown = "missing" if attribute is missing else json.dumps(attribute, ensure_ascii=False)
    add(category, f"{attribute_name} {shown} {operator} {json.dumps(values, ensure_ascii=False)}", rev, context)


def semver_cases() -> None:
    operators = ("semver_eq", "semver_lt", "semver_lte", "semver_gt", "semver_gte")
    missing = object()
    value_versions = ["1.0.0", "1.0.0-beta.2", "1.0.0-rc.1", "v1.2.3", "2.0.0", "1.2.3-1.9", "1.0.0+build.9",
                      "1.2.3-a"]
    attributes = pools.VALID_VERSIONS + pools.INVALID_VERSIONS + [100, 1.0, None, ["1.0.0"], missing]
    for operator in operators:
        for attribute in attributes:
            for value in rng.sample(value_versions, 2):
                operator_case(operator, [value], attribute, missing, category="semver")
    # Precedence in full: every valid version against every value, with one operator.
    for value in value_versions:
        for attribute in pools.VALID_VERSIONS:
            operator_case("semver_lt", [value], attribute, missing, category="semver")


def date_cases() -> None:
    missing = object()
    for operator in ("before", "after"):
        for value in pools.DATE_VALUES:
            for attribute in pools.DATE_ATTRIBUTES + [missing]:
                operator_case(operator, [value], attribute, missing, category="date")


def attribute_lookup_cases() -> None:
    """Attributes are looked up by exact name: no paths, no case folding."""
    on_off = (True, False)
    rule = {"Conditions": [cond("user.country", "equals", ["gb"])], "Value": True}
    rev = revision("nested.lookup", "FEATURE", False, [], Rules=[rule])
    add("lookup", "dotted attribute name, flat context", rev, {"targetingKey": "alice", "user.country": "gb"})
    add("lookup", "dotted attribute name is no path", rev, {"targetingKey": "alice", "user": {"country": "gb"}})
    rev = revision("case_lookup", "FEATURE", False, [], Rules=[{"Conditions": [cond("Country", "equals", ["gb"])],
                                                               "Value": True}])
    add("lookup", "attribute names are case-sensitive", rev, {"country": "gb"})
    add("lookup", "attribute names are case-sensitive (match)", rev, {"Country": "gb"})
    for key in ("alice", "user-7", None):
        rev = revision("key.rule", "DATA", "off", [], Rules=[
            {"Conditions": [cond("targetingKey", "starts_with", ["user-"])], "Value": "users"},
            {"Conditions": [cond("targetingKey", "not_equals", ["bob"])], "Value": "not-bob"},
        ])
        context = {"targetingKey": key} if key else {"country": "gb"}
        add("lookup", "targetingKey is an attribute like any other", rev, context)
    for conditions, context in [
        ([], {}),
        ([], {"targetingKey": "bob"}),
        ([cond("country", "equals", ["gb"]), cond("age", "gte", [18])], {"country": "gb", "age": 18}),
        ([cond("country", "equals", ["gb"]), cond("age", "gte", [18])], {"country": "gb", "age": 17}),
        ([cond("country", "equals", ["gb"]), cond("age", "gte", [18])], {"country": "gb"}),
        ([cond("country", "not_equals", ["gb"]), cond("age", "lt", [18])], {"age": 3}),
    ]:
        rev = revision("all.conditions", "FEATURE", False, [], Rules=[{"Conditions": conditions, "Value": True}])
        add("lookup", "a rule holds when all its conditions hold (an empty list always holds)", rev, context)
    del on_off


def split_cases(count: int) -> None:
    """Percentage splits inside rules: the three hashes, salts, 0 % buckets, a lone 100 %."""
    for i in range(count):
        flag_type = pick(TYPES)
        name = flag_name(new_style=rng.random() < 0.5)
        variants = variants_for(flag_type) if rng.random() < 0.4 else None
        value = value_source(flag_type, variants, allow_null=True)
        buckets = rng.choice([1, 2, 2, 3, 4, 5])
        percents = split_percents(buckets)
        if rng.random() < 0.2:
            percents.insert(rng.randrange(buckets + 1), 0)  # a 0 % bucket is never chosen
        split = [{"Percent": p, "Value": value()} for p in percents]
        rules = []
        if rng.random() < 0.4:
            rules.append({"Conditions": [cond("country", "equals", ["jp"])], "Value": value()})
        rules.append({"Conditions": pick([[], [cond("beta", "equals", [True])]]), "Split": split})
        fields = hashing_fields(name)
        if variants:
            fields["Variants"] = variants
        treatments = [treatment(random_percent(), value())] if rng.random() < 0.3 else []
        rev = revision(name, flag_type, value(), treatments, Rules=rules, **fields)
        for _ in range(3):
            context = random_context(with_key=rng.random() < 0.93)
            if rng.random() < 0.7:
                context["beta"] = True
            add("split", f"rule split {percents} with {fields.get('HashAlgorithm', 'md5')}", rev, context)


def precedence_cases() -> None:
    """Disabled before overrides before rules before the rollout; the first rule wins."""
    t = [treatment(100, "rollout", ["alice"]), treatment(0, "zero", ["bob", "alice"])]
    rules = [
        {"Conditions": [cond("plan", "equals", ["pro"])], "Value": "rule-pro"},
        {"Conditions": [cond("plan", "in", ["pro", "team"])], "Value": "rule-team"},
        {"Conditions": [cond("country", "equals", ["gb"])], "Split": [{"Percent": 50, "Value": "a"},
                                                                       {"Percent": 50, "Value": "b"}]},
    ]
    for disabled in (False, True):
        for key in ("alice", "bob", "carol", "user-2", None):
            for plan in ("pro", "team", "free", None):
                for country in ("gb", None):
                    fields: dict = {"Rules": rules, "Salt": "precedence"}
                    if disabled:
                        fields["Disabled"] = True
                    rev = revision("precedence", "DATA", "control", copy.deepcopy(t), **fields)
                    context = {k: v for k, v in (("targetingKey", key), ("plan", plan), ("country", country)) if v}
                    add("precedence", "disabled > overrides > rules in order > rollout", rev, context)
    # Rules before the rollout for many keys, with one treatment and with several.
    for n in (1, 3):
        for _ in range(40):
            name = flag_name(new_style=True)
            treatments = [treatment(split, f"t{i}") for i, split in enumerate(split_percents(n + 1)[:n])]
            rev = revision(name, "DATA", "ctl", treatments, Rules=[
                {"Conditions": [cond("age", "lt", [18])], "Value": "minor"}], **hashing_fields(name))
            add("precedence", "a matching rule wins over the rollout", rev,
                {"targetingKey": random_key(), "age": pick([10, 17, 18, 40])})


def missing_key_cases() -> None:
    """targetingKey is needed only for overrides, rule splits and a rollout above 0 %."""
    split = [{"Percent": 30, "Value": 1}, {"Percent": 70, "Value": 2}]
    shapes = [
        ("no percentages", [], []),
        ("0 % treatments with overrides", [treatment(0, 5, ["alice"]), treatment(0, 6)], []),
        ("a rollout above 0 %", [treatment(0.01, 5)], []),
        ("100 % rollout", [treatment(100, 5)], []),
        ("0 % then 20 %", [treatment(0, 5), treatment(20, 6)], []),
        ("a rule value before the rollout", [treatment(50, 5)], [{"Conditions": [], "Value": 7}]),
        ("a split rule", [], [{"Conditions": [], "Split": split}]),
        ("a split rule that does not match", [], [{"Conditions": [cond("plan", "equals", ["pro"])], "Split": split}]),
        ("a non-matching split then a value rule", [], [
            {"Conditions": [cond("plan", "equals", ["pro"])], "Split": split},
            {"Conditions": [cond("plan", "equals", ["free"])], "Value": 9}]),
        ("a rule on a missing targetingKey", [treatment(10, 5)],
         [{"Conditions": [cond("targetingKey", "not_in", ["x"])], "Value": 8}]),
    ]
    for about, treatments, rules in shapes:
        for context in ({}, {"plan": "pro"}, {"plan": "free"}, {"targetingKey": "user-1", "plan": "pro"}):
            for disabled in (False, True):
                fields: dict = {"Rules": copy.deepcopy(rules)} if rules else {}
                if disabled:
                    fields["Disabled"] = True
                rev = revision("needs.key", "NUMBER", 0, copy.deepcopy(treatments), **fields)
                add("missing-key", about + (" (disabled)" if disabled else ""), rev, context)


def segment_cases() -> None:
    keys = ["alice", "bob", "carol", "user-1", "user-3", "dan"]
    contexts = []
    for key in keys:
        for country in ("de", "gb", None):
            for extra in ({}, {"plan": "pro", "age": 30}, {"email": "eve@vexil.dev", "version": "2.1.0"}):
                context = {"targetingKey": key, **extra}
                if country:
                    context["country"] = country
                contexts.append(context)
    contexts += [{"country": "de"}, {"plan": "pro", "age": 30}, {}]
    names = list(SEGMENTS)
    for name in names + UNKNOWN_SEGMENTS:
        for operator in ("in_segment", "not_in_segment"):
            rev = revision("segmented", "FEATURE", False, [], Rules=[
                {"Conditions": [cond("targetingKey", operator, [name])], "Value": True}])
            for context in contexts:
                if rng.random() < 0.45:
                    add("segment", f"{operator} {name}", rev, context, segments_named(names))
    # Several segments in one condition, and segments beside other conditions.
    for _ in range(120):
        chosen = rng.sample(names, rng.randint(2, 3))
        if rng.random() < 0.25:
            chosen.append(pick(UNKNOWN_SEGMENTS))
        operator = pick(["in_segment", "not_in_segment"])
        rules = [{"Conditions": [cond("targetingKey", operator, chosen)], "Value": "segment"}]
        if rng.random() < 0.5:
            rules[0]["Conditions"].append(cond("beta", "equals", [True]))
        if rng.random() < 0.3:
            rules.insert(0, {"Conditions": [cond("targetingKey", "in_segment", [pick(names)])], "Value": "first"})
        rev = revision("multi.segment", "DATA", "none", [treatment(0, "zero")], Rules=rules)
        context = pick(contexts)
        context = {**context, "beta": rng.random() < 0.7}
        add("segment", f"{operator} {chosen}", rev, context, segments_named(chosen + list(SEGMENTS)[:2]))


def archived_cases() -> None:
    for flag_type in TYPES:
        for disabled in (False, True):
            for context in ({}, {"targetingKey": "alice"}):
                control = pools.FLAG_VALUES[flag_type][0]
                fields: dict = {"Archived": True}
                if disabled:
                    fields["Disabled"] = True
                rev = revision("gone" if flag_type in ("FEATURE", "DATA") else "gone-too", flag_type, control,
                               [treatment(50, pools.FLAG_VALUES[flag_type][1], ["alice"])], **fields)
                add("archived", "an archived revision: the flag is not found, before anything else", rev, context)
    for context in ({"targetingKey": "alice"}, {}):
        rev = revision("kept", "FEATURE", True, [], Archived=False)
        add("archived", "Archived: false is not archived", rev, context)


def static_default_cases() -> None:
    shapes = [
        ("no treatments", [], None),
        ("0 % treatments, no ids", [treatment(0, "b"), treatment(0, "c")], None),
        ("an override id elsewhere", [treatment(0, "b", ["zed"])], None),
        ("an override id elsewhere, several treatments", [treatment(0, "b"), treatment(0, "c", ["zed"])], None),
        ("an empty rule list", [], []),
        ("a rule that does not hold", [], [{"Conditions": [cond("plan", "equals", ["x"])], "Value": "b"}]),
        ("a rollout missed", [treatment(0.01, "b")], None),
    ]
    for about, treatments, rules in shapes:
        for key in ("alice", "bob", "A123456", "user-3"):
            fields = {} if rules is None else {"Rules": rules}
            rev = revision("static.default", "DATA", "a", copy.deepcopy(treatments), **fields)
            add("static-default", about, rev, {"targetingKey": key})
        for flag_type in TYPES:
            rev = revision("static-typed", flag_type, pools.FLAG_VALUES[flag_type][1], [])
            add("static-default", f"a {flag_type} flag that targets nobody", rev, {})


def value_type_cases(count: int) -> None:
    """Each value type, named and unnamed variants, null values, Disabled, in every step."""
    for i in range(count):
        flag_type = TYPES[i % 4]
        name = flag_name(new_style=True)
        variants = variants_for(flag_type) if i % 3 else None
        value = value_source(flag_type, variants, allow_null=True)
        fields: dict = hashing_fields(name)
        if variants:
            fields["Variants"] = variants
        if i % 7 == 0:
            fields["Disabled"] = True
        if i % 5 == 0:
            fields["Metadata"] = {"owner": "growth", "ticket": "https://tracker.example/FLAG-12",
                                  "expires": "2027-01-31", "priority": 2, "kill-switch": True}
        treatments = [treatment(random_percent(5000), value(), [pick(["alice", "bob"])]) for _ in range(i % 3)]
        rules = [{"Conditions": [cond("plan", "equals", ["pro"])], "Value": value()},
                 {"Conditions": [cond("country", "in", ["gb", "fr"])],
                  "Split": [{"Percent": p, "Value": value()} for p in split_percents(2)]}]
        rev = revision(name, flag_type, value(), treatments, Rules=rules[: i % 3], **fields)
        for _ in range(3):
            add("value-type", f"{flag_type} values{' with variants' if variants else ''}", rev, random_context())


def variant_cases() -> None:
    """The variant is the value's name, the group without Variants, none for null."""
    json_variants = {"compact": {"density": "high", "rows": 50}, "roomy": {"rows": 20, "density": "low"},
                     "list": [1, {"a": None}]}
    rev = revision("layout", "JSON", {"rows": 50, "density": "high"}, [
        treatment(0, {"density": "low", "rows": 20}, ["alice"]), treatment(0, None, ["bob"]),
        treatment(0, [1, {"a": None}], ["carol"])], Variants=json_variants)
    for key in ("alice", "bob", "carol", "dan"):
        add("variant", "JSON variants compared by content, key order ignored", rev, {"targetingKey": key})
    number_variants = {"one": 1, "half": 0.5, "big": 2.5e10}
    rev = revision("limits", "NUMBER", 1.0, [treatment(0, 0.5, ["alice"]), treatment(0, 25000000000, ["bob"])],
                   Variants=number_variants)
    for key in ("alice", "bob", "carol"):
        add("variant", "number variants: 1.0 is 1, 25000000000 is 2.5e10", rev, {"targetingKey": key})
    bool_variants = {"on": True, "off": False}
    for disabled in (False, True):
        for control in (False, None):
            fields: dict = {"Variants": bool_variants}
            if disabled:
                fields["Disabled"] = True
            rev = revision("boolean-flag", "FEATURE", control, [treatment(100, True)], **fields)
            for context in ({"targetingKey": "alice"}, {}):
                add("variant", "boolean variants, a null control, Disabled", rev, context)
            rev = revision("boolean-flag-plain", "FEATURE", control, [treatment(100, True)],
                           **{k: v for k, v in fields.items() if k != "Variants"})
            for context in ({"targetingKey": "alice"}, {}):
                add("variant", "no variants: the variant is the group", rev, context)
    rev = revision("json-array", "JSON", [True], [], Variants={"array-true": [True], "array-one": [1]},
                   Rules=[{"Conditions": [cond("n", "equals", [1])], "Value": [1]}])
    for context in ({"n": 1}, {"n": True}, {}):
        add("variant", "[true] and [1] are different JSON values", rev, context)


def fuzz_cases(count: int) -> None:
    """Whole revisions with everything at once, asked with random contexts."""
    operators_by_attribute = {
        "country": [("equals", lambda: [pick(pools.COUNTRIES)]), ("in", lambda: rng.sample(pools.COUNTRIES, 2)),
                    ("not_in", lambda: rng.sample(pools.COUNTRIES, 3)), ("not_equals", lambda: ["gb"])],
        "plan": [("in", lambda: ["pro", "team"]), ("starts_with", lambda: ["p", "t"]), ("contains", lambda: ["ro"])],
        "age": [("gte", lambda: [18]), ("lt", lambda: [pick([18, 30.5, 65])]), ("equals", lambda: [18])],
        "email": [("ends_with", lambda: ["@vexil.dev"]), ("contains", lambda: ["example"])],
        "version": [(op, lambda: [pick(["1.0.0", "2.0.0", "1.2.3-a", "v1.10.0"])])
                    for op in ("semver_gte", "semver_lt", "semver_eq")],
        "signupDate": [("before", lambda: [pick(pools.DATE_VALUES)]), ("after", lambda: [pick(pools.DATE_VALUES)])],
        "lastSeen": [("after", lambda: ["2026-12-01"]), ("before", lambda: ["2027-01-01T00:00:00+01:00"])],
        "beta": [("equals", lambda: [True]), ("not_equals", lambda: [True])],
        "score": [("gt", lambda: [0]), ("lte", lambda: [10])],
        "groups": [("contains", lambda: ["beta"]), ("in", lambda: ["admin"])],
    }

    def random_condition():
        if rng.random() < 0.12:
            names = rng.sample(list(SEGMENTS) + UNKNOWN_SEGMENTS, rng.randint(1, 2))
            return cond("targetingKey", pick(["in_segment", "not_in_segment"]), names)
        attribute = pick(list(operators_by_attribute))
        operator, values = pick(operators_by_attribute[attribute])
        return cond(attribute, operator, values())

    for i in range(count):
        flag_type = pick(TYPES)
        name = flag_name(new_style=rng.random() < 0.5)
        variants = variants_for(flag_type) if rng.random() < 0.5 else None
        value = value_source(flag_type, variants, allow_null=True)
        fields: dict = hashing_fields(name)
        if variants:
            fields["Variants"] = variants
        if rng.random() < 0.08:
            fields["Disabled"] = pick([True, False])
        if rng.random() < 0.03:
            fields["Archived"] = True
        remaining = 10000
        treatments = []
        for _ in range(rng.choice([0, 1, 1, 2, 3])):
            pct = random_percent(remaining)
            remaining -= round(pct * 100)
            treatments.append(treatment(pct, value(), [random_key() for _ in range(rng.choice([0, 0, 1, 2]))]))
        rules = []
        for _ in range(rng.choice([0, 1, 2, 3, 4])):
            conditions = [random_condition() for _ in range(rng.choice([0, 1, 1, 2, 3]))]
            if rng.random() < 0.3:
                rules.append({"Conditions": conditions,
                              "Split": [{"Percent": p, "Value": value()} for p in split_percents(rng.randint(1, 4))]})
            else:
                rules.append({"Conditions": conditions, "Value": value()})
        if rules or rng.random() < 0.5:
            fields["Rules"] = rules
        rev = revision(name, flag_type, value(), treatments, **fields)
        named = {n for r in rules for c in r["Conditions"] if c["Operator"].endswith("_segment") for n in c["Values"]}
        for _ in range(2):
            context = random_context()
            ids = [x for t in treatments for x in t["OverrideList"]]
            if ids and rng.random() < 0.2:
                context["targetingKey"] = pick(ids)
            add("fuzz", "a whole revision", rev, context, segments_named(sorted(named)))


def main() -> None:
    runbook_cases(500)
    operator_cases()
    semver_cases()
    date_cases()
    attribute_lookup_cases()
    split_cases(200)
    precedence_cases()
    missing_key_cases()
    segment_cases()
    archived_cases()
    static_default_cases()
    value_type_cases(120)
    variant_cases()
    fuzz_cases(450)
    header = {
        "about": "Evaluation cases for docs/flag-model.md, computed by the independent reference evaluator",
        "generator": "tools/reference-evaluator/generate.py (Python, standard library only)",
        "regenerate": "python3 tools/reference-evaluator/generate.py",
        "seed": SEED,
        "spec": SPEC,
        "format": {
            "revision": "the flag's newest revision as stored (Name, Type, FormatVersion, ...)",
            "segments": "name -> the segment's newest revision as stored; a name not here is an unknown segment",
            "context": "the evaluation context",
            "expected": "{value, group, reason, variant} (variant null: none) or {error}",
        },
        "readings": {
            "note": "points where the spec reads two ways; cases whose answer depends on the reading are left out",
            "points": {name: list(options) for name, options in READINGS.items()},
            "left_out": dict(sorted(left_out.items())),
        },
        "counts": dict(sorted(Counter(c["category"] for c in cases).items())),
    }
    lines = [json.dumps(case, ensure_ascii=False, separators=(",", ":")) for case in cases]
    text = "{\n" + "".join(
        f"{json.dumps(k)}: {json.dumps(v, ensure_ascii=False)},\n" for k, v in header.items()
    ) + '"cases": [\n' + ",\n".join(lines) + "\n]\n}\n"
    json.loads(text)
    OUTPUT.write_text(text, encoding="utf-8")
    print(f"{len(cases)} cases written to {OUTPUT.relative_to(ROOT)}; left out (reading-dependent): "
          f"{dict(left_out) or 'none'}", file=sys.stderr)


if __name__ == "__main__":
    main()
