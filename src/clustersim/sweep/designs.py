"""Quasi-Monte Carlo designs over behavioural parameters, as the jobs of a sweep.

A design answers "which assumptions drive the result" without listing values by hand:
each varied parameter is a ``Dimension`` with a range; ``unit_sample`` draws a Sobol,
Latin-hypercube or Halton sample of the unit cube (``scipy.stats.qmc``) with a fixed
seed, so the same design comes back every time; ``Dimension.scale`` maps it onto the
ranges (uniform, log-uniform, or whole numbers) and each point becomes a list of Hydra
overrides. Values are written with a fixed number of significant digits, so a job's
folder name (its settings) is short, readable and the same on every rerun.

``plan_jobs`` turns parsed Hydra overrides into the job list: ``interval(lo,hi)`` sweeps
are the design's dimensions (``tag(log,interval(lo,hi))`` for log-uniform,
``tag(int,interval(lo,hi))`` for whole numbers), choice and range sweeps
(``policy=none,all_three``, ``seed=range(0,4)``) are crossed with every design point (the
same points for each, so comparisons are paired), and plain values are passed through.
The ``qmc`` Hydra sweeper (``hydra_plugins.clustersim_qmc_sweeper``) is a thin shell
around it.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

#: Sampling methods: Sobol (scrambled, balanced for powers of two), Latin hypercube
#: (any size, each range cut into ``samples`` strata), Halton (any size).
METHODS = ("sobol", "lhs", "halton")


class DesignError(ValueError):
    """A design that cannot be drawn; the message names the setting, value and rule."""


@dataclass(frozen=True)
class Dimension:
    """One parameter varied by a design.

    Attributes:
        key: the config key it overrides, e.g. ``behavior.entry.but_for_share``.
        low, high: the range of values (both included for whole numbers).
        log: sample ``log(value)`` uniformly (the range must be positive).
        integer: whole numbers only.

    """

    key: str
    low: float
    high: float
    log: bool = False
    integer: bool = False

    def __post_init__(self) -> None:
        if not (math.isfinite(self.low) and math.isfinite(self.high) and self.low < self.high):
            raise DesignError(
                f"{self.key} = interval({self.low}, {self.high}): the lower end must be "
                "below the upper end, both finite"
            )
        if self.log and self.low <= 0:
            raise DesignError(
                f"{self.key} = tag(log, interval({self.low}, {self.high})): a log range "
                "must be positive"
            )

    def scale(self, unit: np.ndarray) -> np.ndarray:
        """Map points of [0, 1) onto this dimension's range."""
        if self.integer:
            lo, hi = math.ceil(self.low), math.floor(self.high)
            if self.log:
                edges = np.exp(np.log(lo) + unit * (np.log(hi + 1) - np.log(lo)))
                return np.clip(np.floor(edges), lo, hi)
            return np.clip(np.floor(lo + unit * (hi - lo + 1)), lo, hi)
        if self.log:
            return np.exp(np.log(self.low) + unit * (np.log(self.high) - np.log(self.low)))
        return self.low + unit * (self.high - self.low)

    def text(self, value: float, digits: int) -> str:
        """Return the override value text: a whole number, or ``digits`` significant digits."""
        if self.integer:
            return str(int(value))
        text = format(float(value), f".{digits}g")
        if float(text) < self.low:  # rounding must not leave the range
            text = repr(float(self.low))
        elif float(text) > self.high:
            text = repr(float(self.high))
        return text


def unit_sample(
    method: str, samples: int, dims: int, seed: int, scramble: bool = True
) -> np.ndarray:
    """Return a ``(samples, dims)`` QMC sample of the unit cube, the same for the same seed."""
    from scipy.stats import qmc

    if method not in METHODS:
        raise DesignError(f"method = {method!r}: must be one of {', '.join(METHODS)}")
    if samples < 1:
        raise DesignError(f"samples = {samples}: must be at least 1")
    if dims < 1:
        raise DesignError("a design needs at least one interval(...) parameter")
    rng = np.random.default_rng(seed)
    engines: dict[str, Any] = {"sobol": qmc.Sobol, "lhs": qmc.LatinHypercube, "halton": qmc.Halton}
    try:
        engine = engines[method](dims, scramble=scramble, rng=rng)
    except TypeError:  # scipy < 1.15 calls it seed
        engine = engines[method](dims, scramble=scramble, seed=rng)
    if method == "sobol":
        power = samples.bit_length() - 1
        if 2**power != samples:
            raise DesignError(
                f"samples = {samples}: a Sobol design keeps its balance only with a power "
                f"of two (e.g. {2**power} or {2 ** (power + 1)}); or use method=lhs"
            )
        return engine.random_base2(power)
    return engine.random(samples)


