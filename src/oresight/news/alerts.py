"""Alerts with impact: a rules file says which new events matter (event types, commodities, countries) and for
which importers; for each new event that matches a rule, the library scenario linked to the event is run with
parameters from the event (its commodities select the scenario's shocks, its targets the restricted importers
where the scenario names some), and the impact — P50 and P95 shortfall and, where the simulator gives it, value
at risk per importer — is stored on the event and appended to a JSON Lines log.

A rules file (YAML, parsed with :func:`oresight.io.text.parse_yaml`)::

    rules:
      - name: rare earths from China
        types: [export_control, export_control_suspension]
        commodities: [Seltene Erden, gallium]      # any taxonomy name; a group matches its members
        countries: [China]                         # the event names one of them
        importers: [US, Japan]                     # whose impact is computed (default: the scenario's)
        samples: 300
    log: alerts.jsonl                              # relative to the rules file (default: alerts.jsonl beside it)

An empty list (or an absent key) matches anything.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from oresight.errors import InputError, OresightError

__all__ = ["AlertError", "AlertRule", "AlertRules", "impact_of", "load_rules", "matches", "run_alerts"]


class AlertError(InputError):
    """A rules file that cannot be read."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class AlertRule(_Model):
    name: str = Field(min_length=1)
    types: list[str] = []
    commodities: list[str] = []
    countries: list[str] = []
    importers: list[str] = []
    samples: int = Field(300, ge=10, le=20_000)


class AlertRules(_Model):
    rules: list[AlertRule] = Field(min_length=1)
    log: str = "alerts.jsonl"
    #: set by :func:`load_rules`: where the log is written
    path: Path | None = None


def _resolved(rules: AlertRules, origin: str) -> AlertRules:
    """Names resolved through the taxonomy (English, German, aliases), event types checked."""
    from oresight.news.lexicon import load_lexicon
    from oresight.taxonomy import load_taxonomy

    tax, types = load_taxonomy(), load_lexicon().event_types
    resolvers = {
        "commodities": lambda name: [tax.commodity(name).id],
        "countries": lambda name: [tax.country(name)],
        "importers": lambda name: list(tax.importer(name).members),
    }
    out = []
    for index, rule in enumerate(rules.rules):
        for kind in rule.types:
            if kind not in types:
                raise AlertError(
                    f"unknown event type {kind!r}",
                    path=origin,
                    field=f"rules[{index}].types",
                    expected=", ".join(types),
                )
        update = {}
        for key, resolve in resolvers.items():
            try:
                update[key] = list(dict.fromkeys(x for name in getattr(rule, key) for x in resolve(name)))
            except OresightError as exc:
                raise AlertError(str(exc), path=origin, field=f"rules[{index}].{key}") from None
        out.append(rule.model_copy(update=update))
    return rules.model_copy(update={"rules": out})


def load_rules(path: str | Path) -> AlertRules:
    """The rules of a YAML file; :class:`AlertError` names the file, line or field that is wrong."""
    from oresight.io.text import parse_yaml, read_text

    path = Path(path)
    data = parse_yaml(read_text(path), str(path), AlertError)
    if not isinstance(data, dict):
        raise AlertError("expected a mapping with a list of rules", path=path, field="rules")
    try:
        rules = AlertRules.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        raise AlertError(first["msg"], path=path, field=field) from None
    rules = _resolved(rules, str(path))
    return rules.model_copy(update={"path": path.parent / rules.log})


def _taxonomy_ids(commodities: list[str]) -> set[str]:
    """The taxonomy commodities an event's names stand for, with the groups they belong to."""
    from oresight.news.lexicon import load_lexicon
    from oresight.taxonomy import load_taxonomy

    lexicon, tax = load_lexicon(), load_taxonomy()
    found = set()
    for name in commodities:
        cid = (lexicon.commodities.get(name) or {}).get("taxonomy") or name.replace(" ", "-")
        while cid and cid not in found:
            found.add(cid)
            known = tax.commodities.get(cid)
            cid = known.parent if known is not None else None
    return found


def matches(rule: AlertRule, event: dict) -> bool:
    """Whether an event (as :func:`oresight.news.store.events` gives it) is what the rule asks for."""
    if rule.types and event["type"] not in rule.types:
        return False
    if rule.countries and not set(rule.countries) & set(event["countries"]):
        return False
    return not rule.commodities or bool(set(rule.commodities) & _taxonomy_ids(event["commodities"]))


