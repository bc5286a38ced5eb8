"""Evaluating a mix: run the model with it on the study's seeds and measure what it caused.

``ModelEvaluator`` is the real one. For every seed it runs the plan with the mix's
overrides, and (once per seed, shared by every trial) the same seed without the plan;
each run is a run folder under ``<study>/runs/`` named by its settings
(``mix=<digest>,seed=3``, ``without=huangpu_2024,seed=3``, ``plan=as_written,seed=3``),
written atomically, so a rerun, a second worker or the validation finds it there and
nothing is run twice. The config of a run is the base config (composed once per process
from ``conf/`` with the study's base overrides, as ``clustersim-run`` would) with the
mix's values set on the plan's instruments: the same values the recorded overrides give
(``overrides.yaml`` in each run folder; a test checks the two paths agree).

``SyntheticEvaluator`` is a stand-in with a known optimum, plugged into the same driver
by the tests (and usable to check a sampler's settings quickly).

Each evaluation returns one ``Measures`` mapping per seed: ``caused_<objective>`` for
every objective, ``spending_per_year`` (the whole plan, RMB a year over its years in
force), ``budget_per_year`` (the searched instruments' part of it),
``budget_max_year`` (the largest yearly spending of the searched instruments,
which the budget bounds) and ``run`` (the run folder's name).
"""

from __future__ import annotations

import copy
import fcntl
import json
import math
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import pandas as pd

from clustersim.optimize.objectives import OBJECTIVES
from clustersim.optimize.space import Mix, SearchSpace

__all__ = ["Evaluator", "Measures", "ModelEvaluator", "SyntheticEvaluator", "job_name"]

Measures = dict[str, Any]

#: Sub-folder of a study holding every run folder.
RUNS = "runs"


class Evaluator(Protocol):
    """What the study driver needs from an evaluator."""

    def evaluate(
        self, mix: Mix, space: SearchSpace, budget: float, seeds: Sequence[int]
    ) -> list[Measures]:
        """Measures of ``mix`` at ``budget``, one mapping per seed."""
        ...

    def evaluate_plan(self, seeds: Sequence[int]) -> list[Measures]:
        """Measures of the plan as written (no override), one mapping per seed."""
        ...


