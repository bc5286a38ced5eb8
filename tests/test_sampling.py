"""The whole-array sampling helpers: the fast forms give exactly what the plain forms give."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from clustersim.rules.sampling import (
    categorical,
    categorical_fixed,
    order_by_group,
    row_cumsum,
    row_sums,
)


@given(st.integers(1, 6), st.integers(0, 50), st.integers(0, 2**32 - 1))
@settings(max_examples=100, deadline=None)
def test_narrow_row_sums_equal_numpys(k: int, n: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    ints = rng.integers(0, 1000, (n, k))
    floats = rng.random((n, k))
    np.testing.assert_array_equal(row_sums(ints), ints.sum(axis=1))
    np.testing.assert_array_equal(row_sums(floats), floats.sum(axis=1))
    np.testing.assert_array_equal(row_cumsum(floats), np.cumsum(floats, axis=1))


@given(st.integers(2, 12), st.integers(0, 200), st.integers(0, 2**32 - 1))
@settings(max_examples=100, deadline=None)
def test_fixed_categorical_equals_the_row_form(k: int, n: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    probs = rng.dirichlet(np.ones(k))
    u = rng.random(n)
    u[: n // 4] = np.cumsum(probs)[rng.integers(0, k, n // 4)]  # draws exactly on a boundary
    np.testing.assert_array_equal(
        categorical_fixed(probs, u), categorical(np.tile(probs, (n, 1)), u)
    )


@given(st.integers(0, 300), st.integers(1, 2**20), st.integers(0, 2**32 - 1))
@settings(max_examples=100, deadline=None)
def test_group_order_equals_lexsort(n: int, n_groups: int, seed: int) -> None:
    """The packed-key sort orders exactly as ``np.lexsort``, ties by position included."""
    rng = np.random.default_rng(seed)
    groups = rng.integers(0, n_groups, n)
    draws = rng.random(n, dtype=np.float32)
    draws[: n // 3] = draws[:1]  # ties within a group
    groups[: n // 5] = groups[:1]
    for priority in (draws, draws.astype(np.float64), draws * np.float32(3.5) - 1):
        np.testing.assert_array_equal(
            order_by_group(groups, priority), np.lexsort((priority, groups))
        )


def test_categorical_follows_the_probabilities() -> None:
    rng = np.random.default_rng(0)
    probs = np.array([0.1, 0.6, 0.3])
    counts = np.bincount(categorical_fixed(probs, rng.random(200_000)), minlength=3) / 200_000
    np.testing.assert_allclose(counts, probs, atol=0.005)