def design_points(
    dims: Sequence[Dimension],
    *,
    method: str,
    samples: int,
    seed: int,
    scramble: bool = True,
    digits: int = 6,
) -> list[list[str]]:
    """Return the design's points, each as a list of ``key=value`` overrides."""
    if not 2 <= digits <= 17:
        raise DesignError(f"digits = {digits}: must be between 2 and 17")
    unit = unit_sample(method, samples, len(dims), seed, scramble)
    columns = [dim.scale(unit[:, i]) for i, dim in enumerate(dims)]
    points = [
        [f"{dim.key}={dim.text(columns[i][row], digits)}" for i, dim in enumerate(dims)]
        for row in range(samples)
    ]
    if len({tuple(p) for p in points}) < len(points):
        raise DesignError(
            f"digits = {digits}: two design points round to the same values; use more digits "
            "or fewer samples"
        )
    return points


def plan_jobs(
    overrides: Sequence[Any],
    *,
    method: str,
    samples: int,
    seed: int,
    scramble: bool = True,
    digits: int = 6,
) -> tuple[list[list[str]], list[Dimension]]:
    """Return every job's overrides and the design's dimensions.

    ``overrides`` are Hydra ``Override`` objects (``OverridesParser.parse_overrides``).
    """
    dims: list[Dimension] = []
    grid: dict[str, list[str]] = {}
    for ov in overrides:
        key = ov.get_key_element()
        if ov.is_sweep_override() and ov.value_type.name == "INTERVAL_SWEEP":
            sweep = ov.value()
            unknown = set(sweep.tags) - {"log", "int"}
            if unknown:
                raise DesignError(
                    f"{key}: unknown tag(s) {sorted(unknown)}; allowed tags are log and int"
                )
            dims.append(
                Dimension(
                    key,
                    float(sweep.start),
                    float(sweep.end),
                    "log" in sweep.tags,
                    "int" in sweep.tags,
                )
            )
        elif ov.is_sweep_override():
            if not ov.is_discrete_sweep():
                raise DesignError(f"{key}: sweep type {ov.value_type.name} is not supported")
            grid[key] = [f"{key}={v}" for v in ov.sweep_string_iterator()]
        else:
            grid[key] = [f"{key}={ov.get_value_element_as_str()}"]
    if not dims:
        raise DesignError(
            "a QMC design needs at least one parameter given as interval(low,high), e.g. "
            "behavior.entry.but_for_share='interval(0.02,0.7)'"
        )
    keys = [d.key for d in dims]
    if len(set(keys)) < len(keys):
        raise DesignError(f"a parameter is given twice: {sorted(keys)}")
    points = design_points(
        dims, method=method, samples=samples, seed=seed, scramble=scramble, digits=digits
    )
    jobs = [list(combo) + point for combo in itertools.product(*grid.values()) for point in points]
    return jobs, dims


def count_jobs(overrides: Sequence[Any], samples: int) -> int:
    """Return the number of jobs ``plan_jobs`` makes, without drawing the design."""
    n = samples
    for ov in overrides:
        if ov.is_sweep_override() and ov.value_type.name != "INTERVAL_SWEEP":
            n *= len(list(ov.sweep_string_iterator()))
    return n


def covering_subset(
    batch: Sequence[Sequence[str]], ignore_keys: Sequence[str] = ()
) -> list[list[str]]:
    """Return the first jobs of ``batch`` that together use every ``key=value`` at least once.

    Checking that a sweep's configs compose needs one composition per distinct setting, not
    one per job: a grid of 5 policies x 20 seeds is covered by 24 of its 100 jobs. Keys in
    ``ignore_keys`` (a design's sampled numbers, checked otherwise) do not count.
    """
    ignored = set(ignore_keys)
    seen: set[str] = set()
    subset = []
    for job in batch:
        pairs = {o for o in job if o.partition("=")[0] not in ignored}
        if not subset or pairs - seen:
            subset.append(list(job))
            seen |= pairs
    return subset
