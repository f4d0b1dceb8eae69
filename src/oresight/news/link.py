"""Events to scenarios: an export control, its suspension or an outage is linked to the library scenario that
models it — the same commodity, the same acting country and an event date near the scenario's event ("models
this event"), or else the nearest such scenario ("models a similar measure"); a suspension, to the latest such
measure before it ("suspends the measure this scenario models") — with the parameters the reports state filled
in: the acting country, the commodities and elements, the targets and the effective date.
"""

from __future__ import annotations

from collections import Counter
from datetime import date

from oresight.news.extract import Extraction
from oresight.news.lexicon import Lexicon

__all__ = ["LINKED_TYPES", "SAME_EVENT_DAYS", "consensus", "link_event"]

LINKED_TYPES = ("export_control", "export_control_suspension", "disruption_outage")
#: an event this many days or fewer from a scenario's event is the event the scenario models
SAME_EVENT_DAYS = 21


def consensus(members: list[Extraction], attribute: str) -> list[str]:
    """Names at least a third of an event's reports give (one report's stray mention is not the event's)."""
    counts = Counter(name for m in members for name in set(getattr(m, attribute)))
    return sorted(name for name, n in counts.items() if n >= max(1, len(members) / 3))


def _library() -> list:
    from oresight.simulate.scenario import library_names, load_scenario

    return [load_scenario(name) for name in library_names()]


def _parameters(members: list[Extraction], lexicon: Lexicon) -> dict:
    commodities = consensus(members, "commodities")
    countries = Counter(c for m in members for c in m.countries if c in consensus(members, "countries"))
    ranked = sorted(countries.items(), key=lambda item: (-item[1], item[0] != "CHN", item[0]))
    actor = ranked[0][0] if ranked else None
    effective = Counter(m.effective_date for m in members if m.effective_date)
    elements = [
        c
        for c in commodities
        if lexicon.family(c) == "rare-earths"
        and c
        not in ("rare earths", "heavy rare earths", "light rare earths", "rare earth magnets", "rare earth technology")
    ]
    return {
        "country": actor,
        "commodities": sorted({lexicon.commodities.get(c, {}).get("taxonomy") or c for c in commodities}),
        "elements": elements,
        "targets": sorted(c for c in countries if c != actor),
        "effective_date": effective.most_common(1)[0][0] if effective else None,
    }


#: the shocks that model each linked event type
_SHOCK_KINDS = {
    "export_control": ("export_restriction",),
    "export_control_suspension": ("export_restriction",),
    "disruption_outage": ("production_outage", "export_restriction"),
}


def _support(scenario, kind: str, reports: list[set[str]], actor: str | None, lexicon: Lexicon) -> int:
    """How many of the event's reports name a commodity that the scenario's shocks of the right kind by the same
    country concern."""
    concerned = {
        lexicon.family(_name_of(shock.commodity, lexicon))
        for shock in scenario.shocks
        if shock.kind in _SHOCK_KINDS[kind]
        and (
            actor is None or (getattr(shock, "exporter", None) or getattr(shock, "country", None)) in (actor, "largest")
        )
    }
    return sum(1 for families in reports if families & concerned)


def _name_of(taxonomy_id: str, lexicon: Lexicon) -> str:
    """The news name of a taxonomy commodity ("rare-earths" -> "rare earths")."""
    return next((n for n, spec in lexicon.commodities.items() if spec.get("taxonomy") == taxonomy_id), taxonomy_id)


def link_event(kind: str, event_date: str | None, members: list[Extraction], lexicon: Lexicon) -> dict | None:
    """The scenario link of one event, or None for event types that no scenario models."""
    if kind not in LINKED_TYPES:
        return None
    parameters = _parameters(members, lexicon)
    reports = [{lexicon.family(c) for c in m.commodities} for m in members]
    day = date.fromisoformat(event_date) if event_date else None
    candidates = []
    for scenario in _library():
        support = _support(scenario, kind, reports, parameters["country"], lexicon) if scenario.event else 0
        if not support:
            continue
        distance = (day - scenario.event.date).days if day else 10**6
        if kind == "export_control_suspension" and distance < 0:
            continue  # a suspension ends a measure taken before it
        candidates.append((-support, abs(distance), scenario.name))
    if not candidates:
        return {
            "scenario": None,
            "match": "no library scenario models this commodity and country",
            "parameters": parameters,
        }
    _, distance, name = min(candidates)
    if kind == "export_control_suspension":
        match = "suspends the measure this scenario models"
    else:
        match = "models this event" if distance <= SAME_EVENT_DAYS else "models a similar measure"
    return {"scenario": name, "match": match, "parameters": parameters}
