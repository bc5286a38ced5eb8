"""The ``sensitivity`` sweeper: a Sobol/Saltelli or Morris design run as a Hydra sweep.

Example (a Morris screen of the behavioural assumptions, 20 trajectories, toy world)::

    clustersim-run -m hydra/sweeper=sensitivity hydra.sweeper.method=morris \
        hydra.sweeper.n=20 world=toy run.counterfactual=no_policy

The parameters and their ranges come from a space file in ``conf/sensitivity/``
(``hydra.sweeper.space``, default ``behaviour``; ``hydra.sweeper.parameters`` picks a
subset). The design is drawn with SALib (``clustersim.analysis.designs.sample``) from a
fixed seed and written to ``<sweep>/sensitivity_design.json`` before any job runs, so
``clustersim-analyze`` can check the sweep was made with it; rerunning the same command
into the same folder resumes it, and a folder holding another design is refused.

Choice sweeps on the command line (``policy=huangpu_2024,pudong_2027``, ``seed=0,1``) are
crossed with every design row; plain values pass through. Jobs are named by their
crossed settings and the design row (``policy=none,point=00017``), since a row's values
would make too long a folder name; the values are in each job's ``overrides.yaml`` and
in the collected ``runs.parquet``. Morris trajectories may visit a point twice: it runs
once.

This module is imported by Hydra's plugin discovery in every process, so it imports
nothing heavy at the top (no ``from __future__ import annotations``: see qmc_sweeper.py).
"""

import itertools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hydra.core.config_store import ConfigStore
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.utils import JobReturn
from hydra.errors import HydraException
from hydra.plugins.launcher import Launcher
from hydra.plugins.sweeper import Sweeper
from hydra.types import HydraContext, TaskFunction
from omegaconf import DictConfig, OmegaConf


@dataclass
class SensitivitySweeperConf:
    """Settings of the ``sensitivity`` sweeper (``hydra.sweeper.*``)."""

    _target_: str = "hydra_plugins.clustersim_qmc_sweeper.sensitivity_sweeper.SensitivitySweeper"
    # sobol (Saltelli: first-order, total and second-order indices) or morris (screening)
    method: str = "sobol"
    # the parameter space: a file of conf/sensitivity/ (by name) or a path to one
    space: str = "behaviour"
    # the parameters of the space to vary (null: all of them), in this order
    parameters: list[str] | None = None
    # Sobol: base samples N (a power of two; N*(2D+2) runs); Morris: trajectories (N*(D+1) runs)
    n: int = 64
    # seed of the design: fixed, so the design (and its job folders) is the same on every rerun
    seed: int = 0
    # Sobol: also second-order indices (N*(2D+2) runs instead of N*(D+2))
    second_order: bool = True
    # Morris: levels of the grid each parameter moves on
    levels: int = 4
    # significant digits of the sampled values (the values the jobs run with)
    digits: int = 6
    # jobs handed to the launcher at once; null: all of them
    max_batch_size: int | None = None


ConfigStore.instance().store(
    group="hydra/sweeper", name="sensitivity", node=SensitivitySweeperConf, provider="clustersim"
)


def draw_design(settings: Any) -> Any:
    """The design these sweeper settings ask for (``clustersim.analysis`` objects)."""
    from clustersim.analysis.designs import sample
    from clustersim.analysis.space import load_space

    space = load_space(str(settings.space))
    if settings.parameters:
        space = space.subset([str(p) for p in settings.parameters])
    options = (
        {"second_order": bool(settings.second_order)}
        if settings.method == "sobol"
        else {"levels": int(settings.levels)}
    )
    return sample(
        space,
        str(settings.method),
        int(settings.n),
        seed=int(settings.seed),
        digits=int(settings.digits),
        **options,
    )


def crossings(overrides: list[Any], design_keys: list[str]) -> list[list[str]]:
    """The settings every design row is run with: choice sweeps crossed, plain values kept."""
    grid: list[list[str]] = []
    for ov in overrides:
        key = ov.get_key_element()
        if key.lstrip("+~") in design_keys:
            raise HydraException(
                f"sensitivity sweeper: {key} is a parameter of the design; set its range in the "
                "space file (hydra.sweeper.space), or leave it out with hydra.sweeper.parameters"
            )
        if ov.is_sweep_override():
            if not ov.is_discrete_sweep():
                raise HydraException(
                    f"sensitivity sweeper: {key}: only choice sweeps (a,b,c or range(...)) can be "
                    "crossed with a design; ranges of parameters belong in the space file"
                )
            grid.append([f"{key}={v}" for v in ov.sweep_string_iterator()])
        else:
            grid.append([f"{key}={ov.get_value_element_as_str()}"])
    return [list(combo) for combo in itertools.product(*grid)]


def job_subdir(combo: list[str], point: int, swept: set[str]) -> str:
    """A job's folder name: its crossed (swept) settings sorted by key, then its point.

    Made safe as a folder name like every job's (``clustersim.results.names.job_folder``).
    """
    from clustersim.results.names import job_folder

    named = sorted((o for o in combo if o.split("=", 1)[0] in swept), key=lambda o: o.split("=")[0])
    return job_folder(",".join([*named, f"point={point:05d}"]))


def count_sensitivity_jobs(config: DictConfig) -> int:
    """Number of jobs the configured sensitivity sweep launches (for the progress display)."""
    design = draw_design(config.hydra.sweeper)
    unique, _ = design.unique_rows()
    overrides = OverridesParser.create().parse_overrides(
        [str(o) for o in config.hydra.overrides.task]
    )
    n = len(unique)
    for ov in overrides:
        if ov.is_sweep_override():
            n *= len(list(ov.sweep_string_iterator()))
    return n


