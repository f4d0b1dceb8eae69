"""Quantities as the simulator states them: mass units converted to tonnes with the basis rewritten to match,
and numbers written for people (no ``2.908e+04``).

>>> to_tonnes("kg", "kg Ga (primary low-purity)")
('t', 0.001, 't Ga (primary low-purity)')
>>> quantity(29080.4), quantity(18.7), quantity(0.0523), quantity(0)
('29,080', '18.7', '0.0523', '0')
"""

from __future__ import annotations

import math
import re

__all__ = ["MASS_UNITS", "quantity", "to_tonnes"]

#: mass units and their size in tonnes
MASS_UNITS = {"t": 1.0, "kg": 0.001}


def to_tonnes(unit: str, basis: str = "") -> tuple[str, float, str]:
    """The unit a stage is simulated in, the factor from ``unit`` to it, and the basis restated in it: mass units
    become tonnes (a basis that names the old unit, "kg Ga", names tonnes, "t Ga"); other units stay as they are."""
    if unit not in MASS_UNITS or unit == "t":
        return unit, 1.0, basis
    restated = re.sub(rf"(?<![\w-]){re.escape(unit)}(?![\w-])", "t", basis)
    return "t", MASS_UNITS[unit], restated


def quantity(value: float) -> str:
    """A quantity for a note or a table: thousands separated and no exponent; small values keep three
    significant digits."""
    if not math.isfinite(value):
        return "not attested"
    magnitude = abs(value)
    if magnitude >= 100 or magnitude == 0:
        return f"{value:,.0f}"
    digits = max(0, 2 - math.floor(math.log10(magnitude)))
    return f"{value:,.{digits}f}".rstrip("0").rstrip(".")
