"""The sweep's one contact with the simulator: scenarios as the simulator reads them, a baseline calibrated once
per commodity, the engine run per scenario on it, and each importer's headline shortfall.

Everything here calls public pieces of :mod:`oresight.simulate` (``parse_scenario``, ``calibrated``,
``make_draws``, the engine's ``run``, ``percentiles``), so that a change in the simulator is adapted in this module
alone. A sweep's scenario gives the same numbers as ``oresight simulate`` of that scenario (a test checks it): the
baseline is the one ``simulate`` calibrates (rare earths by element where the element facts allow it), and the
headline follows its summary for the sweep's commodity (cumulative shortfall over the horizon against demand at
normal prices, in the unit of the one stage where an importer has demand, or in content of the chain's first
stage where it has demand at several; value at risk as the shortfall at each stage's normal price).
"""

from __future__ import annotations

import math

import numpy as np

from oresight.errors import OresightError
from oresight.simulate import Baseline, calibrated, parse_scenario
from oresight.simulate.draws import make_draws
from oresight.simulate.engine import run
from oresight.simulate.result import percentiles
from oresight.sweep.grid import Disruption
from oresight.sweep.spec import Sweep, SweepError
from oresight.world import World

__all__ = ["calc_headline", "calibrate_chain", "check_responses", "responses_for", "run_disruptions", "scenario_of"]

#: responses that name one commodity and those that may name none (then they apply to every commodity)
_ONE_COMMODITY = ("stockpiles", "recycling", "new_capacity")
_ANY_COMMODITY = ("rerouting", "substitution", "demand_destruction")
_NOT_MODELLED = "no demand data for this importer"


def _response_commodity(world: World, spec, path: str) -> str | None:
    if spec.commodity is None:
        return None
    try:
        return world.resolve(spec.commodity)[0]
    except OresightError as exc:
        raise SweepError(str(exc), field=f"{path}.commodity") from None


def check_responses(sweep: Sweep, world: World) -> None:
    """Every commodity a response names is known (errors name the field)."""
    for kind in (*_ONE_COMMODITY, *_ANY_COMMODITY):
        for index, spec in enumerate(getattr(sweep.responses, kind)):
            _response_commodity(world, spec, f"responses.{kind}[{index}]")


def responses_for(sweep: Sweep, world: World, commodity: str) -> dict:
    """The sweep's responses that concern one commodity, as a scenario's ``responses`` mapping."""
    responses = sweep.responses.model_dump(mode="json", exclude_none=True)
    for kind in (*_ONE_COMMODITY, *_ANY_COMMODITY):
        specs = getattr(sweep.responses, kind)
        responses[kind] = [
            dumped
            for index, (spec, dumped) in enumerate(zip(specs, responses[kind], strict=True))
            if _response_commodity(world, spec, f"responses.{kind}[{index}]") in (commodity, None)
            and (spec.commodity is not None or kind in _ANY_COMMODITY)
        ]
    return responses


def scenario_of(sweep: Sweep, disruption: Disruption, responses: dict) -> dict:
    """The scenario mapping of one disruption, as a scenario file would give it."""
    d = disruption
    shock = {
        "kind": d.kind,
        "commodity": d.commodity,
        "stages": [d.stage],
        "start_month": d.start_month,
        "duration_months": d.duration_months,
        "ease_months": d.ease_months,
    }
    if d.kind == "export_restriction":
        shock.update(exporter=d.exporter, blocked=d.severity, targets=d.targets if d.targets == "all" else [*d.targets])
    else:
        shock.update(country=d.exporter, lost=d.severity)
    scenario = {
        "name": f"{sweep.name}-{d.id}",
        "description": f"{d.kind.replace('_', ' ')}: {d.exporter} {d.commodity} {d.stage}, "
        f"{d.severity:g} for {d.duration_months:g} months",
        "horizon_months": sweep.horizon_months,
        "seed": d.seed,
        "samples": sweep.samples,
        "importers": list(sweep.importers),
        "shocks": [shock],
        "responses": responses,
        "price": sweep.price.model_dump(mode="json"),
    }
    if sweep.base_year is not None:
        scenario["base_year"] = sweep.base_year
    return scenario


def calibrate_chain(
    world: World, commodity: str, importers: list[str], year: int | None, nodes: tuple[str, ...]
) -> Baseline | str:
    """The commodity's baseline for the importers, or why it cannot be calibrated (a sentence for the notes)."""
    try:
        return calibrated(world, commodity, [world.tax.importer(n) for n in importers], year, extra_nodes=nodes)
    except OresightError as exc:
        return f"{commodity}: no baseline ({exc})"


