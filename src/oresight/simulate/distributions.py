"""Uncertain numbers: a fixed value or a distribution, drawn once per Monte Carlo sample.

Every uncertain number draws from its own random stream, keyed by the scenario's seed and the number's field
path ("shocks[0].blocked"). Changing one number, adding a shock or asking for more samples therefore leaves
every other number's draws as they were: two variants of a scenario differ only where their inputs differ
(common random numbers), and the first n samples of a run with more samples are the samples of a run with n.

>>> import numpy as np
>>> d = Triangular(dist="triangular", low=0.5, mode=0.75, high=0.95)
>>> x = draw(d, 1000, seed=1, path="shocks[0].blocked")
>>> bool(x.min() >= 0.5 and x.max() <= 0.95)
True
>>> bool(np.array_equal(draw(d, 10, seed=1, path="shocks[0].blocked"), x[:10]))
True
>>> draw(0.3, 3, seed=1, path="x").tolist()
[0.3, 0.3, 0.3]
"""

from __future__ import annotations

import math
import zlib
from abc import ABC, abstractmethod
from typing import Annotated, Literal

import numpy as np
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "Distribution",
    "Fixed",
    "Fraction",
    "Lognormal",
    "Months",
    "NonNegative",
    "Normal",
    "Number",
    "Triangular",
    "Uniform",
    "draw",
    "support",
]


class _Dist(BaseModel, ABC):
    """What every kind of uncertain number offers; the kinds below are the ones a scenario file can name.
    Every parameter is a finite number (NaN and infinity are refused)."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    @abstractmethod
    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray: ...

    @abstractmethod
    def support(self) -> tuple[float, float]: ...

    @abstractmethod
    def central(self) -> float: ...


class Fixed(_Dist):
    dist: Literal["fixed"]
    value: float

    def sample(self, rng, n):
        return np.full(n, self.value)

    def support(self):
        return self.value, self.value

    def central(self):
        return self.value


class Uniform(_Dist):
    dist: Literal["uniform"]
    low: float
    high: float

    @model_validator(mode="after")
    def _ordered(self):
        if self.low > self.high:
            raise ValueError(f"low ({self.low}) must not exceed high ({self.high})")
        return self

    def sample(self, rng, n):
        return rng.uniform(self.low, self.high, n)

    def support(self):
        return self.low, self.high

    def central(self):
        return (self.low + self.high) / 2


class Triangular(_Dist):
    dist: Literal["triangular"]
    low: float
    mode: float
    high: float

    @model_validator(mode="after")
    def _ordered(self):
        if not self.low <= self.mode <= self.high:
            raise ValueError(f"need low <= mode <= high, got {self.low}, {self.mode}, {self.high}")
        return self

    def sample(self, rng, n):
        if self.low == self.high:
            return np.full(n, self.low)
        return rng.triangular(self.low, self.mode, self.high, n)

    def support(self):
        return self.low, self.high

    def central(self):
        return self.mode


class Normal(_Dist):
    """A normal distribution, optionally truncated to [low, high] by clipping."""

    dist: Literal["normal"]
    mean: float
    sd: float = Field(ge=0)
    low: float | None = None
    high: float | None = None

    def sample(self, rng, n):
        values = rng.normal(self.mean, self.sd, n)
        return np.clip(
            values, self.low if self.low is not None else -np.inf, self.high if self.high is not None else np.inf
        )

    def support(self):
        if self.sd == 0:
            return self.mean, self.mean
        return (self.low if self.low is not None else -math.inf, self.high if self.high is not None else math.inf)

    def central(self):
        return self.mean


class Lognormal(_Dist):
    """A lognormal distribution given by its median and the standard deviation of its logarithm."""

    dist: Literal["lognormal"]
    median: float = Field(gt=0)
    #: at most 10: exp(10 × a normal draw) already spans 40 orders of magnitude
    sigma: float = Field(ge=0, le=10)
    high: float | None = None

    def sample(self, rng, n):
        values = self.median * np.exp(self.sigma * rng.standard_normal(n))
        return np.minimum(values, self.high) if self.high is not None else values

    def support(self):
        if self.sigma == 0:
            return self.median, self.median
        return 0.0, self.high if self.high is not None else math.inf

    def central(self):
        return self.median


Distribution = Annotated[Fixed | Uniform | Triangular | Normal | Lognormal, Field(discriminator="dist")]
Number = float | Distribution


def support(value: Number) -> tuple[float, float]:
    """The smallest and largest value a number can take."""
    return (float(value), float(value)) if isinstance(value, int | float) else value.support()


def central(value: Number) -> float:
    """A typical value: the number itself, or the mode, mean or median of its distribution."""
    return float(value) if isinstance(value, int | float) else value.central()


def _within(low: float, high: float, what: str):
    def check(value: Number) -> Number:
        lo, hi = support(value)
        if math.isnan(lo) or math.isnan(hi):
            raise ValueError("must be a number, not NaN")
        if lo < low or hi > high:
            bounded = (
                "" if isinstance(value, int | float) else " (give a normal or lognormal distribution low/high bounds)"
            )
            raise ValueError(f"must be {what}; this value ranges over [{lo}, {hi}]{bounded}")
        return value

    return check


#: a share between 0 and 1 (blocked fraction, coverage, lost capacity, spare capacity)
Fraction = Annotated[Number, AfterValidator(_within(0.0, 1.0, "a fraction between 0 and 1"))]
#: the largest quantity a scenario may give (tonnes, tonnes a year): far above any mineral's world output, far
#: below where arithmetic on it would overflow to infinity
MAX_QUANTITY = 1e12
#: the latest month a scenario may name (a start, a duration, a ramp): a century
MAX_MONTHS = 1200
#: tonnes and other quantities that cannot be negative
NonNegative = Annotated[Number, AfterValidator(_within(0.0, MAX_QUANTITY, f"zero or more, at most {MAX_QUANTITY:g}"))]
#: months from the start of the horizon, durations and ramps in months
Months = Annotated[Number, AfterValidator(_within(0.0, MAX_MONTHS, f"a number of months from 0 to {MAX_MONTHS}"))]
#: elasticities of demand: zero or negative
Elasticity = Annotated[Number, AfterValidator(_within(-math.inf, 0.0, "zero or negative (an elasticity of demand)"))]


def draw(value: Number, n: int, *, seed: int, path: str) -> np.ndarray:
    """``n`` draws of a number: constant for a fixed value, else from the number's own stream (see module doc)."""
    if isinstance(value, int | float):
        return np.full(n, float(value))
    stream = np.random.SeedSequence(seed, spawn_key=(zlib.crc32(path.encode()),))
    return value.sample(np.random.default_rng(stream), n).astype(float)
