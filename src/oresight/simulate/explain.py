"""Why an importer runs short: each shock at each stage is switched off in turn, with the same draws, and the
shortfall it no longer causes is its contribution. Contributions are scaled to add up to the shortfall itself
(interactions between shocks make the raw differences add up to more or less).

Each switched-off run costs a run of the engine, so the pieces are grouped when there are many: a shock's
pieces at all its stages together when the pieces are more than :data:`MAX_GROUPS`, and shocks of the same kind
by the same country together when even the shocks are more (then by kind alone). At most :data:`MAX_GROUPS`
extra runs are made per commodity."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from oresight.simulate.engine import run
from oresight.simulate.result import CommodityRun

__all__ = ["MAX_GROUPS", "attribute", "groups"]

#: most runs of the engine the attribution makes per commodity
MAX_GROUPS = 16


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


def groups(commodity_run: CommodityRun, most: int = MAX_GROUPS) -> list[list[int]]:
    """The pieces switched off together: each alone, else a shock's pieces together, else shocks of one kind
    by one country together, else shocks of one kind."""
    pieces = commodity_run.draws.pieces
    keys = (
        lambda i: i,
        lambda i: pieces[i].shock,
        lambda i: (pieces[i].kind, pieces[i].node),
        lambda i: pieces[i].kind,
    )
    for key in keys:
        grouped: dict = {}
        for i in range(len(pieces)):
            grouped.setdefault(key(i), []).append(i)
        if len(grouped) <= most:
            break
    return list(grouped.values())


def _label(commodity_run: CommodityRun, members: list[int]) -> dict:
    b, pieces = commodity_run.baseline, commodity_run.draws.pieces
    first = pieces[members[0]]
    same = {(pieces[i].shock, pieces[i].stage) for i in members}
    stages = list(dict.fromkeys(b.label(pieces[i].stage) for i in members))
    country = {pieces[i].node for i in members}
    return {
        "commodity": b.commodity,
        "shock": first.shock if len({s for s, _ in same}) == 1 else None,
        "kind": first.kind,
        "label": first.label if len(same) == 1 else f"{first.label.rsplit(' ', 1)[0]} ({', '.join(stages)})",
        "stage": stages[0] if len(stages) == 1 else ", ".join(stages),
        "country": (b.nodes[first.node] if first.node >= 0 else "all") if len(country) == 1 else "several",
    }


def attribute(runs: list[CommodityRun], progress: Callable[[int], None] | None = None) -> dict[str, list[dict]]:
    """Per importer, the shocks behind its shortfall: shock index, label, stage, node, tonnes and share."""
    causes: dict[str, list[dict]] = {}
    for commodity_run in runs:
        b, draws = commodity_run.baseline, commodity_run.draws
        totals = [_cumulative(commodity_run.raw, b, i) for i in range(len(b.importers))]
        grouped = groups(commodity_run)
        without = [run(b, draws, disabled=frozenset(g)) for g in grouped]
        if progress is not None:
            progress(draws.horizon)
        for i, importer in enumerate(b.importers):
            raw_effect = np.array([max(totals[i] - _cumulative(w, b, i), 0.0) for w in without])
            if totals[i] <= 0 or raw_effect.sum() <= 0:
                continue
            shares = raw_effect / raw_effect.sum()
            entries = causes.setdefault(importer, [])
            for members, share in zip(grouped, shares, strict=True):
                if share <= 0:
                    continue
                entries.append(
                    {
                        **_label(commodity_run, members),
                        "share": round(float(share), 6),
                        "mean_shortfall_t": round(float(share * totals[i]), 6),
                    }
                )
    for entries in causes.values():
        entries.sort(key=lambda e: -e["mean_shortfall_t"])
    return causes
