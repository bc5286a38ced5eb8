"""Firm sizes: a heavy, stable right tail; tent-shaped growth whose variance falls with size.

Axtell (2001) finds firm sizes close to Zipf; Stanley et al. (1996) tent-shaped growth
rates with volatility falling with size; Richiardi (2004) that Gibrat growth without
entry/exit thresholds explodes or collapses. A broken growth rule fails these.
"""

from __future__ import annotations

import numpy as np

from tests.conftest import finished


def _hill(sizes: np.ndarray, top: float = 0.1) -> float:
    """Hill estimator of the tail exponent over the largest ``top`` share of firms."""
    s = np.sort(sizes)[::-1]
    k = max(10, int(len(s) * top))
    return float(1.0 / np.mean(np.log(s[:k] / s[k])))


def test_right_tail_is_heavy_and_stable_through_2027() -> None:
    yearly = finished("world=shanghai").firms_yearly()
    tails = {m: _hill(g["employees"].to_numpy()) for m, g in yearly.groupby("month")}
    assert all(0.7 < a < 2.0 for a in tails.values()), tails  # heavy: near Zipf, not thin
    first, last = tails["2020-12"], tails["2027-12"]
    assert abs(last - first) < 0.4, tails  # stable: neither exploding nor collapsing
    sizes = yearly[yearly["month"] == "2027-12"]["employees"]
    assert sizes.max() > 50 * sizes.median()


def test_growth_rates_are_tent_shaped_and_calmer_for_large_firms() -> None:
    yearly = finished("world=shanghai").firms_yearly()
    a = yearly[yearly["month"] == "2024-12"].set_index("firm_id")["target_employees"]
    b = yearly[yearly["month"] == "2025-12"].set_index("firm_id")["target_employees"]
    both = a.index.intersection(b.index)
    size, growth = a[both].to_numpy(), np.log(b[both].to_numpy() / a[both].to_numpy())
    centred = growth - growth.mean()
    kurtosis = np.mean(centred**4) / np.mean(centred**2) ** 2
    assert kurtosis > 3.5  # fatter than a normal's 3: tent-shaped (Laplace has 6)
    small, large = growth[size <= np.quantile(size, 0.5)], growth[size >= np.quantile(size, 0.9)]
    assert large.std() < 0.8 * small.std()
