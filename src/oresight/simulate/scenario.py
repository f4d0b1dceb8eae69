"""Scenarios: what happens (shocks), what is done about it (responses), to whom, for how long — as YAML files
validated by pydantic models.

A scenario names commodities, stages and countries as a user would write them ("rare-earths", "Seltene
Erden", "China"); they are checked against the taxonomy when the scenario is run. Any number can be a fixed
value or a distribution (see :mod:`oresight.simulate.distributions`). A file may start from another scenario
with ``extends: NAME`` and change only what differs (mappings merge, lists are replaced).

>>> scenario = parse_scenario({"name": "demo", "importers": ["USA"], "shocks": [
...     {"kind": "export_restriction", "exporter": "CHN", "commodity": "gallium", "blocked": 0.8}]})
>>> scenario.shocks[0].targets, scenario.horizon_months, scenario.samples
('all', 24, 1000)
"""

from __future__ import annotations

import copy
import datetime as dt
import re
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from oresight.errors import InputError, UnknownNameError
from oresight.io.text import parse_yaml
from oresight.simulate.distributions import Elasticity, Fraction, Months, NonNegative, Number

__all__ = [
    "DemandShock",
    "ExportRestriction",
    "ProductionOutage",
    "Scenario",
    "ScenarioError",
    "apply_settings",
    "library_names",
    "load_scenario",
    "parse_scenario",
    "scenario_from_text",
    "variant",
]


class ScenarioError(InputError):
    """A scenario that does not validate: names the field path and what is allowed there."""


#: most shocks a scenario may hold: real events take a handful, and each shock costs a pass of the attribution
MAX_SHOCKS = 50
#: most entries of each response list (stockpiles, rerouting, recycling ...)
MAX_RESPONSES = 50
#: most variants a scenario may hold
MAX_VARIANTS = 8
#: seeds are stored as 64-bit signed integers with a saved run
MAX_SEED = 2**63 - 1


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)  # NaN and infinity pass no range check


def _as_list(value: Any) -> Any:
    """Accept a single mapping where a list of them is expected (``rerouting: {spare_capacity: 0.1}``)."""
    return [value] if isinstance(value, dict) else value


# -- provenance of library scenarios -----------------------------------------------------------------------
class Citation(_Model):
    publisher: str
    title: str
    url: str
    date: dt.date | None = None


class Event(_Model):
    """The real event a scenario models."""

    date: dt.date
    summary: str
    sources: list[Citation] = Field(min_length=1)


# -- shocks ---------------------------------------------------------------------------------------------------
class _Shock(_Model):
    commodity: str
    #: stages hit; None = every stage of the commodity's chain
    stages: list[str] | None = None
    start_month: Months = 1
    #: months the shock lasts at full strength; None = to the end of the horizon
    duration_months: Months | None = None
    #: months over which the shock then fades linearly to nothing
    ease_months: Months = 0
    #: month the shock's course (start, strength, duration) becomes known to the market, which prices it in
    #: from then (docs/methods.md, "Expectations"); None: an export restriction from its start, an outage or a
    #: demand shock never (their course is not announced); a date after the start counts as the start
    announced_month: Months | None = None
    label: str | None = None

    @field_validator("stages", mode="before")
    @classmethod
    def _stage_list(cls, value):
        return [value] if isinstance(value, str) else value


class ExportRestriction(_Shock):
    """An exporter withholds part of its exports of some stages' products from some or all importers."""

    kind: Literal["export_restriction"]
    exporter: str
    #: "all" = every other country; else a list of countries or blocs
    targets: Literal["all"] | list[str] = "all"
    #: share of the covered exports that is withheld
    blocked: Fraction
    #: share of the stage's exports the measure covers (e.g. the heavy rare earths among all separated oxides)
    coverage: Fraction = 1.0
    #: also restrict other countries' exports made from this exporter's material (a foreign direct product rule)
    extraterritorial: bool = False


class ProductionOutage(_Shock):
    """A country loses part of its production capacity at some stages ("largest" = the top producer)."""

    kind: Literal["production_outage"]
    country: str
    lost: Fraction


