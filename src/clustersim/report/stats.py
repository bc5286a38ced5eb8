"""The few statistics a report uses: spread across seeds, bootstrap intervals, rank correlation.

Two different intervals appear in a report, and they answer different questions:

- the **90% interval across seeds** (``spread``): where the middle 90% of the runs lie,
  i.e. how much the outcome varies from one random history to another;
- the **95% bootstrap confidence interval** of a mean difference (``bootstrap_mean_ci``):
  how precisely the seeds pin down the average difference. A difference whose interval
  holds zero "cannot be told from zero" with these seeds.

Every bootstrap uses a fixed random generator, so the same sweep gives the same report.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
from scipy import stats

#: Share of runs inside the interval shown across seeds.
SPREAD_LEVEL = 0.90
#: Confidence level of the bootstrap intervals of mean differences.
CI_LEVEL = 0.95
#: Bootstrap resamples (scipy's default).
RESAMPLES = 9999
#: Seed of the bootstrap's random generator: fixed, so reports are reproducible.
BOOTSTRAP_SEED = 20240101
#: Below this many pairs a percentile bootstrap interval is rough (few distinct resamples).
FEW_PAIRS = 10


@dataclass(frozen=True)
class Spread:
    """Mean and the central ``SPREAD_LEVEL`` interval of values across runs.

    ``low``/``high`` are NaN with fewer than two values (no interval from one seed).
    """

    mean: float
    low: float
    high: float
    n: int


def spread(values: np.ndarray | list[float]) -> Spread:
    """Mean and the 5th-95th percentile (linear interpolation) of the finite values."""
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    if x.size == 0:
        return Spread(math.nan, math.nan, math.nan, 0)
    if x.size == 1:
        return Spread(float(x[0]), math.nan, math.nan, 1)
    tail = (1 - SPREAD_LEVEL) / 2
    low, high = np.quantile(x, [tail, 1 - tail])
    return Spread(float(x.mean()), float(low), float(high), int(x.size))


@dataclass(frozen=True)
class Estimate:
    """A mean difference over pairs with its bootstrap confidence interval.

    Attributes:
        mean: the mean difference.
        low, high: the ``CI_LEVEL`` percentile bootstrap interval (NaN with < 2 pairs).
        n: the number of pairs.
        verdict: ``higher``, ``lower``, ``indistinguishable`` (the interval holds zero),
            ``zero`` (exactly zero in every pair), ``single`` (one pair: no interval) or
            ``none`` (no pair).

    """

    mean: float
    low: float
    high: float
    n: int
    verdict: str

    @property
    def distinguishable(self) -> bool:
        """True when the interval lies wholly above or below zero."""
        return self.verdict in ("higher", "lower")


def _verdict(mean: float, low: float, high: float, n: int) -> str:
    if n == 0:
        return "none"
    if n == 1:
        return "single"
    if low == high == mean == 0.0:
        return "zero"
    if low > 0:
        return "higher"
    if high < 0:
        return "lower"
    return "indistinguishable"


def bootstrap_mean_ci(
    treated: np.ndarray | list[float],
    control: np.ndarray | list[float] | None = None,
    *,
    confidence: float = CI_LEVEL,
    seed: int = BOOTSTRAP_SEED,
) -> Estimate:
    """Mean of ``treated - control`` (paired by position) with a percentile bootstrap CI.

    ``scipy.stats.bootstrap`` with ``paired=True`` resamples whole pairs (seeds), so the
    interval keeps each seed's variant and baseline together. Without ``control`` the
    values are differences already (a run minus its own counterfactual). Pairs with a
    missing value are dropped. When every difference is equal the interval is that value.
    """
    x = np.asarray(treated, dtype=float)
    y = np.zeros_like(x) if control is None else np.asarray(control, dtype=float)
    if x.shape != y.shape:
        raise ValueError(f"{x.size} treated values but {y.size} control values: pair them first")
    keep = np.isfinite(x) & np.isfinite(y)
    x, y = x[keep], y[keep]
    n = int(x.size)
    if n == 0:
        return Estimate(math.nan, math.nan, math.nan, 0, "none")
    d = x - y
    mean = float(d.mean())
    if n == 1:
        return Estimate(mean, math.nan, math.nan, 1, "single")
    if np.ptp(d) == 0:
        return Estimate(mean, mean, mean, n, _verdict(mean, mean, mean, n))

    def mean_difference(a: np.ndarray, b: np.ndarray, axis: int = -1) -> np.ndarray:
        return np.mean(a - b, axis=axis)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # degenerate resamples with very few seeds
        res = stats.bootstrap(
            (x, y),
            mean_difference,
            paired=True,
            vectorized=True,
            confidence_level=confidence,
            n_resamples=RESAMPLES,
            method="percentile",
            rng=np.random.default_rng(seed),
        )
    low, high = float(res.confidence_interval.low), float(res.confidence_interval.high)
    return Estimate(mean, low, high, n, _verdict(mean, low, high, n))


def spearman(x: np.ndarray | list[float], y: np.ndarray | list[float]) -> float:
    """Spearman's rank correlation of two columns (NaN if either is constant or n < 3)."""
    a, b = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    keep = np.isfinite(a) & np.isfinite(b)
    a, b = a[keep], b[keep]
    if a.size < 3 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return math.nan
    return float(stats.spearmanr(a, b).statistic)


__all__ = [
    "CI_LEVEL",
    "FEW_PAIRS",
    "SPREAD_LEVEL",
    "Estimate",
    "Spread",
    "bootstrap_mean_ci",
    "spearman",
    "spread",
]
