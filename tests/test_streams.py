"""The one registry of random streams: named, numbered once, and the only source of draws."""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st_

from clustersim.model import ClusterModel
from clustersim.streams import (
    STREAMS,
    Streams,
    _PrecomputedSeed,
    _seed_sequence_words,
    hashed_uniform,
)
from tests.conftest import cases, scenario


def test_hashed_uniforms_are_uniform_and_keyed() -> None:
    ids = np.arange(100_000)
    u = hashed_uniform(7, 3, 12, ids)
    assert u.min() >= 0.0 and u.max() < 1.0
    assert abs(u.mean() - 0.5) < 0.005 and abs(u.var() - 1 / 12) < 0.002
    # an agent's draw depends on its id and key, not on who else is drawn
    np.testing.assert_array_equal(hashed_uniform(7, 3, 12, ids[::7]), u[::7])
    for other in [(8, 3, 12), (7, 4, 12), (7, 3, 13)]:
        assert np.mean(hashed_uniform(*other, ids) == u) < 0.001


def test_every_stream_has_its_own_number() -> None:
    ids = [s.id for s in STREAMS.values()]
    assert len(set(ids)) == len(ids)
    # family members (one per instrument) never collide with a plain hashed stream
    plain = {s.id for s in STREAMS.values() if s.kind == "hashed" and not s.family}
    assert all(i < 1000 for i in plain)


def test_streams_differ_by_name_month_and_key() -> None:
    st = Streams(3)
    a = st.at("entry", 5).random(1000)
    assert not np.array_equal(a, st.at("growth", 5).random(1000))
    assert not np.array_equal(a, st.at("entry", 6).random(1000))
    np.testing.assert_array_equal(a, Streams(3).at("entry", 5).random(1000))
    ids = np.arange(1000)
    one = st.uniform("grant_approval", 5, ids, key="r.a")
    assert not np.array_equal(one, st.uniform("grant_approval", 5, ids, key="r.b"))
    assert not np.array_equal(one, st.uniform("grant_priority", 5, ids, key="r.a"))


def test_several_family_members_at_once_draw_as_each_alone() -> None:
    st = Streams(11)
    ids = np.array([3, 1, 4, 1, 5, 9, 2, 6, 5, 3], dtype=np.int64)
    keys, bounds = ["r.a", "r.b", "q.c", "r.d"], [0, 4, 4, 9, 10]  # r.b has no ids
    together = st.uniform_members("grant_priority", 7, ids, keys, bounds)
    alone = [
        st.uniform("grant_priority", 7, ids[s:e], key=k)
        for k, s, e in zip(keys, bounds[:-1], bounds[1:], strict=True)
    ]
    np.testing.assert_array_equal(together, np.concatenate(alone))
    assert st.uniform_members("grant_priority", 7, ids[:0], ["r.a"], [0, 0]).shape == (0,)


@cases(60)
@given(
    seed=st_.one_of(st_.integers(0, 2**32), st_.integers(0, 2**200)),
    stream=st_.sampled_from([n for n, s in STREAMS.items() if s.kind == "generator"]),
    month=st_.integers(0, 1000),
)
def test_a_stream_gives_numpys_own_generator(seed: int, stream: str, month: int) -> None:
    """``Streams.at`` (seeded from precomputed words) draws what ``default_rng`` draws.

    Any seed numpy accepts (several 32-bit words included), any stream, any month (the
    first of a block of months and the ones after it).
    """
    numpy_own = np.random.default_rng([seed, STREAMS[stream].id, month + 1])
    ours = Streams(seed).at(stream, month)
    assert ours.bit_generator.state == numpy_own.bit_generator.state
    np.testing.assert_array_equal(ours.random(7), numpy_own.random(7))
    np.testing.assert_array_equal(ours.integers(0, 10**9, 5), numpy_own.integers(0, 10**9, 5))


