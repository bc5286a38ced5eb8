"""Design a better plan: search one jurisdiction's instrument mixes under its budget.

    from clustersim.optimize import StudySpec, optimize
    result = optimize(StudySpec(folder="results/optimize/demo", plan="huangpu_2024",
                                base=["world=toy"], trials=30, seeds=2))
    result.trials, result.front, result.validation

The pieces, in the order data flows: ``spec`` (the settings, checked), ``space`` (the
decision variables and how a mix becomes config overrides), ``evaluate`` (runs of the
model and what they caused), ``study`` (the Optuna driver: resumable, several workers),
``results`` (the trials table, the Pareto front, the check on fresh seeds).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from clustersim.optimize.errors import StudyConfigError
from clustersim.optimize.evaluate import Evaluator, ModelEvaluator, SyntheticEvaluator
from clustersim.optimize.objectives import OBJECTIVES
from clustersim.optimize.results import (
    FRONT_TABLE,
    TRIALS_TABLE,
    trials_table,
    validate,
    write_table,
)
from clustersim.optimize.space import Mix, SearchSpace, build_space
from clustersim.optimize.spec import SAMPLERS, StudySpec
from clustersim.optimize.study import Study, open_study, resolve_budget, run_search

__all__ = [
    "OBJECTIVES",
    "SAMPLERS",
    "Evaluator",
    "Mix",
    "ModelEvaluator",
    "SearchSpace",
    "Study",
    "StudyConfigError",
    "StudyResult",
    "StudySpec",
    "SyntheticEvaluator",
    "build_space",
    "open_study",
    "optimize",
]


@dataclass
class StudyResult:
    """What a finished study produced (also written into its folder).

    Attributes:
        study: the checked study (settings, space, evaluator).
        budget: the searched instruments' yearly budget, RMB.
        trials: one row per trial (``trials.parquet``).
        front: the trials on the Pareto front (``pareto.parquet``).
        validation: the best mixes against the plan as written on fresh seeds, with paired
            intervals (``validation.parquet``); None without validation seeds.
        validation_runs: one row per mix and fresh seed (``validation_runs.parquet``).

    """

    study: Study
    budget: float
    trials: pd.DataFrame
    front: pd.DataFrame
    validation: pd.DataFrame | None = None
    validation_runs: pd.DataFrame | None = None

    @property
    def folder(self) -> Path:
        """The study folder."""
        return self.study.folder


def optimize(
    spec: StudySpec,
    evaluator: Evaluator | None = None,
    log: Callable[[str], None] = print,
) -> StudyResult:
    """Run (or resume) a study: check, search, write the tables, validate on fresh seeds."""
    study = open_study(spec, evaluator)
    budget = resolve_budget(study, log)
    log(
        f"optimize: {spec.plan}: {len(study.space.levers)} instruments, budget "
        f"{budget:,.0f} RMB a year, {spec.trials} trials x {spec.seeds} seeds, "
        f"objectives {', '.join(spec.value_names)}; study in {study.folder}"
    )
    run_search(study, budget, log)
    trials = trials_table(study)
    front = trials[trials["pareto"]].reset_index(drop=True)
    write_table(trials, study.folder / TRIALS_TABLE)
    write_table(front, study.folder / FRONT_TABLE)
    result = StudyResult(study, budget, trials, front)
    if spec.validation_seeds:
        result.validation, result.validation_runs = validate(study, log)
    return result
