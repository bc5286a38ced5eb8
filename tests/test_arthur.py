"""The classic models the simulation nests: Arthur (1990) lock-in, bounded returns, none.

Each preset is run over many seeds. Unbounded increasing returns must lock in (one
location ends with nearly every firm) with the winner depending on the seed (path
dependence); bounded returns must leave the industry shared as preferences dictate; with
agglomeration off, location shares must match the logit shares of the fixed preferences.
"""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import finished, scenario

SEEDS = range(12)


def _final_shares(experiment: str) -> np.ndarray:
    rows = []
    for seed in SEEDS:
        m = finished(f"preset={experiment}", f"seed={seed}")
        last = m.monthly().iloc[-1]
        counts = np.array([last[f"firms_park_{p}"] for p in m.parks.ids])
        rows.append(counts / counts.sum())
    return np.array(rows)


def test_unbounded_returns_lock_in_with_a_seed_dependent_winner() -> None:
    shares = _final_shares("arthur_lockin")
    assert (shares.max(axis=1) > 0.9).all(), shares.max(axis=1)
    winners = set(shares.argmax(axis=1).tolist())
    assert len(winners) >= 2, "lock-in should not always pick the same location"


def test_bounded_returns_share_the_industry() -> None:
    shares = _final_shares("arthur_bounded")
    assert (shares.max(axis=1) < 0.6).all(), shares.max(axis=1)
    assert (shares[:, :2] > 0.35).all()  # both preferred locations keep their type


def test_no_agglomeration_follows_fixed_preferences() -> None:
    shares = _final_shares("no_agglomeration").mean(axis=0)
    s = scenario("preset=no_agglomeration")
    affinity = np.array(
        [[p.kind_affinity.leading, p.kind_affinity.high_growth] for p in s.world.parks.values()]
    ).T
    logits = np.exp(affinity * s.behavior.entry.affinity_weight / s.behavior.entry.noise_scale)
    expected = (logits / logits.sum(axis=1, keepdims=True)).mean(axis=0)  # types arrive 50/50
    assert shares == pytest.approx(expected, abs=0.03)
