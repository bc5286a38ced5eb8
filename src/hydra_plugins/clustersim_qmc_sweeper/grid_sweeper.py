"""The ``grid`` sweeper: Hydra's basic sweeper, checking each setting once instead of each job.

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

from hydra._internal.core_plugins.basic_sweeper import BasicSweeper, BasicSweeperConf
from hydra.core.config_store import ConfigStore


@dataclass
class GridSweeperConf(BasicSweeperConf):
    """Settings of the ``grid`` sweeper: those of Hydra's basic sweeper."""

    _target_: str = "hydra_plugins.clustersim_qmc_sweeper.grid_sweeper.GridSweeper"


ConfigStore.instance().store(
    group="hydra/sweeper", name="grid", node=GridSweeperConf, provider="clustersim"
)


class GridSweeper(BasicSweeper):
    """Hydra's basic sweeper; checks a covering subset of each batch (see the module docstring)."""

    def validate_batch_is_legal(self, batch: Sequence[Sequence[str]]) -> None:
        """Compose and check the jobs that together use every setting of the batch once."""
        from clustersim.sweep.designs import covering_subset
        from clustersim.sweep.preflight import check_batch

        assert self.config is not None
        check_batch(self, covering_subset(batch), Path(str(self.config.hydra.sweep.dir)))
