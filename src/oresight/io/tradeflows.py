"""Bilateral trade flows: the table every trade importer returns and ``scripts/build_data.py`` bundles.

One row per (reporter, partner, HS code, year, flow):

=========== ==========================================================================================
reporter    ISO3 of the country whose trade it is (the importer for ``flow="import"``)
partner     ISO3 of the other side (the origin of an import, the destination of an export)
hs          six-digit HS code (or a longer national code such as CN 85051110)
year        calendar year
flow        ``import`` or ``export``
usd         trade value in current US dollars (NaN when not given)
tonnes      net weight in metric tonnes (NaN when not given: never 0 for "unknown")
source      id of the source in the sources registry
=========== ==========================================================================================

CEPII BACI reconciles both sides of every flow, so a BACI row (exporter → importer) is stored once, as the
importer's import; the exporter's export is the same row read the other way (``World.exports``). Reporter
declarations (UN Comtrade) keep both flows as declared.

>>> import pandas as pd
>>> rows = pd.DataFrame({"reporter": ["JPN", "JPN"], "partner": ["CHN", "VNM"], "hs": ["284690"] * 2,
...     "year": [2018] * 2, "flow": ["import"] * 2, "usd": [5e6, -1.0], "tonnes": [900.0, 10.0], "source": ["s"] * 2})
>>> good, bad = check_flows(rows, "baci.csv", lines=pd.Series([2, 3]))
>>> len(good), bad[0].line, bad[0].reason
(1, 3, 'field usd: negative value -1.0 (expected a finite non-negative number)')
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from oresight.facts import normalise_facts
from oresight.sources import Source

from .result import ImportResult, Skipped

__all__ = [
    "FLOWS",
    "TRADE_COLUMNS",
    "TradeResult",
    "as_import_result",
    "check_flows",
    "empty_trade",
    "normalise_trade",
]

TRADE_COLUMNS = ("reporter", "partner", "hs", "year", "flow", "usd", "tonnes", "source")
FLOWS = ("import", "export")


@dataclass
class TradeResult:
    """What a trade importer returns: flows, the sources they cite, and the rows it passed over (with why)."""

    flows: pd.DataFrame
    sources: list[Source]
    skipped: list[Skipped] = field(default_factory=list)
    format: str = ""
    #: checks the importer made on the file (e.g. partners summed against the World row), name -> value
    checks: dict[str, float] = field(default_factory=dict)


def empty_trade() -> pd.DataFrame:
    return normalise_trade(pd.DataFrame({c: [] for c in TRADE_COLUMNS}))


def normalise_trade(frame: pd.DataFrame) -> pd.DataFrame:
    """Exactly the trade columns, in order, with compact dtypes (categories for the repeated labels)."""
    out = pd.DataFrame(
        {
            "reporter": frame["reporter"].astype(str),
            "partner": frame["partner"].astype(str),
            "hs": frame["hs"].astype(str),
            "year": pd.to_numeric(frame["year"]).astype("int16"),
            "flow": frame["flow"].astype(str),
            "usd": pd.to_numeric(frame["usd"], errors="coerce").astype("float64"),
            "tonnes": pd.to_numeric(frame["tonnes"], errors="coerce").astype("float64"),
            "source": frame["source"].astype(str),
        }
    )
    return out.reset_index(drop=True)


def check_flows(rows: pd.DataFrame, path: str, lines: pd.Series) -> tuple[pd.DataFrame, list[Skipped]]:
    """Keep the rows whose value and weight are finite and non-negative (or not given); report the others
    with file, line and field. ``lines`` holds each row's line in the file."""
    skipped: list[Skipped] = []
    bad = np.zeros(len(rows), dtype=bool)
    for column in ("usd", "tonnes"):
        values = pd.to_numeric(rows[column], errors="coerce").to_numpy(float)
        text = rows[column].astype(str).str.strip()
        unparsable = np.isnan(values) & ~text.isin(["", "nan", "NA", "None", "<NA>"]).to_numpy()
        infinite = np.isinf(values)
        negative = values < 0
        for mask, reason in (
            (unparsable, "not a number"),
            (infinite, "infinite value"),
            (negative, "negative value"),
        ):
            for i in np.flatnonzero(mask & ~bad):
                skipped.append(
                    Skipped(
                        path,
                        int(lines.iat[i]),
                        f"field {column}: {reason} {rows[column].iat[i]!r}"
                        if reason == "not a number"
                        else f"field {column}: {reason} {float(values[i])!r} (expected a finite non-negative number)",
                    )
                )
            bad |= mask
    return rows[~bad], sorted(skipped, key=lambda s: s.line or 0)


def as_import_result(result: TradeResult) -> ImportResult:
    """Trade flows as facts for the user's store (``oresight data import``): ``import_value`` (USD) and
    ``import_quantity`` (t) of the reporter by partner (``export_*`` for declared exports), basis ``HS <code>``,
    commodity and stage from taxonomy/hs_codes.csv. ``World.trade`` reads them back as trade rows; flows of
    codes the taxonomy does not list are reported as skipped."""
    from oresight.taxonomy import load_taxonomy

    tax = load_taxonomy()
    flows = result.flows
    mapped = {code: tax.hs_code(code) for code in flows["hs"].unique()}
    known = flows["hs"].map(lambda c: mapped[c] is not None)
    skipped = list(result.skipped) + [
        Skipped(f"{result.format} flows", None, f"HS {code} is not in hs_codes.csv ({n} flows)")
        for code, n in flows.loc[~known, "hs"].value_counts().items()
    ]
    flows = flows[known]
    frames = []
    for kind, unit, column in (("value", "USD", "usd"), ("quantity", "t", "tonnes")):
        part = flows[flows[column].notna()]
        frames.append(
            pd.DataFrame(
                {
                    "commodity": part["hs"].map(lambda c: mapped[c]["commodity"]),
                    "stage": part["hs"].map(lambda c: mapped[c]["stage"]),
                    "country": part["reporter"],
                    "partner": part["partner"],
                    "year": part["year"].astype(int),
                    "measure": part["flow"] + f"_{kind}",
                    "value": part[column],
                    "unit": unit,
                    "basis": "HS " + part["hs"],
                    "status": "reported",
                    "source": part["source"],
                }
            )
        )
    return ImportResult(normalise_facts(pd.concat(frames, ignore_index=True)), result.sources, skipped, result.format)
