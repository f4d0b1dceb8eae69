"""Turn a publisher's value cell into a number, a status and bounds.

The USGS codes (MCS 2026 metadata): ``W`` withheld to avoid disclosing company proprietary data, ``s`` small
(less than ½ unit), ``NA`` not available, ``E`` net exporter, ``—`` zero, ``XX`` not applicable; values may be
bounds (``>95``, ``<1,000``) or ranges (``50–300``). A cp1252 file loses ``≤`` and shows ``?`` instead.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

__all__ = ["ParsedValue", "parse_value"]

NAN = math.nan
_NUMBER = r"[0-9][0-9,]*(?:\.[0-9]+)?|\.[0-9]+"
_RANGE = re.compile(rf"^({_NUMBER})\s*[-–—]\s*({_NUMBER})$")
_BOUND = re.compile(rf"^(>=|<=|≥|≤|>|<|\?)\s*({_NUMBER})$")
_PLAIN = re.compile(rf"^[+-]?(?:{_NUMBER})(?:[eE][+-]?\d+)?$")
_ZERO = {"—", "–", "-", "--", "0"}
_MISSING = {"", "na", "n/a", "nan", "none", "null", "xx", "--.--"}
_LESS_THAN_HALF = re.compile(r"^less than (½|1/2) unit\.?$", re.I)
_QUALITATIVE = re.compile(r"^(small|very small|moderate|moderate to large|large|variable\b.*)$", re.I)


@dataclass(frozen=True)
class ParsedValue:
    """A parsed cell. ``value`` is NaN when the cell carries no number (withheld, net exporter, small)."""

    value: float
    status: str
    low: float = NAN
    high: float = NAN
    note: str = ""

    def scaled(self, factor: float) -> ParsedValue:
        return ParsedValue(self.value * factor, self.status, self.low * factor, self.high * factor, self.note)


def _number(text: str) -> float:
    number = float(text.replace(",", ""))
    if not math.isfinite(number):  # "1e400" reads as infinity
        raise ValueError(f"not a finite number: {text!r}")
    return number


def parse_value(cell: object, *, estimated: bool = False) -> ParsedValue | None:
    """Parse one cell; ``None`` when the cell states no value at all (blank, NA, XX, qualitative words).

    >>> parse_value("1,234")
    ParsedValue(value=1234.0, status='reported', low=nan, high=nan, note='')
    >>> parse_value("W").status, parse_value("—").value, parse_value(">95").status, parse_value(">95").low
    ('withheld', 0.0, 'lower_bound', 95.0)
    >>> r = parse_value("50–300"); (r.status, r.value, r.low, r.high)
    ('range', 175.0, 50.0, 300.0)
    >>> parse_value("NA") is None, parse_value("Large") is None
    (True, True)
    >>> parse_value("1e400")
    Traceback (most recent call last):
    ValueError: not a finite number: '1e400'
    """
    if cell is None or (isinstance(cell, float) and math.isnan(cell)):
        return None
    if isinstance(cell, bool):
        raise ValueError(f"not a value: {cell!r}")
    if isinstance(cell, int | float):
        try:
            number = float(cell)
        except OverflowError:
            number = math.inf
        if not math.isfinite(number):
            raise ValueError(f"not a finite number: {str(cell)[:30]}")
        return ParsedValue(number, "estimated" if estimated else "reported")
    text = str(cell).replace("\u00a0", " ").replace("\u2212", "-").strip()
    plain_status = "estimated" if estimated else "reported"
    if text.casefold() in _MISSING or _QUALITATIVE.match(text):
        return None
    if text in _ZERO:
        return ParsedValue(0.0, plain_status, note="— (zero)" if text != "0" else "")
    if text == "W":
        return ParsedValue(NAN, "withheld", note="W: withheld to avoid disclosing company proprietary data")
    if text == "E":
        return ParsedValue(NAN, "net_exporter", note="E: net exporter")
    if text == "s" or _LESS_THAN_HALF.match(text):
        return ParsedValue(NAN, "upper_bound", low=0.0, high=0.5, note="s: small (less than ½ unit)")
    if _PLAIN.match(text):
        return ParsedValue(_number(text), plain_status)
    if match := _RANGE.match(text):
        low, high = sorted((_number(match.group(1)), _number(match.group(2))))
        return ParsedValue((low + high) / 2, "range", low=low, high=high, note=f"range {text}")
    if match := _BOUND.match(text):
        sign, number = match.group(1), _number(match.group(2))
        if sign in (">", ">=", "≥"):
            return ParsedValue(number, "lower_bound", low=number, note=f"{sign}{match.group(2)}")
        note = f"{sign}{match.group(2)}" + (" ('?' read as '≤': the comparison sign was lost)" if sign == "?" else "")
        return ParsedValue(number, "upper_bound", high=number, note=note)
    raise ValueError(f"not a value: {text!r}")
