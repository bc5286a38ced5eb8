"""The calibration report's verdict on each target says where the runs lie, truthfully."""

from __future__ import annotations

from types import SimpleNamespace

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