class DemandShock(_Shock):
    """Final demand of a country, bloc or the whole world ("all") changes by a share (+0.2 = 20% more)."""

    kind: Literal["demand_shock"]
    country: str = "all"
    change: Number

    @field_validator("change")
    @classmethod
    def _above_minus_one(cls, value):
        from oresight.simulate.distributions import support

        low, high = support(value)
        if low < -1:
            raise ValueError("must not fall below -1 (demand cannot go negative)")
        if high > 1000:
            raise ValueError("must not exceed 1000 (a thousandfold demand); bound a normal with high")
        return value


Shock = Annotated[ExportRestriction | ProductionOutage | DemandShock, Field(discriminator="kind")]


# -- responses ------------------------------------------------------------------------------------------------
class Stockpile(_Model):
    """Material a country or bloc holds at one stage, released to its holder when supply falls short
    (holder "all": market stocks anyone may draw on)."""

    holder: str
    commodity: str
    stage: str
    #: give tonnes (in the stage's unit) or months of the holder's normal use at that stage
    tonnes: NonNegative | None = None
    months_of_cover: Months | None = None
    #: on_shortfall: release what the holder lacks; fixed: release max_release_per_month every month; none: hold
    release: Literal["on_shortfall", "fixed", "none"] = "on_shortfall"
    max_release_per_month: NonNegative | None = None
    start_month: Months = 1
    name: str | None = None
    #: what holding and releasing the stockpile costs over the horizon (for comparing responses)
    cost_usd: NonNegative | None = None

    @model_validator(mode="after")
    def _one_size(self):
        if (self.tonnes is None) == (self.months_of_cover is None):
            raise ValueError("give exactly one of tonnes and months_of_cover")
        if self.release == "fixed" and self.max_release_per_month is None:
            raise ValueError("release 'fixed' needs max_release_per_month")
        return self


class Rerouting(_Model):
    """Buyers short of supply turn to producers not under a shock, whose spare capacity comes on stream."""

    commodity: str | None = None
    stages: list[str] | None = None
    #: spare output as a share of each eligible producer's normal output; None = from capacity data
    spare_capacity: Fraction | None = None
    ramp_months: Months = 6
    exclude: list[str] = []


class DemandResponse(_Model):
    """Final demand falls as the price index rises: ``demand × price^elasticity``."""

    commodity: str | None = None
    stages: list[str] | None = None
    elasticity: Elasticity
    #: months until the full elasticity applies (substitution takes time; demand destruction is immediate)
    adjustment_months: Months = 0


class Supply(_Model):
    """Extra supply at one stage in one country from a date: recycling or new capacity."""

    country: str
    commodity: str
    stage: str
    tonnes_per_year: NonNegative
    start_month: Months = 1
    ramp_months: Months = 0
    name: str | None = None
    #: what the supply costs over the horizon (for comparing responses)
    cost_usd: NonNegative | None = None


class Responses(_Model):
    stockpiles: list[Stockpile] = Field(default=[], max_length=MAX_RESPONSES)
    rerouting: list[Rerouting] = Field(default=[], max_length=MAX_RESPONSES)
    substitution: list[DemandResponse] = Field(default=[], max_length=MAX_RESPONSES)
    demand_destruction: list[DemandResponse] = Field(default=[], max_length=MAX_RESPONSES)
    recycling: list[Supply] = Field(default=[], max_length=MAX_RESPONSES)
    new_capacity: list[Supply] = Field(default=[], max_length=MAX_RESPONSES)
    #: end-use sectors served first when an importer runs short (e.g. defence)
    priority_sectors: list[str] = Field(default=[], max_length=MAX_RESPONSES)

    _lists = field_validator(
        "stockpiles", "rerouting", "substitution", "demand_destruction", "recycling", "new_capacity", mode="before"
    )(_as_list)


class Inventory(_Model):
    """Stocks users hold of a stage's product (commercial stocks in the pipeline) and the time goods spend in
    transit; overrides the sourced defaults (see docs/methods.md) for the stages and holders named."""

    commodity: str
    #: stages; None = every stage of the commodity's chain
    stages: list[str] | None = None
    #: a country, a bloc, or "all" for every node
    holder: str = "all"
    #: stocks in weeks of the holder's normal use of the stage's product
    weeks_of_cover: NonNegative | None = None
    #: weeks from shipment to arrival: goods already shipped when a restriction starts still arrive
    transit_weeks: NonNegative | None = None

    @field_validator("stages", mode="before")
    @classmethod
    def _stage_list(cls, value):
        return [value] if isinstance(value, str) else value

    @model_validator(mode="after")
    def _something(self):
        if self.weeks_of_cover is None and self.transit_weeks is None:
            raise ValueError("give weeks_of_cover, transit_weeks or both")
        return self