def _scenario_for(event: dict):
    """The linked library scenario with the event's parameters: only the shocks of commodities the event names
    (all, if it names none of them), and the event's targets where a shock restricts named importers."""
    from oresight.simulate.scenario import load_scenario

    link = event.get("scenario") or {}
    scenario = load_scenario(link["scenario"])
    parameters = link.get("parameters") or {}
    named = _taxonomy_ids(event["commodities"]) | set(parameters.get("commodities") or [])
    shocks = [s for s in scenario.shocks if s.commodity in named] or list(scenario.shocks)
    targets = parameters.get("targets") or []
    applied: dict = {"shocks": [s.commodity for s in shocks]}
    if targets:
        shocks = [
            s.model_copy(update={"targets": targets}) if isinstance(getattr(s, "targets", None), list) else s
            for s in shocks
        ]
        applied["targets"] = targets if any(isinstance(getattr(s, "targets", None), list) for s in shocks) else None
    responses = scenario.responses
    kept = {s.commodity for s in shocks}
    responses = responses.model_copy(
        update={
            kind: [r for r in getattr(responses, kind) if r.commodity in kept]
            for kind in ("stockpiles", "recycling", "new_capacity")
        }
    )
    return scenario.model_copy(update={"shocks": shocks, "responses": responses}), applied


def impact_of(event: dict, rule: AlertRule, world=None) -> dict | None:
    """The impact of an event: its linked scenario run for the rule's importers; None if no scenario models the
    event; an ``error`` entry if the run is not possible (an importer the data cannot model)."""
    from oresight.simulate import simulate

    link = event.get("scenario") or {}
    if not link.get("scenario"):
        return None
    scenario, applied = _scenario_for(event)
    try:
        sim = simulate(scenario, world, importers=rule.importers or None, samples=rule.samples)
    except OresightError as exc:
        return {"scenario": link["scenario"], "error": str(exc), "rule": rule.name}
    summary = sim.summary()
    importers = {code: _importer_impact(entry, rule.commodities) for code, entry in summary["importers"].items()}
    return {
        "scenario": link["scenario"],
        "match": link.get("match"),
        "rule": rule.name,
        "samples": rule.samples,
        "parameters": applied,
        "importers": importers,
        "computed_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def _importer_impact(entry: dict, wanted: list[str]) -> dict:
    """One importer's impact: shortfall (P50, P95) and value at risk of its one modelled commodity, or of the one
    the rule asks about; tonnes of different commodities are never added, so with several and no choice each
    commodity is given on its own."""
    if entry.get("modelled") is False:
        return {"modelled": False}
    if "shortfall_t" in entry:
        return _figures(entry)
    modelled = {c: v for c, v in (entry.get("commodities") or {}).items() if v.get("modelled", True)}
    asked = [c for c in modelled if c in wanted]
    if len(asked) == 1 or len(modelled) == 1:
        commodity = asked[0] if len(asked) == 1 else next(iter(modelled))
        return {"commodity": commodity, **_figures(modelled[commodity])}
    return {"commodities": {c: _figures(v) for c, v in modelled.items()}} if modelled else {"modelled": False}


def _figures(entry: dict) -> dict:
    out = {"shortfall_t": {k: entry["shortfall_t"][k] for k in ("p50", "p95")}}
    if "shortfall_share" in entry:
        out["shortfall_share"] = {k: entry["shortfall_share"][k] for k in ("p50", "p95")}
    if entry.get("value_at_risk_usd") is not None:
        out["value_at_risk_usd"] = entry["value_at_risk_usd"]
    return out


def run_alerts(rules: AlertRules, event_ids: list[str], store=None, *, world=None) -> list[dict]:
    """Alerts for the given (new or changed) events that have no impact yet: each matching event's impact,
    stored on it and appended to the rules' JSON Lines log; returns the alerts. The store is opened to read the
    events and again to write the impacts, never while a scenario runs."""
    from oresight.news.store import events, open_store, set_impact

    if not event_ids:
        return []
    with open_store(store, read_only=True) as opened:
        found = events(opened, event_ids=event_ids) if opened is not None else []
    alerts = []
    for event in found:
        rule = next((r for r in rules.rules if matches(r, event)), None)
        if rule is None or event.get("impact") is not None:
            continue  # an event alerted on before is not alerted on again when a further report joins it
        if world is None and (event.get("scenario") or {}).get("scenario"):
            from oresight.world import load

            world = load()
        impact = impact_of(event, rule, world)
        alerts.append(
            {
                "alert": rule.name,
                "event": event["event"],
                "type": event["type"],
                "event_date": event["event_date"],
                "title": event["title"],
                "commodities": event["commodities"],
                "countries": event["countries"],
                "articles": [a["id"] for a in event["articles"]],
                "impact": impact,
            }
        )
    if alerts:
        with open_store(store) as opened:
            for alert in alerts:
                if alert["impact"] is not None:
                    set_impact(opened, alert["event"], alert["impact"])
        if rules.path is not None:
            with rules.path.open("a", encoding="utf-8") as log:
                for alert in alerts:
                    log.write(json.dumps(alert, ensure_ascii=False, allow_nan=False) + "\n")
    return alerts
