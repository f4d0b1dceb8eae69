"""Commodities, stages, chains, sectors, countries, blocs, units and measures, declared as data files.

>>> tax = load_taxonomy()
>>> tax.commodity("Seltene Erden").id
'rare-earths'
>>> tax.country("Congo (Kinshasa)"), tax.country("Burma"), tax.country("Korea, Republic of")
('COD', 'MMR', 'KOR')
>>> tax.importer("US+JP").members
('USA', 'JPN')
"""

from __future__ import annotations

import csv
import difflib
import functools
import re
import unicodedata
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import yaml

from oresight.errors import UnknownNameError

from .countries import CountryResolver

__all__ = [
    "Chain",
    "ChainStage",
    "Commodity",
    "Importer",
    "Taxonomy",
    "load_taxonomy",
    "normalise_name",
    "read_taxonomy_csv",
]


def normalise_name(text: str) -> str:
    """Fold a name for matching: case, accents kept, dashes/underscores and spaces unified.

    >>> normalise_name("  Rare_Earths ")
    'rare earths'
    >>> normalise_name("NdFeB-Magnete")
    'ndfeb magnete'
    """
    text = unicodedata.normalize("NFC", str(text)).replace("\u00a0", " ").casefold()
    text = re.sub(r"[-_‐‑–—/]+", " ", text)
    return re.sub(r"\s+", " ", text).strip()


@dataclass(frozen=True)
class Commodity:
    id: str
    en: str
    de: str
    kind: str
    parent: str | None = None
    aliases: tuple[str, ...] = ()
    usgs: tuple[str, ...] = ()
    iea: tuple[str, ...] = ()
    eu: tuple[str, ...] = ()
    basis: str | None = None
    chain_stage: str | None = None
    critical: dict[str, bool] = field(default_factory=dict)

    def names(self) -> tuple[str, ...]:
        """Every name this commodity answers to."""
        return (self.id, self.en, self.de, *self.aliases, *self.usgs, *self.iea, *self.eu)


@dataclass(frozen=True)
class ChainStage:
    stage: str
    basis: str
    series: tuple[str, ...]


@dataclass(frozen=True)
class Chain:
    commodity: str
    stages: tuple[ChainStage, ...]
    end_uses: tuple[str, ...] = ()
    #: the stage whose product a country's consumption figures (no stage given) describe: None = the last stage,
    #: "" = none (the figures' basis matches no stage of the chain)
    consumption_stage: str | None = None
    #: the stages are alternative routes to one product (natural and synthetic soda ash), not steps in sequence:
    #: a country's share of one route is not its share of world supply
    alternative_routes: bool = False

    @property
    def stage_ids(self) -> tuple[str, ...]:
        return tuple(s.stage for s in self.stages)

    def stage_of_consumption(self, stages_present: tuple[str, ...]) -> str | None:
        """The stage that stage-less consumption figures belong to, among the stages with data."""
        if self.consumption_stage == "":
            return None
        if self.consumption_stage is not None:
            return self.consumption_stage if self.consumption_stage in stages_present else None
        return stages_present[-1] if stages_present else None

    def stage(self, stage: str) -> ChainStage | None:
        return next((s for s in self.stages if s.stage == stage), None)


@dataclass(frozen=True)
class Importer:
    """One country or a bloc assessed as a single importer."""

    label: str
    members: tuple[str, ...]

    @property
    def is_bloc(self) -> bool:
        return len(self.members) > 1


@dataclass(frozen=True)
class UnitSpec:
    unit: str
    factor: float


_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _read_yaml(name: str) -> Any:
    return yaml.load(resources.files(__package__).joinpath(name).read_text(encoding="utf-8"), Loader=_YAML_LOADER)


def read_taxonomy_csv(name: str) -> list[dict[str, str]]:
    """The rows of one of the taxonomy's CSV files (``#`` lines are comments)."""
    text = resources.files(__package__).joinpath(name).read_text(encoding="utf-8")
    lines = [ln for ln in text.splitlines() if not ln.startswith("#")]
    return list(csv.DictReader(lines))


_read_csv = read_taxonomy_csv


