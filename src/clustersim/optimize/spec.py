"""The settings of one study, checked before anything is written.

A study improves one plan (a regime of the composed policy, e.g. ``huangpu_2024``): it
searches its instruments' mixes under a yearly budget, judging each mix by the outcomes
it causes (averaged over ``seeds`` seeds) against what it spends; then it checks the best
mixes against the plan as written on fresh seeds the search never saw.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from clustersim.optimize.errors import StudyConfigError
from clustersim.optimize.objectives import OBJECTIVES

__all__ = ["SAMPLERS", "StudySpec", "spec_from_mapping"]

#: Samplers a study can use (Optuna's): TPE (single or multi-objective, with the budget
#: constraint), NSGA-II (multi-objective, with the constraint), random search (a baseline).
SAMPLERS = ("tpe", "nsga2", "random")

_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


@dataclass(frozen=True)
class StudySpec:
    """Everything a study needs, with the defaults a user gets.

    Attributes:
        folder: the study folder (Optuna's SQLite file, the runs, the tables).
        plan: the regime whose instruments are searched (a key of the composed policy).
        base: Hydra overrides of every run (``world=toy``, ``policy=all_three``, ...);
            without a ``policy=`` override the policy is the plan alone.
        objectives: one or two of ``OBJECTIVES`` (caused outcomes, maximised).
        spending_objective: also minimise spending (a trade-off front); False keeps
            spending as a constraint only.
        budget: the searched instruments' total yearly budget: ``written`` (their yearly
            lines as the plan writes them), ``spent`` (what the plan as written spends a
            year on the search seeds) or an amount in RMB.
        seeds: k, the seeds each mix is run on (search seeds ``seed_start ..``).
        seed_start: the first search seed.
        trials: how many trials the study should hold when done (a rerun adds the rest).
        workers: worker processes evaluating trials at once.
        sampler: one of ``SAMPLERS``.
        study_seed: seeds the sampler (same study seed, same sequence of trials when
            ``workers`` is 1).
        month: the month outcomes are read at, ``YYYY-MM``; None = the world's last month.
        instruments: ids to search; None = every instrument with a yearly budget line.
        multiples: per instrument, a ``[low, high]`` range for its multiple.
        min_multiple: default lowest multiple of an instrument's written amount or rate.
        uncapped_max_multiple: highest multiple where the text states no cap.
        validation_seeds: fresh seeds the best mixes are checked on (0 = no validation).
        validation_seed_start: the first validation seed (must not overlap the search's).
        validate_best: how many of the best mixes to check.

    """

    folder: Path
    plan: str
    base: tuple[str, ...] = ()
    objectives: tuple[str, ...] = ("jobs",)
    spending_objective: bool = True
    budget: float | str = "written"
    seeds: int = 4
    seed_start: int = 0
    trials: int = 50
    workers: int = 1
    sampler: str = "tpe"
    study_seed: int = 0
    month: str | None = None
    instruments: tuple[str, ...] | None = None
    multiples: Mapping[str, Sequence[float]] = field(default_factory=dict)
    min_multiple: float = 0.25
    uncapped_max_multiple: float = 4.0
    validation_seeds: int = 10
    validation_seed_start: int = 1000
    validate_best: int = 3

    # ------------------------------------------------------------------ check

    def check(self, field_prefix: str = "optimize") -> None:
        """Raise ``StudyConfigError`` for the first bad setting (nothing is written)."""
        p = field_prefix
        if not isinstance(self.plan, str) or not self.plan:
            raise StudyConfigError(f"{p}.plan", self.plan, "name the plan to improve (a regime)")
        objs = self.objectives
        if isinstance(objs, str) or not isinstance(objs, Sequence) or not 1 <= len(objs) <= 2:
            raise StudyConfigError(
                f"{p}.objectives", objs, f"a list of one or two of: {', '.join(OBJECTIVES)}"
            )
        for i, name in enumerate(objs):
            if name not in OBJECTIVES:
                raise StudyConfigError(
                    f"{p}.objectives[{i}]",
                    name,
                    f"unknown objective; allowed: "
                    f"{', '.join(OBJECTIVES)} (spending is added by spending_objective)",
                )
        if len(set(objs)) != len(objs):
            raise StudyConfigError(f"{p}.objectives", list(objs), "names an objective twice")
        if not isinstance(self.spending_objective, bool):
            raise StudyConfigError(
                f"{p}.spending_objective", self.spending_objective, "must be true or false"
            )
        b = self.budget
        if isinstance(b, str):
            if b not in ("written", "spent"):
                raise StudyConfigError(
                    f"{p}.budget", b, "must be written, spent, or a yearly amount in RMB > 0"
                )
        elif (
            isinstance(b, bool) or not isinstance(b, (int, float)) or not math.isfinite(b) or b <= 0
        ):
            raise StudyConfigError(
                f"{p}.budget", b, "must be written, spent, or a yearly amount in RMB > 0"
            )
        for name, low in (("seeds", 1), ("trials", 1), ("workers", 1), ("validate_best", 1)):
            _whole(f"{p}.{name}", getattr(self, name), low)
        for name in ("seed_start", "validation_seed_start", "study_seed", "validation_seeds"):
            _whole(f"{p}.{name}", getattr(self, name), 0)
        for name, low, rule in (
            ("min_multiple", 0.0, ">= 0"),
            ("uncapped_max_multiple", 0.0, "> 0"),
        ):
            value = getattr(self, name)
            bad = isinstance(value, bool) or not isinstance(value, (int, float))
            if bad or not math.isfinite(value) or value < low or (rule == "> 0" and value == 0):
                raise StudyConfigError(f"{p}.{name}", value, f"must be a number {rule}")
        if not isinstance(self.multiples, Mapping):
            raise StudyConfigError(
                f"{p}.multiples", self.multiples, "a mapping of instrument id to [low, high]"
            )
        if self.validation_seeds == 1:
            raise StudyConfigError(
                f"{p}.validation_seeds", 1, "0 (no validation) or >= 2 (a paired interval needs 2)"
            )
        if self.sampler not in SAMPLERS:
            raise StudyConfigError(f"{p}.sampler", self.sampler, f"allowed: {', '.join(SAMPLERS)}")
        if self.sampler == "nsga2" and len(self.directions) < 2:
            raise StudyConfigError(
                f"{p}.sampler",
                "nsga2",
                "NSGA-II needs two or more objectives (set spending_objective: true or two "
                "objectives); use tpe or random for one",
            )
        if self.month is not None and (
            not isinstance(self.month, str) or not _MONTH.match(self.month)
        ):
            raise StudyConfigError(f"{p}.month", self.month, "a month YYYY-MM, or null")
        search, fresh = set(self.search_seeds), set(self.fresh_seeds)
        if search & fresh:
            raise StudyConfigError(
                f"{p}.validation_seed_start",
                self.validation_seed_start,
                f"validation seeds {min(fresh)}..{max(fresh)} overlap the search seeds "
                f"{min(search)}..{max(search)}; validation must use seeds the search never saw",
            )
        if not isinstance(self.base, Sequence) or isinstance(self.base, str):
            raise StudyConfigError(f"{p}.base", self.base, "a list of Hydra overrides")

    # ------------------------------------------------------------ derived

    @property
    def search_seeds(self) -> list[int]:
        """The k seeds every trial is run on."""
        return list(range(self.seed_start, self.seed_start + self.seeds))

    @property
    def fresh_seeds(self) -> list[int]:
        """The validation seeds (disjoint from the search seeds, checked)."""
        start = self.validation_seed_start
        return list(range(start, start + self.validation_seeds))

    @property
    def value_names(self) -> list[str]:
        """The study's objective values, in Optuna's order."""
        names = [f"caused_{o}" for o in self.objectives]
        return [*names, "spending_per_year"] if self.spending_objective else names

    @property
    def directions(self) -> list[str]:
        """Optuna's directions: caused outcomes up, spending down."""
        out = ["maximize"] * len(self.objectives)
        return [*out, "minimize"] if self.spending_objective else out

    def base_overrides(self) -> list[str]:
        """The base overrides, with ``policy=<plan>`` when the base does not choose a policy."""
        base = list(self.base)
        if not any(o.split("=", 1)[0].lstrip("+") == "policy" for o in base):
            base.insert(0, f"policy={self.plan}")
        return base

    def identity(self) -> dict[str, Any]:
        """The settings that define the study (a rerun may change only trials and workers)."""
        data = asdict(self)
        for key in (
            "folder",
            "trials",
            "workers",
            "validation_seeds",
            "validation_seed_start",
            "validate_best",
        ):
            data.pop(key)
        data["base"] = self.base_overrides()
        data["objectives"] = list(self.objectives)
        data["instruments"] = None if self.instruments is None else list(self.instruments)
        data["multiples"] = {k: list(v) for k, v in dict(self.multiples).items()}
        return data


def _whole(path: str, value: Any, low: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise StudyConfigError(path, value, f"must be a whole number >= {low}")


def spec_from_mapping(data: Mapping[str, Any], field_prefix: str = "optimize") -> StudySpec:
    """A ``StudySpec`` from the composed ``optimize`` node (unknown keys are errors)."""
    import dataclasses

    names = [f.name for f in dataclasses.fields(StudySpec)]
    if not isinstance(data, Mapping):
        raise StudyConfigError(
            field_prefix, data, f"must be a mapping with keys {', '.join(names)}"
        )
    for key in data:
        if key not in names:
            raise StudyConfigError(
                f"{field_prefix}.{key}", data[key], f"unknown key; allowed: {', '.join(names)}"
            )
    values = dict(data)
    plan = values.get("plan")
    if not plan:
        raise StudyConfigError(
            f"{field_prefix}.plan",
            plan,
            "name the plan to improve (e.g. optimize.plan=huangpu_2024), or choose a preset "
            "(experiment=optimize_huangpu)",
        )
    if values.get("folder") is None:
        values["folder"] = f"results/optimize/{plan}"
    values["folder"] = Path(str(values["folder"]))
    for key in ("base", "objectives", "instruments"):
        value = values.get(key)
        if isinstance(value, Sequence) and not isinstance(value, str):
            values[key] = tuple(str(v) for v in value)
    if values.get("multiples") is None:
        values["multiples"] = {}
    for key in ("min_multiple", "uncapped_max_multiple"):
        if isinstance(values.get(key), int) and not isinstance(values.get(key), bool):
            values[key] = float(values[key])
    return StudySpec(**values)