class PriceModel(_Model):
    """Price index per stage and price region = (stocks + supply) / (normal stocks + needs) raised to
    1 / elasticity, between ``min_index`` and ``max_index``, approached over ``adjustment_months`` (see
    docs/methods.md for the calibration)."""

    elasticity: Elasticity = -0.5
    max_index: float = Field(default=30.0, gt=1, le=1000)
    min_index: float = Field(default=0.5, gt=0, le=1)
    #: months over which the price moves most of the way to its new level (0 = at once)
    adjustment_months: NonNegative = 0

    @field_validator("elasticity")
    @classmethod
    def _not_zero(cls, value):
        from oresight.simulate.distributions import support

        if support(value)[1] >= 0:
            raise ValueError("must be below zero")
        return value


class Scenario(_Model):
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    description: str = ""
    event: Event | None = None
    #: the date month 1 stands for where it is not the event's (a scenario that replays what led up to its
    #: event, e.g. the suspension of November 2025 run from the April 2025 licensing that depleted users' stocks)
    start_date: dt.date | None = None
    #: the data year the baseline is calibrated on (latest with data when omitted)
    base_year: int | None = Field(default=None, ge=1990, le=2100)
    horizon_months: int = Field(default=24, ge=1, le=240)
    seed: int = Field(default=1, ge=0, le=MAX_SEED)
    samples: int = Field(default=1000, ge=1, le=1_000_000)
    importers: list[str] = Field(default=["USA", "JPN"], min_length=1, max_length=MAX_RESPONSES)
    #: values that ${name} placeholders in the file stand for; set them with --set name=value
    parameters: dict[str, Any] = {}
    shocks: list[Shock] = Field(default=[], max_length=MAX_SHOCKS)
    responses: Responses = Responses()
    inventories: list[Inventory] = Field(default=[], max_length=MAX_RESPONSES)
    #: share of what an exporter still owes buyers that it ships each month once a restriction eases (withheld
    #: goods wait as unfilled orders); 0 = withheld goods never ship
    backlog_rate: Fraction = 0.2
    price: PriceModel = PriceModel()
    calibration: str = ""
    #: other versions of the scenario, each a mapping merged over it as ``extends`` merges (mappings key by key,
    #: lists replaced); run on the same draws and compared with it
    variants: dict[str, dict[str, Any]] = Field(default={}, max_length=MAX_VARIANTS)

    @field_validator("importers", mode="before")
    @classmethod
    def _importer_list(cls, value):
        return [value] if isinstance(value, str) else value

    @property
    def commodities(self) -> list[str]:
        return list(dict.fromkeys(shock.commodity for shock in self.shocks))


# -- loading ----------------------------------------------------------------------------------------------------
LIBRARY = "oresight.simulate.library"
_PLACEHOLDER = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def library_names() -> list[str]:
    """Names of the scenarios that ship with oresight."""
    return sorted(p.name.removesuffix(".yaml") for p in resources.files(LIBRARY).iterdir() if p.name.endswith(".yaml"))


def _read(source: str | Path, depth: int = 0) -> tuple[dict, str]:
    """The raw mapping of a library name or a YAML file, with any ``extends:`` base merged in."""
    path = Path(source)
    if not (str(source).endswith((".yaml", ".yml")) or path.exists()):
        return _read_library(str(source), depth)
    if not path.is_file():
        raise InputError("no such scenario file", path=path)
    return _with_base(_mapping(_utf8(path), str(path)), str(path), depth, path.parent)


def _utf8(path: Path) -> str:
    """A scenario file's text; a file that is not UTF-8 is refused with the line of its first bad byte."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ScenarioError(
            f"not UTF-8 text (byte 0x{data[exc.start]:02x})", path=path, line=line, expected="a UTF-8 YAML file"
        ) from None


def _read_library(name: str, depth: int = 0) -> tuple[dict, str]:
    """A library scenario's raw mapping; its ``extends:`` may name only other library scenarios."""
    if name not in library_names():
        import difflib

        raise UnknownNameError("scenario", name, difflib.get_close_matches(name, library_names(), n=3))
    origin = f"library scenario {name}"
    text = resources.files(LIBRARY).joinpath(f"{name}.yaml").read_text(encoding="utf-8")
    return _with_base(_mapping(text, origin), origin, depth, None)


