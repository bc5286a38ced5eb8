"""The ``grid`` sweeper: Hydra's basic sweeper, minus the work a sweep need not do.

It skips complete jobs before launching them, checks each setting once instead of each
job, and hands the launcher a config loader that composes each set of config groups once
per process (``clustersim.sweep.compose``).

A job whose folder is already complete with the same recipe (config name, overrides,
config files: ``clustersim.sweep.skip``) is recorded as skipped and never launched, so a
rerun of a finished sweep costs seconds instead of a worker and a composition per job.

Hydra's basic sweeper composes every job's config in the launching process to check the
batch before launching it, and the launcher composes it again in the job. With our config
tree a composition takes 0.1-0.4 s, so for ``compare_plans`` (100 jobs) the check alone
took ~26 s, one after another, before any job started. A composition error comes from a
setting (an unknown policy name, a value of the wrong type), so composing a subset of jobs
that uses every ``key=value`` of the sweep at least once finds the same errors: 24
compositions for 5 policies x 20 seeds. Everything else (the cartesian product, job order
and numbering, batches, ``hydra.sweeper.params``) is the basic sweeper's.

Selected by default in ``conf/hydra/default.yaml``; ``hydra/sweeper=basic`` brings back
Hydra's own.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hydra._internal.core_plugins.basic_sweeper import BasicSweeper, BasicSweeperConf
from hydra.core.config_store import ConfigStore
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.utils import JobReturn
from omegaconf import OmegaConf


@dataclass
class GridSweeperConf(BasicSweeperConf):
    """Settings of the ``grid`` sweeper: those of Hydra's basic sweeper."""

    _target_: str = "hydra_plugins.clustersim_qmc_sweeper.grid_sweeper.GridSweeper"


ConfigStore.instance().store(
    group="hydra/sweeper", name="grid", node=GridSweeperConf, provider="clustersim"
)


class GridSweeper(BasicSweeper):
    """Hydra's basic sweeper; skips complete jobs and checks a covering subset of each batch.

    See the module docstring.
    """

    def setup(self, *, hydra_context: Any, task_function: Any, config: Any) -> None:
        """Hydra's setup, with a config loader that reuses compositions (``sweep.compose``)."""
        from clustersim.sweep.compose import reuse_compositions

        super().setup(
            hydra_context=reuse_compositions(hydra_context),
            task_function=task_function,
            config=config,
        )

    def sweep(self, arguments: list[str]) -> Any:
        """Hydra's ``BasicSweeper.sweep``, launching only the jobs not yet complete."""
        from clustersim.sweep.launch import start_workers_of
        from clustersim.sweep.skip import CompleteJobs, skip_complete

        assert self.config is not None and self.launcher is not None
        assert self.hydra_context is not None
        texts = [*self._parse_config(), *arguments]
        parser = OverridesParser.create(config_loader=self.hydra_context.config_loader)
        self.overrides = self.split_arguments(parser.parse_overrides(texts), self.max_batch_size)
        sweep_dir = Path(str(self.config.hydra.sweep.dir))
        sweep_dir.mkdir(parents=True, exist_ok=True)
        OmegaConf.save(self.config, sweep_dir / "multirun.yaml")
        complete = CompleteJobs(self.config)
        returns: list[Sequence[JobReturn]] = []
        initial_job_idx = 0
        while not self.is_done():
            batch = skip_complete(complete, self.get_job_batch())
            if not batch:
                continue
            start_workers_of(self.launcher)  # they import the model while the batch is checked
            self.validate_batch_is_legal(batch)
            results = self.launcher.launch(batch, initial_job_idx=initial_job_idx)
            for r in results:
                _ = r.return_value  # re-raises an error that escaped the task function
            initial_job_idx += len(batch)
            returns.append(results)
        return returns

    def validate_batch_is_legal(self, batch: Sequence[Sequence[str]]) -> None:
        """Compose and check the jobs that together use every setting of the batch once."""
        from clustersim.sweep.designs import covering_subset
        from clustersim.sweep.preflight import check_batch

        assert self.config is not None
        check_batch(self, covering_subset(batch), Path(str(self.config.hydra.sweep.dir)))
