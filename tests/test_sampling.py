"""The whole-array sampling helpers: the fast forms give exactly what the plain forms give."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from clustersim.rules.sampling import (
    Float32Uniforms,
    below,
    categorical,
    categorical_by_row,
    categorical_fixed,
    laplace_at,
    logit_probs,
    order_by_group,
    poisson,
    rank_within_groups,
    round_by_cumulative,
    round_by_cumulative_rows,
    row_cumsum,
    row_sums,
)
from tests.conftest import cases


@given(st.integers(1, 12), st.integers(0, 200), st.integers(0, 2**32 - 1))
@cases(100)
def test_narrow_row_sums_equal_numpys(k: int, n: int, seed: int) -> None:
    """Row sums and cumulative sums, by numpy's loop (a few rows) or column by column."""
    rng = np.random.default_rng(seed)
    ints = rng.integers(0, 1000, (n, k))
    floats = rng.random((n, k))
    flags = rng.random((n, k)) < 0.5
    if k <= 6:
        np.testing.assert_array_equal(row_sums(ints), ints.sum(axis=1))
        np.testing.assert_array_equal(row_sums(floats), floats.sum(axis=1))
    np.testing.assert_array_equal(row_cumsum(floats), np.cumsum(floats, axis=1))
    np.testing.assert_array_equal(row_cumsum(ints), np.cumsum(ints, axis=1))
    np.testing.assert_array_equal(row_cumsum(flags), np.cumsum(flags, axis=1))
    assert row_cumsum(flags).dtype == np.int64


