"""The runs of a calibration: one settings-named run folder per parameter point and seed.

Every simulation a calibration asks for is a run of the model like any other: its
folder, inside ``<calibration folder>/runs/``, is named by the values it sets
(``growth.volatility=0.1234,...,seed=81727``), written atomically by
``clustersim.results.run_folder.atomic_run_folder`` and skipped when it is already complete
with the same
config (``clustersim.sweep.jobs.sweep_job``: the same resume, failure records and
config-hash check as a sweep). The runs are launched by Hydra's configured launcher
(``clustersim.calibrate.launch``), so a calibration killed at any moment and started
again redoes no finished run, and the runs can be collected (``clustersim-collect``) and
inspected like a sweep's.

A run folder holds ``overrides.yaml``, ``config.yaml``, ``summary.json`` and
``monthly.parquet`` like any run, plus ``statistics.json``: the value of every target's
statistic (fitting and validation targets). The firm snapshots the statistics are
computed from are not kept (a few hundred kB a run, thousands of runs).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from clustersim import __version__
from clustersim.calibrate.problem import Problem
from clustersim.calibrate.statistics import Snapshots, evaluate
from clustersim.calibrate.targets import Target
from clustersim.config import config_hash, settings_of
from clustersim.results.jobs import Execute
from clustersim.results.run_folder import (
    CONFIG,
    BadRunFolderError,
    StoredRun,
    atomic_run_folder,
    config_yaml,
    dump_yaml,
    is_complete,
)
from clustersim.runner import simulate
from clustersim.settings import Scenario

#: The statistics file of a calibration run.
STATISTICS_FILE = "statistics.json"
#: Where the runs go inside a calibration folder.
RUNS_DIR = "runs"


def point_seed(problem: Problem, values: Sequence[float], replicate: int) -> int:
    """The seed of one run: fixed by the calibration seed, the values and the replicate.

    The same point always runs with the same seed, so a resumed calibration finds it.
    """
    text = f"{problem.spec.seed}:{','.join(problem.values_text(values))}:{replicate}"
    return int(hashlib.sha256(text.encode()).hexdigest()[:8], 16) % (2**31 - 1)


def run_name(problem: Problem, values: Sequence[float], seed: int) -> str:
    """The run folder's name: the short name and value of each parameter, then the seed."""
    names = [p.name for p in problem.parameters]
    if len(set(names)) < len(names):
        names = [p.key for p in problem.parameters]
    texts = problem.values_text(values)
    return ",".join(f"{n}={t}" for n, t in zip(names, texts, strict=True)) + f",seed={seed}"


def target_statistics(
    targets: Sequence[Target], monthly: Any, firms_yearly: Any
) -> dict[str, float]:
    """The value of every target's statistic for one run's tables."""
    snapshots = Snapshots(firms_yearly)
    return {
        t.name: evaluate(
            t.statistic, monthly, snapshots, first=t.first, last=t.last, settings=t.settings
        )
        for t in targets
    }


def write_calibration_run(
    scenario: Scenario, targets: Sequence[Target], overrides: Sequence[str]
) -> Execute:
    """What runs one calibration job: simulate, compute the statistics, write the folder."""

    def execute(cfg: Mapping[str, Any], out: Path) -> dict[str, Any]:
        result = simulate(scenario)
        stats = target_statistics(targets, result.monthly, result.firms_yearly)
        marker = {"config_hash": config_hash(cfg), "seed": scenario.seed, "version": __version__}
        summary = result.summary()
        with atomic_run_folder(out, marker) as w:
            w.text(CONFIG, config_yaml(settings_of(cfg)))  # (not the policy option's name)
            w.text("overrides.yaml", dump_yaml(list(overrides)))
            w.json("summary.json", summary)
            w.json(STATISTICS_FILE, {k: _plain(v) for k, v in stats.items()})
            w.table("monthly.parquet", result.monthly)
        return summary

    return execute


def _plain(value: float) -> float | None:
    return None if value is None or not math.isfinite(value) else float(value)


def stored_statistics(out: Path, wanted_hash: str) -> dict[str, float] | None:
    """The statistics of a complete, undamaged run folder made with this config, else None."""
    if not is_complete(out):
        return None
    run = StoredRun(out)
    try:
        if run.marker().get("config_hash") != wanted_hash or run.damage() is not None:
            return None
        stored = json.loads((out / STATISTICS_FILE).read_text())
    except (OSError, ValueError, BadRunFolderError):
        return None
    return {k: math.nan if v is None else float(v) for k, v in stored.items()}


def mean_statistics(
    names: Sequence[str], per_run: Sequence[Mapping[str, float]]
) -> dict[str, float]:
    """Every statistic averaged over a point's replicate runs (NaN if any run lacks it)."""
    return {name: _mean([run.get(name, math.nan) for run in per_run]) for name in names}


def _mean(values: list[float]) -> float:
    if any(not math.isfinite(v) for v in values):
        return math.nan
    return sum(values) / len(values)
