"""Two responses compared on the same draws: a scenario and a variant of it (``variants:`` in the file, or
``oresight simulate A --compare B``) run with the same seed and samples, so that every uncertain number they
share takes the same value in each sample (common random numbers, :mod:`.distributions`). The difference is
taken sample by sample, and its interval is that of the paired differences — much narrower than the two
runs' intervals side by side.

For each importer and commodity: the shortfall of both, the tonnes the variant avoids (A − B; negative where it
makes things worse), the value at risk avoided, and the cost per tonne avoided where responses carry
``cost_usd``: the extra cost of the variant's responses for that commodity ÷ the tonnes avoided, over the
samples where tonnes are avoided (an importer's share of a joint response is not split out: the figure is per
importer's tonnes).
"""

from __future__ import annotations

import numpy as np

from oresight.simulate.distributions import draw
from oresight.simulate.result import _headline, _value_at_risk, percentiles
from oresight.simulate.scenario import Scenario

__all__ = ["compare", "response_cost"]


def response_cost(scenario: Scenario, commodity: str | None = None) -> np.ndarray:
    """Total ``cost_usd`` of the scenario's responses [sample] (0 where none carries a cost), of those
    concerning one commodity id if given."""
    from oresight.taxonomy import load_taxonomy

    tax = load_taxonomy()
    total = np.zeros(scenario.samples)
    responses = scenario.responses
    for kind in ("stockpiles", "recycling", "new_capacity"):
        for index, spec in enumerate(getattr(responses, kind)):
            concerns = commodity is None or tax.commodity(spec.commodity).id == commodity
            if spec.cost_usd is not None and concerns:
                path = f"responses.{kind}[{index}].cost_usd"
                total += draw(spec.cost_usd, scenario.samples, seed=scenario.seed, path=path)
    return total


def compare(base, other) -> dict:
    """The paired comparison of two simulations (see the module doc); both must have the same samples."""
    a, b = base.dataset, other.dataset
    if a.sizes["sample"] != b.sizes["sample"] or a.attrs.get("seed") != b.attrs.get("seed"):
        raise ValueError("compare runs with the same seed and samples")
    extra_cost = response_cost(other.scenario) - response_cost(base.scenario)
    importers: dict = {}
    for commodity in a.commodity.values:
        if commodity not in b.commodity.values:
            continue
        cost = response_cost(other.scenario, str(commodity)) - response_cost(base.scenario, str(commodity))
        for importer in a.importer.values:
            if importer not in b.importer.values:
                continue
            entry = _pair(a, b, commodity, importer, cost)
            if entry is not None:
                importers.setdefault(str(importer), {})[str(commodity)] = entry
    return {
        "scenario": a.attrs.get("scenario"),
        "variant": b.attrs.get("scenario"),
        "samples": a.sizes["sample"],
        "extra_cost_usd": percentiles(extra_cost) if extra_cost.any() else None,
        "importers": importers,
    }


def _pair(a, b, commodity, importer, extra_cost) -> dict | None:
    short_a, demand, unit, _, stages_a = _headline(a, commodity, importer)
    short_b, _, _, _, stages_b = _headline(b, commodity, importer)
    if not stages_a or stages_a != stages_b or float(demand.max()) <= 0:
        return None
    avoided = short_a.values - short_b.values
    entry = {
        "unit": unit,
        "shortfall_t": percentiles(short_a.values),
        "variant_shortfall_t": percentiles(short_b.values),
        "avoided_t": percentiles(avoided),
        "share_of_samples_better": round(float((avoided > 1e-9).mean()), 6),
        "share_of_samples_worse": round(float((avoided < -1e-9).mean()), 6),
    }
    value_a, value_b = _value_at_risk(a, commodity, importer), _value_at_risk(b, commodity, importer)
    entry["value_at_risk_avoided_usd"] = (
        percentiles(value_a - value_b) if value_a is not None and value_b is not None else None
    )
    helped = avoided > 1e-9
    if extra_cost.any() and helped.any():
        entry["cost_per_tonne_avoided_usd"] = percentiles(extra_cost[helped] / avoided[helped])
    return entry
