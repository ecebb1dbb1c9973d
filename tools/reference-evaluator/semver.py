"""Semantic versions as docs/flag-model.md describes them: SemVer 2.0.0 with an optional
leading `v`/`V`, precedence by SemVer §11, build metadata ignored."""

from __future__ import annotations

import re
from typing import Optional

# SemVer 2.0.0's grammar: numeric identifiers without leading zeros; pre-release
# identifiers alphanumeric or numeric-without-leading-zeros; build identifiers any
# non-empty [0-9A-Za-z-] run.
_NUMERIC = r"0|[1-9][0-9]*"
_PRE_ID = r"(?:0|[1-9][0-9]*|[0-9]*[A-Za-z-][0-9A-Za-z-]*)"
_BUILD_ID = r"[0-9A-Za-z-]+"
_SEMVER = re.compile(
    rf"[vV]?({_NUMERIC})\.({_NUMERIC})\.({_NUMERIC})"
    rf"(?:-({_PRE_ID}(?:\.{_PRE_ID})*))?"
    rf"(?:\+({_BUILD_ID}(?:\.{_BUILD_ID})*))?"
)


class Version:
    __slots__ = ("major", "minor", "patch", "prerelease")

    def __init__(self, major: int, minor: int, patch: int, prerelease: tuple[str, ...]):
        self.major = major
        self.minor = minor
        self.patch = patch
        self.prerelease = prerelease


def parse_version(text: str) -> Optional[Version]:
    # fullmatch, and no re.ASCII surprises: [0-9] is only ASCII digits.
    match = _SEMVER.fullmatch(text)
    if match is None:
        return None
    pre = tuple(match.group(4).split(".")) if match.group(4) else ()
    return Version(int(match.group(1)), int(match.group(2)), int(match.group(3)), pre)


def _compare_identifier(a: str, b: str) -> int:
    a_num, b_num = a.isdigit() and a.isascii(), b.isdigit() and b.isascii()
    if a_num and b_num:
        return (int(a) > int(b)) - (int(a) < int(b))
    if a_num:
        return -1  # numeric identifiers have lower precedence than alphanumeric ones
    if b_num:
        return 1
    # ASCII order: the identifiers are ASCII, so code point order is ASCII order.
    return (a > b) - (a < b)


def compare_versions(a: Version, b: Version) -> int:
    for x, y in ((a.major, b.major), (a.minor, b.minor), (a.patch, b.patch)):
        if x != y:
            return -1 if x < y else 1
    if not a.prerelease and not b.prerelease:
        return 0
    if not a.prerelease:
        return 1  # a release is higher than its pre-releases
    if not b.prerelease:
        return -1
    for x, y in zip(a.prerelease, b.prerelease):
        c = _compare_identifier(x, y)
        if c:
            return c
    la, lb = len(a.prerelease), len(b.prerelease)
    return (la > lb) - (la < lb)
