"""All of the model's randomness: one registry of named streams, derived from the run's seed.

Every random number a run uses comes from a stream named in ``STREAMS``. A stream is one
of two kinds:

- a **generator** stream gives a ``numpy.random.Generator`` per month, seeded by
  (seed, stream id, month); a rule draws whole arrays over agent *slots* from it, whose
  size does not depend on the policy (``Streams.at``);
- a **hashed** stream gives one uniform per (seed, stream id, month, agent id) by a
  counter-based hash, for draws over agents a policy picks out (the applicants of one
  instrument): each agent's draw is the same whoever else is drawn (``Streams.uniform``).
  A hashed stream may be a *family*, one member per key (the grant draws: one member per
  instrument).

Either way a run and its counterfactual (the same seed without a regime or an
instrument) see the same draws for the same agents: common random numbers, the policy
being the only difference between the two.

Mesa's own generators (``model.rng``, ``model.random``) are seeded with the same seed by
``ClusterModel(rng=seed)`` as Mesa expects, but **no rule draws from them**: all of the
model's draws come from here, so drawing from ``model.rng`` in a notebook or an app does
not change the model's outputs (``tests/test_streams.py`` checks both).
"""

from __future__ import annotations

import functools
import math
import zlib
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

__all__ = ["STREAMS", "Stream", "Streams", "hashed_uniform"]


@dataclass(frozen=True)
class Stream:
    """One named source of random numbers.

    Attributes:
        name: the name the code asks for (``"entry"``).
        id: the number mixed into the seed; fixed for good (never renumber a stream:
            that would change every run's outputs).
        kind: ``generator`` (arrays over slots, per month) or ``hashed`` (per agent id).
        user: the rule or step that draws from it, and what for.
        family: for hashed streams with one member per key (an instrument), True.

    """

    name: str
    id: int
    kind: Literal["generator", "hashed"]
    user: str
    family: bool = False


def _registry(*streams: Stream) -> dict[str, Stream]:
    by_name = {s.name: s for s in streams}
    ids = [s.id for s in streams]
    assert len(by_name) == len(streams) and len(set(ids)) == len(ids), "duplicate stream"
    return by_name


#: Every stream of the model. Add new streams with a new id; never renumber.
STREAMS: dict[str, Stream] = _registry(
    Stream("setup", 0, "generator", "rules.initial.populate: the initial firms and talent"),
    Stream("firm_inflow", 1, "generator", "ClusterModel: candidate firms per month"),
    Stream("entry", 2, "generator", "rules.entry.enter_firms: candidates' traits and shocks"),
    Stream("growth", 3, "generator", "rules.growth.grow_firms: growth shocks"),
    Stream("innovation", 4, "generator", "rules.innovation.innovate: patents, labels, pilots"),
    Stream("relocation", 5, "generator", "rules.relocation.relocate_firms: review and choice"),
    Stream("exit", 6, "generator", "rules.exits.exit_firms: closure draws"),
    Stream("talent_inflow", 7, "generator", "ClusterModel: candidate talent cohorts per month"),
    Stream("arrival", 8, "generator", "rules.labour.arrive: candidates' tier, residency, choice"),
    Stream("leaving", 9, "generator", "rules.labour.leave: who leaves Shanghai"),
    Stream(
        "search",
        10,
        "generator",
        "rules.labour: layoff order, on-the-job search, park choice, hiring order",
    ),
    Stream("loan", 101, "hashed", "policy.applications: a constrained firm takes a loan"),
    Stream("event_hosting", 102, "hashed", "policy.applications: a firm hosts an event"),
    Stream("standard", 103, "hashed", "policy.applications: a firm sets a standard"),
    Stream("quality_award", 104, "hashed", "policy.applications: a firm wins a quality award"),
    Stream("project_selection", 105, "hashed", "policy.applications: a firm's project is selected"),
    Stream(
        "talent_programme", 106, "hashed", "policy.applications: selection, municipal programme"
    ),
    Stream(
        "district_talent_programme",
        107,
        "hashed",
        "policy.applications: selection, district programme",
    ),
    Stream("exam_certification", 108, "hashed", "policy.applications: a talent passes an exam"),
    Stream("major_project", 109, "hashed", "policy.applications: a firm takes a major project"),
    Stream("ip_pilot", 110, "hashed", "policy.applications: a firm enters a national IP project"),
    Stream(
        "grant_approval",
        1000,
        "hashed",
        "policy.engine: approval of an application (one member per instrument)",
        family=True,
    ),
    Stream(
        "grant_priority",
        1001,
        "hashed",
        "policy.engine: place in a budget's queue (one member per instrument)",
        family=True,
    ),
)