def _mapping(text: str, origin: str) -> dict:
    data = parse_yaml(text, origin, ScenarioError)
    if not isinstance(data, dict):
        raise ScenarioError("a scenario file must hold a mapping of keys (name, shocks, ...)", path=origin)
    return data


def _with_base(data: dict, origin: str, depth: int, folder: Path | None) -> tuple[dict, str]:
    """Merge the ``extends:`` base under ``data``: a file beside the scenario's file (if it came from a folder)
    or a library scenario."""
    base = data.pop("extends", None)
    if base is None:
        return data, origin
    if depth > 5:
        raise ScenarioError("too many levels of 'extends'", path=origin, field="extends")
    if folder is not None:
        beside = folder / str(base)
        base_data, _ = _read(beside if beside.is_file() else str(base), depth + 1)
    else:
        base_data, _ = _read_library(str(base), depth + 1)
    return _merge(base_data, data), origin


def scenario_from_text(text: str, origin: str = "uploaded scenario") -> Scenario:
    """A scenario from YAML text that came from outside (a web upload). Its ``extends:`` may name a library
    scenario only: text from outside never makes oresight open a file."""
    return parse_scenario(_with_base(_mapping(text, origin), origin, 0, None)[0], origin)


def _merge(base: dict, override: dict) -> dict:
    """``override`` on top of ``base``: mappings merge key by key, anything else (lists too) is replaced."""
    merged = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _substitute(node: Any, parameters: dict[str, Any]) -> Any:
    if isinstance(node, dict):
        return {k: _substitute(v, parameters) for k, v in node.items()}
    if isinstance(node, list):
        return [_substitute(v, parameters) for v in node]
    if isinstance(node, str):
        whole = _PLACEHOLDER.fullmatch(node)
        if whole:
            return parameters[whole.group(1)]
        return _PLACEHOLDER.sub(lambda m: str(parameters[m.group(1)]), node)
    return node


def _placeholders(node: Any) -> set[str]:
    if isinstance(node, dict):
        return set().union(*(_placeholders(v) for v in node.values())) if node else set()
    if isinstance(node, list):
        return set().union(*(_placeholders(v) for v in node)) if node else set()
    return set(_PLACEHOLDER.findall(node)) if isinstance(node, str) else set()


def apply_settings(data: dict, settings: list[str] | dict[str, Any]) -> dict:
    """Apply ``key=value`` overrides: a declared parameter name, or a dotted path into the scenario
    (``shocks.0.duration_months=12``, ``responses.stockpiles.0.tonnes=800``). Values are read as YAML."""
    data = copy.deepcopy(data)
    pairs = settings.items() if isinstance(settings, dict) else (_split_setting(s) for s in settings)
    for key, value in pairs:
        if key in data.get("parameters", {}):
            data["parameters"][key] = value
        else:
            _set_path(data, key, value)
    return data


def _split_setting(text: str) -> tuple[str, Any]:
    key, sep, raw = text.partition("=")
    if not sep or not key.strip():
        raise ScenarioError(f"cannot read the setting {text!r}", expected="key=value, e.g. samples=2000")
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError:
        value = raw
    return key.strip(), value


def _set_path(data: dict, key: str, value: Any) -> None:
    node: Any = data
    parts = key.split(".")
    for depth, part in enumerate(parts):
        last = depth == len(parts) - 1
        where = ".".join(parts[: depth + 1])
        if isinstance(node, list):
            if not part.isdigit() or int(part) >= len(node):
                raise ScenarioError(f"no item {part!r} at {where!r}", expected=f"an index below {len(node)}")
            index = int(part)
            if last:
                node[index] = value
            else:
                node = node[index]
        elif isinstance(node, dict):
            if last:
                node[part] = value
            else:
                if part not in node:
                    allowed = ", ".join(sorted(node)) or "none"
                    raise ScenarioError(f"no key {part!r} at {where!r}", expected=f"one of: {allowed}")
                node = node[part]
        else:
            raise ScenarioError(f"{'.'.join(parts[:depth])!r} is a value, not a mapping or list")


