"""Scenario discovery: which ranges of the assumptions lead to the runs of interest.

Given the swept parameter values of each run (``x``, one column per parameter) and which
runs meet a condition (``cases``, from ``conditions.parse_condition``), find simple
regions of the parameter space where those runs concentrate:

- PRIM (Friedman and Fisher 1999, the Patient Rule Induction Method, as used for scenario
  discovery by Bryant and Lempert 2010), from the maintained ``prim`` package: starting
  from the whole space it peels off thin slices that hold few cases, recording a
  *peeling trajectory* of ever smaller, denser boxes. Each box has a **coverage** (share
  of all cases inside it), a **density** (share of the runs inside it that are cases)
  and a **mass** (share of all runs inside it), and restricts a few parameters to
  narrower ranges. The analyst picks a box on the trajectory (``box``); by default the
  densest box that still holds ``MIN_COVERAGE`` of the cases (the usual reading of the
  trade-off: most of the cases, as pure as possible).
- CART (a classification tree, scikit-learn's ``DecisionTreeClassifier``): splits the
  space into leaves; each leaf mostly of cases is a box of its own.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from clustersim.analysis.errors import AnalysisError

#: Coverage the default box keeps: the densest box holding at least this share of the cases.
MIN_COVERAGE = 0.8
#: Fewest runs a discovery is attempted on (PRIM peels 5% slices: fewer leaves nothing).
MIN_RUNS = 20


@dataclass(frozen=True)
class PrimResult:
    """The peeling trajectory of one PRIM box and the box chosen on it.

    Attributes:
        trajectory: one row per step: ``step``, ``coverage``, ``density``, ``mass``,
            ``restricted`` (number of parameters restricted), ``cases_inside``, ``runs_inside``.
        limits: one row per step and parameter: ``step``, ``parameter``, ``low``,
            ``high``, ``restricted`` (narrower than the sampled range).
        chosen: the step chosen (``box``, or the densest with coverage >= ``MIN_COVERAGE``).
        cases: runs meeting the condition; runs: all runs.
        ranges: the sampled range of each parameter (min and max over the runs).

    """

    trajectory: pd.DataFrame
    limits: pd.DataFrame
    chosen: int
    cases: int
    runs: int
    ranges: pd.DataFrame

    @property
    def box(self) -> pd.Series:
        """Coverage, density, mass and the rest of the chosen box."""
        return self.trajectory.iloc[self.chosen]

    @property
    def box_limits(self) -> pd.DataFrame:
        """The restricted ranges of the chosen box (only parameters it restricts)."""
        rows = self.limits[(self.limits["step"] == self.chosen) & self.limits["restricted"]]
        return rows.reset_index(drop=True)


def _check_inputs(x: pd.DataFrame, cases: np.ndarray, what: str) -> np.ndarray:
    cases = np.asarray(cases, dtype=bool).ravel()
    if len(x) != cases.size:
        raise AnalysisError("cases", f"{cases.size} values", f"needs one per run ({len(x)})")
    if len(x) < MIN_RUNS:
        raise AnalysisError(
            "design points",
            len(x),
            f"too few distinct runs for scenario discovery: at least {MIN_RUNS}",
        )
    n = int(cases.sum())
    if n == 0 or n == cases.size:
        word = "no" if n == 0 else "every"
        raise AnalysisError(
            "--where",
            what,
            f"{word} run meets it ({n} of {cases.size}): nothing to tell apart; "
            "choose another threshold",
        )
    bad = [c for c in x.columns if not np.isfinite(pd.to_numeric(x[c], errors="coerce")).all()]
    if bad:
        raise AnalysisError(
            "parameters", bad[0], "every run needs a finite value of each parameter"
        )
    return cases


def prim_boxes(
    x: pd.DataFrame,
    cases: np.ndarray,
    *,
    box: int | None = None,
    peel_alpha: float = 0.05,
    paste_alpha: float = 0.05,
    mass_min: float = 0.05,
    condition: str = "",
) -> PrimResult:
    """Run PRIM once (the first box) and return its peeling trajectory and chosen box.

    PRIM is EMA Workbench's (BSD-3; the reference implementation scenario-discovery users
    know), imported here, without the rest of the package (``ema_import``): only discovery
    needs it, and the whole package takes seconds to import.
    """
    from clustersim.analysis.ema_import import import_prim

    prim = import_prim()

    cases = _check_inputs(x, cases, condition)
    for name, value, rule in (
        ("peel_alpha", peel_alpha, (0, 0.5)),
        ("paste_alpha", paste_alpha, (0, 0.5)),
        ("mass_min", mass_min, (0, 1)),
    ):
        if not rule[0] < value < rule[1]:
            raise AnalysisError(name, value, f"must lie strictly between {rule[0]} and {rule[1]}")
    frame = x.astype(np.float64).reset_index(drop=True)
    with warnings.catch_warnings():  # its pandas deprecation notes are not the user's concern
        warnings.filterwarnings("ignore", module="ema_workbench")
        finder = prim.Prim(
            frame, cases, peel_alpha=peel_alpha, paste_alpha=paste_alpha, mass_min=mass_min
        )
        found = finder.find_box()
    traj = found.peeling_trajectory.reset_index(drop=True)
    values = frame.to_numpy()
    lows0, highs0 = values.min(axis=0), values.max(axis=0)
    rows, limit_rows = [], []
    for step, lims in enumerate(found.box_lims):
        lo = np.array([float(lims[c][0]) for c in frame.columns])
        hi = np.array([float(lims[c][1]) for c in frame.columns])
        inside = ((values >= lo) & (values <= hi)).all(axis=1)
        restricted = (lo > lows0) | (hi < highs0)
        rows.append(
            {
                "step": step,
                "coverage": float(traj.at[step, "coverage"]),
                "density": float(traj.at[step, "density"]),
                "mass": float(traj.at[step, "mass"]),
                "restricted": int(restricted.sum()),
                "cases_inside": int(cases[inside].sum()),
                "runs_inside": int(inside.sum()),
            }
        )
        for j, c in enumerate(frame.columns):
            limit_rows.append(
                {
                    "step": step,
                    "parameter": str(c),
                    "low": lo[j],
                    "high": hi[j],
                    "restricted": bool(restricted[j]),
                }
            )
    trajectory = pd.DataFrame(rows)
    if box is None:
        ok = trajectory[trajectory["coverage"] >= MIN_COVERAGE]  # step 0 always qualifies
        best = ok.sort_values(["density", "coverage"], ascending=False, kind="stable")
        chosen = int(best["step"].iloc[0])
    else:
        last = len(trajectory) - 1
        if isinstance(box, bool) or not isinstance(box, int) or not 0 <= box <= last:
            raise AnalysisError(
                "--box", box, f"must be a step of the peeling trajectory, 0..{last}"
            )
        chosen = box
    ranges = pd.DataFrame(
        {"parameter": [str(c) for c in frame.columns], "low": lows0, "high": highs0}
    )
    return PrimResult(
        trajectory, pd.DataFrame(limit_rows), chosen, int(cases.sum()), len(cases), ranges
    )


def cart_boxes(
    x: pd.DataFrame,
    cases: np.ndarray,
    *,
    max_depth: int = 3,
    min_leaf: float = 0.05,
    seed: int = 0,
    condition: str = "",
) -> pd.DataFrame:
    """The leaves of a classification tree as boxes, densest first.

    One row per leaf and parameter it restricts: ``leaf``, ``coverage``, ``density``,
    ``mass``, ``runs_inside``, ``parameter``, ``low``, ``high`` (a leaf that restricts
    nothing has one row with ``parameter`` None). Leaves hold at least ``min_leaf`` of
    the runs.
    """
    from sklearn.tree import DecisionTreeClassifier

    cases = _check_inputs(x, cases, condition)
    if not isinstance(max_depth, int) or max_depth < 1:
        raise AnalysisError("max_depth", max_depth, "must be a whole number >= 1")
    frame = x.astype(np.float64).reset_index(drop=True)
    values = frame.to_numpy()
    tree = DecisionTreeClassifier(
        max_depth=max_depth,
        min_samples_leaf=max(2, int(np.ceil(min_leaf * len(frame)))),
        random_state=seed,
    ).fit(values, cases)
    t = tree.tree_
    lows0, highs0 = values.min(axis=0), values.max(axis=0)
    leaf_of = tree.apply(values)
    rows = []

    def walk(node: int, lo: np.ndarray, hi: np.ndarray) -> None:
        if t.children_left[node] == -1:
            inside = leaf_of == node
            n_in, c_in = int(inside.sum()), int(cases[inside].sum())
            base = {
                "leaf": int(node),
                "coverage": c_in / cases.sum(),
                "density": c_in / n_in if n_in else 0.0,
                "mass": n_in / len(cases),
                "runs_inside": n_in,
            }
            restricted = [j for j in range(len(lo)) if lo[j] > lows0[j] or hi[j] < highs0[j]]
            for j in restricted or [None]:
                rows.append(
                    {
                        **base,
                        "parameter": None if j is None else str(frame.columns[j]),
                        "low": np.nan if j is None else lo[j],
                        "high": np.nan if j is None else hi[j],
                    }
                )
            return
        j, thr = t.feature[node], t.threshold[node]
        left_hi = hi.copy()
        left_hi[j] = min(hi[j], thr)
        right_lo = lo.copy()
        right_lo[j] = max(lo[j], thr)
        walk(t.children_left[node], lo, left_hi)
        walk(t.children_right[node], right_lo, hi)

    walk(0, lows0.astype(float).copy(), highs0.astype(float).copy())
    out = pd.DataFrame(rows)
    return out.sort_values(
        ["density", "coverage", "leaf"], ascending=[False, False, True], kind="stable"
    ).reset_index(drop=True)


def peeling_figure(result: PrimResult, title: str = ""):
    """The peeling trajectory: coverage against density, coloured by parameters restricted."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    traj = result.trajectory
    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    sc = ax.scatter(traj["coverage"], traj["density"], c=traj["restricted"], cmap="viridis", s=22)
    box = result.box
    ax.scatter(
        [box["coverage"]],
        [box["density"]],
        s=140,
        facecolors="none",
        edgecolors="crimson",
        linewidths=1.8,
        label=f"chosen box (step {result.chosen})",
    )
    for step in range(0, len(traj), max(1, len(traj) // 8)):
        ax.annotate(
            str(step),
            (traj.at[step, "coverage"], traj.at[step, "density"]),
            fontsize=7,
            xytext=(3, 3),
            textcoords="offset points",
        )
    ax.set_xlabel("coverage (share of all cases inside the box)")
    ax.set_ylabel("density (share of runs inside that are cases)")
    ax.set_xlim(0, 1.02)
    ax.set_ylim(0, 1.02)
    fig.colorbar(sc, ax=ax, label="parameters restricted")
    ax.legend(loc="lower left", fontsize=8)
    ax.set_title(title or "PRIM peeling trajectory", fontsize=10)
    fig.tight_layout()
    return fig
