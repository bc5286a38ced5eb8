"""A study's tables: every trial, the Pareto front, and the check on fresh seeds.

``trials_table`` reads Optuna's study into one row per trial: the mix (for each searched
instrument: in force, multiple, share of the budget, the amount or rate and the yearly
line it writes), the objective values (means over the search seeds, with their standard
errors), spending, whether the budget held, and whether the trial is on the front.

``validate`` takes the best mixes of the search and runs them, and the plan as written at
the same budget, on fresh seeds the search never saw: for each seed the difference of
what each caused is paired (same seed, same shocks), so the interval of the mean
difference is narrow and honest; the search's own estimate of the winner is biased
upwards (it was picked for being high), which is why the fresh seeds matter.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from clustersim.optimize.objectives import OBJECTIVES
from clustersim.optimize.space import Mix, SearchSpace
from clustersim.optimize.study import STUDY_NAME, Study, storage

__all__ = [
    "FRONT_TABLE",
    "TRIALS_TABLE",
    "VALIDATION_RUNS_TABLE",
    "VALIDATION_TABLE",
    "best_trials",
    "paired_interval",
    "trials_table",
    "validate",
    "write_table",
]

TRIALS_TABLE = "trials.parquet"
FRONT_TABLE = "pareto.parquet"
VALIDATION_TABLE = "validation.parquet"
VALIDATION_RUNS_TABLE = "validation_runs.parquet"

#: Confidence level of every interval a study reports (assumption: the usual 95%).
LEVEL = 0.95


def write_table(frame: pd.DataFrame, path: Path) -> Path:
    """Write a Parquet table atomically (a reader never sees half a file)."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    frame.to_parquet(tmp, index=False)
    os.replace(tmp, path)
    return path


def _load(study: Study) -> Any:
    import optuna

    return optuna.load_study(study_name=STUDY_NAME, storage=storage(study.storage_url))


def mix_columns(mix: Mix, space: SearchSpace, budget: float) -> dict[str, Any]:
    """One lever's choice as table columns: in force, multiple, share, value, yearly line."""
    lines = mix.lines(budget)
    row: dict[str, Any] = {}
    for lv in space.levers:
        s = mix.settings[lv.instrument]
        i = lv.instrument
        row[f"{i}.in_force"] = s.in_force
        row[f"{i}.multiple"] = s.multiple
        row[f"{i}.share"] = s.share if s.in_force else 0.0
        row[f"{i}.{'rate' if lv.uses_rate else 'amount'}"] = lv.value(s.multiple)
        row[f"{i}.line"] = lines[lv.instrument]
    return row


def trials_table(study: Study) -> pd.DataFrame:
    """One row per trial of the study (complete, running or failed), in trial order."""
    from optuna.trial import TrialState

    ost = _load(study)
    budget = float(ost.user_attrs["budget"])
    names = list(ost.user_attrs["value_names"])
    front = {t.number for t in _front(ost, study)}
    rows = []
    for t in ost.get_trials(deepcopy=False):
        row: dict[str, Any] = {
            "trial": t.number,
            "state": t.state.name.lower(),
            "label": t.user_attrs.get("label", ""),
            "mix": t.user_attrs.get("mix", ""),
            "resumed": bool(t.user_attrs.get("resumed", False)),
        }
        measures = t.user_attrs.get("measures") or []
        for key in [
            *(f"caused_{o}" for o in OBJECTIVES),
            "spending_per_year",
            "budget_per_year",
            "budget_max_year",
        ]:
            vals = [m[key] for m in measures]
            row[key] = float(np.mean(vals)) if vals else math.nan
            row[f"{key}_se"] = (
                float(np.std(vals, ddof=1) / math.sqrt(len(vals))) if len(vals) > 1 else math.nan
            )
        row["seeds"] = ",".join(str(m["run"].rsplit("seed=", 1)[-1]) for m in measures)
        row["budget"] = budget
        excess = t.user_attrs.get("budget_excess")
        row["feasible"] = excess is not None and excess <= 1e-6
        row["pareto"] = t.number in front
        if t.state == TrialState.COMPLETE or t.params:
            try:
                mix = study.space.mix_from_params(t.params)
                row.update(mix_columns(mix, study.space, budget))
            except KeyError:
                pass
        rows.append(row)
    frame = pd.DataFrame(rows)
    for n in names:  # the study's objectives first after the trial's identity
        if n in frame:
            frame.insert(5, n, frame.pop(n))
    return frame