_UNION_BRANCHES = {
    "export_restriction",
    "production_outage",
    "demand_shock",
    "fixed",
    "uniform",
    "triangular",
    "normal",
    "lognormal",
    "float",
    "int",
}


_NUMBER_HELP = "a number or a distribution such as {dist: triangular, low: 0.5, mode: 0.75, high: 0.95}"


def _field_path(location: tuple) -> str:
    """``shocks[0].blocked`` from pydantic's location, without the names of union branches."""
    parts = []
    for item in location:
        if isinstance(item, int):
            parts.append(f"[{item}]")
        elif item not in _UNION_BRANCHES and not any(c in str(item) for c in "[("):
            parts.append(("." if parts else "") + str(item))
    return "".join(parts)


def _explain(error: ValidationError, origin: str) -> ScenarioError:
    """One readable message for all validation errors, each with its field path and what is allowed."""
    lines = []
    items = error.errors()
    not_finite = {_field_path(i["loc"]) for i in items if i["type"] == "finite_number"}
    for item in items:
        path = _field_path(item["loc"]) or "(top level)"
        if path in not_finite and item["type"] != "finite_number":
            continue  # NaN or infinity was given: that it is not a distribution either is noise
        number_branch = bool(item["loc"]) and item["loc"][-1] in ("float", "int")
        if number_branch and isinstance(item.get("input"), dict):
            continue  # a distribution was given: the "not a number" complaint is noise
        if item["type"] == "extra_forbidden":
            message = "unknown key"
        elif item["type"] == "finite_number":
            message = f"{item.get('input')!r} is not a finite number (NaN and infinity are refused)"
        elif number_branch or item["type"] in ("model_attributes_type", "dict_type"):
            message = f"{item.get('input')!r} is not {_NUMBER_HELP}"
        else:
            message = item["msg"].removeprefix("Value error, ")
        lines.append(f"{path}: {message}")
    return ScenarioError("invalid scenario:\n  " + "\n  ".join(dict.fromkeys(lines)), path=origin)


def parse_scenario(data: dict, origin: str = "scenario") -> Scenario:
    """Validate a scenario mapping, filling ${parameter} placeholders first."""
    parameters = data.get("parameters") or {}
    if not isinstance(parameters, dict):
        raise ScenarioError("parameters must be a mapping of names to values", path=origin)
    missing = _placeholders({k: v for k, v in data.items() if k != "parameters"}) - set(parameters)
    if missing:
        raise ScenarioError(
            f"placeholders without a value: {', '.join(sorted(missing))}",
            path=origin,
            expected="a 'parameters' entry or --set NAME=VALUE for each",
        )
    filled = _substitute({k: v for k, v in data.items() if k != "parameters"}, parameters)
    try:
        return Scenario.model_validate({**filled, "parameters": parameters})
    except ValidationError as exc:
        raise _explain(exc, origin) from None


def variant(scenario: Scenario, name: str) -> Scenario:
    """A scenario's variant: its changes merged over the scenario (without its variants), validated, named
    ``<scenario>-<variant>``."""
    if name not in scenario.variants:
        import difflib

        raise UnknownNameError("variant", name, difflib.get_close_matches(name, list(scenario.variants), n=3))
    base = scenario.model_dump(mode="json", exclude_none=True, exclude={"variants"})
    changes = {k: v for k, v in scenario.variants[name].items() if k != "variants"}
    slug = re.sub(r"[^a-z0-9-]+", "-", name.lower()).strip("-") or "variant"
    return parse_scenario({**_merge(base, changes), "name": f"{scenario.name}-{slug}"}, f"variants.{name}")


def load_scenario(source: str | Path, settings: list[str] | dict[str, Any] = ()) -> Scenario:
    """A scenario from the library (by name) or a YAML file, with ``key=value`` settings applied."""
    data, origin = _read(source)
    if settings:
        data = apply_settings(data, settings)
    return parse_scenario(data, origin)


def scenario_yaml(scenario: Scenario) -> str:
    """The scenario as YAML, with every setting applied: what a saved run stores to be reproduced."""
    return yaml.safe_dump(scenario.model_dump(mode="json", exclude_none=True), sort_keys=False, allow_unicode=True)