@functools.cache
def _member_number(name: str, key: str) -> int:
    """``_stream_number`` of the member ``key`` of the family stream ``name`` (cached by name)."""
    return _stream_number(_get(name, "hashed"), key)


def _stream_number(stream: Stream, key: str | None) -> int:
    """The number a hashed stream (or a family member, by ``key``) mixes into the hash.

    Cached: the grant draws ask for every instrument's member every month.
    """
    if not stream.family:
        if key is not None:
            raise ValueError(f"stream {stream.name!r} has no members; do not pass a key")
        return stream.id
    if key is None:
        raise ValueError(f"stream {stream.name!r} is a family: pass the member's key")
    # 1000 + 4 * (crc32 of the key mod 100,000) + purpose (0 approval, 1 priority):
    # the numbering the grant draws have always had (changing it changes every run).
    return 1000 + (zlib.crc32(key.encode()) % 100_000) * 4 + (stream.id - 1000)


class Streams:
    """The run's streams: a generator per (stream, month), or hashed uniforms per agent."""

    def __init__(self, seed: int) -> None:
        self.seed = int(seed)
        self._seeds = _SeedStates(self.seed)
        #: the grant draws' month-0 hash keys per (family, members), for ``uniform_members``
        self._member_keys: dict[tuple[str, tuple[str, ...]], np.ndarray] = {}

    def at(self, name: str, month_index: int) -> np.random.Generator:
        """The generator of stream ``name`` at model month ``month_index`` (0 = start).

        The generator ``np.random.default_rng([seed, stream id, month_index + 1])`` gives,
        made from a seed state worked out in advance (``_SeedStates``): the same numbers,
        at a tenth of the cost.
        """
        return self._seeds.generator(_get(name, "generator").id, int(month_index))

    def uniform(
        self, name: str, month_index: int, ids: np.ndarray, key: str | None = None
    ) -> np.ndarray:
        """One uniform in [0, 1) per agent of ``ids`` from hashed stream ``name``.

        ``key`` names the member of a family stream (an instrument's ``regime.id``).
        """
        number = _stream_number(_get(name, "hashed"), key)
        return hashed_uniform(self.seed, number, int(month_index), ids)

    def below(self, name: str, month_index: int, ids: np.ndarray, rate: float) -> np.ndarray:
        """Mask over ``ids``: ``uniform(name, month_index, ids) < rate``, without the floats.

        A uniform of a hashed stream is ``k * 2**-53`` for the integer ``k`` the top 53
        bits of a 64-bit hash ``z`` give, so ``uniform < rate`` exactly when ``k <
        ceil(rate * 2**53)`` (``rate * 2**53`` is exact: a power-of-two scaling), that is
        when ``z < ceil(rate * 2**53) * 2**11``: one comparison of the hashes instead of a
        shift, a conversion, a product and a comparison. The same mask, to the bit.
        """
        number = _stream_number(_get(name, "hashed"), None)
        key = np.uint64(_hash_key(self.seed, number, int(month_index)))
        if not math.isfinite(rate):  # not a probability: as the uniforms would compare
            return _splitmix_uniform(key, ids) < rate
        limit = math.ceil(rate * 2.0**53) if rate > 0 else 0
        if limit >= 2**53:  # every uniform is below 1
            return np.ones(np.shape(ids), dtype=bool)
        return _splitmix_hash(key, ids) < np.uint64(limit << 11)

    def uniform_members(
        self,
        name: str,
        month_index: int,
        ids: np.ndarray,
        keys: list[str],
        bounds: np.ndarray | list[int],
    ) -> np.ndarray:
        """``uniform`` for several members of a family at once, in one pass over the ids.

        ``ids[bounds[k]:bounds[k + 1]]`` draw from member ``keys[k]``: the result equals
        the concatenation of ``uniform(name, month_index, ids[bounds[k]:bounds[k + 1]],
        key=keys[k])`` over ``k`` (each draw depends only on its own key and id).
        """
        # ``_hash_key(seed, member, t)`` of each member, as its month-0 key plus t (mod
        # 2**64, as uint64 arithmetic wraps): the month-0 keys are worked out once
        cache = (name, tuple(keys))
        start = self._member_keys.get(cache)
        if start is None:
            start = np.array(
                [_hash_key(self.seed, _member_number(name, k), 0) for k in keys], dtype=np.uint64
            )
            self._member_keys[cache] = start
        per_member = start + np.uint64(int(month_index) & 0xFFFFFFFFFFFFFFFF)
        counts = np.diff(np.asarray(bounds, dtype=np.int64))
        return _splitmix_uniform(np.repeat(per_member, counts), ids)