@given(st.integers(2, 12), st.integers(0, 200), st.integers(0, 2**32 - 1))
@cases(100)
def test_fixed_categorical_equals_the_row_form(k: int, n: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    probs = rng.dirichlet(np.ones(k))
    u = rng.random(n)
    u[: n // 4] = np.cumsum(probs)[rng.integers(0, k, n // 4)]  # draws exactly on a boundary
    np.testing.assert_array_equal(
        categorical_fixed(probs, u), categorical(np.tile(probs, (n, 1)), u)
    )


@given(st.integers(0, 300), st.integers(1, 2**20), st.integers(0, 2**32 - 1))
@cases(100)
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


@given(st.integers(0, 300), st.integers(1, 40), st.integers(0, 2**32 - 1))
@cases(100)
def test_ranks_within_groups_follow_lexsort(n: int, n_groups: int, seed: int) -> None:
    """Each item's rank is its place in its group, ordered by priority then position."""
    rng = np.random.default_rng(seed)
    groups = rng.integers(0, n_groups, n)
    priority = rng.random(n, dtype=np.float32)
    priority[: n // 3] = priority[:1]  # ties
    order, rank = rank_within_groups(groups, priority)
    np.testing.assert_array_equal(order, np.lexsort((priority, groups)))
    for g in np.unique(groups):
        members = np.lexsort((priority[groups == g],))
        np.testing.assert_array_equal(rank[groups == g][members], np.arange(len(members)))


@given(st.integers(2, 12), st.integers(1, 5), st.integers(0, 300), st.integers(0, 2**32 - 1))
@cases(100)
def test_categorical_by_row_equals_the_row_form(k: int, rows: int, n: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    utility = rng.normal(0, 3, (rows, k))
    utility[rng.random((rows, k)) < 0.2] = -np.inf
    probs = logit_probs(utility, 0.7)
    row = rng.integers(0, rows, n)
    u = rng.random(n, dtype=np.float32)
    np.testing.assert_array_equal(
        logit_probs(utility[row], 0.7), probs[row]
    )  # a row's probabilities do not depend on the other rows
    np.testing.assert_array_equal(categorical_by_row(probs, row, u), categorical(probs[row], u))
    # draws on the float32 steps at and next to a boundary (the fast form's exact thresholds)
    top = np.float32(1 - 2**-24)  # the largest float32 draw
    edge = np.minimum(np.cumsum(probs, axis=1)[row, rng.integers(0, k, n)].astype(np.float32), top)
    near = np.clip(np.nextafter(edge, edge + rng.choice(np.float32([-1, 1]), n)), 0, top)
    for v in (edge, near):
        np.testing.assert_array_equal(categorical_by_row(probs, row, v), categorical(probs[row], v))
    # any other draws (float64, or not on the float32 steps): the row-by-row search
    for other in (u.astype(np.float64) / 3, u * np.float32(0.7)):
        np.testing.assert_array_equal(
            categorical_by_row(probs, row, other), categorical(probs[row], other)
        )


@given(st.integers(1, 6), st.integers(1, 5), st.integers(0, 300), st.integers(0, 2**32 - 1))
@cases(100)
def test_rounding_by_shared_rows_equals_the_row_form(k: int, rows: int, n: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    shares = rng.dirichlet(np.ones(k), rows)
    row = rng.integers(0, rows, n)
    total = np.ceil(rng.gamma(1.0, 40.0, n))
    np.testing.assert_array_equal(
        round_by_cumulative_rows(total, row_cumsum(shares), row),
        round_by_cumulative(total, shares[row]),
    )


@given(st.integers(0, 500), st.integers(0, 2**32 - 1))
@cases(100)
def test_poisson_counts_invert_the_cdf(n: int, seed: int) -> None:
    """Each count k is the first with u <= P(X <= k), for small and large rates."""
    rng = np.random.default_rng(seed)
    u = rng.random(n, dtype=np.float32)
    lam = rng.gamma(0.5, 4.0, n)
    lam[: n // 5] = rng.choice([0.0, 1e-300, 1e-12, 1e-6, 0.002, 0.3], n // 5)  # tiny rates
    edge = np.exp(-lam[: n // 3]).astype(np.float32)  # draws at P(X = 0), and next to it
    u[: n // 3] = np.where(rng.random(n // 3) < 0.5, edge, np.nextafter(edge, np.float32(0)))
    u = np.minimum(u, np.float32(1 - 2**-24))
    k = poisson(u, lam)
    for i in range(n):
        p, c, j = np.exp(-lam[i]), np.exp(-lam[i]), 0
        while u[i] > c and j < 200:
            j += 1
            p = p * lam[i] / j
            c = c + p
        assert k[i] == j, (u[i], lam[i])


@given(st.integers(0, 2**32 - 1))
@cases(100)
def test_below_compares_draws_as_float64(seed: int) -> None:
    """The float32 form of ``u < threshold`` gives float64's answer, at every boundary."""
    rng = np.random.default_rng(seed)
    u = rng.random(2000, dtype=np.float32)
    thresholds = [float(u[0]), float(u[1]) + 1e-12, float(u[2]) - 1e-12, rng.random(), 0.0, 2.0]
    thresholds += [float(np.nextafter(u[3], np.float32(1))), -1.0, 1e300]
    for t in thresholds:
        np.testing.assert_array_equal(below(u, t), u < np.float64(t))


@given(st.integers(1, 3000), st.integers(0, 2**32 - 1))
@cases(50)
def test_laplace_at_gives_numpys_laplace_values(n: int, seed: int) -> None:
    """The values at the slots asked for are numpy's own Laplace draws, to the bit."""
    at = np.flatnonzero(np.random.default_rng(seed + 1).random(n) < 0.3)
    for scale in (1.0 / np.sqrt(2.0), 2.5):
        want = np.random.default_rng(seed).laplace(0.0, scale, n)[at]
        got = laplace_at(np.random.default_rng(seed), scale, n, at)
        np.testing.assert_array_equal(got.view(np.int64), want.view(np.int64))


def test_laplace_at_skips_zero_uniforms_as_numpy_does() -> None:
    """A uniform of exactly 0 is skipped: every later value comes one uniform later."""

    class Uniforms:
        def __init__(self, values: list[float]) -> None:
            self.values = values

        def random(self, k: int) -> np.ndarray:
            out, self.values = self.values[:k], self.values[k:]
            return np.array(out)

    stream = [0.25, 0.0, 0.75, 0.0, 0.0, 0.1, 0.9]
    got = laplace_at(Uniforms(stream), 1.0, 4, np.array([0, 1, 2, 3]))  # type: ignore[arg-type]
    want = [math.log(0.5), -math.log(0.5), math.log(0.2), -math.log(2.0 - 0.9 - 0.9)]
    np.testing.assert_array_equal(got, want)  # the uniforms 0.25, 0.75, 0.1, 0.9
    with pytest.raises(IndexError):
        laplace_at(np.random.default_rng(0), 1.0, 3, np.array([3]))


@given(st.lists(st.integers(0, 500), min_size=1, max_size=4), st.integers(0, 2**32 - 1))
@cases(50)
def test_draws_kept_as_words_are_numpys_float32_draws(sizes: list[int], seed: int) -> None:
    """Each part's values are those of rng.random(size, float32) in turn, odd sizes too."""
    rng = np.random.default_rng(seed)
    expected = [rng.random(n, dtype=np.float32) for n in sizes]
    got = Float32Uniforms.draw(np.random.default_rng(seed), *sizes)
    for draws, values in zip(got, expected, strict=True):
        assert len(draws) == len(values)
        every = np.arange(len(values))
        np.testing.assert_array_equal(draws[every].view(np.int32), values.view(np.int32))
        np.testing.assert_array_equal(draws[1:][every[1:] - 1], values[1:])
        thresholds = [*values[:3].tolist(), 0.0, 0.5, 1.0, 2.0, -1.0, float("nan"), 1e-9]
        thresholds += [float(np.nextafter(np.float32(0.3), np.float32(1))), 1.0 - 2**-25]
        for t in thresholds:
            np.testing.assert_array_equal(below(draws, t), values < np.float64(t))


@given(st.integers(0, 300), st.integers(1, 2**20), st.integers(0, 2**32 - 1))
@cases(50)
def test_draws_kept_as_words_order_and_choose_as_their_values(
    n: int, n_groups: int, seed: int
) -> None:
    """Samplers given draws as words (their steps read off the words) match the floats."""
    (draws,) = Float32Uniforms.draw(np.random.default_rng(seed), n + 7)
    slots = np.random.default_rng(seed + 1).permutation(n + 7)[:n]
    words, values = draws.take(slots), draws[slots]
    np.testing.assert_array_equal(words.values().view(np.int32), values.view(np.int32))
    np.testing.assert_array_equal(words.steps(), (values * 2**24).astype(np.int64))
    groups = np.random.default_rng(seed + 2).integers(0, n_groups, n)
    np.testing.assert_array_equal(order_by_group(groups, words), np.lexsort((values, groups)))
    np.testing.assert_array_equal(
        rank_within_groups(groups, words)[1], rank_within_groups(groups, values)[1]
    )
    probs = logit_probs(np.random.default_rng(seed + 3).normal(0, 2, (3, 5)))
    row = groups % 3
    np.testing.assert_array_equal(
        categorical_by_row(probs, row, words), categorical(probs[row], values)
    )
    np.testing.assert_array_equal(  # the lexsort fallback (groups too wide to pack)
        order_by_group(groups + 2**40, words), np.lexsort((values, groups))
    )
