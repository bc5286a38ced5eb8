"""The ``qmc`` sweeper: a quasi-Monte Carlo design over parameters, run as a Hydra sweep.

Example (64 Sobol points over two behavioural parameters, crossed with two policies)::

    clustersim-run -m hydra/sweeper=qmc hydra.sweeper.samples=64 \
        'behavior.entry.but_for_share=interval(0.02,0.7)' \
        'behavior.agglomeration.strength=tag(log,interval(0.1,2))' \
        policy=none,all_three

``interval`` sweeps are the design's dimensions; choice and range sweeps are crossed with
every design point; plain values pass through. The design's seed is fixed (``seed``), so
the same command gives the same jobs, and their folders (named by their settings) are
found again when the sweep is rerun. Parameters may also be listed in
``hydra.sweeper.params`` (as in ``conf/experiment/sensitivity.yaml``).

This module is imported by Hydra's plugin discovery in every process, so it imports
nothing heavy at the top; numpy and scipy are loaded when a sweep starts. (No
``from __future__ import annotations``: Hydra loads plugin modules outside
``sys.modules``, where dataclasses cannot resolve string annotations.)
"""

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
class QMCSweeperConf:
    """Settings of the ``qmc`` sweeper (``hydra.sweeper.*``)."""

    _target_: str = "hydra_plugins.clustersim_qmc_sweeper.qmc_sweeper.QMCSweeper"
    # sobol (samples must be a power of two), lhs (Latin hypercube) or halton
    method: str = "sobol"
    # number of design points (each is crossed with any choice/range sweep)
    samples: int = 64
    # seed of the design's scrambling: fixed so the design, and its job folders, are reproducible
    seed: int = 0
    # scrambled (randomised) QMC; unscrambled Sobol starts at the cube's corner
    scramble: bool = True
    # significant digits of sampled values (they name the job folders)
    digits: int = 6
    # jobs handed to the launcher at once; null: all of them
    max_batch_size: int | None = None
    # parameters of the design, as in the basic sweeper: {key: "interval(0.1,0.9)", ...}
    params: dict[str, str] | None = None


ConfigStore.instance().store(
    group="hydra/sweeper", name="qmc", node=QMCSweeperConf, provider="clustersim"
)


class QMCSweeper(Sweeper):
    """Runs a QMC design (``clustersim.sweep.designs.plan_jobs``) through Hydra's launcher."""

    def __init__(
        self,
        method: str,
        samples: int,
        seed: int,
        scramble: bool,
        digits: int,
        max_batch_size: int | None,
        params: dict[str, str] | None = None,
    ) -> None:
        if max_batch_size is not None and max_batch_size < 1:
            raise HydraException(
                f"hydra.sweeper.max_batch_size = {max_batch_size}: must be at least 1, or null"
            )
        self.method = method
        self.samples = samples
        self.seed = seed
        self.scramble = scramble
        self.digits = digits
        self.max_batch_size = max_batch_size
        self.params = dict(params or {})
        self.config: DictConfig | None = None
        self.launcher: Launcher | None = None
        self.hydra_context: HydraContext | None = None
        self._design_keys: list[str] = []

    def setup(
        self, *, hydra_context: HydraContext, task_function: TaskFunction, config: DictConfig
    ) -> None:
        """Keep the context and instantiate the configured launcher."""
        from clustersim.sweep.compose import setup_launcher

        setup_launcher(self, hydra_context, task_function, config)

    def plan(self, arguments: list[str]) -> list[list[str]]:
        """Return every job's overrides; raise ``HydraException`` with a clear message."""
        from clustersim.sweep.designs import DesignError, plan_jobs

        assert self.config is not None and self.hydra_context is not None
        texts = [f"{k}={v}" for k, v in self.params.items()] + list(arguments)
        parser = OverridesParser.create(config_loader=self.hydra_context.config_loader)
        overrides = parser.parse_overrides(texts)
        try:
            jobs, dims = plan_jobs(
                overrides,
                method=self.method,
                samples=self.samples,
                seed=self.seed,
                scramble=self.scramble,
                digits=self.digits,
            )
        except DesignError as err:
            raise HydraException(f"qmc sweeper: {err}") from err
        self._design_keys = [dim.key for dim in dims]
        for dim in dims:
            found = OmegaConf.select(self.config, dim.key.lstrip("+"), default=None)
            if not dim.key.startswith("+") and (
                isinstance(found, bool) or not isinstance(found, (int, float))
            ):
                raise HydraException(
                    f"qmc sweeper: {dim.key} = {found!r}: a design parameter must name a "
                    "number in the config (e.g. behavior.entry.but_for_share)"
                )
        return jobs

    def sweep(self, arguments: list[str]) -> Any:
        """Draw the design and launch its jobs batch by batch."""
        from clustersim.sweep.designs import covering_subset
        from clustersim.sweep.launch import start_workers_of
        from clustersim.sweep.preflight import check_batch
        from clustersim.sweep.skip import CompleteJobs, skip_complete

        assert self.config is not None and self.launcher is not None
        jobs = self.plan(arguments)
        sweep_dir = Path(str(self.config.hydra.sweep.dir))
        sweep_dir.mkdir(parents=True, exist_ok=True)
        OmegaConf.save(self.config, sweep_dir / "multirun.yaml")
        size = self.max_batch_size or len(jobs)
        complete = CompleteJobs(self.config)
        returns: list[list[JobReturn]] = []
        for start in range(0, len(jobs), size):
            batch = skip_complete(complete, jobs[start : start + size])
            if not batch:
                continue
            # one composition per distinct setting, not per job: the sampled numbers were
            # checked above (each names a number in the config), so the first point stands
            # for all of them (see grid_sweeper.py)
            start_workers_of(self.launcher)  # they import the model while the batch is checked
            check_batch(self, covering_subset(batch, ignore_keys=self._design_keys), sweep_dir)
            results = list(self.launcher.launch(batch, initial_job_idx=start))
            for r in results:
                _ = r.return_value  # re-raises an error that escaped the task function
            returns.append(results)
        return returns