class _SeedStates:
    """The seed states of one run's generators, worked out for many months at once.

    ``np.random.default_rng([seed, stream, t + 1])`` spends most of its ~70 µs in
    ``numpy.random.SeedSequence`` (hashing the entropy into a pool, then the pool into
    the four 64-bit words PCG64 is seeded with), and a run opens about ten generators a
    month. The hashing is plain 32-bit arithmetic whose constants do not depend on the
    data (``_seed_sequence_words``), so it is done for a block of months of every
    generator stream in one pass over arrays (``_block_words``, kept per seed and block
    for the process: a run's counterfactual and the next run of the seed read them
    again); a generator is then ``PCG64`` seeded with its precomputed words
    (``_PrecomputedSeed``): the same state, hence the same numbers, as ``default_rng``
    gives (``tests/test_streams.py`` checks it against numpy's own).
    """

    #: months worked out at once, per stream (a block covers eight years)
    BLOCK = 96

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self._blocks: dict[int, np.ndarray] = {}

    def generator(self, stream_id: int, t: int) -> np.random.Generator:
        """``np.random.default_rng([seed, stream_id, t + 1])``, seeded from the block of ``t``."""
        row = _GENERATOR_ROW.get(stream_id)
        if row is None or not 0 <= t < 2**32 - 1:  # not a stream of the table: numpy's own
            return np.random.default_rng([self.seed, stream_id, t + 1])
        block, month = divmod(t, self.BLOCK)
        words = self._blocks.get(block)
        if words is None:
            words = self._blocks[block] = _block_words(self.seed, block, self.BLOCK)
        entropy = (self.seed, stream_id, t + 1)
        return np.random.Generator(np.random.PCG64(_PrecomputedSeed(entropy, words[row, month])))


#: The generator streams' ids, and the row of each in ``_block_words``.
_GENERATOR_IDS = tuple(s.id for s in STREAMS.values() if s.kind == "generator")
_GENERATOR_ROW = {stream_id: row for row, stream_id in enumerate(_GENERATOR_IDS)}


@functools.lru_cache(maxsize=32)
def _block_words(seed: int, block: int, size: int) -> np.ndarray:
    """The PCG64 seed words of every generator stream for months ``block * size`` on.

    ``out[row, j]`` is ``SeedSequence([seed, _GENERATOR_IDS[row], block * size + j +
    1]).generate_state(4, np.uint64)``: one pass of ``_seed_sequence_words`` over all
    streams and months (its cost is mostly Python's, whatever the number of rows).
    Read only; kept for the most recent seeds and blocks (a few kB each).
    """
    first = block * size
    months = np.arange(first + 1, first + size + 1, dtype=np.uint64)
    ids = np.repeat(np.array(_GENERATOR_IDS, dtype=np.uint32), size)
    words = _seed_sequence_words([seed, ids], np.tile(months, len(_GENERATOR_IDS)))
    out = words.reshape(len(_GENERATOR_IDS), size, 4)
    out.flags.writeable = False
    return out