def test_precomputed_seed_words_are_seed_sequences() -> None:
    """The words hashed over arrays are ``SeedSequence.generate_state(4, uint64)``'s, and the
    seed object answers every other request as a real ``SeedSequence``."""
    months = np.array([1, 2, 3, 96, 97, 2**32 - 1], dtype=np.uint64)
    for head in ([0, 0], [7, 3], [2**40 + 9, 10], [2**64, 1, 2]):
        words = _seed_sequence_words(head, months)
        for row, x in zip(words, months.tolist(), strict=True):
            real = np.random.SeedSequence([*head, x])
            np.testing.assert_array_equal(row, real.generate_state(4, np.uint64))
    # a word of the entropy that differs from row to row (every stream at once)
    ids = np.array([0, 3, 10, 2**32 - 1], dtype=np.uint32)
    words = _seed_sequence_words([2**40 + 9, np.repeat(ids, 2)], np.tile(months[:2], 4))
    for row, (i, x) in zip(words, [(i, x) for i in ids.tolist() for x in (1, 2)], strict=True):
        real = np.random.SeedSequence([2**40 + 9, i, x])
        np.testing.assert_array_equal(row, real.generate_state(4, np.uint64))
    entropy = (5, 3, 8)
    seed = _PrecomputedSeed(entropy, _seed_sequence_words([5, 3], np.array([8]))[0])
    real = np.random.SeedSequence(list(entropy))
    np.testing.assert_array_equal(seed.generate_state(8), real.generate_state(8))
    (child,) = seed.spawn(1)
    assert child.generate_state(2).tolist() == real.spawn(1)[0].generate_state(2).tolist()
    with pytest.raises(ValueError, match="non-negative"):
        _seed_sequence_words([-1], months)


def test_asking_for_a_stream_wrongly_is_an_error() -> None:
    st = Streams(0)
    with pytest.raises(KeyError, match="no random stream 'nope'"):
        st.at("nope", 0)
    with pytest.raises(ValueError, match="hashed"):
        st.at("loan", 0)
    with pytest.raises(ValueError, match="family"):
        st.uniform("grant_approval", 0, np.arange(3))
    with pytest.raises(ValueError, match="no members"):
        st.uniform("loan", 0, np.arange(3), key="x")


def test_no_rule_draws_from_mesas_generators() -> None:
    """``Model(rng=seed)`` seeds Mesa's generators; the model's draws all come from streams."""
    fresh = ClusterModel(scenario("world=toy", "policy=huangpu_2024", "seed=4"))
    rng_state = fresh.rng.bit_generator.state
    random_state = fresh.random.getstate()
    fresh.run()
    assert fresh.rng.bit_generator.state == rng_state
    assert fresh.random.getstate() == random_state
    # so drawing from them (a notebook, an app) leaves the outputs as they were
    other = ClusterModel(scenario("world=toy", "policy=huangpu_2024", "seed=4"))
    other.rng.random(1000)
    other.random.random()
    other.run()
    pd.testing.assert_frame_equal(fresh.monthly(), other.monthly())
    pd.testing.assert_frame_equal(fresh.firms_yearly(), other.firms_yearly())


def test_every_generator_stream_has_one_user(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each rule draws from a stream of its own, and no stream serves two places."""
    users: dict[str, set[str]] = {}
    real = Streams.at

    def spy(self: Streams, name: str, month_index: int) -> np.random.Generator:
        caller = sys._getframe(1).f_code
        users.setdefault(name, set()).add(f"{caller.co_filename}:{caller.co_name}")
        return real(self, name, month_index)

    monkeypatch.setattr(Streams, "at", spy)
    ClusterModel(
        scenario(
            "world=toy", "policy=all_three", "world.end=2020-06", "run.report_months=[2020-06]"
        )
    ).run()
    generators = {n for n, s in STREAMS.items() if s.kind == "generator"}
    assert set(users) == generators  # every generator stream is used, and no other name
    assert all(len(u) == 1 for u in users.values()), users


@cases(60)
@given(
    seed=st_.integers(0, 2**40),
    month=st_.integers(0, 200),
    rate=st_.one_of(
        st_.floats(0.0, 1.0),
        st_.sampled_from([0.0, 2.0**-53, 1e-300, 0.5, 1.0 - 2.0**-53, 1.0, 1.5, -0.1]),
    ),
)
def test_below_is_the_uniforms_compared_with_the_rate(seed: int, month: int, rate: float) -> None:
    st = Streams(seed)
    ids = np.arange(0, 5000, 3, dtype=np.int64)
    u = st.uniform("exam_certification", month, ids)
    np.testing.assert_array_equal(st.below("exam_certification", month, ids, rate), u < rate)
    # a rate that is exactly one of the draws: that draw is not below it
    at = float(u[7])
    np.testing.assert_array_equal(st.below("exam_certification", month, ids, at), u < at)
    assert not st.below("exam_certification", month, ids[7:8], at)[0]