class Taxonomy:
    """All vocabularies of oresight, loaded once from the package's data files."""

    def __init__(self) -> None:
        self.commodities: dict[str, Commodity] = {}
        for entry in _read_yaml("commodities.yaml"):
            entry = {k: (tuple(v) if isinstance(v, list) else v) for k, v in entry.items()}
            self.commodities[entry["id"]] = Commodity(**entry)
        self.stages: dict[str, dict[str, str]] = _read_yaml("stages.yaml")
        self.sectors: dict[str, dict[str, Any]] = _read_yaml("sectors.yaml")
        self.blocs: dict[str, dict[str, Any]] = _read_yaml("blocs.yaml")
        chains = _read_yaml("chains.yaml")
        #: volume series in order of preference where a chain names none for a stage
        self.default_series: tuple[str, ...] = tuple(chains.pop("default_series", ()))
        self.chains: dict[str, Chain] = {
            cid: Chain(
                commodity=cid,
                stages=tuple(
                    ChainStage(s["stage"], s.get("basis", ""), tuple(s.get("series", ()))) for s in spec["stages"]
                ),
                end_uses=tuple(spec.get("end_uses", ())),
                consumption_stage=spec.get("consumption_stage"),
                alternative_routes=bool(spec.get("alternative_routes", False)),
            )
            for cid, spec in chains.items()
        }
        self.units: dict[str, UnitSpec] = {
            row["publisher_unit"].casefold(): UnitSpec(row["unit"], float(row["factor"]))
            for row in _read_csv("units.csv")
        }
        self.measures: dict[str, dict[str, str]] = {row["measure"]: row for row in _read_csv("measures.csv")}
        self.hs_codes: dict[str, dict[str, str]] = {
            row["hs"].replace(".", ""): row for row in _read_csv("hs_codes.csv")
        }
        self.countries = CountryResolver(_read_csv("country_names.csv"), _read_csv("country_codes.csv"))
        self._commodity_index = self._index(self._commodity_names_by_rank())
        self._publisher_index = self._index((name, c.id) for c in self.commodities.values() for name in c.names())
        self._stage_index = self._index(
            (name, sid) for sid, spec in self.stages.items() for name in (sid, spec["en"], spec["de"])
        )
        self._sector_index = self._index(
            (name, sid)
            for sid, spec in self.sectors.items()
            for name in (sid, spec["en"], spec["de"], *spec.get("aliases", ()))
        )
        self._bloc_index = self._index(
            (name, bid) for bid, spec in self.blocs.items() for name in (bid, spec["en"], *spec.get("aliases", ()))
        )

    def _commodity_names_by_rank(self):
        """(name, id) pairs, a commodity's own id and names before anyone's aliases, aliases before publishers'
        names: "Bentonite" is bentonite although the EU's list names its group (clays) so too."""
        ranks = (
            lambda c: (c.id,),
            lambda c: (c.en, c.de),
            lambda c: c.aliases,
            lambda c: (*c.usgs, *c.iea, *c.eu),
        )
        for names_of in ranks:
            for c in self.commodities.values():
                for name in names_of(c):
                    yield name, c.id

    @staticmethod
    def _index(pairs) -> dict[str, str]:
        index: dict[str, str] = {}
        for name, target in pairs:
            index.setdefault(normalise_name(name), target)
        return index

    @staticmethod
    def _suggest(name: str, index: dict[str, str], ids) -> list[str]:
        folded = normalise_name(name)
        close = difflib.get_close_matches(folded, list(index), n=5, cutoff=0.6)
        out: list[str] = []
        for match in close:
            if index[match] not in out:
                out.append(index[match])
        if not out:
            out = [i for i in ids if folded[:3] and i.startswith(folded[:3])][:5]
        return out[:5]

    def _lookup(self, kind: str, name: str, index: dict[str, str], ids) -> str:
        found = index.get(normalise_name(name))
        if found is None:
            raise UnknownNameError(kind, name, self._suggest(name, index, ids))
        return found

    # -- commodities, stages, sectors --------------------------------------------------------------------
    def commodity(self, name: str) -> Commodity:
        """The commodity a name refers to: the one rule for every command, filter, page and the library.

        A commodity's id, English or German name means that commodity; else an alias, else a publisher's name
        (USGS, IEA, EU) of the commodity that lists it. Case, dashes and spacing do not matter.

        >>> tax = load_taxonomy()
        >>> [tax.commodity(n).id for n in ("Bentonite", "kaolin", "Kobalt", "LREE", "Seltene Erden", "NdFeB")]
        ['bentonite', 'kaolin', 'cobalt', 'light-rare-earths', 'rare-earths', 'rare-earth-magnets']
        """
        return self.commodities[self._lookup("commodity", name, self._commodity_index, self.commodities)]

    def find_commodity(self, name: str) -> Commodity | None:
        """The commodity a publisher's row names, or ``None``: importers map publishers' names to the commodity
        that lists them first (the EU's "Bentonite" row is stored under clays), as the bundled data were built."""
        cid = self._publisher_index.get(normalise_name(name))
        return self.commodities[cid] if cid else None

    def members(self, commodity_id: str) -> tuple[str, ...]:
        """A commodity and everything under it (a group's members, their members …): what a filter by the
        commodity matches.

        >>> load_taxonomy().members("clays")
        ('clays', 'bentonite', 'fullers-earth', 'kaolin')
        >>> "dysprosium" in load_taxonomy().members("rare-earths")
        True
        """
        found, frontier = [commodity_id], [commodity_id]
        while frontier:
            frontier = [c.id for c in self.commodities.values() if c.parent in frontier and c.id not in found]
            found += frontier
        return tuple(found)

    def matching_commodities(self, name: str) -> frozenset[str]:
        """The ids a commodity filter given by name matches: the named commodity and its members."""
        return frozenset(self.members(self.commodity(name).id))

    def stage(self, name: str) -> str:
        return self._lookup("stage", name, self._stage_index, self.stages)

    def sector(self, name: str) -> str:
        return self._lookup("sector", name, self._sector_index, self.sectors)

    def children(self, commodity_id: str) -> list[str]:
        return [c.id for c in self.commodities.values() if c.parent == commodity_id]

    def series_preference(self, commodity_id: str, stage: str) -> tuple[str, ...]:
        """Volume series for a stage, best first: the chain's own list, then the default order."""
        chain = self.chains.get(commodity_id)
        own = chain.stage(stage).series if chain and chain.stage(stage) else ()
        return (*own, *(s for s in self.default_series if s not in own))

    def chain(self, commodity_id: str, stages_with_data=()) -> Chain:
        """The declared chain of a commodity, or one built from the stages its data cover."""
        if commodity_id in self.chains:
            return self.chains[commodity_id]
        present = [s for s in self.stages if s in set(stages_with_data)]
        return Chain(commodity_id, tuple(ChainStage(s, "", ()) for s in present))

    # -- countries and importers -------------------------------------------------------------------------
    def country(self, name: str) -> str:
        """ISO 3166-1 alpha-3 code of a country name in English, German or a publisher's spelling."""
        code = self.countries.resolve(name)
        if code is None:
            raise UnknownNameError("country", name, self.countries.suggest(name))
        return code

    def importer(self, name: str) -> Importer:
        """A country or bloc named by code, name or alias ("US", "Japan", "US+JP", "EU", "USA,JPN")."""
        bloc_id = self._bloc_index.get(normalise_name(name))
        if bloc_id:
            return Importer(bloc_id, tuple(self.blocs[bloc_id]["members"]))
        parts = [p for p in re.split(r"[,+]", name) if p.strip()]
        if len(parts) > 1:
            members = tuple(dict.fromkeys(self.country(p.strip()) for p in parts))
            return Importer("+".join(members), members)
        code = self.countries.resolve(name)
        if code is None:
            suggestions = self.countries.suggest(name) + self._suggest(name, self._bloc_index, self.blocs)
            raise UnknownNameError("country or bloc", name, suggestions[:5])
        return Importer(code, (code,))

    def hs_code(self, code: str | int) -> dict[str, str] | None:
        """The commodity and stage of an HS code, by its longest listed prefix ("284690" -> rare earths, refining).

        >>> load_taxonomy().hs_code("850511")["stage"]
        'magnet'
        """
        digits = re.sub(r"\D", "", str(code))
        for length in range(len(digits), 3, -1):
            if digits[:length] in self.hs_codes:
                return self.hs_codes[digits[:length]]
        return None

    def hs_of(self, commodity_id: str) -> list[str]:
        """HS codes listed for a commodity."""
        return [row["hs"] for row in self.hs_codes.values() if row["commodity"] == commodity_id]

    def base_measure(self, measure: str) -> str | None:
        """The measure of measures.csv that ``measure`` is, or is a variant of (``production_gross_weight`` ->
        ``production``); None for a measure it does not know."""
        while measure and measure not in self.measures:
            measure = measure.rpartition("_")[0]
        return measure or None

    def convert_unit(self, publisher_unit: str | None) -> UnitSpec:
        """Our unit and the factor that turns a publisher's unit into it ("thousand metric tons" -> t, 1000)."""
        key = (publisher_unit or "").strip().casefold()
        if key in self.units:
            return self.units[key]
        raise UnknownNameError("unit", publisher_unit or "", difflib.get_close_matches(key, list(self.units), n=3))


@functools.cache
def load_taxonomy() -> Taxonomy:
    """The taxonomy, loaded once per process."""
    return Taxonomy()
