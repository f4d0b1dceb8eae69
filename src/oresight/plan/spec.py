"""Plan files: who plans (members), to when, against which disruptions, with what money or risk target — YAML
like scenario files, validated by pydantic.

A file starts from the library's ``default`` plan with ``extends: default`` (mappings merge, lists are replaced)
and ``--set key=value`` changes one field (``--set risk_target=0.1``, ``--set disruptions.0.probability=0.2``).

>>> spec = load_plan_spec("default", ["members=[USA]", "until=2030"])
>>> spec.members, spec.until, spec.risk_target
(['USA'], 2030, 0.05)
"""

from __future__ import annotations

import copy
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from oresight.errors import InputError, UnknownNameError
from oresight.io.text import parse_yaml

# one rule for merging `extends:` bases and reading `key=value` settings, shared with scenario files
from oresight.simulate.scenario import _merge
from oresight.simulate.scenario import _split_setting as _split

__all__ = ["PlanError", "PlanSpec", "load_plan_spec", "parse_plan_spec", "plan_library"]

LIBRARY = "oresight.plan.library"


class PlanError(InputError):
    """A plan file or setting that does not validate: names the field and what is allowed."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class Disruption(_Model):
    #: a library scenario of the simulator
    scenario: str
    #: chance that the event starts in any one year
    probability: float = Field(ge=0, le=1)
    #: planned commodity -> stages of its chain the event covers
    covers: dict[str, list[Literal["mining", "refining", "metal", "magnet"]]]


class Financier(_Model):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    name: str
    member: str
    #: project countries it may finance ("all" or ISO3 codes)
    projects: Literal["all"] | list[str] = "all"
    stockpiles: bool = False
    #: may pay price-floor contracts (contracts for difference)
    floors: bool = False


class PriceFloor(_Model):
    """A contract for difference a financier may offer a project: it pays ``(floor - price)`` per kg on the
    project's output whenever the price outside China is below the floor, for ``years`` from the project's start.
    The floor's level is read from the data (measure ``price_floor``) unless ``usd_per_kg`` is given."""

    commodity: str
    usd_per_kg: float | None = Field(default=None, gt=0)
    years: int = Field(ge=1, le=30)
    #: stages whose projects may get the floor (sellers of the product the floor is on)
    stages: list[Literal["mining", "refining", "metal", "magnet"]] = ["refining", "metal"]
    #: share of a project's failure probability a floor removes (it makes financing close; assumption)
    failure_reduction: float = Field(default=0.5, ge=0, le=1)
    #: annual volatility of the log price; None: from the yearly price history in the data
    volatility: float | None = Field(default=None, ge=0, le=3)
    #: the source of the contract terms (years)
    source: str


class PlanSpec(_Model):
    name: str = Field(default="plan", pattern=r"^[a-z0-9][a-z0-9-]*$")
    description: str = ""
    members: list[str] = Field(min_length=1)
    #: countries whose chains are modelled beside the members' but who do not plan (a member's plan alone on
    #: the alliance's network: ``members: [USA], partners: [JPN]``)
    partners: list[str] = []
    start_year: int = Field(default=2026, ge=2020, le=2100)
    until: int = Field(default=2035, ge=2020, le=2100)
    seed: int = Field(default=1, ge=0, lt=2**32)
    samples: int = Field(default=40, ge=2, le=2000)
    risk_target: float | None = Field(default=0.05, gt=0, le=1)
    risk_alpha: float = Field(default=0.95, gt=0, lt=1)
    #: member -> commodity -> a target that replaces ``risk_target`` for that member and commodity
    risk_targets: dict[str, dict[str, float]] = {}
    budget_usd: float | None = Field(default=None, ge=0)
    cvar_weight: float = Field(default=0.5, ge=0)
    demand_scenario: Literal["STEPS", "APS", "NZE"] = "STEPS"
    commodities: list[str] = Field(min_length=1)
    support_share: float = Field(default=0.5, gt=0, le=1)
    holding_cost: dict[str, float]
    #: share of the world's yearly output of a stock form outside China that one holder may buy in a year
    purchase_share: float = Field(default=0.05, ge=0, le=1)
    voll_multiple: dict[str, float]
    delay_years: dict[str, tuple[float, float]]
    failure_probability: dict[str, float]
    disruptions: list[Disruption]
    financiers: list[Financier] = Field(min_length=1)
    price_floors: list[PriceFloor] = []
    #: candidate projects this plan may not support (e.g. promised to another plan)
    exclude_projects: list[str] = []
    budgets_by_member: dict[str, float] = {}
    budgets_by_financier: dict[str, float] = {}

    @field_validator("members", "partners", "commodities", "exclude_projects", mode="before")
    @classmethod
    def _as_list(cls, value):
        return [value] if isinstance(value, str) else value

    @field_validator("holding_cost", "voll_multiple", "budgets_by_member", "budgets_by_financier")
    @classmethod
    def _non_negative(cls, value: dict[str, float]):
        bad = [k for k, v in value.items() if v < 0]
        if bad:
            raise ValueError(f"must not be negative: {', '.join(bad)}")
        return value

    @field_validator("risk_targets")
    @classmethod
    def _targets(cls, value: dict[str, dict[str, float]]):
        bad = [f"{m}.{c}" for m, by in value.items() for c, v in by.items() if not 0 < v <= 1]
        if bad:
            raise ValueError(f"must be above 0 and at most 1: {', '.join(bad)}")
        return value

    @field_validator("failure_probability")
    @classmethod
    def _probabilities(cls, value: dict[str, float]):
        bad = [k for k, v in value.items() if not 0 <= v <= 1]
        if bad:
            raise ValueError(f"must be between 0 and 1: {', '.join(bad)}")
        return value

    @model_validator(mode="after")
    def _consistent(self):
        if self.until < self.start_year:
            raise ValueError("until must not be before start_year")
        if self.until - self.start_year > 30:
            raise ValueError("at most 30 years from start_year to until")
        if len(set(self.members)) != len(self.members):
            raise ValueError("members: each member at most once")
        if set(self.members) & set(self.partners):
            raise ValueError("partners: a member cannot also be a partner")
        return self

    @property
    def years(self) -> list[int]:
        return list(range(self.start_year, self.until + 1))


