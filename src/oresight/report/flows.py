"""The flows a chart shows, as tables: who supplies whom at each stage of a calibrated baseline, and the
concentration matrix of commodities × stages."""

from __future__ import annotations

import numpy as np
import pandas as pd

from oresight.simulate.baseline import MONTHS, Baseline

__all__ = ["calc_chain_links", "concentration_matrix"]

#: links below this share of the largest stage's volume are merged away: they would be invisible in a Sankey
MIN_LINK_SHARE = 0.002

END_USE = "end use"


def calc_chain_links(baseline: Baseline, min_share: float = MIN_LINK_SHARE) -> pd.DataFrame:
    """One row per flow of a baseline, in tonnes per year of the chain's first-stage product (content), so that
    stages in different units can share one Sankey. A flow goes from a producer at one stage to the consumer's
    next stage (the consumer's intermediate use) or to the consumer's end use (its final demand).

    Columns: source_node, source_stage, target_node, target_stage, tonnes (in the stage's own unit), content_t.
    Mass balance: per stage, the flows out of a stage add up to its production.
    """
    producer_to_consumer = baseline.imports.copy()  # [K, consumer, producer]
    stages = np.arange(len(baseline.stages))
    nodes = np.arange(len(baseline.nodes))
    producer_to_consumer[:, nodes, nodes] += baseline.own
    use = baseline.use
    with np.errstate(divide="ignore", invalid="ignore"):
        onward = np.where(use > 0, baseline.intermediate / use, 0.0)  # [K, consumer]
    rows = []
    for k in stages:
        last = k == len(stages) - 1
        for c, p in zip(*np.nonzero(producer_to_consumer[k]), strict=True):
            tonnes = producer_to_consumer[k, c, p] * MONTHS
            parts = [(END_USE, tonnes * (1 - onward[k, c]))]
            if not last:
                parts.append((baseline.stages[k + 1], tonnes * onward[k, c]))
            for target_stage, amount in parts:
                rows.append((baseline.nodes[p], baseline.stages[k], baseline.nodes[c], target_stage, amount))
    links = pd.DataFrame(rows, columns=["source_node", "source_stage", "target_node", "target_stage", "tonnes"])
    links["content_t"] = links["tonnes"] * baseline.content[links["source_stage"].map(baseline.stage_index)]
    return links[links["content_t"] > min_share * links["content_t"].max()].reset_index(drop=True)


def concentration_matrix(table: pd.DataFrame, value: str = "hhi", limit: int | None = None) -> pd.DataFrame:
    """A commodity × stage matrix of one column of an assessment table (NaN where a stage has no data),
    commodities ordered by their highest value (the first ``limit`` of them), stages in chain order."""
    matrix = table.pivot_table(index="commodity", columns="stage", values=value, aggfunc="first")
    matrix = matrix.reindex(columns=_chain_order(list(matrix.columns)))
    return matrix.loc[matrix.max(axis=1).sort_values(ascending=False).index[:limit]]


def _chain_order(stages: list[str]) -> list[str]:
    from oresight.taxonomy import load_taxonomy

    known = list(load_taxonomy().stages)
    return sorted(stages, key=lambda s: known.index(s) if s in known else len(known))
