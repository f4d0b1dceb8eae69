"""Markets of the simulator's stages: the price that values a tonne of each stage's product, the value of the
downstream output a tonne makes possible per end-use sector, and the price model's parameters — read from
``markets.yaml`` (which published price applies where) and from the World's facts (the numbers, each with its
source).

>>> parameters("cobalt", "refining")["elasticity"] < 0
True
>>> round(usd_per_tonne(16.77, "USD/lb"))
36972
"""

from __future__ import annotations

import math
from functools import cache
from importlib import resources

import yaml

from oresight.facts import rows_as_of

__all__ = ["OUTPUT_VALUE", "market", "output_values", "parameters", "reference_price", "usd_per_tonne"]

#: the measure of facts giving the value of a sector's output per tonne of a stage's product (USD/t)
OUTPUT_VALUE = "output_value"
_PER_TONNE = {"USD/t": 1.0, "USD/kg": 1_000.0, "USD/lb": 2_204.62262, "USD/ozt": 32_150.7466, "USD/g": 1e6}
PRICE_PARAMETERS = ("elasticity", "max_index", "min_index", "adjustment_months")


@cache
def _markets() -> dict:
    text = resources.files("oresight.simulate").joinpath("markets.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


def market(commodity: str, stage: str) -> dict:
    """The entry of ``markets.yaml`` for a commodity's stage, over the defaults."""
    entries = _markets()
    return {**entries["default"], **(entries.get(commodity) or {}).get(stage, {})}


def parameters(commodity: str, stage: str) -> dict[str, float]:
    """The price model's parameters for a stage (elasticity, max_index, min_index, adjustment_months)."""
    entry = market(commodity, stage)
    return {name: float(entry[name]) for name in PRICE_PARAMETERS}


def usd_per_tonne(value: float, unit: str) -> float:
    """A price in USD per tonne; NaN for a unit that is not a price per mass."""
    return round(value * _PER_TONNE[unit], 6) if unit in _PER_TONNE else math.nan


def reference_price(world, commodity: str, stage: str, year: int | None) -> tuple[float, str, str] | None:
    """USD per tonne of a stage's product, its source id and its basis; None where ``markets.yaml`` names no
    price for the stage or no fact matches."""
    wanted = market(commodity, stage).get("price")
    if not wanted:
        return None
    spec = wanted if isinstance(wanted, dict) else {"basis": wanted}
    rows = world.select(commodity=spec.get("commodity", commodity), measure="price")
    rows = rows[rows["stage"].isin([stage, ""]) & rows["value"].notna()]
    rows = rows[rows["basis"].str.contains(spec["basis"], case=False, regex=False)]
    rows = rows_as_of(rows, year)
    if rows.empty:
        return None
    row = rows.iloc[0]
    price = usd_per_tonne(float(row["value"]), str(row["unit"]))
    if not math.isfinite(price):
        return None
    return price, str(row["source"]), f"{row['basis']} ({int(row['year'])}, {row['value']:g} {row['unit']})"


def output_values(world, commodity: str, stage: str, sectors, year: int | None) -> dict[str, tuple[float, str]]:
    """USD of downstream output per tonne of the stage's product, per sector with a sourced figure."""
    rows = world.select(commodity=commodity, stage=stage, measure=OUTPUT_VALUE)
    out = {}
    for sector, group in rows[rows["value"].notna()].groupby("sector"):
        if sector in sectors:
            row = rows_as_of(group, year).iloc[0]
            value = usd_per_tonne(float(row["value"]), str(row["unit"]))
            if math.isfinite(value):
                out[str(sector)] = (value, str(row["source"]))
    return out