def job_name(settings: Mapping[str, Any]) -> str:
    """A run folder's name from its settings, sorted by key (``mix=ab12,seed=3``)."""
    return ",".join(f"{k}={settings[k]}" for k in sorted(settings))


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` (released by the kernel if the process dies)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@dataclass
class ModelEvaluator:
    """Runs the model for a mix on each seed, and the same seed without the plan.

    Attributes:
        folder: the study folder (runs go to ``folder/runs``).
        base: Hydra overrides of every run (world, behaviour, the policy including the
            plan), as typed after ``clustersim-run``.
        plan: the regime being improved.
        month: the month outcomes are read at (``YYYY-MM``).

    """

    folder: Path
    base: tuple[str, ...]
    plan: str
    month: str
    _configs: dict[str, dict[str, Any]] = field(default_factory=dict, repr=False, compare=False)

    # ----------------------------------------------------------------- configs

    def run_overrides(self) -> list[str]:
        """The base overrides plus what every study run sets (quiet, no built-in counterfactual)."""
        return [
            *self.base,
            "run.progress=false",
            "run.counterfactual=off",
            f"run.report_months=[{self.month}]",
        ]

    def _config(self, which: str) -> dict[str, Any]:
        """The plain composed config with the plan (``with``) or without it (``without``)."""
        if which not in self._configs:
            from clustersim.api import compose
            from clustersim.config import to_plain

            overrides = self.run_overrides()
            if which == "without":
                overrides.append(f"~policy.{self.plan}")
            self._configs[which] = to_plain(compose(overrides))
        return self._configs[which]

    def years(self) -> list[int]:
        """Calendar years up to ``month`` in which any of the plan's instruments is in force."""
        cfg = self._config("with")
        first = int(str(cfg["world"]["start"])[:4])
        last = int(self.month[:4])
        years: set[int] = set()
        for inst in cfg["policy"][self.plan].values():
            if not isinstance(inst, Mapping) or "window" not in inst:
                continue
            w = inst["window"] or {}
            lo = int(str(w.get("start") or cfg["world"]["start"])[:4])
            hi = int(str(w.get("end") or cfg["world"]["end"])[:4])
            years.update(range(max(lo, first), min(hi, last) + 1))
        return sorted(years)

    # -------------------------------------------------------------------- runs

    def _run(self, name: str, config: dict[str, Any], overrides: list[str]) -> Path:
        """The run folder ``runs/<name>``: reused if complete with this config, else run."""
        from clustersim.config import config_hash
        from clustersim.results.run_folder import RunFolderError, is_complete, read_marker
        from clustersim.runner import simulate, write_run
        from clustersim.settings import load_scenario

        runs = self.folder / RUNS
        out = runs / name
        with _locked(runs / ".locks" / f"{name}.lock"):
            if is_complete(out):
                if read_marker(out).get("config_hash") != config_hash(config):
                    raise RunFolderError(
                        f"{out} holds a finished run of another config (was the study's base "
                        "changed?); use another study folder"
                    )
                return out
            result = simulate(load_scenario(config))
            write_run(result, out, overrides)
        return out

    def _seeded(self, which: str, seed: int, values: Mapping[str, Mapping[str, Any]] | None):
        config = copy.deepcopy(self._config(which))
        config["seed"] = int(seed)
        overrides = [*self.run_overrides(), f"seed={seed}"]
        if which == "without":
            overrides.append(f"~policy.{self.plan}")
        regime = config["policy"].get(self.plan)
        for inst, changes in (values or {}).items():
            for key, value in changes.items():
                node = regime[inst]
                *path, last = key.split(".")
                for part in path:
                    node = node[part]
                node[last] = value
        return config, overrides

    def _measure(self, run: Path, without: Path, searched: Sequence[str]) -> Measures:
        mine, base = _outcomes(run, self.month), _outcomes(without, self.month)
        out: Measures = {
            f"caused_{name}": mine[o.metric] - base[o.metric] for name, o in OBJECTIVES.items()
        }
        years = self.years()
        spending = _spending(run, self.plan)
        spending = spending[spending["year"].isin(years)]
        per_year = spending.groupby("year")["amount"].sum().reindex(years, fill_value=0.0)
        budget = (
            spending[spending["instrument"].isin(list(searched))]
            .groupby("year")["amount"]
            .sum()
            .reindex(years, fill_value=0.0)
        )
        out["spending_per_year"] = float(per_year.mean()) if years else 0.0
        out["budget_per_year"] = float(budget.mean()) if years else 0.0
        out["budget_max_year"] = float(budget.max()) if years else 0.0
        out["run"] = run.name
        return out

    def without(self, seed: int) -> Path:
        """The run of ``seed`` without the plan (shared by every trial and the validation)."""
        config, overrides = self._seeded("without", seed, None)
        return self._run(job_name({"without": self.plan, "seed": seed}), config, overrides)

    def evaluate(
        self, mix: Mix, space: SearchSpace, budget: float, seeds: Sequence[int]
    ) -> list[Measures]:
        """Run ``mix`` on each seed (reusing finished runs) and measure what it caused."""
        values = mix.values(space, budget)
        digest = mix.digest(space, budget)
        out = []
        for seed in seeds:
            config, overrides = self._seeded("with", seed, values)
            overrides += mix.overrides(space, budget)
            run = self._run(job_name({"mix": digest, "seed": seed}), config, overrides)
            out.append(self._measure(run, self.without(seed), space.ids))
        return out

    def evaluate_plan(self, seeds: Sequence[int], searched: Sequence[str] = ()) -> list[Measures]:
        """Run the plan as written (no override of it) on each seed and measure it."""
        out = []
        for seed in seeds:
            config, overrides = self._seeded("with", seed, None)
            run = self._run(job_name({"plan": "as_written", "seed": seed}), config, overrides)
            out.append(self._measure(run, self.without(seed), searched))
        return out


def _outcomes(run: Path, month: str) -> dict[str, float]:
    summary = json.loads((run / "summary.json").read_text())
    return summary["outcomes"][month]


def _spending(run: Path, plan: str) -> pd.DataFrame:
    path = run / "spending.parquet"
    if not path.is_file():
        return pd.DataFrame({"instrument": [], "year": [], "amount": []})
    frame = pd.read_parquet(path)
    return frame[frame["regime"] == plan]


@dataclass
class SyntheticEvaluator:
    """A stand-in objective with a known optimum, for checking the driver.

    Caused jobs peak when the named instrument ``target`` alone is in force at multiple
    ``best_multiple`` (any share: it then holds the whole budget) and fall off with the
    squared log-distance of the multiple from it and with every other instrument in force
    or holding budget. Spending is the budget times the share in force, and a seed adds
    ``noise`` x a seed-specific shift, so averaging over seeds matters. ``delay`` seconds
    of sleep per seed stand for a model run's time (tests interrupt a study mid-trial).
    """

    target: str
    best_multiple: float = 2.0
    peak: float = 1000.0
    noise: float = 0.0
    delay: float = 0.0

    def _caused(self, mix: Mix) -> float:
        s = mix.settings[self.target]
        value = 0.0
        if s.in_force:
            value = (
                self.peak * s.share * math.exp(-((math.log(s.multiple / self.best_multiple)) ** 2))
            )
        others = sum(1 for i, o in mix.settings.items() if i != self.target and o.in_force)
        return value - 10.0 * others

    def evaluate(
        self, mix: Mix, space: SearchSpace, budget: float, seeds: Sequence[int]
    ) -> list[Measures]:
        """Deterministic measures of ``mix`` for each seed."""
        if self.delay:
            time.sleep(self.delay * len(seeds))
        caused = self._caused(mix)
        lines = mix.lines(budget)
        spent = float(sum(lines.values()))
        return [
            {
                **{f"caused_{n}": caused + self.noise * _shift(seed) for n in OBJECTIVES},
                "spending_per_year": spent,
                "budget_per_year": spent,
                "budget_max_year": spent,
                "run": f"synthetic,seed={seed}",
            }
            for seed in seeds
        ]

    def evaluate_plan(self, seeds: Sequence[int], searched: Sequence[str] = ()) -> list[Measures]:
        """The stand-in has no plan as written of its own: zero caused, zero spent."""
        return [
            {
                **{f"caused_{n}": 0.0 for n in OBJECTIVES},
                "spending_per_year": 0.0,
                "budget_per_year": 0.0,
                "budget_max_year": 0.0,
                "run": f"synthetic,seed={seed}",
            }
            for seed in seeds
        ]


def _shift(seed: int) -> float:
    """A fixed pseudo-random shift in [-1, 1) per seed."""
    return ((seed * 2654435761) % 1000) / 500.0 - 1.0
