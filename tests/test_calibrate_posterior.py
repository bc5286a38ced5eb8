"""The calibration report's verdict on each target says where the runs lie, truthfully."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from clustersim.calibrate.posterior import predictive
from clustersim.calibrate.targets import Target


def _problem(observed: float) -> SimpleNamespace:
    target = Target(
        name="exit_rate",
        statistic="annual_rate",
        first="2021-01",
        last="2021-12",
        observed=observed,
        uncertainty=0.01,
        use="fit",
        source="test",
        column="exits",
        per="firms",
    )
    return SimpleNamespace(targets=SimpleNamespace(targets=(target,)))


#: Two generations; the last one accepted. Every run gave 0.20-0.30.
PARTICLES = pd.DataFrame(
    {
        "stat:exit_rate": [0.20, 0.25, 0.30, 0.22, 0.24, 0.26],
        "weight": [1 / 3] * 6,
        "generation": [0, 0, 0, 1, 1, 1],
        "accepted": [False, False, False, True, True, True],
    }
)


@pytest.mark.parametrize(
    ("observed", "verdict"),
    [
        (0.05, "out of reach: every run tried lies above it"),
        (0.50, "out of reach: every run tried lies below it"),
        (0.19, "missed at the fit: some runs reach it, the fit does not"),
        (0.245, "reached"),
    ],
)
def test_verdict_says_which_side_the_runs_lie(observed, verdict):
    row = predictive(_problem(observed), PARTICLES).iloc[0]
    assert row["verdict"] == verdict


def _edge_problem() -> SimpleNamespace:
    from clustersim.calibrate.spec import Parameter

    return SimpleNamespace(
        parameters=(
            Parameter("behavior.a", 0.5, 3.0, True, "test"),
            Parameter("behavior.b", 0.0, 1.0, False, "test"),
            Parameter("behavior.c", 0.0, 1.0, False, "test"),
            Parameter("behavior.d", 0.0, 1.0, False, "test"),
        )
    )


def test_a_posterior_piled_at_a_prior_bound_is_flagged_and_a_central_or_flat_one_is_not():
    from clustersim.calibrate.posterior import summarise

    rng = np.random.default_rng(0)
    n = 400
    particles = pd.DataFrame(
        {
            # log prior 0.5-3: most mass just above 0.5 (the lowest tenth ends at 0.598)
            "behavior.a": 0.5 * np.exp(rng.uniform(0, 0.1, n)),
            # piled at the top of 0-1
            "behavior.b": rng.uniform(0.85, 1.0, n),
            # narrow and central
            "behavior.c": rng.normal(0.5, 0.05, n),
            # as flat as the prior: 10% in each outer tenth, not flagged
            "behavior.d": rng.uniform(0.0, 1.0, n),
            "weight": np.full(n, 1.0 / n),
            "generation": np.ones(n, int),
            "accepted": np.ones(n, bool),
        }
    )
    summary = summarise(_edge_problem(), particles).set_index("parameter")
    assert summary.at["behavior.a", "pressed_edge"] == "low"
    assert summary.at["behavior.a", "edge_share"] > 0.9
    assert summary.at["behavior.b", "pressed_edge"] == "high"
    assert summary.at["behavior.c", "pressed_edge"] == ""
    assert summary.at["behavior.d", "pressed_edge"] == ""
    # weights count, not particles: half the particles at each end, weighted 9 : 1
    half = np.arange(n) < n // 2
    both_ends = particles.assign(**{"behavior.a": np.where(half, 0.51, 2.9)})
    top_heavy = both_ends.assign(weight=np.where(half, 1.0, 9.0))
    bottom_heavy = both_ends.assign(weight=np.where(half, 9.0, 1.0))
    assert (
        summarise(_edge_problem(), top_heavy)
        .set_index("parameter")
        .at["behavior.a", "pressed_edge"]
        == "high"
    )
    assert (
        summarise(_edge_problem(), bottom_heavy)
        .set_index("parameter")
        .at["behavior.a", "pressed_edge"]
        == "low"
    )
