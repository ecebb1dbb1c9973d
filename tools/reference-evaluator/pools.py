"""The values the generator draws from: flag values, attributes, versions, dates, keys."""

from __future__ import annotations

FLAG_VALUES = {
    "FEATURE": [True, False],
    "DATA": ["gpt-4o", "claude-v1", "llama-3", "openai", "blue", "green", "", "Grüße 👋", "a\"quote"],
    "NUMBER": [0, 1, 42, -7, 3.5, 0.1, 1e-7, 2.5e10, 9007199254740991, -0.25, 100],
    "JSON": [
        {"color": "blue", "size": 3},
        [1, 2, 3],
        {},
        [],
        {"nested": {"a": [True, None, "x"]}, "n": 1.5},
        [{"k": 1}, {"k": 2}],
        {"b": 1, "a": 2},
        ["on"],
        [True],
        [1],
    ],
}

VARIANT_NAMES = ["on", "off", "control", "blue", "v2.beta", "Treatment_A", "greeting", "x-1", "9lives", "B"]

TARGETING_KEYS = [
    "alice", "bob", "carol", "user-1", "user-2", "user-3", "A123456", "A12345", "A99",
    "josé", "用户-7", "9d1f3a8e-7c44-4f2e-9b1a-0e5d6c7b8a90", "user@example.com", "x",
    "targetingKey", "0", " spaced ", "e4a8cdbf-a1f4-47bf-0c3c-03d929a3419c",
]

COUNTRIES = ["gb", "fr", "de", "nl", "us", "GB", "jp"]
PLANS = ["free", "pro", "team", "enterprise", "Pro"]
EMAILS = ["alice@vexil.dev", "bob@example.com", "carol@EXAMPLE.com", "dan@vexil.dev.evil.com", "@vexil.dev", ""]

# Attribute values of every JSON type, for "wrongly typed" cases.
ODD_VALUES = [None, True, False, 0, 1, -1.5, "", "abc", [], ["a"], {}, {"a": 1}]

VALID_VERSIONS = [
    "1.0.0", "1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta", "1.0.0-beta.2",
    "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0+build.7", "1.0.0-rc.1+build.1", "v1.0.0", "V1.0.0",
    "v1.0.0-alpha", "1.0.1", "1.1.0", "2.0.0", "10.0.0", "1.10.0", "1.9.0", "1.2.3-0", "1.2.3-1",
    "1.2.3-a", "1.2.3-a.1", "1.2.3-A", "1.2.3--", "1.2.3-0a", "1.2.3-1.2.3", "1.2.3-1.10", "1.2.3-1.9",
    "0.0.0", "1.2.3", "1.2.3+001", "2.0.0-rc.1",
]
INVALID_VERSIONS = [
    "1.0", "1", "01.0.0", "1.01.0", "1.0.0-01", "1.0.0-", "1.0.0+", "v", "vv1.0.0", " 1.0.0", "1.0.0 ",
    "=1.0.0", "~1.0.0", "^1.0.0", "1.0.0.0", "1.0.0-alpha_beta", "1.0.0-alpha..1", "1.0.0+build..1",
    "latest", "1.x", "1.0.0-é",
]

DATE_VALUES = [
    "2026-12-01T09:30:00Z",
    "2026-12-01",
    "2026-12-01T10:30:00.5+01:00",
    "2024-02-29T23:59:59-08:00",
    "1970-01-01T00:00:00Z",
    "2026-06-15T12:00:00.123Z",
]
DATE_ATTRIBUTES = [
    # the same instants written otherwise
    "2026-12-01T09:30:00Z", "2026-12-01T09:30:00.000Z", "2026-12-01T10:30:00+01:00",
    "2026-12-01T04:00:00-05:30", "2026-12-01T00:00:00Z", "2026-12-01", "2026-11-30T23:00:00-01:00",
    "2026-12-01T09:30:00.5Z",
    # a second, a fraction, a day either side
    "2026-12-01T09:29:59Z", "2026-12-01T09:30:01Z", "2026-12-01T09:29:59.999Z", "2026-12-01T09:30:00.001Z",
    "2026-11-30", "2026-12-02", "2026-12-01T09:30:00.4999+00:00", "2026-12-01T09:30:00.5001Z",
    # sub-millisecond differences are differences: the spec compares instants
    "2026-12-01T09:30:00.0001Z", "2026-12-01T09:29:59.9999Z",
    "2024-03-01T07:59:59Z", "2024-03-01T08:00:00Z", "2024-02-29", "1969-12-31T23:59:59Z",
    "2026-06-15T12:00:00.122Z", "2026-06-15T12:00:00.124Z", "2026-06-15T13:00:00.123+01:00",
    # Unix seconds
    1796117400, 1796117399, 1796117401, 1796117400.5, 1796117399.5, 1796083200, 0, -1, 1709279999,
    1709280000, 1781524800, 1781524800.25,
    # not dates
    "2026-12-01T09:30:00", "2026-12-01 09:30:00Z", "2026-12-01T09:30Z", "2026-12-01T09:30:00+0100",
    "December 1, 2026", "2026/12/01", "20261201", "2026-12-1", "2026-13-01", "2026-02-29", "2025-02-29",
    "2026-12-01T24:00:00Z", "2026-12-01T09:60:00Z", "2026-12-01T09:30:00+24:00", "1796117400", "",
    "Tue, 01 Dec 2026 09:30:00 GMT", "2026-12-01T09:30:00.Z", "2026-W49-2",
    True, None, [], {"at": "2026-12-01"},
]

STRING_VALUES = [["beta-"], ["a", "b"], ["@vexil.dev"], ["é"], ["x", "beta"], ["Pro"], ["用户"], ["-"]]
STRING_ATTRIBUTES = [
    "beta-user", "Beta-user", "alice@vexil.dev", "bob@VEXIL.DEV", "café", "x", "beta", "a", "ab", "ba",
    "user-beta-", "-", "pro", "Pro plan", "用户-7", "e\u0301", "", "@vexil.dev", ["beta-user"], {"s": "beta-"},
    5, True, None,
]

NUMBER_VALUES = [[10], [0], [-2.5], [3.14159], [1e6], [0.1]]
NUMBER_ATTRIBUTES = [
    9, 10, 10.0, 11, 9.999, -3, -2.5, 0, 0.1, 0.30000000000000004, 3.14159, 3.1416, 1e6, 999999.99, 1e300,
    -1e-300, "10", "0", True, False, None, [10], {"n": 10},
]

EQUALS_VALUES = [["gb"], [42], [3.5], [True], [False], ["10"], [10], [""], [0], ["true"], ["GB"]]
EQUALS_ATTRIBUTES = [
    "gb", "GB", " gb", 42, 42.0, "42", 3.5, 3.50, True, False, "true", 1, 0, 10, "10", 10.0, "", None,
    ["gb"], {"v": "gb"}, [], 0.0, "0",
]

IN_VALUES = [["gb", "fr"], ["de"], [1, 2, 3], ["1", 2], [2.5], ["a", "b", 10], ["true"], [0]]
IN_ATTRIBUTES = [
    "gb", "fr", "GB", "de", 1, 2, "2", 2.0, 3, 2.5, "2.5", "1", 10, "10", "a", True, False, "true", 0, "0",
    None, ["gb"], {"gb": True}, "",
]

ATTRIBUTE_NAMES = ["country", "plan", "age", "email", "version", "signupDate", "beta", "score", "lastSeen", "groups"]
