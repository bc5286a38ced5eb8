"""The runs of a calibration, launched by Hydra's configured launcher like a sweep's jobs.

A calibration asks for its model runs in batches: the whole Sobol design (rejection), or
the points one round of an ABC-SMC generation proposes. ``Launch.run`` turns a batch of
parameter points into Hydra jobs and hands them to the launcher the user chose the Hydra
way (``hydra/launcher=cores``, the default here: joblib on every core; ``basic``: one
after the other in this process; ``slurm``, ``slurm_local``, ``ray_cluster``, or any
installed launcher plugin, with its ``hydra.launcher.*`` fields). The launcher is set up
by ``clustersim.sweep.compose.setup_launcher``, as the qmc and sensitivity sweepers do, so
each worker composes the calibration's config once and every job after it costs a copy.

Each job is one run, named by its settings: its overrides are the calibration's base
overrides, the fitted values and the seed (``Problem.overrides``), and
``hydra.sweep.subdir`` names its folder inside ``<calibration folder>/runs/``
(``runs.run_name``). The task function (``CalibrationTask``) runs it through the sweep's
job runner (``clustersim.sweep.jobs.sweep_job``: skip when complete with the same
config, failure records, job locks) and writes the run folder with the statistics of
every target. Runs whose folder is already complete with the same config are not
launched at all; their statistics are read back.

Whatever launcher ran them, the runs are the same (a run depends on its config and seed
only), so the calibration's result is the same to the bit.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from clustersim.calibrate.problem import Problem
from clustersim.calibrate.runs import (
    RUNS_DIR,
    mean_statistics,
    point_seed,
    run_name,
    stored_statistics,
    write_calibration_run,
)
from clustersim.calibrate.targets import Target
from clustersim.config import ConfigError, config_hash

#: The launcher of a calibration unless a ``hydra/launcher=`` setting names another: the
#: project's ``cores`` (conf/hydra/launcher/cores.yaml: joblib, one process per core).
DEFAULT_LAUNCHER = "hydra/launcher=cores"
#: Hydra's own log lines (a line per launched job) would bury the calibration's progress;
#: ``hydra/hydra_logging=default`` among the settings brings them back.
QUIET = "hydra/hydra_logging=disabled"
#: Seconds between looks at a run another process is running.
WAIT = 1.0


def is_hydra_setting(text: str) -> bool:
    """Whether a command-line setting is Hydra's (``hydra/launcher=...``, ``hydra.launcher.x=``)."""
    key = text.lstrip("+~").split("=", 1)[0]
    return key == "hydra" or key.startswith(("hydra.", "hydra/"))


