"""Rare earths by element: the oxide each element's output is counted in, and oxide-to-metal factors.

The elements, their standard atomic weights and oxides are data (``taxonomy/rare_earth_oxides.csv``); the
factor is stoichiometry: the mass of metal in one tonne of oxide.

>>> round(float(calc_oxide_to_metal(162.5, 2, 3)), 5)  # Dy2O3 -> Dy
0.87132
>>> oxides = element_oxides()
>>> oxides.loc["terbium", "oxide"], round(float(oxides.loc["terbium", "oxide_to_metal"]), 5)
('Tb4O7', 0.85022)
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd

from oresight.io.result import FactRows, ImportResult
from oresight.sources import Source
from oresight.taxonomy import read_taxonomy_csv

__all__ = ["ATOMIC_WEIGHTS_SOURCE", "OXYGEN", "calc_oxide_to_metal", "element_oxides", "oxide_to_metal_facts"]

#: conventional standard atomic weight of oxygen (IUPAC 2021)
OXYGEN = 15.999

ATOMIC_WEIGHTS_SOURCE = Source(
    id="iupac-ciaaw-2021",
    series="iupac-atomic-weights",
    edition="2021",
    publisher="IUPAC Commission on Isotopic Abundances and Atomic Weights (T. Prohaska et al.)",
    title="Standard atomic weights of the elements 2021 (IUPAC Technical Report), Pure and Applied Chemistry "
    "94(5), 573-600 (2022)",
    year=2022,
    url="https://doi.org/10.1515/pac-2019-0603",
    doi="10.1515/pac-2019-0603",
    licence="Facts (atomic weights) cited with attribution",
    table="Table 1, standard atomic weights 2021; oxygen at its conventional value 15.999",
    note="oxide-to-metal factors are computed by oresight from these weights (oresight.elements), "
    "taxonomy/rare_earth_oxides.csv lists the oxides",
)


def calc_oxide_to_metal(atomic_weight, metal_atoms, oxygen_atoms, oxygen: float = OXYGEN):
    """Tonnes of metal per tonne of oxide M_aO_b: a·w(M) / (a·w(M) + b·w(O)); works on arrays."""
    metal = np.asarray(metal_atoms, dtype=float) * np.asarray(atomic_weight, dtype=float)
    return metal / (metal + np.asarray(oxygen_atoms, dtype=float) * oxygen)


@functools.cache
def element_oxides() -> pd.DataFrame:
    """The elements of ``taxonomy/rare_earth_oxides.csv`` indexed by commodity id, with ``oxide_to_metal``."""
    frame = pd.DataFrame(read_taxonomy_csv("rare_earth_oxides.csv"))
    frame = frame.astype({"atomic_weight": float, "metal_atoms": int, "oxygen_atoms": int})
    frame["oxide_to_metal"] = calc_oxide_to_metal(frame["atomic_weight"], frame["metal_atoms"], frame["oxygen_atoms"])
    return frame.set_index("commodity")


def oxide_to_metal_facts(path: str = "taxonomy/rare_earth_oxides.csv") -> ImportResult:
    """One ``oxide_to_metal`` fact per element (stage metal, country WLD), citing the atomic weights."""
    out = FactRows(path)
    for commodity, row in element_oxides().iterrows():
        out.add(
            commodity=commodity,
            stage="metal",
            country="WLD",
            year=2021,
            measure="oxide_to_metal",
            value=round(float(row["oxide_to_metal"]), 5),
            unit="factor",
            basis=f"t {row['symbol']} per t {row['oxide']}",
            status="reported",
            source=ATOMIC_WEIGHTS_SOURCE.id,
            note=f"{row['metal_atoms']} x {row['atomic_weight']} / ({row['metal_atoms']} x {row['atomic_weight']}"
            f" + {row['oxygen_atoms']} x {OXYGEN})",
        )
    return out.result([ATOMIC_WEIGHTS_SOURCE], "elements")
