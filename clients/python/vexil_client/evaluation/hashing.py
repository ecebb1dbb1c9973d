"""The rollout arithmetic of docs/design.md: a hashed key against cumulative basis points."""

from __future__ import annotations

import hashlib
from decimal import Decimal, InvalidOperation
from typing import Any

from .json_values import is_finite_number

HASH_ALGORITHMS = ("md5", "sha1", "sha256")


def basis_points(percent: Any) -> int | None:
    """A percentage with at most two decimals as basis points (percent x 100), else None.

    The float's shortest decimal form is read exactly (Decimal of its repr), so 6.6 is
    660 and 0.1 + 0.2 (0.30000000000000004) is refused, as a text of more than two
    decimals is.
    """
    if not is_finite_number(percent):
        return None
    try:
        scaled = Decimal(repr(percent)) * 100
    except InvalidOperation:
        return None
    if scaled != scaled.to_integral_value():
        return None
    return int(scaled)


def hash_position(algorithm: str, key: str) -> tuple[int, int]:
    """The digest of the key's UTF-8 bytes as an unsigned integer, with its bit count."""
    # Bucketing, not security: usedforsecurity=False keeps md5 and sha1 working on FIPS-mode Pythons.
    digest = hashlib.new(algorithm, key.encode("utf-8"), usedforsecurity=False).digest()
    return int.from_bytes(digest, "big"), len(digest) * 8


def bucket_index(algorithm: str, key: str, cumulative_basis_points: list[int]) -> int | None:
    """The first bucket i with h x 10000 < cum_i x 2^bits (exact integers), or None."""
    h, bits = hash_position(algorithm, key)
    scaled = h * 10000
    space = 1 << bits
    for index, cumulative in enumerate(cumulative_basis_points):
        if scaled < cumulative * space:
            return index
    return None