def plan_library() -> list[str]:
    return sorted(p.name.removesuffix(".yaml") for p in resources.files(LIBRARY).iterdir() if p.name.endswith(".yaml"))


def _read(source: str | Path, depth: int = 0) -> tuple[dict, str]:
    text_source = str(source)
    if text_source in plan_library():
        origin = f"library plan {text_source}"
        text = resources.files(LIBRARY).joinpath(f"{text_source}.yaml").read_text(encoding="utf-8")
        folder = None
    else:
        path = Path(source)
        if not path.is_file():
            import difflib

            raise UnknownNameError("plan", text_source, difflib.get_close_matches(text_source, plan_library(), n=3))
        origin, text, folder = str(path), path.read_text(encoding="utf-8"), path.parent
    data = parse_yaml(text, origin, PlanError)
    if not isinstance(data, dict):
        raise PlanError("a plan file must hold a mapping of keys (members, until, ...)", path=origin)
    base = data.pop("extends", None)
    if base is None:
        return data, origin
    if depth > 5:
        raise PlanError("too many levels of 'extends'", path=origin, field="extends")
    beside = folder / str(base) if folder is not None else None
    base_data, _ = _read(beside if beside is not None and beside.is_file() else str(base), depth + 1)
    return _merge(base_data, data), origin


def apply_settings(data: dict, settings: list[str] | dict[str, Any]) -> dict:
    """``key=value`` settings (values read as YAML) applied along dotted paths (``disruptions.0.probability``)."""
    data = copy.deepcopy(data)
    pairs = settings.items() if isinstance(settings, dict) else (_split(s) for s in settings)
    for key, value in pairs:
        node: Any = data
        parts = key.split(".")
        for depth, part in enumerate(parts):
            last = depth == len(parts) - 1
            if isinstance(node, list):
                if not part.isdigit() or int(part) >= len(node):
                    raise PlanError(f"no item {part!r} in {'.'.join(parts[:depth])!r}", field=key)
                part = int(part)
            elif not isinstance(node, dict):
                raise PlanError(f"{'.'.join(parts[:depth])!r} is a value, not a mapping or list", field=key)
            elif not last and part not in node:
                raise PlanError(f"no key {part!r}", field=key, expected=f"one of: {', '.join(sorted(node))}")
            if last:
                node[part] = value
            else:
                node = node[part]
    return data


def parse_plan_spec(data: dict, origin: str = "plan") -> PlanSpec:
    try:
        return PlanSpec.model_validate(data)
    except ValidationError as exc:
        lines = []
        for item in exc.errors():
            path = ".".join(str(p) for p in item["loc"]) or "(top level)"
            message = "unknown key" if item["type"] == "extra_forbidden" else item["msg"].removeprefix("Value error, ")
            lines.append(f"{path}: {message}")
        raise PlanError("invalid plan:\n  " + "\n  ".join(dict.fromkeys(lines)), path=origin) from None


def load_plan_spec(source: str | Path = "default", settings: list[str] | dict[str, Any] = ()) -> PlanSpec:
    """A plan from the library (by name) or a YAML file, with ``key=value`` settings applied."""
    data, origin = _read(source)
    if settings:
        data = apply_settings(data, settings)
    return parse_plan_spec(data, origin)
