"""A company's own supply mix: a CSV of ``partner, commodity, tonnes`` (one row per supplier country and
commodity; an optional ``usd`` column gives the value, for the characterisation factor). Names resolve through
the taxonomy (English, German, ISO codes); tonnes must be finite and non-negative.

>>> import tempfile, pathlib
>>> path = pathlib.Path(tempfile.mkdtemp()) / "suppliers.csv"
>>> _ = path.write_text("partner,commodity,tonnes\\nChina,Kobalt,120\\nCOD,cobalt,80\\n")
>>> read_sourcing(path)[["partner", "commodity", "tonnes"]].values.tolist()
[['CHN', 'cobalt', 120.0], ['COD', 'cobalt', 80.0]]
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from oresight.errors import InputError, UnknownNameError
from oresight.taxonomy import load_taxonomy

from .text import read_csv_table

__all__ = ["read_sourcing"]


def _number(text: str, path: Path, line: int, field: str, *, required: bool) -> float:
    if not text.strip() and not required:
        return math.nan
    try:
        value = float(text.replace(",", ""))
    except ValueError:
        raise InputError(f"not a number: {text!r}", path=path, line=line, field=field) from None
    if not (math.isfinite(value) and value >= 0):
        raise InputError(f"{text!r}", path=path, line=line, field=field, expected="a finite number ≥ 0") from None
    return value


def read_sourcing(path: str | Path) -> pd.DataFrame:
    """The supply mix as rows (partner ISO3, commodity id, tonnes, usd); errors name file, line and field."""
    path = Path(path)
    table = read_csv_table(path, required=("partner", "commodity", "tonnes"))
    tax = load_taxonomy()
    rows = []
    for line, row in table.rows:
        partner = tax.countries.resolve(row["partner"])
        if partner is None:
            raise InputError(f"unknown country {row['partner']!r}", path=path, line=line, field="partner")
        try:
            commodity = tax.commodity(row["commodity"]).id
        except UnknownNameError as exc:
            raise InputError(str(exc), path=path, line=line, field="commodity") from None
        tonnes = _number(row["tonnes"], path, line, "tonnes", required=True)
        usd = _number(row.get("usd", "") or "", path, line, "usd", required=False)
        rows.append({"partner": partner, "commodity": commodity, "tonnes": tonnes, "usd": usd})
    if not rows:
        raise InputError("no supplier rows", path=path, expected="partner, commodity, tonnes")
    return pd.DataFrame(rows)
