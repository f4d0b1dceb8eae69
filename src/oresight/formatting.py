"""How numbers read on every surface (terminal tables, notes, the HTML brief, the web pages): one formatter.

Quantities keep their unit as given (tonnes stay tonnes, never rescaled to another unit); large numbers get
thousands separators, small ones three significant digits, never an exponent. A value no source gives is
missing, never zero: it renders as :data:`MISSING` (or blank where a table says what a blank means).

>>> format_number(29080.4), format_number(16), format_number(0.01234), format_number(float("nan"))
('29,080', '16', '0.0123', 'not attested')
>>> format_quantity(29080.4, "t/yr"), format_share(0.9134), format_share(None, missing="")
('29,080 t/yr', '91.3%', '')
"""

from __future__ import annotations

import math
from numbers import Real

__all__ = ["MISSING", "format_fixed", "format_number", "format_quantity", "format_share", "is_missing"]

#: what a value no source gives reads as
MISSING = "not attested"


def is_missing(value) -> bool:
    """None, NaN, pandas' NA and NaT: a value that is not there (never a zero).

    >>> is_missing(None), is_missing(float("nan")), is_missing(0.0)
    (True, True, False)
    """
    if value is None:
        return True
    try:
        return bool(value != value)  # NaN, NaT and pandas.NA (whose comparison raises) are not equal to themselves
    except (TypeError, ValueError):
        return True


def _real(value) -> float:
    return float(value.item() if hasattr(value, "item") else value)


def format_number(value, *, digits: int = 3, missing: str = MISSING) -> str:
    """A number as people read it: ``29,080``, ``188``, ``16``, ``1.25``, ``0.0123``.

    At least 100: rounded to a whole number, with thousands separators. Below: ``digits`` significant digits,
    trailing zeros dropped. Infinite values read ``∞``.

    >>> [format_number(v) for v in (1_234_567.8, 187.94, 1.0, 1.2345, -0.5, 2.5e-7, float("inf"))]
    ['1,234,568', '188', '1', '1.23', '-0.5', '0.00000025', '∞']
    """
    if is_missing(value):
        return missing
    if not isinstance(value, Real) and not hasattr(value, "item"):
        return str(value)
    number = _real(value)
    if math.isinf(number):
        return "∞" if number > 0 else "-∞"
    if abs(number) >= 100 or number == 0:
        return f"{number:,.0f}"
    decimals = max(0, digits - 1 - math.floor(math.log10(abs(number))))
    text = f"{number:,.{decimals}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def format_fixed(value, decimals: int = 2, *, missing: str = MISSING) -> str:
    """A number with a fixed count of decimals (scores and indices compared down a column): ``0.42``.

    >>> format_fixed(0.4167), format_fixed(1234.5, 0), format_fixed(None, missing="")
    ('0.42', '1,234', '')
    """
    if is_missing(value):
        return missing
    return f"{_real(value):,.{decimals}f}"


def format_quantity(value, unit: str = "", *, digits: int = 3, missing: str = MISSING) -> str:
    """A quantity with its unit, as the data give it: ``16 t``, ``2,474 t``; missing stays missing.

    >>> format_quantity(16.0, "t"), format_quantity(None, "t")
    ('16 t', 'not attested')
    """
    if is_missing(value):
        return missing
    text = format_number(value, digits=digits, missing=missing)
    return f"{text} {unit}" if unit else text


def format_share(value, *, decimals: int = 1, missing: str = MISSING) -> str:
    """A share (0–1) as a percentage: ``91.3%``.

    >>> format_share(0.5), format_share(1), format_share(0.0004, decimals=0)
    ('50.0%', '100.0%', '0%')
    """
    if is_missing(value):
        return missing
    return f"{100 * _real(value):.{decimals}f}%"
