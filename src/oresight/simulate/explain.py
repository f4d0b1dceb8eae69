"""Why an importer runs short: each shock at each stage is switched off in turn, with the same draws, and the
shortfall it no longer causes is its contribution. Contributions are scaled to add up to the shortfall itself
(interactions between shocks make the raw differences add up to more or less)."""

from __future__ import annotations

import numpy as np

from oresight.simulate.engine import run
from oresight.simulate.result import CommodityRun

__all__ = ["attribute"]


def _weights(baseline, importer: int) -> np.ndarray:
    """Per stage, what a tonne of shortfall counts in the importer's headline unit (see ``result._headline``)."""
    demand = baseline.final_demand[:, baseline.index(baseline.importers[importer])]
    if np.count_nonzero(demand > 0) == 1:
        return (demand > 0).astype(float)
    return baseline.content


def _cumulative(run_raw, baseline, importer: int) -> float:
    """Mean over samples of an importer's shortfall summed over months and stages, in its headline unit."""
    weights = _weights(baseline, importer)[:, None, None]
    return float((run_raw.shortfall[:, importer] * weights).sum(axis=(0, 1)).mean())


def attribute(runs: list[CommodityRun]) -> dict[str, list[dict]]:
    """Per importer, the shocks behind its shortfall: shock index, label, stage, node, tonnes and share."""
    causes: dict[str, list[dict]] = {}
    for commodity_run in runs:
        b, draws = commodity_run.baseline, commodity_run.draws
        totals = [_cumulative(commodity_run.raw, b, i) for i in range(len(b.importers))]
        without = [run(b, draws, disabled=frozenset({p})) for p in range(len(draws.pieces))]
        for i, importer in enumerate(b.importers):
            raw_effect = np.array([max(totals[i] - _cumulative(w, b, i), 0.0) for w in without])
            if totals[i] <= 0 or raw_effect.sum() <= 0:
                continue
            shares = raw_effect / raw_effect.sum()
            entries = causes.setdefault(importer, [])
            for piece, share in zip(draws.pieces, shares, strict=True):
                if share <= 0:
                    continue
                entries.append(
                    {
                        "commodity": b.commodity,
                        "shock": piece.shock,
                        "kind": piece.kind,
                        "label": piece.label,
                        "stage": b.stages[piece.stage],
                        "country": b.nodes[piece.node] if piece.node >= 0 else "all",
                        "share": round(float(share), 6),
                        "mean_shortfall_t": round(float(share * totals[i]), 6),
                    }
                )
    for entries in causes.values():
        entries.sort(key=lambda e: -e["mean_shortfall_t"])
    return causes
