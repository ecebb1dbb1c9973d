"""Instants as docs/flag-model.md reads them: RFC 3339 date-times, YYYY-MM-DD dates, Unix seconds.

An instant is an exact Fraction of seconds since 1970-01-01T00:00:00Z, so fractional
seconds compare exactly whatever their number of digits. The calendar arithmetic is
written here (not datetime) because datetime cannot hold year 0000 or fractions below
a microsecond.
"""

from __future__ import annotations

import re
from fractions import Fraction
from typing import Any

from .json_values import is_finite_number

MAX_DATE_LENGTH = 64

_DATE_TIME = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt]([0-9]{2}):([0-9]{2}):([0-9]{2})(\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})",
    re.ASCII,
)
_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})", re.ASCII)


def _leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def _days_in_month(year: int, month: int) -> int:
    if month == 2:
        return 29 if _leap(year) else 28
    return 30 if month in (4, 6, 9, 11) else 31


def _days_from_civil(year: int, month: int, day: int) -> int:
    """Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm)."""
    year -= month <= 2
    era = year // 400
    yoe = year - era * 400
    doy = (153 * (month + (-3 if month > 2 else 9)) + 2) // 5 + day - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def valid_date(year: int, month: int, day: int) -> bool:
    return 1 <= month <= 12 and 1 <= day <= _days_in_month(year, month)


def parse_date_text(text: str) -> Fraction | None:
    """The instant of an RFC 3339 date-time (with Z or an offset) or a YYYY-MM-DD date, else None."""
    if len(text) > MAX_DATE_LENGTH:
        return None
    match = _DATE_TIME.fullmatch(text)
    if match is not None:
        year, month, day, hour, minute, second = (int(match.group(i)) for i in range(1, 7))
        if not valid_date(year, month, day) or hour > 23 or minute > 59 or second > 59:
            return None
        offset = 0
        zone = match.group(8)
        if zone not in ("Z", "z"):
            off_hour, off_minute = int(zone[1:3]), int(zone[4:6])
            if off_hour > 23 or off_minute > 59:
                return None
            offset = (off_hour * 3600 + off_minute * 60) * (-1 if zone[0] == "-" else 1)
        seconds = _days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second - offset
        fraction = match.group(7)
        if fraction is None:
            return Fraction(seconds)
        digits = fraction[1:]
        return Fraction(seconds) + Fraction(int(digits), 10 ** len(digits))
    match = _DATE.fullmatch(text)
    if match is not None:
        year, month, day = (int(match.group(i)) for i in range(1, 4))
        if not valid_date(year, month, day):
            return None
        return Fraction(_days_from_civil(year, month, day) * 86400)
    return None


def instant_of(value: Any) -> Fraction | None:
    """A context attribute as an instant: a date string, or a finite number of Unix seconds."""
    if isinstance(value, str):
        return parse_date_text(value)
    if is_finite_number(value):
        return Fraction(value)
    return None
