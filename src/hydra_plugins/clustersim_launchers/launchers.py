"""The ``serial`` and ``cores`` launchers (``clustersim.sweep.launch`` does the work).

``serial`` is Hydra's basic launcher (jobs one after another in the launching process),
``cores`` the joblib launcher (a worker process per core). Both give each job the same
config, folder, ``hydra.job`` fields, callbacks and ``JobReturn`` as the launcher they
follow; they only skip the per-job copies and pickling (see ``clustersim.sweep.launch``:
the ``JobReturn`` that ``cores`` hands back to the launching process leaves out the
job's configs, which stay in the worker).
"""

from collections.abc import Sequence

from hydra._internal.core_plugins.basic_launcher import BasicLauncher
from hydra.core.utils import JobReturn
from hydra_plugins.hydra_joblib_launcher.joblib_launcher import JoblibLauncher


class SerialLauncher(BasicLauncher):
    """Hydra's basic launcher, each job run by ``clustersim.sweep.launch.run_job``."""

    def launch(
        self, job_overrides: Sequence[Sequence[str]], initial_job_idx: int
    ) -> Sequence[JobReturn]:
        """Run the jobs one after another in this process."""
        from clustersim.sweep.launch import launch_serial

        return launch_serial(self, job_overrides, initial_job_idx)


class CoresLauncher(JoblibLauncher):
    """The joblib launcher, shipping what jobs share once per batch (``launch_on_cores``)."""

    def launch(
        self, job_overrides: Sequence[Sequence[str]], initial_job_idx: int
    ) -> Sequence[JobReturn]:
        """Run the jobs on joblib's worker processes (``hydra.launcher.n_jobs`` of them)."""
        from clustersim.sweep.launch import launch_on_cores

        return launch_on_cores(self, job_overrides, initial_job_idx)

    def start_workers(self) -> None:
        """Start the worker processes ahead of the first batch (``sweep.launch.start_workers``)."""
        from clustersim.sweep.launch import start_workers

        start_workers(self)
