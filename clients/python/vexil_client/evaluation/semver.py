"""Semantic versions as docs/flag-model.md reads them: SemVer 2.0.0, an optional leading v."""

from __future__ import annotations

import re
from typing import Any

MAX_VERSION_LENGTH = 256

_IDENT = r"(?:0|[1-9][0-9]*|[0-9]*[A-Za-z-][0-9A-Za-z-]*)"
_VERSION = re.compile(
    r"[vV]?(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)"
    rf"(?:-({_IDENT}(?:\.{_IDENT})*))?"
    r"(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?",
    re.ASCII,
)

Version = tuple[int, int, int, tuple[str, ...]]


def parse_semver(text: Any) -> Version | None:
    """(major, minor, patch, pre-release identifiers) or None; build metadata is dropped."""
    if not isinstance(text, str) or len(text) > MAX_VERSION_LENGTH:
        return None
    match = _VERSION.fullmatch(text)
    if match is None:
        return None
    pre = tuple(match.group(4).split(".")) if match.group(4) is not None else ()
    return int(match.group(1)), int(match.group(2)), int(match.group(3)), pre


def _compare_identifier(a: str, b: str) -> int:
    a_num, b_num = a.isdigit(), b.isdigit()
    if a_num and b_num:
        return (int(a) > int(b)) - (int(a) < int(b))
    if a_num != b_num:
        return -1 if a_num else 1
    return (a > b) - (a < b)


def compare_semver(a: Version, b: Version) -> int:
    """SemVer 2.0.0 section 11 precedence: -1, 0 or 1."""
    if a[:3] != b[:3]:
        return -1 if a[:3] < b[:3] else 1
    pa, pb = a[3], b[3]
    if not pa or not pb:
        # A release is above its pre-releases.
        return (len(pa) == 0) - (len(pb) == 0)
    for x, y in zip(pa, pb):
        order = _compare_identifier(x, y)
        if order != 0:
            return order
    return (len(pa) > len(pb)) - (len(pa) < len(pb))