def quote(text: str) -> str:
    """``text`` as one quoted Hydra override value (it may hold ``,``, ``=`` or spaces)."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


@dataclass(frozen=True)
class CalibrationTask:
    """Hydra's task function for one calibration run.

    A plain picklable object: launchers ship it to their workers (joblib's processes,
    SLURM jobs, Ray tasks). It holds the targets, whose statistics every run records.
    """

    targets: tuple[Target, ...]

    def __call__(self, cfg: Any) -> dict[str, Any]:
        """Run the job Hydra composed (``cfg``) into its folder, unless it is done already."""
        from hydra.core.hydra_config import HydraConfig

        from clustersim.config import to_plain
        from clustersim.settings import load_scenario
        from clustersim.sweep.jobs import sweep_job

        logging.getLogger("MESA").setLevel(logging.WARNING)  # Mesa logs every step at INFO
        hc = HydraConfig.get()
        overrides = [str(o) for o in hc.overrides.task]
        plain = to_plain(cfg, choices=hc.runtime.choices)  # (the task's cfg lacks Hydra's node)

        def execute(config: Any, out: Path) -> dict[str, Any]:
            scenario = load_scenario(plain)
            return write_calibration_run(scenario, self.targets, overrides)(config, out)

        return sweep_job(
            plain,
            Path(hc.runtime.output_dir),
            execute,
            sweep_dir=Path(str(hc.sweep.dir)),
            overrides=overrides,
        )


class Launch:
    """Runs batches of calibration points through the configured Hydra launcher.

    Composing the launcher's config and a first job's config happens here, before
    anything is written: an unknown launcher, a field it does not have or a job that does
    not compose is a ``ConfigError`` naming it.

    Attributes:
        problem: the calibration.
        runs: the folder of its runs (the "sweep folder" of its jobs).
        settings: the Hydra settings given by the user (``hydra/launcher=joblib``, ...).
        launched: jobs handed to the launcher so far (Hydra's job numbers continue).
        found: runs found complete instead of launched so far.

    """

    def __init__(
        self,
        problem: Problem,
        folder: Path,
        settings: Sequence[str] = (),
        log: Callable[[str], None] | None = None,
    ) -> None:
        self.problem = problem
        self.runs = (Path(folder) / RUNS_DIR).resolve()
        self.settings = list(settings)
        self.log = log
        self.launched = 0
        self.found = 0
        self.hydra_context: Any = None
        self.config: Any = None
        self.launcher: Any = None
        for text in self.settings:
            if not is_hydra_setting(text) or "=" not in text:
                raise ConfigError(
                    "launcher setting", text, "must be a Hydra override of hydra/... or hydra.*"
                )
            if text.lstrip("+~").split("=", 1)[0] in ("hydra.sweep.dir", "hydra.sweep.subdir"):
                raise ConfigError(
                    text.split("=", 1)[0],
                    text.split("=", 1)[1],
                    "set by the calibration: its runs go to <folder>/runs (use folder=)",
                )
        chosen = any(s.lstrip("+~").startswith("hydra/launcher=") for s in self.settings)
        overrides = [
            *problem.spec.overrides,
            QUIET,
            *([] if chosen else [DEFAULT_LAUNCHER]),
            *self.settings,
            f"hydra.sweep.dir={quote(str(self.runs))}",
        ]
        self._set_up(overrides)

    @property
    def launcher_name(self) -> str:
        """The launcher's class, for messages (``JoblibLauncher``, ``BasicLauncher``...)."""
        return type(self.launcher).__name__

    def _set_up(self, overrides: list[str]) -> None:
        from hydra import initialize_config_dir
        from hydra._internal.callbacks import Callbacks
        from hydra.core.global_hydra import GlobalHydra
        from hydra.types import HydraContext, RunMode

        from clustersim.composition import explain
        from clustersim.paths import conf_dir
        from clustersim.sweep.compose import setup_launcher

        try:
            with initialize_config_dir(config_dir=str(conf_dir()), version_base="1.3"):
                loader = GlobalHydra.instance().config_loader()
                config = loader.load_configuration("config", overrides, RunMode.MULTIRUN)
                context = HydraContext(config_loader=loader, callbacks=Callbacks(config))
                task = CalibrationTask(self.problem.targets.targets)
                setup_launcher(self, context, task, config)
                # the first run's config composes as every job's will (same groups)
                values = [p.from_unit(0.5) for p in self.problem.parameters]
                self.hydra_context.config_loader.load_sweep_config(
                    self.config, self._job(values, point_seed(self.problem, values, 0))
                )
        except ConfigError:
            raise
        except Exception as err:
            explained = self._explain(overrides, err) or explain(overrides, err)
            if explained is not None:
                raise explained from None
            raise ConfigError(
                "launcher settings", self.settings, f"{type(err).__name__}: {err}"
            ) from None

    def _explain(self, overrides: list[str], err: BaseException) -> ConfigError | None:
        """One line for a Hydra setting the launcher's config refuses (its key, value, why)."""
        cause: BaseException | None = err
        while cause is not None and getattr(cause, "full_key", None) is None:
            cause = cause.__cause__
        key = str(getattr(cause, "full_key", "") or "")
        given = [s for s in self.settings if s.lstrip("+~").split("=", 1)[0] == key]
        if cause is None or not key.startswith("hydra.") or not given:
            return None
        value = given[-1].split("=", 1)[1]
        why = str(getattr(cause, "msg", None) or cause).splitlines()[0]
        if " not in " in why:  # an unknown field: list the launcher's own
            why = f"no such field in {getattr(cause, 'object_type_str', 'the launcher')}"
            fields = self._fields([o for o in overrides if o not in given])
            if fields is not None:
                why += "; its fields: " + (", ".join(fields) or "none")
            if key == "hydra.launcher.n_jobs":
                why += " (--workers sets it: only for joblib launchers, e.g. hydra/launcher=cores)"
        return ConfigError(key, value, why)

    @staticmethod
    def _fields(overrides: list[str]) -> list[str] | None:
        """The fields of the launcher these overrides choose (None if they do not compose)."""
        from hydra import initialize_config_dir
        from hydra.core.global_hydra import GlobalHydra
        from hydra.types import RunMode

        from clustersim.paths import conf_dir

        try:
            with initialize_config_dir(config_dir=str(conf_dir()), version_base="1.3"):
                loader = GlobalHydra.instance().config_loader()
                config = loader.load_configuration("config", overrides, RunMode.MULTIRUN)
        except Exception:
            return None
        return sorted(k for k in config.hydra.launcher if k != "_target_")

    def _job(self, values: Sequence[float], seed: int) -> list[str]:
        name = run_name(self.problem, values, seed)
        return [*self.problem.overrides(values, seed), f"hydra.sweep.subdir={quote(name)}"]

    def run(self, points: Sequence[Sequence[float]]) -> list[dict[str, float]]:
        """Every target's statistic at each point (mean over its replicate runs).

        Runs already complete with the same config are read, the others launched as one
        batch; a run that failed gives NaN statistics (its record is in
        ``runs/.failures/``).
        """
        problem = self.problem
        names = problem.targets.names
        rows: list[list[tuple[str, str, dict[str, float] | None]]] = []
        jobs: dict[str, list[str]] = {}
        for values in points:
            row = []
            for r in range(problem.spec.runs_per_point):
                seed = point_seed(problem, values, r)
                name = run_name(problem, values, seed)
                wanted = config_hash(problem.scenario(values, seed).plain)
                stats = stored_statistics(self.runs / name, wanted)
                row.append((name, wanted, stats))
                if stats is None:
                    jobs.setdefault(name, self._job(values, seed))
                else:
                    self.found += 1
            rows.append(row)
        if jobs:
            self._launch(jobs)
        out = []
        for row in rows:
            per_run = []
            for name, wanted, stats in row:
                got = stats if stats is not None else stored_statistics(self.runs / name, wanted)
                per_run.append(got if got is not None else {n: math.nan for n in names})
            out.append(mean_statistics(names, per_run))
        return out

    def _launch(self, jobs: dict[str, list[str]]) -> None:
        """Launch the jobs (by run folder name); wait for and relaunch any found busy.

        A job is busy when another process holds its lock: a worker of a calibration
        killed a moment ago may still be finishing it. Its statistics are needed (a
        missing run would change the posterior), so it is launched again once the lock
        is free: then it is complete (skipped) or runs.
        """
        launcher = str(self.config.hydra.launcher.get("_target_", ""))
        self.runs.mkdir(parents=True, exist_ok=True)
        if self.launched == 0 and "hydra_ray_launcher" in launcher:
            from clustersim.sweep.callbacks import prepare_ray

            for setting in prepare_ray(self.runs):
                self._say(f"calibrate: Ray environment: {setting}")
        pending = dict(jobs)
        while pending:
            self._say(f"calibrate: launching {len(pending)} runs ({self.launcher_name})")
            results = self.launcher.launch(list(pending.values()), initial_job_idx=self.launched)
            self.launched += len(pending)
            busy = {}
            for name, result in zip(pending, results, strict=True):
                value = result.return_value  # re-raises an error that escaped the task
                if isinstance(value, dict) and value.get("status") == "busy":
                    busy[name] = pending[name]
            if busy:
                self._say(
                    f"calibrate: {len(busy)} runs are being run by another process (a worker "
                    "of an interrupted calibration?): waiting for them"
                )
                self._wait_for(list(busy))
            pending = busy

    def _wait_for(self, names: list[str]) -> None:
        import time

        from clustersim.results.locks import job_lock
        from clustersim.results.sweep_folder import job_file_stem

        for name in names:
            lock = job_lock(self.runs, job_file_stem(name))
            while not lock.try_acquire():
                time.sleep(WAIT)
            lock.release()

    def _say(self, text: str) -> None:
        if self.log is not None:
            self.log(text)


__all__ = ["DEFAULT_LAUNCHER", "CalibrationTask", "Launch", "is_hydra_setting", "quote"]
