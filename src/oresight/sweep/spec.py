"""Sweep files: a grid of disruptions to screen, as YAML validated by pydantic models.

A sweep names what to vary (the grid: kind of disruption, commodities, stages, exporters, how much is blocked or
lost, for how long) and what every scenario shares (importers, samples, horizon, seed, responses, price model).
Names are checked against the taxonomy when the grid is expanded (:mod:`oresight.sweep.grid`); numbers are
checked here: finite, in range, one probability per grid value.

>>> sweep = parse_sweep({"name": "screen", "importers": ["USA"], "grid": {"kind": "export_restriction",
...     "commodities": ["gallium"], "blocked": [0.5, 1.0], "duration_months": [3]}})
>>> sweep.grid[0].exporters, sweep.grid[0].severities, sweep.samples, sweep.horizon_months
('top3', [0.5, 1.0], 1000, 12)
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from oresight.errors import InputError
from oresight.io.text import parse_yaml
from oresight.simulate.scenario import PriceModel, Responses

__all__ = ["Grid", "GridProbabilities", "Sweep", "SweepError", "load_sweep", "parse_sweep", "sweep_from_text"]

#: the largest seed a scenario accepts (numpy's SeedSequence takes any, the store keeps a signed 64-bit integer)
MAX_SEED = 2**63 - 1
_TOP = re.compile(r"^top([1-9][0-9]?)$")


class SweepError(InputError):
    """A sweep file that does not validate: names the file, the field (and its line) and what is allowed."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


Share = Annotated[float, Field(ge=0, le=1)]
Months = Annotated[float, Field(gt=0, le=240)]


def _one_or_many(value: Any) -> Any:
    return [value] if isinstance(value, str | dict) else value


def _name_or_names(value: Any) -> Any:
    """One name where a list of names is expected (``stages: refining``); "all" and "topK" stay words."""
    return [value] if isinstance(value, str) and value != "all" and not _TOP.match(value) else value


def _distinct(values: list | None, what: str) -> None:
    if values is not None and len(set(values)) != len(values):
        raise ValueError(f"{what} lists a value twice")


class GridProbabilities(_Model):
    """How likely each disruption of a grid is: the chance of the event within the horizon per exporter
    (``default`` for exporters not named), and how severe and how long it is given that it happens (one
    probability per grid value, summing to 1). An axis with one value needs none."""

    exporters: dict[str, Share] = {}
    blocked: list[Share] | None = None
    lost: list[Share] | None = None
    duration_months: list[Share] | None = None

    @field_validator("blocked", "lost", "duration_months")
    @classmethod
    def _sum_to_one(cls, value):
        if value is not None and not math.isclose(sum(value), 1.0, abs_tol=1e-9):
            raise ValueError(f"probabilities must sum to 1 (these sum to {sum(value):.6g})")
        return value


class Grid(_Model):
    """One grid of disruptions: every combination of commodity, stage, exporter, severity and duration."""

    kind: Literal["export_restriction", "production_outage"]
    commodities: Literal["all"] | list[str] = "all"
    stages: Literal["all"] | list[str] = "all"
    #: "topK" = the K largest producers of each stage, or a list of countries
    exporters: str | list[str] = "top3"
    #: shares of the exporter's exports withheld (export_restriction)
    blocked: list[Share] | None = Field(default=None, min_length=1)
    #: shares of the country's capacity lost (production_outage)
    lost: list[Share] | None = Field(default=None, min_length=1)
    duration_months: list[Months] = Field(min_length=1)
    start_month: float = Field(default=1.0, ge=1, le=240)
    ease_months: float = Field(default=0.0, ge=0, le=240)
    #: countries or blocs an export restriction applies to ("all" = every other country)
    targets: Literal["all"] | list[str] = "all"
    probabilities: GridProbabilities | None = None

    _lists = field_validator("commodities", "stages", "exporters", "targets", mode="before")(_name_or_names)

    @field_validator("exporters")
    @classmethod
    def _top_or_list(cls, value):
        if isinstance(value, str) and not _TOP.match(value):
            raise ValueError("give topK (e.g. top3, the K largest producers of each stage) or a list of countries")
        if isinstance(value, list) and not value:
            raise ValueError("name at least one exporter")
        return value

    @model_validator(mode="after")
    def _severity_of_kind(self):
        wanted, other = ("blocked", "lost") if self.kind == "export_restriction" else ("lost", "blocked")
        if getattr(self, other) is not None:
            raise ValueError(f"a {self.kind} grid gives '{wanted}', not '{other}'")
        if getattr(self, wanted) is None:
            raise ValueError(f"a {self.kind} grid needs '{wanted}': a list of shares between 0 and 1")
        if self.kind == "production_outage" and self.targets != "all":
            raise ValueError("'targets' applies to export restrictions only")
        for name in ("commodities", "stages", "exporters", "targets", wanted, "duration_months"):
            value = getattr(self, name)
            _distinct(value if isinstance(value, list) else None, name)
        self._check_probabilities(wanted)
        return self

    def _check_probabilities(self, wanted: str) -> None:
        chances = self.probabilities
        if chances is None:
            return
        if getattr(chances, "lost" if wanted == "blocked" else "blocked") is not None:
            raise ValueError(f"probabilities: a {self.kind} grid weighs '{wanted}'")
        for axis in (wanted, "duration_months"):
            values, weights = getattr(self, axis), getattr(chances, axis)
            if weights is None and len(values) > 1:
                raise ValueError(f"probabilities.{axis}: give one probability per value ({len(values)})")
            if weights is not None and len(weights) != len(values):
                raise ValueError(f"probabilities.{axis}: {len(weights)} probabilities for {len(values)} values")

    @property
    def severities(self) -> list[float]:
        """The blocked or lost shares of the grid."""
        return list(self.blocked if self.kind == "export_restriction" else self.lost or [])

    @property
    def top(self) -> int | None:
        """K of ``exporters: topK``; None when exporters are listed."""
        match = _TOP.match(self.exporters) if isinstance(self.exporters, str) else None
        return int(match.group(1)) if match else None

    def severity_weights(self) -> list[float] | None:
        return self._weights("blocked" if self.kind == "export_restriction" else "lost")

    def duration_weights(self) -> list[float] | None:
        return self._weights("duration_months")

    def _weights(self, axis: str) -> list[float] | None:
        if self.probabilities is None:
            return None
        return getattr(self.probabilities, axis) or [1.0] * len(getattr(self, axis))


