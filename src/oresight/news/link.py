"""Events to scenarios: an export control, its suspension or an outage is linked to the library scenario that
models it — the same commodity, the same acting country and an event date near the scenario's event ("models
this event"), or else the nearest such scenario ("models a similar measure"); a suspension, to the latest such
measure before it ("suspends the measure this scenario models") — with the parameters the reports state filled
in: the acting country, the commodities and elements, the targets and the effective date.
"""

from __future__ import annotations

import functools
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


@functools.cache
def _library() -> tuple:
    """The library scenarios, parsed once per process (linking many events must not re-read them each time)."""
    from oresight.simulate.scenario import library_names, load_scenario

    return tuple(load_scenario(name) for name in library_names())


def _parameters(members: list[Extraction], lexicon: Lexicon, kind: str) -> dict:
    commodities = consensus(members, "commodities")
    named = set(consensus(members, "countries"))
    countries = Counter(c for m in members for c in m.countries if c in named)
    # China acts in most export controls that reports name beside their targets; an outage happens where the
    # mines are, and China is named there as the buyer
    prefer = "CHN" if kind != "disruption_outage" else None
    ranked = sorted(countries.items(), key=lambda item: (-item[1], item[0] != prefer, item[0]))
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


def _support(scenario, kind: str, reports: list[set[str]], actors: set[str], lexicon: Lexicon) -> tuple[int, int]:
    """How many of the event's reports name a commodity that the scenario's shocks of the right kind by one of
    the acting countries concern, and the rank of the best such shock's kind (an outage is modelled by a
    production outage before an export restriction)."""
    support, rank = 0, len(_SHOCK_KINDS[kind])
    for shock in scenario.shocks:
        where = getattr(shock, "exporter", None) or getattr(shock, "country", None)
        if shock.kind not in _SHOCK_KINDS[kind] or not (not actors or where in actors or where == "largest"):
            continue
        family = lexicon.family(_name_of(shock.commodity, lexicon))
        found = sum(1 for families in reports if family in families)
        if found:
            support = max(support, found)
            rank = min(rank, _SHOCK_KINDS[kind].index(shock.kind))
    return support, rank


def _name_of(taxonomy_id: str, lexicon: Lexicon) -> str:
    """The news name of a taxonomy commodity ("rare-earths" -> "rare earths")."""
    return next((n for n, spec in lexicon.commodities.items() if spec.get("taxonomy") == taxonomy_id), taxonomy_id)


def link_event(kind: str, event_date: str | None, members: list[Extraction], lexicon: Lexicon) -> dict | None:
    """The scenario link of one event, or None for event types that no scenario models."""
    if kind not in LINKED_TYPES:
        return None
    parameters = _parameters(members, lexicon, kind)
    reports = [{lexicon.family(c) for c in m.commodities} for m in members]
    day = date.fromisoformat(event_date) if event_date else None
    # an outage may be modelled where any named country is (the mines' country, not only the most named one)
    actors = set(consensus(members, "countries")) if kind == "disruption_outage" else {parameters["country"]} - {None}
    candidates = []
    for scenario in _library():
        support, rank = _support(scenario, kind, reports, actors, lexicon) if scenario.event else (0, 0)
        if not support:
            continue
        distance = (day - scenario.event.date).days if day else 10**6
        if kind == "export_control_suspension" and distance < 0:
            continue  # a suspension ends a measure taken before it
        candidates.append((-support, rank, abs(distance), scenario.name))
    if not candidates:
        return {
            "scenario": None,
            "match": "no library scenario models this commodity and country",
            "parameters": parameters,
        }
    _, _, distance, name = min(candidates)
    if kind == "export_control_suspension":
        match = "suspends the measure this scenario models"
    else:
        match = "models this event" if distance <= SAME_EVENT_DAYS else "models a similar measure"
    return {"scenario": name, "match": match, "parameters": parameters}
