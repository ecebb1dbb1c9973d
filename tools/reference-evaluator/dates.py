"""Dates as docs/flag-model.md describes them: RFC 3339 date-times with `Z` or a
`±HH:MM` offset (fractional seconds allowed), or `YYYY-MM-DD` (midnight UTC); a number is
Unix time in seconds. Instants are exact fractions of seconds since the Unix epoch, so
sub-millisecond differences still count."""

from __future__ import annotations

import re
from fractions import Fraction
from typing import Any, Optional

from json_values import is_finite_number

_DATE_TIME = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt]([0-9]{2}):([0-9]{2}):([0-9]{2})(\.[0-9]+)?"
    r"(?:([Zz])|([+-])([0-9]{2}):([0-9]{2}))"
)
_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")


def _is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def _days_in_month(year: int, month: int) -> int:
    if month == 2:
        return 29 if _is_leap(year) else 28
    return 30 if month in (4, 6, 9, 11) else 31


def _days_from_epoch(year: int, month: int, day: int) -> int:
    """Days from 1970-01-01 in the proleptic Gregorian calendar (H. Hinnant's algorithm)."""
    y = year - (1 if month <= 2 else 0)
    era = y // 400
    yoe = y - era * 400
    mp = (month + 9) % 12
    doy = (153 * mp + 2) // 5 + day - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def _valid_date(year: int, month: int, day: int) -> bool:
    return 1 <= month <= 12 and 1 <= day <= _days_in_month(year, month)


def parse_date_string(text: str) -> Optional[Fraction]:
    """The instant a date string names, in seconds since the epoch, or None."""
    match = _DATE.fullmatch(text)
    if match:
        year, month, day = (int(g) for g in match.groups())
        if not _valid_date(year, month, day):
            return None
        return Fraction(_days_from_epoch(year, month, day) * 86400)
    match = _DATE_TIME.fullmatch(text)
    if match is None:
        return None
    year, month, day, hour, minute, second = (int(match.group(i)) for i in range(1, 7))
    # RFC 3339 allows second 60 only for a leap second at the end of a UTC day; the spec
    # says nothing more, so the generator never writes one and this reads none.
    if not _valid_date(year, month, day) or hour > 23 or minute > 59 or second > 59:
        return None
    seconds = Fraction(_days_from_epoch(year, month, day) * 86400 + hour * 3600 + minute * 60 + second)
    if match.group(7):
        digits = match.group(7)[1:]
        seconds += Fraction(int(digits), 10 ** len(digits))
    if match.group(9):
        off_h, off_m = int(match.group(10)), int(match.group(11))
        if off_h > 23 or off_m > 59:
            return None
        offset = off_h * 3600 + off_m * 60
        seconds -= offset if match.group(9) == "+" else -offset
    return seconds


def instant_of_attribute(value: Any) -> Optional[Fraction]:
    """A context attribute as an instant: a date string, or a number of Unix seconds."""
    if isinstance(value, str):
        return parse_date_string(value)
    if is_finite_number(value):
        return Fraction(value)
    return None
