"""Sensitivity indices of one outcome over a design: SALib's analysis step, in tidy tables.

Step three of SALib's three (sample, evaluate, analyse): given a ``SensitivityDesign``
and the outcome of each of its rows (numpy in), return a tidy table (one row per index)
with a bootstrap confidence interval:

- Sobol (``sobol_indices``): ``S1``, the share of the outcome's variance due to a
  parameter alone; ``ST``, the share it takes part in (alone or with others); with a
  second-order design, ``S2`` for each pair. Saltelli (2010) / Jansen estimators.
- Morris (``morris_indices``): ``mu_star``, the mean absolute elementary effect (how much
  the outcome moves when the parameter crosses a step of its range); ``sigma``, their
  spread (interactions or non-linearity); ``mu``, their signed mean.

``convergence`` recomputes the indices from the first half of the design (a Sobol
design's first N/2 base samples, or the first half of the Morris trajectories, are a
design of their own) and tells whether each index moved by less than its confidence
half-width.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from clustersim.analysis.designs import SensitivityDesign
from clustersim.analysis.errors import AnalysisError

#: Columns of an index table.
COLUMNS = ("outcome", "method", "index", "parameter", "other", "value", "low", "high", "n", "note")
#: The smallest Sobol base sample (N) and number of Morris trajectories that are analysed:
#: the convergence check halves them, and a bootstrap of fewer is meaningless.
MIN_SOBOL_N = 16
MIN_MORRIS_TRAJECTORIES = 4


def _check_outcome(design: SensitivityDesign, y: np.ndarray, outcome: str) -> np.ndarray:
    y = np.asarray(y, dtype=np.float64).ravel()
    if y.size != design.rows:
        raise AnalysisError(
            f"outcome {outcome}",
            f"{y.size} values",
            f"needs one value per design row ({design.rows})",
        )
    bad = int((~np.isfinite(y)).sum())
    if bad:
        raise AnalysisError(
            f"outcome {outcome}",
            f"{bad} of {y.size} values missing or infinite",
            "indices need a finite value for every run (a ratio such as spending per caused "
            "job is undefined where nothing was caused: analyse its parts instead)",
        )
    return y


def _rows_per_sample(design: SensitivityDesign) -> int:
    d = len(design.space)
    if design.method == "sobol":
        return 2 * d + 2 if design.options.get("second_order", True) else d + 2
    return d + 1


def _check_size(design: SensitivityDesign, n: int, what: str) -> None:
    if design.method == "sobol" and n < MIN_SOBOL_N:
        raise AnalysisError(
            what,
            n,
            f"too few base samples for Sobol indices with a convergence check: at least "
            f"{MIN_SOBOL_N} (N=64 or more is usual)",
        )
    if design.method == "morris" and n < MIN_MORRIS_TRAJECTORIES:
        raise AnalysisError(
            what,
            n,
            f"too few Morris trajectories: at least {MIN_MORRIS_TRAJECTORIES} (10-20 is usual)",
        )


def _row(
    outcome: str,
    method: str,
    index: str,
    parameter: str,
    value: float,
    half: float | None,
    n: int,
    other: str | None = None,
    note: str = "",
) -> dict:
    low = value - half if half is not None else np.nan
    high = value + half if half is not None else np.nan
    return {
        "outcome": outcome,
        "method": method,
        "index": index,
        "parameter": parameter,
        "other": other,
        "value": float(value),
        "low": float(low),
        "high": float(high),
        "n": n,
        "note": note,
    }


def _no_variance(design: SensitivityDesign, outcome: str, n: int) -> pd.DataFrame:
    names = ("S1", "ST") if design.method == "sobol" else ("mu_star", "sigma", "mu")
    rows = [
        _row(
            outcome,
            design.method,
            name,
            p,
            0.0,
            0.0,
            n,
            note="the outcome does not vary over the design",
        )
        for p in design.space.names
        for name in names
    ]
    return pd.DataFrame(rows, columns=list(COLUMNS))


def _analyse(
    design: SensitivityDesign,
    y: np.ndarray,
    outcome: str,
    n: int,
    resamples: int,
    conf_level: float,
    seed: int,
    first_order_only: bool = False,
) -> pd.DataFrame:
    """Indices from the first ``n`` base samples / trajectories of the design.

    ``first_order_only``: S1 and ST only, from the rows a first-order design has (a
    second-order design's rows per sample are A, AB_1..AB_D, BA_1..BA_D, B; SALib's layout).
    """
    rows_needed = n * _rows_per_sample(design)
    y = y[:rows_needed]
    x = design.values[:rows_needed]
    second = design.method == "sobol" and bool(design.options.get("second_order", True))
    if second and first_order_only:
        d = len(design.space)
        keep = np.r_[np.arange(d + 1), 2 * d + 1]
        rows = (np.arange(n)[:, None] * (2 * d + 2) + keep[None, :]).ravel()
        y, x, second = y[rows], x[rows], False
    if np.ptp(y) == 0:
        return _no_variance(design, outcome, n)
    problem = design.space.problem
    names = design.space.names
    out = []
    if design.method == "sobol":
        from SALib.analyze import sobol

        res = sobol.analyze(
            problem,
            y,
            calc_second_order=second,
            num_resamples=resamples,
            conf_level=conf_level,
            seed=seed,
        )
        for i, p in enumerate(names):
            out.append(_row(outcome, "sobol", "S1", p, res["S1"][i], res["S1_conf"][i], n))
            out.append(_row(outcome, "sobol", "ST", p, res["ST"][i], res["ST_conf"][i], n))
        if second:
            for i, p in enumerate(names):
                for j in range(i + 1, len(names)):
                    out.append(
                        _row(
                            outcome,
                            "sobol",
                            "S2",
                            p,
                            res["S2"][i, j],
                            res["S2_conf"][i, j],
                            n,
                            other=names[j],
                        )
                    )
    else:
        from SALib.analyze import morris

        res = morris.analyze(
            problem,
            x,
            y,
            num_resamples=resamples,
            conf_level=conf_level,
            num_levels=int(design.options.get("levels", 4)),
            seed=seed,
        )
        for i, p in enumerate(names):
            row = _row(
                outcome, "morris", "mu_star", p, res["mu_star"][i], res["mu_star_conf"][i], n
            )
            row["low"] = max(row["low"], 0.0)  # a mean absolute effect is never negative
            out.append(row)
            out.append(_row(outcome, "morris", "sigma", p, res["sigma"][i], None, n))
            out.append(_row(outcome, "morris", "mu", p, res["mu"][i], None, n))
    return pd.DataFrame(out, columns=list(COLUMNS))


def indices(
    design: SensitivityDesign,
    y: Sequence[float] | np.ndarray,
    outcome: str = "y",
    *,
    resamples: int = 1000,
    conf_level: float = 0.95,
    seed: int = 0,
) -> pd.DataFrame:
    """The Sobol or Morris indices of one outcome (one value per design row), tidy.

    ``resamples`` bootstrap resamples give the confidence interval (``low``..``high``) at
    ``conf_level``; ``seed`` fixes them, so the same inputs give the same table, bit for bit.
    """
    if not 0 < conf_level < 1:
        raise AnalysisError("conf_level", conf_level, "must lie strictly between 0 and 1")
    if isinstance(resamples, bool) or not isinstance(resamples, int) or resamples < 10:
        raise AnalysisError("resamples", resamples, "must be a whole number >= 10 (1000 is usual)")
    values = _check_outcome(design, np.asarray(y), outcome)
    _check_size(design, design.n, "n" if design.method == "sobol" else "trajectories")
    return _analyse(design, values, outcome, design.n, resamples, conf_level, seed)


def sobol_indices(
    design: SensitivityDesign, y: np.ndarray, outcome: str = "y", **kw
) -> pd.DataFrame:
    """``indices`` for a Sobol design (raises ``AnalysisError`` for a Morris one)."""
    if design.method != "sobol":
        raise AnalysisError("method", design.method, "Sobol indices need a sobol design")
    return indices(design, y, outcome, **kw)


def morris_indices(
    design: SensitivityDesign, y: np.ndarray, outcome: str = "y", **kw
) -> pd.DataFrame:
    """``indices`` for a Morris design (raises ``AnalysisError`` for a Sobol one)."""
    if design.method != "morris":
        raise AnalysisError("method", design.method, "Morris indices need a morris design")
    return indices(design, y, outcome, **kw)


def convergence(
    design: SensitivityDesign,
    y: Sequence[float] | np.ndarray,
    outcome: str = "y",
    *,
    resamples: int = 1000,
    conf_level: float = 0.95,
    seed: int = 0,
    full: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Each first-order and total index (or mu*) at N/2 and at N, and whether it settled.

    Columns: ``outcome``, ``index``, ``parameter``, ``half`` (value from the first half of
    the design), ``full``, ``change`` (full - half), ``ci_half_width`` (at N) and
    ``converged`` (the change is within the confidence half-width at N, or below 0.02 of
    the index's scale). ``full``: the indices at N if already computed (``indices``).
    """
    values = _check_outcome(design, np.asarray(y), outcome)
    _check_size(design, design.n, "n" if design.method == "sobol" else "trajectories")
    if full is None:
        full = _analyse(design, values, outcome, design.n, resamples, conf_level, seed)
    half = _analyse(design, values, outcome, design.n // 2, resamples, conf_level, seed, True)
    keep = ["S1", "ST"] if design.method == "sobol" else ["mu_star"]
    full = full[full["index"].isin(keep)].reset_index(drop=True)
    half = half[half["index"].isin(keep)].reset_index(drop=True)
    out = full[["outcome", "index", "parameter"]].copy()
    out["half"] = half["value"].to_numpy()
    out["full"] = full["value"].to_numpy()
    out["change"] = out["full"] - out["half"]
    out["ci_half_width"] = ((full["high"] - full["low"]) / 2).to_numpy()
    scale = 1.0 if design.method == "sobol" else float(np.nanmax(np.abs(out["full"]))) or 1.0
    out["converged"] = (
        out["change"].abs() <= np.maximum(out["ci_half_width"], 0.02 * scale)
    ).to_numpy()
    out["n_half"] = design.n // 2
    out["n_full"] = design.n
    return out