_UINT64 = np.dtype(np.uint64)


class _PrecomputedSeed(np.random.bit_generator.ISpawnableSeedSequence):
    """A ``SeedSequence(entropy)`` whose PCG64 seed words were worked out in advance.

    ``PCG64`` asks its seed sequence for ``generate_state(4, np.uint64)``; that answer is
    the precomputed ``words``. Anything else (another size, ``spawn``) is asked of a real
    ``numpy.random.SeedSequence(entropy)``, so the object behaves as one in every way.
    """

    def __init__(self, entropy: tuple[int, ...], words: np.ndarray) -> None:
        self.entropy = entropy
        self._words = words
        self._real: np.random.SeedSequence | None = None

    def _sequence(self) -> np.random.SeedSequence:
        if self._real is None:
            self._real = np.random.SeedSequence(list(self.entropy))
        return self._real

    def generate_state(self, n_words: int, dtype: Any = np.uint32) -> np.ndarray:
        """The seed words (precomputed for PCG64's request), as ``SeedSequence`` gives them."""
        if n_words == 4 and (dtype is np.uint64 or np.dtype(dtype) == _UINT64):
            return self._words.copy()
        return self._sequence().generate_state(n_words, dtype)

    def spawn(self, n_children: int) -> list[np.random.SeedSequence]:
        """Child seed sequences, as ``SeedSequence(entropy).spawn`` gives them."""
        return self._sequence().spawn(n_children)


#: numpy's SeedSequence constants (numpy/random/bit_generator.pyx, after M.E. O'Neill's
#: seed_seq design): entropy hashing (A), state output (B), pool mixing (L, R)
_INIT_A, _MULT_A, _INIT_B, _MULT_B = 0x43B0D7E5, 0x931E8875, 0x8B51F9DD, 0x58F38DED
_MIX_L, _MIX_R = 0xCA01F9DD, 0x4973F715
_POOL = 4
_M32 = 0xFFFFFFFF


