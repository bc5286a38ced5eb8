"""What the report's sections share: outcome labels, column names, pairing by replicate.

Vocabulary of the report (every section uses it):

- *level*: an outcome of the with-policy run (``firms@2027-12``);
- *caused*: the run minus its own counterfactual, same seed (``caused_firms@2027-12``);
- *difference vs baseline*: a variant's run minus the baseline variant's run of the same
  replicate (seed and behavioural values);
- *supported (gross)*: firms that had received any grant and still operated at the month,
  and their employees: what a programme's own monitoring would count.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from clustersim.report import fmt
from clustersim.report.stats import FEW_PAIRS, Estimate
from clustersim.results.outcomes import COMPARED, PAYERS
from clustersim.results.outcomes import OUTCOMES as DECLARED
from clustersim.results.outcomes import SPENDING as SPENDING_OUTCOMES

#: Outcomes of the headline table and the differences, with their labels and units.
OUTCOMES: dict[str, str] = {name: DECLARED[name].label for name in COMPARED}


#: Spending columns of the headline table (cumulative RMB to the month), by jurisdiction.
SPENDING: dict[str, str] = {name: DECLARED[name].label for name in SPENDING_OUTCOMES}


#: Monthly metrics drawn as trajectories.
TRAJECTORY_METRICS = (*OUTCOMES, "spending_cumulative")


#: The area whose jobs and firms each jurisdiction's spending is set against ("" = city).
JURISDICTION_AREA = {name: j.area or "" for name, j in PAYERS.items()}


#: Paying jurisdictions as a table column names them.
JURISDICTION_NAMES = {name: j.title for name, j in PAYERS.items()}


#: What a verdict of ``stats.Estimate`` says in a table.
VERDICTS = {
    "higher": "higher: distinguishable from zero",
    "lower": "lower: distinguishable from zero",
    "indistinguishable": "cannot be told from zero",
    "zero": "zero in every seed",
    "single": "one seed: no interval",
    "none": "no paired seeds",
}


def verdict_text(verdict: str, n: int) -> str:
    """What a verdict says in a table, honest about few pairs of seeds.

    With fewer than ``stats.FEW_PAIRS`` pairs a percentile bootstrap has few distinct
    resamples and its interval is too narrow, so "distinguishable" would overstate what
    3 seeds show: the cell says what the seeds point to and that they are too few.
    """
    if n < FEW_PAIRS and verdict in ("higher", "lower"):
        return f"{verdict} in these {n} seeds; too few for a firm verdict"
    if n < FEW_PAIRS and verdict == "indistinguishable":
        return f"cannot be told from zero ({n} seeds)"
    return VERDICTS[verdict]


def outcome_column(metric: str, month: str, caused: bool = False) -> str:
    """The runs.parquet column of an outcome at a month (``caused_`` for the caused one)."""
    return f"{'caused_' if caused else ''}{metric}@{month}"


def values_of(runs: pd.DataFrame, variant: str, column: str) -> np.ndarray:
    """A variant's values of ``column``, one per replicate (empty if the sweep lacks it)."""
    if column not in runs:
        return np.array([], dtype=float)
    return runs.loc[runs["variant"] == variant, column].to_numpy(dtype=float)


def paired(
    runs: pd.DataFrame, variant: str, baseline: str, column: str
) -> tuple[np.ndarray, np.ndarray]:
    """The variant's and the baseline's values of ``column``, matched by replicate."""
    a = runs.loc[runs["variant"] == variant, ["replicate", column]]
    b = runs.loc[runs["variant"] == baseline, ["replicate", column]]
    m = a.merge(b, on="replicate", suffixes=("_v", "_b")).sort_values("replicate")
    return m[f"{column}_v"].to_numpy(dtype=float), m[f"{column}_b"].to_numpy(dtype=float)


def estimate_row(e: Estimate, prefix: str) -> dict[str, Any]:
    """An estimate as table columns ``<prefix>``, ``_low``, ``_high``, ``_verdict``."""
    return {
        f"{prefix}": e.mean,
        f"{prefix}_low": e.low,
        f"{prefix}_high": e.high,
        f"{prefix}_verdict": e.verdict,
        f"{prefix}_n": e.n,
    }


def variant_frame(rows: list[dict[str, str]]) -> pd.DataFrame:
    """Table rows as a frame, missing cells shown as a dash."""
    return pd.DataFrame(rows).fillna(fmt.MISSING)


def estimate_text(mean: float, low: float, high: float) -> str:
    """A signed mean with its interval, as a table cell."""
    return fmt.signed_interval(mean, low, high)