# -- headlines ------------------------------------------------------------------------------------------------------
def calc_headline(shortfall: np.ndarray, demand: np.ndarray, content: np.ndarray) -> tuple:
    """One importer's cumulative shortfall and demand over the horizon [S] and the stage it is counted at (an
    index, or None for content of the first stage), from its shortfall and demand at normal prices [K, H, S] at
    the stages where it has demand and the content of the first stage's product per tonne of each stage's [K].
    Summed in single precision over months, as the simulator's result stores them.

    >>> short = np.zeros((1, 3, 2)); short[0, :, 1] = 1.0
    >>> total, need, at = calc_headline(short, np.full((1, 3, 2), 4.0), np.array([0.5]))
    >>> total.tolist(), need.tolist(), at
    ([0.0, 3.0], [12.0, 12.0], 0)
    """
    short = np.nan_to_num(shortfall.astype(np.float32)).sum(axis=1)  # [K, S]
    need = np.nan_to_num(demand.astype(np.float32)).sum(axis=1)
    if len(short) == 1:
        return short[0], need[0], 0
    return content @ short, content @ need, None


def _figures(prefix: str, values: np.ndarray | None) -> dict[str, float]:
    """P5, P50, P95 and mean of a quantity over samples (NaN where not attested)."""
    if values is None:
        return {f"{prefix}_{key}": math.nan for key in ("p5", "p50", "p95", "mean")}
    found = {f"{prefix}_{k}": (math.nan if v is None else v) for k, v in percentiles(values).items()}
    found[f"{prefix}_mean"] = float(values.mean())
    return found


def _importer_rows(baseline: Baseline, raw, importers: list[str]) -> list[dict]:
    """Rows of the sweep's commodity (in a chain by element, the stages of the commodity itself) for every
    importer asked for: those the baseline does not model (no demand data) are not modelled, never 0."""
    own = [k for k, m in enumerate(baseline.materials) if m == baseline.commodity]
    found = []
    for importer in importers:
        row = {"importer": importer}
        if importer not in baseline.importers:
            found.append({**row, **_not_modelled(_NOT_MODELLED)})
            continue
        i = baseline.importers.index(importer)
        ks = [k for k in own if baseline.final_demand[k, baseline.index(importer)] > 0]
        if not ks:
            found.append({**row, **_not_modelled(_NOT_MODELLED)})
            continue
        totals, needs, at = calc_headline(raw.shortfall[ks, i], raw.demand[ks, i], baseline.content[ks])
        k = ks[at] if at is not None else None
        row.update(
            modelled=True,
            unit=baseline.units[k] if k is not None else "t",
            basis=baseline.bases[k] if k is not None else f"{baseline.bases[own[0]]} equivalent",
            demand_t=float(np.median(needs)),
            note="",
        )
        row.update(_figures("shortfall_t", totals))
        row.update(_figures("shortfall_share", totals / needs))
        row.update(_figures("value_at_risk_usd", _value_at_risk(baseline, raw, ks, i)))
        found.append(row)
    return found


def _value_at_risk(baseline: Baseline, raw, ks: list[int], i: int) -> np.ndarray | None:
    """USD [sample] of the shortfall at the stages' normal prices; None (not attested) where one has no price."""
    prices = baseline.price[ks]
    if not np.isfinite(prices).all():
        return None
    short = np.nan_to_num(raw.shortfall[ks, i].astype(np.float32)).sum(axis=1)  # [K, S]
    return prices @ short


def _not_modelled(note: str) -> dict:
    return {
        "modelled": False,
        "unit": "",
        "basis": "",
        "demand_t": math.nan,
        "note": note,
        **_figures("shortfall_t", None),
        **_figures("shortfall_share", None),
        **_figures("value_at_risk_usd", None),
    }


def run_disruptions(
    world: World, baseline: Baseline | str, sweep: Sweep, disruptions: tuple[Disruption, ...]
) -> list[dict]:
    """Result rows (one per disruption × importer) of disruptions of one commodity on its baseline; a baseline
    that could not be calibrated, or on which no importer has demand, gives rows that say why."""
    importers = [world.tax.importer(name).label for name in sweep.importers]
    settings = {"samples": sweep.samples, "horizon_months": sweep.horizon_months}
    if isinstance(baseline, str):
        unmodelled = baseline
    elif not baseline.importers or not np.any(
        baseline.final_demand[:, [baseline.index(i) for i in baseline.importers]] > 0
    ):
        unmodelled = _NOT_MODELLED  # nothing to compute
    else:
        unmodelled, responses = None, responses_for(sweep, world, baseline.commodity)
    found = []
    for d in disruptions:
        rows, note = ([], unmodelled) if unmodelled else _simulated(world, baseline, sweep, d, responses, importers)
        if note is not None:
            rows = [{"importer": imp, **_not_modelled(note)} for imp in importers]
        found.extend({**d.grid_values(), **settings, "seed": d.seed, **row} for row in rows)
    return found


def _simulated(world: World, baseline: Baseline, sweep: Sweep, d: Disruption, responses: dict, importers: list[str]):
    """The importer rows of one disruption run on the baseline, or why it could not run."""
    try:
        scenario = parse_scenario(scenario_of(sweep, d, responses), f"sweep {sweep.name}, scenario {d.id}")
        raw = run(baseline, make_draws(scenario, baseline, world.tax, [0]))
    except OresightError as exc:
        return [], str(exc)
    return _importer_rows(baseline, raw, importers), None