class SensitivitySweeper(Sweeper):
    """Runs a SALib design over a parameter space through Hydra's launcher."""

    def __init__(
        self,
        method: str,
        space: str,
        parameters: list[str] | None,
        n: int,
        seed: int,
        second_order: bool,
        levels: int,
        digits: int,
        max_batch_size: int | None,
    ) -> None:
        if max_batch_size is not None and max_batch_size < 1:
            raise HydraException(
                f"hydra.sweeper.max_batch_size = {max_batch_size}: must be at least 1, or null"
            )
        self.settings = OmegaConf.create(
            {
                "method": method,
                "space": space,
                "parameters": list(parameters) if parameters else None,
                "n": n,
                "seed": seed,
                "second_order": second_order,
                "levels": levels,
                "digits": digits,
            }
        )
        self.max_batch_size = max_batch_size
        self.config: DictConfig | None = None
        self.launcher: Launcher | None = None
        self.hydra_context: HydraContext | None = None

    def setup(
        self, *, hydra_context: HydraContext, task_function: TaskFunction, config: DictConfig
    ) -> None:
        """Keep the context and instantiate the configured launcher."""
        from clustersim.sweep.compose import setup_launcher

        setup_launcher(self, hydra_context, task_function, config)

    def _fail(self, sweep_dir: Path, message: str) -> None:
        from clustersim.sweep.preflight import _abandon

        _abandon(sweep_dir)
        raise HydraException(f"sensitivity sweeper: {message}")

    def plan(self, arguments: list[str], sweep_dir: Path) -> tuple[Any, list[list[str]]]:
        """Draw and check the design; return it and every job's overrides (nothing written)."""
        from clustersim.analysis.errors import AnalysisError
        from clustersim.analysis.space import check_against
        from clustersim.config import ConfigError, to_plain
        from clustersim.results.shared_counterfactuals import sharing_order
        from clustersim.settings import load_scenario

        assert self.config is not None and self.hydra_context is not None
        try:
            design = draw_design(self.settings)
        except AnalysisError as err:
            self._fail(sweep_dir, f"hydra.sweeper: {err}")
        parser = OverridesParser.create(config_loader=self.hydra_context.config_loader)
        overrides = parser.parse_overrides(list(arguments))
        swept = {ov.get_key_element() for ov in overrides if ov.is_sweep_override()}
        try:
            combos = crossings(overrides, design.space.names)
        except HydraException as err:
            self._fail(sweep_dir, str(err).removeprefix("sensitivity sweeper: "))
        loader = self.hydra_context.config_loader
        for combo in combos:
            # every crossed setting composes, and each parameter can take both ends of its range
            cfg = loader.load_sweep_config(master_config=self.config, sweep_overrides=combo)
            try:
                load_scenario(cfg)
                check_against(design.space, to_plain(cfg))
            except (ConfigError, AnalysisError) as err:
                where = f" (with {' '.join(combo)})" if combo else ""
                self._fail(sweep_dir, f"{err}{where}")
        unique, _ = design.unique_rows()
        jobs = []
        for combo in combos:
            for point in range(len(unique)):
                texts = [
                    f"{p}={v}"
                    for p, v in zip(
                        design.space.names, _texts(unique[point], design.digits), strict=True
                    )
                ]
                subdir = job_subdir(combo, point, swept)
                jobs.append([*combo, *texts, f"hydra.sweep.subdir='{subdir}'"])
        # jobs named by their design row, launched so that those able to share a no-plan
        # counterfactual follow the one that runs it (the folders are the same either way)
        order = sharing_order([job[:-1] for job in jobs])
        return design, [jobs[i] for i in order]

    def sweep(self, arguments: list[str]) -> Any:
        """Check and write the design, then launch its jobs batch by batch."""
        from clustersim.analysis.designs import DESIGN_FILE, read_design, write_design
        from clustersim.analysis.errors import AnalysisError
        from clustersim.sweep.skip import CompleteJobs, skip_complete

        assert self.config is not None and self.launcher is not None
        sweep_dir = Path(str(self.config.hydra.sweep.dir))
        design, jobs = self.plan(arguments, sweep_dir)
        if (sweep_dir / DESIGN_FILE).is_file():
            try:
                earlier = read_design(sweep_dir)
            except AnalysisError as err:
                raise HydraException(f"sensitivity sweeper: {err}") from None
            if earlier.to_dict() != design.to_dict():
                raise HydraException(
                    f"sensitivity sweeper: {sweep_dir} holds a sweep of another design "
                    f"({earlier.method}, n={earlier.n}, seed={earlier.seed}, parameters "
                    f"{', '.join(earlier.space.names)}); use another hydra.sweep.dir, or remove "
                    "that folder to start again"
                )
        sweep_dir.mkdir(parents=True, exist_ok=True)
        write_design(design, sweep_dir)
        OmegaConf.save(self.config, sweep_dir / "multirun.yaml")
        size = self.max_batch_size or len(jobs)
        complete = CompleteJobs(self.config)
        returns: list[list[JobReturn]] = []
        for start in range(0, len(jobs), size):
            batch = skip_complete(complete, jobs[start : start + size])
            if not batch:
                continue
            results = list(self.launcher.launch(batch, initial_job_idx=start))
            for r in results:
                _ = r.return_value  # re-raises an error that escaped the task function
            returns.append(results)
        return returns


def _texts(values: Any, digits: int) -> list[str]:
    from clustersim.analysis.designs import format_value

    return [format_value(v, digits) for v in values]