def _seed_sequence_words(head: list[int | np.ndarray], last: np.ndarray) -> np.ndarray:
    """``SeedSequence(head + [x]).generate_state(4, np.uint64)`` for every ``x`` of ``last``.

    Rows of the result (``len(last)`` x 4, uint64) are the seed words of PCG64. ``head``:
    non-negative ints (any size), or arrays with one value per row, each below 2**32
    (row ``i``'s entropy then has ``a[i]`` there); ``last``: each in [1, 2**32), so that
    every entropy has the same layout of 32-bit words. numpy's algorithm, run over
    arrays: uint32 array arithmetic wraps modulo 2**32, as the C code's does. The hash
    constants move the same way whatever the data, so they are plain Python ints.
    """
    words: list[np.ndarray | int] = []
    for v in head:
        if isinstance(v, np.ndarray):
            if v.size and not 0 <= int(v.min()) <= int(v.max()) <= _M32:
                raise ValueError("a seed word per row must lie in [0, 2**32)")
            words.append(v.astype(np.uint32))
        else:
            words.extend(_uint32_words(v))
    words.append(np.asarray(last, dtype=np.uint32))
    n = len(last)
    hash_const = _INIT_A

    def hashmix(value: np.ndarray | int) -> np.ndarray:
        nonlocal hash_const
        v = np.bitwise_xor(np.full(n, value, dtype=np.uint32), np.uint32(hash_const))
        hash_const = (hash_const * _MULT_A) & _M32
        v *= np.uint32(hash_const)
        v ^= v >> np.uint32(16)
        return v

    def mix(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        r = np.uint32(_MIX_L) * x - np.uint32(_MIX_R) * y
        r ^= r >> np.uint32(16)
        return r

    pool = [hashmix(words[i] if i < len(words) else 0) for i in range(_POOL)]
    for src in range(_POOL):
        for dst in range(_POOL):
            if src != dst:
                pool[dst] = mix(pool[dst], hashmix(pool[src]))
    for src in range(_POOL, len(words)):
        for dst in range(_POOL):
            pool[dst] = mix(pool[dst], hashmix(words[src]))
    out = np.empty((n, 2 * _POOL), dtype=np.uint32)
    hash_const = _INIT_B
    for i in range(2 * _POOL):
        v = pool[i % _POOL] ^ np.uint32(hash_const)
        hash_const = (hash_const * _MULT_B) & _M32
        v *= np.uint32(hash_const)
        v ^= v >> np.uint32(16)
        out[:, i] = v
    # pairs of 32-bit words, low word first, are the 64-bit words (numpy's '<u4' -> '<u8')
    return out.astype("<u4").view("<u8").astype(np.uint64)


def _uint32_words(value: int) -> list[int]:
    """``value`` as numpy's SeedSequence splits an int: 32-bit words, lowest first."""
    if value < 0:
        raise ValueError(f"a seed must be non-negative, not {value}")
    out = [value & _M32]
    value >>= 32
    while value:
        out.append(value & _M32)
        value >>= 32
    return out


def _get(name: str, kind: str) -> Stream:
    stream = STREAMS.get(name)
    if stream is None:
        raise KeyError(f"no random stream {name!r}; streams: {', '.join(STREAMS)}")
    if stream.kind != kind:
        raise ValueError(f"stream {name!r} is a {stream.kind} stream, not a {kind} one")
    return stream


_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31, _S11 = (np.uint64(k) for k in (30, 27, 31, 11))


def hashed_uniform(seed: int, stream: int, month: int, ids: np.ndarray) -> np.ndarray:
    """Uniforms in [0, 1) that depend only on (seed, stream number, month, id): splitmix64.

    The primitive under ``Streams.uniform``: each agent's draw is the same in a run and
    its counterfactual, whoever else is drawn, and no array over every slot is needed.
    """
    return _splitmix_uniform(np.uint64(_hash_key(seed, stream, month)), ids)


def _hash_key(seed: int, stream: int, month: int) -> int:
    """The 64-bit key of (seed, stream number, month) that the ids are hashed with."""
    return (seed * 1_000_003 + stream * 10_007 + month) & 0xFFFFFFFFFFFFFFFF


def _splitmix_uniform(key: np.uint64 | np.ndarray, ids: np.ndarray) -> np.ndarray:
    """Uniforms in [0, 1) from splitmix64 of ``ids`` under ``key`` (one key, or one per id)."""
    z = _splitmix_hash(key, ids)
    z >>= _S11
    out = z.astype(np.float64)
    out *= 1.0 / 9007199254740992.0  # 2**-53
    return out


def _splitmix_hash(key: np.uint64 | np.ndarray, ids: np.ndarray) -> np.ndarray:
    """The 64-bit splitmix64 hashes of ``ids`` under ``key`` (a new array)."""
    # A new array, updated in place below. Arithmetic on uint64 *arrays* wraps modulo
    # 2**64 without a warning (numpy checks overflow only on scalars), as splitmix64
    # wants. int64 ids are read as uint64 (a view: the same 64 bits, hence the values
    # ``astype`` gives), so the first product makes the array: one pass fewer.
    a = np.asarray(ids)
    z = np.multiply(a.view(np.uint64) if a.dtype == np.int64 else a.astype(np.uint64), _GOLDEN)
    z += key
    shifted = np.empty_like(z)  # one buffer for the three shifts
    z ^= np.right_shift(z, _S30, out=shifted)
    z *= _MIX1
    z ^= np.right_shift(z, _S27, out=shifted)
    z *= _MIX2
    z ^= np.right_shift(z, _S31, out=shifted)
    return z