class Sweep(_Model):
    """A sweep file: what every scenario shares and the grids of disruptions to screen."""

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=64)
    description: str = ""
    samples: int = Field(default=1000, ge=1, le=1_000_000)
    horizon_months: int = Field(default=12, ge=1, le=240)
    seed: int = Field(default=1, ge=0, le=MAX_SEED)
    #: the data year baselines are calibrated on (latest with data when omitted)
    base_year: int | None = Field(default=None, ge=1990, le=2100)
    importers: list[str] = Field(min_length=1)
    grid: list[Grid] = Field(min_length=1)
    #: responses every scenario carries (a stockpile or new capacity applies to scenarios of its commodity)
    responses: Responses = Responses()
    price: PriceModel = PriceModel()
    #: scenarios per task; part of the results' layout, so changing it starts the results afresh
    batch_size: int = Field(default=20, ge=1, le=10_000)

    _lists = field_validator("importers", "grid", mode="before")(_one_or_many)

    @field_validator("importers")
    @classmethod
    def _distinct_importers(cls, value):
        _distinct(value, "importers")
        return value


# -- loading ------------------------------------------------------------------------------------------------------
def _field_path(location: tuple) -> tuple[str | int, ...]:
    """The user's field path from pydantic's location, without the names of union branches."""
    return tuple(
        item
        for item in location
        if isinstance(item, int) or (not any(c in item for c in "[(-") and item not in _BRANCHES)
    )


_BRANCHES = {"float", "int", "str", "list", "dict", "fixed", "uniform", "triangular", "normal", "lognormal"}


def _dotted(path: tuple[str | int, ...]) -> str:
    text = ""
    for item in path:
        text += f"[{item}]" if isinstance(item, int) else ("." if text else "") + item
    return text or "(top level)"


def _line_of(text: str | None, path: tuple[str | int, ...]) -> int | None:
    """The line of the deepest node of ``path`` that the YAML text has (``text`` has already passed
    :func:`parse_yaml`'s bounds)."""
    if not text:
        return None
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return None
    line = None
    for item in path:
        if isinstance(node, yaml.MappingNode):
            node = next((v for k, v in node.value if k.value == item), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(item, int) and item < len(node.value):
            node = node.value[item]
        else:
            node = None
        if node is None:
            break
        line = node.start_mark.line + 1
    return line


def _explain(error: ValidationError, origin: str, data: dict, text: str | None) -> SweepError:
    """One message for all validation errors, each with its field path, its line and what is allowed."""
    single_grid = isinstance(data.get("grid"), dict)
    messages: dict[str, list[str]] = {}
    for item in error.errors():
        path = _field_path(item["loc"])
        if single_grid and path[:2] == ("grid", 0):
            path = ("grid", *path[2:])  # the file gave one grid, not a list of them
        message = "unknown key" if item["type"] == "extra_forbidden" else item["msg"].removeprefix("Value error, ")
        line = _line_of(text, path)
        where = _dotted(path) + (f" (line {line})" if line else "")
        messages.setdefault(where, [])
        if message not in messages[where]:
            messages[where].append(message)
    lines = [f"{where}: {' or '.join(found)}" for where, found in messages.items()]
    return SweepError("invalid sweep:\n  " + "\n  ".join(lines), path=origin)


def _non_finite(node: Any, path: tuple = ()) -> list[tuple]:
    """Paths of every NaN or infinite number in a parsed document (YAML reads .nan and .inf as floats)."""
    if isinstance(node, dict):
        return [p for key, value in node.items() for p in _non_finite(value, (*path, str(key)))]
    if isinstance(node, list):
        return [p for i, value in enumerate(node) for p in _non_finite(value, (*path, i))]
    return [path] if isinstance(node, float) and not math.isfinite(node) else []


def parse_sweep(data: Any, origin: str = "sweep", text: str | None = None) -> Sweep:
    """Validate a sweep mapping; ``text`` (the YAML it came from) lets errors name lines."""
    if not isinstance(data, dict):
        raise SweepError("a sweep file must hold a mapping of keys (name, importers, grid, ...)", path=origin)
    bad = _non_finite(data)
    if bad:
        where = [_dotted(p) + (f" (line {line})" if (line := _line_of(text, p)) else "") for p in bad]
        raise SweepError(f"not a finite number: {', '.join(where)}", path=origin, expected="a finite number")
    try:
        return Sweep.model_validate(data)
    except ValidationError as exc:
        raise _explain(exc, origin, data, text) from None


def sweep_from_text(text: str, origin: str = "sweep") -> Sweep:
    """A sweep from YAML text (a file's or an upload's)."""
    return parse_sweep(parse_yaml(text, origin, SweepError), origin, text)


def load_sweep(path: str | Path) -> Sweep:
    """A sweep from a YAML file."""
    path = Path(path)
    if not path.is_file():
        raise SweepError("no such sweep file", path=path)
    from oresight.io.text import read_text

    return sweep_from_text(read_text(path), str(path))
