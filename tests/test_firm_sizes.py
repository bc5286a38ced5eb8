"""Firm sizes and growth: a heavy, stable right tail; tent-shaped growth calmer for large firms.

Axtell (2001) finds firm sizes close to Zipf; Stanley et al. (1996) and Bottazzi and
Secchi (2003) tent-shaped (Laplace) growth rates whose dispersion falls with size;
Richiardi (2004) that Gibrat growth without entry/exit thresholds explodes or collapses.
A growth rule with monthly Normal-like shocks, head counts in blocks of a cohort, or no
size scaling fails these. The same measures, over 20 seeds of the full world, are in
docs/validation.md (scripts/validation.py).
"""

from __future__ import annotations

import numpy as np
import pytest

from clustersim import validation as v
from tests.conftest import finished

#: A smaller Shanghai (a third of the firms and people), to test over several seeds fast.
SMALL = ("world=shanghai", "world.scale=0.3", "policy=none")
SEEDS = range(4)


@pytest.fixture(scope="module")
def small_growth() -> list:
    return [v.yearly_growth(finished(*SMALL, f"seed={s}").firms_yearly()) for s in SEEDS]


def test_right_tail_is_near_zipf_and_stable_through_2027() -> None:
    yearly = finished("world=shanghai").firms_yearly()
    first = v.hill(yearly[yearly["month"] == "2020-12"]["employees"].to_numpy())
    last = v.hill(yearly[yearly["month"] == "2027-12"]["employees"].to_numpy())
    assert 0.8 <= first <= 1.3 and 0.8 <= last <= 1.3, (first, last)  # Axtell: 1.06
    assert abs(last - first) < 0.1, (first, last)  # neither exploding nor collapsing
    sizes = yearly[yearly["month"] == "2027-12"]["employees"]
    assert sizes.max() > 50 * sizes.median()


def test_head_counts_move_in_small_steps_not_blocks(small_growth: list) -> None:
    for growth in small_growth:
        assert v.zero_growth_share(growth) < 0.10  # 48% with blocks of 5 and a 15% band


def test_growth_rates_are_laplace_not_normal_in_every_seed(small_growth: list) -> None:
    for growth in small_growth:
        changed = growth["growth"].to_numpy()
        fit = v.laplace_vs_normal(changed[changed != 0])
        assert fit.laplace_better, fit


def test_growth_dispersion_falls_with_size(small_growth: list) -> None:
    for growth in small_growth:
        slope, table = v.dispersion_slope(growth)
        assert slope < -0.05, table  # s.d. ~ size^-beta with beta > 0
        assert table["sd"].iloc[-1] < 0.8 * table["sd"].iloc[0], table


def test_laplace_vs_normal_tells_the_two_apart() -> None:
    rng = np.random.default_rng(0)
    assert v.laplace_vs_normal(rng.laplace(0, 1, 2000)).laplace_better
    assert not v.laplace_vs_normal(rng.normal(0, 1, 2000)).laplace_better