def _front(ost: Any, study: Study) -> list[Any]:
    """Complete, feasible trials on the Pareto front (the best one for one objective)."""
    from optuna.trial import TrialState

    done = [
        t
        for t in ost.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
        if t.user_attrs.get("budget_excess", math.inf) <= 1e-6
    ]
    if not done:
        return []
    signs = np.array([1.0 if d == "maximize" else -1.0 for d in study.spec.directions])
    vals = np.array([t.values for t in done]) * signs  # all maximised
    keep = []
    for i, v in enumerate(vals):
        dominated = np.any(np.all(vals >= v, axis=1) & np.any(vals > v, axis=1))
        if not dominated:
            keep.append(done[i])
    return keep


def best_trials(study: Study, n: int) -> list[Any]:
    """The ``n`` best distinct mixes: front trials first, then the rest, by first objective.

    The plan as written (trial 0) is the yardstick, so it is not one of them; when it is
    itself the whole front, the best other mixes are still checked (and the report says
    that none beat it).
    """
    from optuna.trial import TrialState

    ost = _load(study)
    front = {t.number for t in _front(ost, study)}
    feasible = [
        t
        for t in ost.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
        if t.user_attrs.get("budget_excess", math.inf) <= 1e-6
    ]
    feasible.sort(key=lambda t: (t.number not in front, -t.values[0], t.number))
    out, seen = [], set()
    for t in feasible:
        digest = t.user_attrs.get("mix")
        if t.user_attrs.get("label") == "plan as written" or digest in seen:
            continue
        seen.add(digest)
        out.append(t)
        if len(out) == n:
            break
    return out


def paired_interval(diffs: Sequence[float], level: float = LEVEL) -> tuple[float, float, float]:
    """Mean of paired differences and its Student-t interval: (mean, low, high)."""
    d = np.asarray(diffs, dtype=float)
    mean = float(d.mean())
    if len(d) < 2:
        return mean, math.nan, math.nan
    half = float(stats.t.ppf(0.5 + level / 2, len(d) - 1) * d.std(ddof=1) / math.sqrt(len(d)))
    return mean, mean - half, mean + half


def validate(study: Study, log: Any = print) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Run the best mixes and the plan as written on fresh seeds; paired intervals.

    Returns (summary, runs): ``summary`` has one row per best mix and outcome (its mean,
    the written plan's, the paired difference and its interval); ``runs`` one row per mix
    and seed with every measure. Both are also written into the study folder.
    """
    spec = study.spec
    ost = _load(study)
    budget = float(ost.user_attrs["budget"])
    seeds = spec.fresh_seeds
    searched = {
        int(s)
        for t in ost.trials
        for s in (m["run"].rsplit("seed=", 1)[-1] for m in t.user_attrs.get("measures") or [])
    }
    overlap = searched & set(seeds)
    if overlap:  # spec.check() prevents it; this guards the invariant itself
        raise RuntimeError(f"validation seeds {sorted(overlap)} were used by the search")
    best = best_trials(study, spec.validate_best)
    reference = study.space.written_mix()
    candidates = [("plan as written", None, reference)]
    candidates += [
        (f"trial {t.number}", t.number, study.space.mix_from_params(t.params)) for t in best
    ]
    rows = []
    for label, number, mix in candidates:
        log(f"optimize: validating {label} on {len(seeds)} fresh seeds")
        for m in study.evaluator.evaluate(mix, study.space, budget, seeds):
            seed = int(str(m["run"]).rsplit("seed=", 1)[-1])
            rows.append(
                {
                    "mix_label": label,
                    "trial": number,
                    "seed": seed,
                    "mix": mix.digest(study.space, budget),
                    **{k: v for k, v in m.items() if k != "run"},
                    "run": m["run"],
                }
            )
    runs = pd.DataFrame(rows)
    summary = []
    ref = runs[runs["mix_label"] == "plan as written"].set_index("seed")
    measures = [*(f"caused_{o}" for o in OBJECTIVES), "spending_per_year"]
    for label, number, _mix in candidates[1:]:
        mine = runs[runs["mix_label"] == label].set_index("seed").loc[ref.index]
        for key in measures:
            mean, lo, hi = paired_interval(mine[key] - ref[key])
            own, own_lo, own_hi = paired_interval(mine[key])
            summary.append(
                {
                    "mix_label": label,
                    "trial": number,
                    "measure": key,
                    "mean": own,
                    "low": own_lo,
                    "high": own_hi,
                    "written_mean": float(ref[key].mean()),
                    "difference": mean,
                    "difference_low": lo,
                    "difference_high": hi,
                    "seeds": len(ref),
                    "first_seed": min(seeds),
                    "last_seed": max(seeds),
                }
            )
    summary_frame = pd.DataFrame(summary)
    write_table(summary_frame, study.folder / VALIDATION_TABLE)
    write_table(runs, study.folder / VALIDATION_RUNS_TABLE)
    return summary_frame, runs
