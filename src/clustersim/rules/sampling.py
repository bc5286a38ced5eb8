"""Whole-array sampling helpers that keep common random numbers intact.

The rules draw one uniform per agent *slot* and turn it into the outcome by inversion,
instead of calling samplers whose consumption of random numbers depends on parameters
(numpy's Poisson, for one). A policy that changes one firm's rate then cannot shift
the draws of any other firm.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np


def row_sums(a: np.ndarray) -> np.ndarray:
    """Sum of each row of a narrow 2-D array (a few columns: tiers, parks), left to right.

    Same result as ``a.sum(axis=1)`` for integers, and for floats with fewer than 8
    columns, but several times faster: numpy's per-row loop is slow when rows are short.
    """
    out = a[:, 0].copy()
    for k in range(1, a.shape[1]):
        out += a[:, k]
    return out


class Float32Uniforms:
    """Float32 uniform draws over agent slots, kept as the 32-bit words numpy makes them of.

    ``rng.random(n, dtype=np.float32)`` turns each 32-bit output of the generator into
    ``(word >> 8) * 2**-24``. Making that float for every slot costs about as much as
    drawing the word, while a month reads most draws only through a comparison (is a
    slot's draw below a hazard?) and the values of a few slots (the searchers', the
    firms'). So the words are kept: ``draws[slots]`` gives the float32 values of those
    slots, to the bit those of ``rng.random``; ``draws[a:b]`` is a view of a range of
    slots; ``below(draws, threshold)`` compares the words themselves.
    """

    def __init__(self, words: np.ndarray) -> None:
        """Draws of the uint32 ``words`` (one per slot), as numpy's float32 sampler reads them."""
        self.words = words

    @classmethod
    def draw(cls, rng: np.random.Generator, *sizes: int) -> tuple[Float32Uniforms, ...]:
        """What ``rng.random(size, dtype=np.float32)`` gives for each of ``sizes`` in turn.

        For a fresh generator (nothing drawn from it yet). A PCG64 generator makes its
        32-bit outputs in pairs, the low half of a 64-bit output first and its high half
        next, so the words of all ``sizes`` are one call's 64-bit integers read as pairs of
        32-bit ones (twice as fast as float32 draws). Those 64-bit outputs are taken
        straight from the bit generator (``random_raw``: what ``rng.integers(0, 2**64,
        dtype=np.uint64)`` gives, without its range handling).
        """
        total = int(sum(sizes))
        pairs = rng.bit_generator.random_raw((total + 1) // 2)
        words = pairs.astype("<u8", copy=False).view("<u4")
        bounds = itertools.accumulate(sizes, initial=0)
        return tuple(cls(words[a:b]) for a, b in itertools.pairwise(bounds))

    def __len__(self) -> int:
        return len(self.words)

    def __getitem__(self, index: slice | np.ndarray) -> Any:
        """A range of slots (``draws[a:b]``, draws again), or the float32 values of ``slots``."""
        if isinstance(index, slice):
            return Float32Uniforms(self.words[index])
        return self._values(self.words[index])

    def take(self, slots: np.ndarray) -> Float32Uniforms:
        """The draws of ``slots``, still kept as words (``draws[slots]`` gives their values)."""
        return Float32Uniforms(self.words.take(slots))

    def values(self) -> np.ndarray:
        """The draws as float32 numbers, those of ``rng.random(dtype=np.float32)``."""
        return self._values(self.words)

    def steps(self) -> np.ndarray:
        """Each draw as its whole number of steps of 2**-24 (int64), as ``_float32_steps``.

        The step is the word's top 24 bits: no float is made, and none needs checking.
        """
        return (self.words >> _WORD_TO_STEP).astype(np.int64)

    def steps_above(self, k: int) -> np.ndarray:
        """Mask of the draws of more than ``k`` steps of 2**-24 (draws above ``k * 2**-24``).

        Compared as words: ``word >> 8 > k`` exactly when ``word >= (k + 1) << 8``.
        """
        if k < 0:
            return np.ones(len(self.words), dtype=bool)
        if k >= _FLOAT32_STEPS - 1:
            return np.zeros(len(self.words), dtype=bool)
        return self.words >= np.uint32((k + 1) << 8)

    @staticmethod
    def _values(words: np.ndarray) -> np.ndarray:
        steps = words >> _WORD_TO_STEP
        # each step is a whole number below 2**24, a float32 exactly; the scaling by a
        # power of two is exact too
        return np.multiply(steps, np.float32(1.0 / _FLOAT32_STEPS), dtype=np.float32)

    def below(self, threshold: float) -> np.ndarray:
        """Mask of the draws below ``threshold``, compared as float64 numbers.

        A draw is ``k * 2**-24`` for the step ``k = word >> 8``, so it is below the
        threshold exactly when ``k < ceil(threshold * 2**24)`` (a power-of-two scaling,
        exact), that is when ``word < ceil(threshold * 2**24) * 2**8``.
        """
        if not threshold > 0:  # none (NaN included, as a comparison with NaN is false)
            return np.zeros(len(self.words), dtype=bool)
        limit = math.ceil(threshold * _FLOAT32_STEPS) if threshold < 1 else _FLOAT32_STEPS
        if limit >= _FLOAT32_STEPS:  # every draw (at most 1 - 2**-24) is below
            return np.ones(len(self.words), dtype=bool)
        return self.words < np.uint32(limit << 8)


#: Uniform draws over slots: a float32 array, or the same draws kept as words.
Draws = np.ndarray | Float32Uniforms


def below(u: Draws, threshold: float) -> np.ndarray:
    """Mask of the float32 draws ``u`` below ``threshold``, compared as float64 numbers.

    The same mask as ``u < np.float64(threshold)``, computed on float32 numbers (no
    conversion of every draw): ``u < threshold`` holds exactly when ``u`` is below the
    smallest float32 at or above the threshold, there being no float32 in between.
    Draws kept as words (``Float32Uniforms``) are compared as words.
    """
    if isinstance(u, Float32Uniforms):
        return u.below(threshold)
    if u.dtype != np.float32:
        return u < np.float64(threshold)
    with np.errstate(over="ignore"):  # a threshold beyond float32's range becomes inf
        limit = np.float32(threshold)
    if np.float64(limit) < threshold:
        limit = np.nextafter(limit, np.float32(np.inf))
    return u < limit


def row_cumsum(a: np.ndarray) -> np.ndarray:
    """``np.cumsum(a, axis=1)`` column by column: the same numbers, faster for narrow rows.

    Both add each row's entries one after the other, left to right; for a few rows
    (the search's tiers x parks, a kind's tier mix), numpy's own loop is the faster.
    """
    dtype = np.result_type(a, np.int64) if a.dtype == bool else a.dtype
    if len(a) <= _FEW_ROWS:
        return a.cumsum(axis=1, dtype=dtype)
    out = np.array(a, dtype=dtype)
    for k in range(1, out.shape[1]):
        out[:, k] += out[:, k - 1]
    return out


#: Up to this many rows, ``row_cumsum`` leaves the loop over rows to numpy.
_FEW_ROWS = 64


def categorical(probs: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Sample one category per row of ``probs`` (rows sum to 1) with uniforms ``u``."""
    cum = row_cumsum(probs)
    cum[:, -1] = 1.0 + 1e-12  # guard against round-off: the last category takes the rest
    below = cum < u[:, None]
    out = below[:, 0].astype(np.int64)
    for k in range(1, below.shape[1]):
        out += below[:, k]
    return out


def categorical_by_row(probs: np.ndarray, row: np.ndarray, u: Draws) -> np.ndarray:
    """``categorical(probs[row], u)``, for many draws from a few distinct rows of ``probs``.

    The cumulative probabilities are worked out once per row of ``probs`` (the same
    numbers as row by row). Each draw's category is the count of its row's cumulative
    probabilities below its uniform: for float32 uniform draws (the labour market's), all
    rows are searched at once, with exact integer thresholds (``_float32_steps``);
    otherwise row by row, by a binary search (a row's cumulative probabilities never
    decrease).
    """
    cum = row_cumsum(probs)
    cum[:, -1] = 1.0 + 1e-12  # as in categorical: the last category takes the rest
    steps = _float32_steps(u) if len(cum) and np.isfinite(cum).all() else None
    if steps is not None:
        # cum < u  <=>  cum * 2**24 < steps  <=>  floor(cum * 2**24) + 1 <= steps, all
        # exact (a power-of-two scaling, whole numbers); rows apart by 2**25 > any threshold
        threshold = np.floor(cum * np.float64(_FLOAT32_STEPS)).astype(np.int64) + 1
        width = np.int64(2 * _FLOAT32_STEPS)
        keys = (threshold + np.arange(len(cum), dtype=np.int64)[:, None] * width).ravel()
        row = row.astype(np.int64, copy=False)
        found = keys.searchsorted(steps + row * width, side="right")
        return found - row * cum.shape[1]
    out = np.empty(len(u), dtype=np.int64)
    for r in range(len(cum)):
        draws = (row == r).nonzero()[0]
        out[draws] = np.searchsorted(cum[r], u[draws], side="left")  # count of cum < u
    return out


def categorical_fixed(probs: np.ndarray, u: np.ndarray) -> np.ndarray:
    """``categorical`` when every row has the same probabilities ``probs`` (a 1-D array)."""
    cum = np.asarray(probs, dtype=np.float64).cumsum()
    cum[-1] = 1.0 + 1e-12
    return cum.searchsorted(u, side="left").astype(np.int64, copy=False)  # count of cum < u


def logit_probs(utility: np.ndarray, scale: float = 1.0) -> np.ndarray:
    """Multinomial-logit choice probabilities per row; -inf marks an unavailable option."""
    z = utility / scale
    zmax = z.max(axis=1, keepdims=True)
    zmax[~np.isfinite(zmax)] = 0.0
    e = np.exp(z - zmax)
    total = e.sum(axis=1, keepdims=True)
    total[total == 0] = 1.0
    return e / total


def poisson(u: np.ndarray, lam: np.ndarray) -> np.ndarray:
    """Poisson counts by inversion of the CDF (exact; fast for the small rates used here).

    Each step works only on the draws still above their CDF: with small rates, most
    counts are settled at 0 by the first comparison. Even that one needs ``exp(-lam)``
    only where a draw exceeds ``1 - lam``, a lower bound of it (less a margin far above
    any rounding of either): a few in a hundred, so it is worked out for those alone.
    """
    lam = np.broadcast_to(np.asarray(lam, dtype=np.float64), u.shape)
    k = np.zeros(u.shape, dtype=np.int64)
    maybe = (u > (1.0 - lam) - 1e-12).nonzero()[0]
    p = np.exp(-lam[maybe])
    above = u[maybe] > p
    todo = maybe[above]  # the draws whose count is at least 1
    p, cdf, lam, u = p[above], p[above], lam[todo], u[todo]
    step = 0
    while len(todo) and step < 200:
        step += 1
        p = p * lam / step
        cdf = cdf + p
        k[todo] += 1
        more = u > cdf
        todo, p, cdf, lam, u = todo[more], p[more], cdf[more], lam[more], u[more]
    return k


def laplace_at(rng: np.random.Generator, scale: float, n: int, at: np.ndarray) -> np.ndarray:
    """``rng.laplace(0.0, scale, n)[at]``, without working out the values nobody reads.

    numpy's Laplace sampler turns the uniforms of ``rng.random()`` one by one into values,
    by ``loc - scale * log(2 - U - U)`` for U >= 0.5 and ``loc + scale * log(U + U)`` for
    0 < U < 0.5, with C's ``log``; a uniform of exactly 0 is skipped (drawn again). So
    the uniforms up to the last index asked for are drawn (several times cheaper than
    Laplace values), and only the values at ``at`` are worked out, their logarithms one
    by one with ``math.log``: the same C function, hence the same bits (numpy's
    vectorised ``np.log`` can differ from it in the last bit). ``at``: indices below ``n``.
    """
    if len(at) == 0:
        return np.empty(0)
    need = int(at.max()) + 1
    if need > n or int(at.min()) < 0:
        raise IndexError(f"indices {int(at.min())}..{need - 1} outside 0..{n - 1}")
    u = rng.random(need)
    if not u.all():  # skip the zeros, as numpy does, drawing on to replace them
        u = u[u != 0.0]
        while len(u) < need:
            more = rng.random(need - len(u))
            u = np.concatenate([u, more[more != 0.0]])
    loc, b = 0.0, float(scale)
    x = u[at]
    high = x >= 0.5
    # the arguments and the scaling are single IEEE operations, the same in numpy as in C;
    # only the logarithm is C's own, one value at a time
    argument = np.where(high, 2.0 - x - x, x + x)
    log = np.fromiter(map(math.log, argument.tolist()), dtype=np.float64, count=len(argument))
    scaled = b * log
    return np.where(high, loc - scaled, loc + scaled)


def rank_within_groups(groups: np.ndarray, priority: Draws) -> tuple[np.ndarray, np.ndarray]:
    """Order items by (group, priority); return that order and each item's rank in its group.

    ``rank[i]`` is 0 for the highest-priority (lowest value) item of its group, 1 for the
    next, and so on. Used to fill vacancies and to pick whom a firm lays off.
    """
    order = order_by_group(groups, priority)
    g = groups.take(order)
    n = len(g)
    position = np.arange(n)
    # each item's group starts at the last position (so far) where the group changes
    start = np.zeros(n, dtype=np.int64)
    changes = (g[1:] != g[:-1]).nonzero()[0] + 1
    start[changes] = changes
    first = np.maximum.accumulate(start) if n else start
    rank = np.empty(n, dtype=np.int64)
    rank[order] = position - first
    return order, rank


#: A float32 uniform draw is a multiple of 2**-24 (numpy draws 24 random bits).
_FLOAT32_STEPS = 1 << 24
#: A 32-bit word's draw is its top 24 bits: ``word >> 8`` steps of 2**-24.
_WORD_TO_STEP = np.uint32(8)


def _float32_steps(u: Draws) -> np.ndarray | None:
    """Float32 uniform draws as whole numbers of steps of 2**-24 (int64), exactly; else None.

    None when ``u`` is empty, not float32 or holds a value that is not such a draw
    (negative, 1 or more, or between two steps). Draws kept as words are such draws by
    construction: their steps are read off the words (``Float32Uniforms.steps``).
    """
    if len(u) == 0:
        return None
    if isinstance(u, Float32Uniforms):
        return u.steps()
    if u.dtype != np.float32:
        return None
    scaled = u * np.float32(_FLOAT32_STEPS)  # exact: a power-of-two scaling
    steps = scaled.astype(np.int64)
    if (
        bool((steps == scaled).all())
        and int(steps.min()) >= 0
        and int(steps.max()) < _FLOAT32_STEPS
    ):
        return steps
    return None


def order_by_group(groups: np.ndarray, priority: Draws) -> np.ndarray:
    """``np.lexsort((priority, groups))``: order by group, then priority, ties by position.

    The same permutation, several times faster when the priorities are float32 uniform
    draws (as the labour market's are) and the groups small non-negative integers: each
    item's (group, draw, position) is packed into one distinct int64 and the packed keys
    are sorted with numpy's fastest (unstable) sort, which needs no tie-breaking because
    no two keys are equal. Any other input falls back to ``np.lexsort``.
    """
    n = len(groups)
    if n > 1 and groups.dtype.kind in "iu":
        draw = _float32_steps(priority)
        low, high = int(groups.min()), int(groups.max())
        position_bits = (n - 1).bit_length()
        if draw is not None and low >= 0 and high.bit_length() + 24 + position_bits <= 63:
            key = groups.astype(np.int64) << 24
            key |= draw
            key <<= position_bits
            key |= np.arange(n, dtype=np.int64)
            key.sort()
            key &= (1 << position_bits) - 1
            return key
    if isinstance(priority, Float32Uniforms):
        priority = priority.values()
    return np.lexsort((priority, groups))


def round_by_cumulative_rows(
    total: np.ndarray, cumulative: np.ndarray, row: np.ndarray
) -> np.ndarray:
    """``round_by_cumulative(total, cumulative_mix=cumulative[row])``, column by column.

    For many items sharing a few rows of cumulative shares (a tier mix per firm kind):
    the same numbers, computed one column at a time on 1-D arrays, which is several
    times faster than gathering a narrow row of shares per item.
    """
    parts = np.empty((len(total), cumulative.shape[1]), dtype=np.int64)
    before: np.ndarray | None = None
    for j in range(cumulative.shape[1]):
        cum = np.rint(total * cumulative[:, j][row]).astype(np.int64)
        parts[:, j] = cum if before is None else cum - before
        before = cum
    return parts


def round_by_cumulative(
    total: np.ndarray, shares: np.ndarray | None = None, cumulative_mix: np.ndarray | None = None
) -> np.ndarray:
    """Split each ``total`` into integer parts by ``shares`` (rows), summing to round(total).

    ``cumulative_mix``: ``row_cumsum(shares)``, when the caller has it already.
    """
    if cumulative_mix is None:
        cumulative_mix = row_cumsum(shares)
    cum = np.rint(total[:, None] * cumulative_mix).astype(np.int64)
    parts = cum.copy()  # np.diff(cum, axis=1, prepend=0), without the concatenation
    parts[:, 1:] -= cum[:, :-1]
    return parts
