"""The Hydra callback that turns a multirun into a resumable, watched, collected sweep.

Configured in ``conf/hydra/default.yaml`` under ``hydra.callbacks.clustersim_sweep``. It
runs in the process that launched the sweep (never in the jobs):

- at the start: takes the sweep folder's lock (``clustersim.results.locks``; a second
  sweep into a folder in use stops with a message naming the first, or waits for it
  with ``lock_wait``), removes staging folders left by interrupted runs, forgets the
  statuses of the previous session, works out the number of jobs, says how many are already complete
  (they will be skipped), and starts the progress display; with the Ray launcher it also
  prepares the environment of the local Ray (``RAY_AUTH_MODE=disabled``, temp dir in the
  sweep folder);
- at the end: prints the final counts, lists the failed jobs with the command that reruns
  them, collects the results into ``runs.parquet`` and ``panel.parquet`` (and
  ``rationing.parquet`` when the runs recorded it) unless they are already up to date,
  and lets go of the lock (which the kernel also releases if the command is killed).

Hydra calls ``on_multirun_end`` only if no job raised; ``clustersim.sweep.jobs.sweep_job``
keeps job errors from escaping, so the end is reached whenever the sweep is not killed.
"""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig

from clustersim.cli.common import BAD_INPUT, cannot_write
from clustersim.results.locks import FileLock, FolderBusyError, lock_sweep
from clustersim.results.sweep_folder import (
    FAILURES_DIR,
    clear_sweep_partials,
    complete_jobs,
    read_failures,
    reset_status,
)
from clustersim.startup import resume_collector
from clustersim.sweep.progress import Counts, ProgressWatcher, read_counts

#: Failures listed one by one at the end of a sweep; beyond this only the count is given.
MAX_LISTED_FAILURES = 20
#: Longest path Ray's temp dir may have: its sockets (``<dir>/ray/session_<date>_<time>_<pid>/
#: sockets/plasma_store``, up to 69 more bytes) must fit the 107-byte limit of a Unix socket
#: path (measured: Ray 2.x refuses longer ones with "AF_UNIX path length cannot exceed").
RAY_TEMP_MAX = 38


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def count_jobs(config: DictConfig) -> int | None:
    """Return the number of jobs the configured sweeper will launch, or None if unknown."""
    try:
        from hydra.core.override_parser.overrides_parser import OverridesParser

        sweeper = config.hydra.sweeper
        target = str(sweeper.get("_target_", ""))
        params = sweeper.get("params") or {}
        texts = [f"{k}={v}" for k, v in params.items()]
        texts += [str(o) for o in config.hydra.overrides.task]
        overrides = OverridesParser.create().parse_overrides(texts)
        if target.endswith((".BasicSweeper", ".GridSweeper")):
            from hydra._internal.core_plugins.basic_sweeper import BasicSweeper

            return len(BasicSweeper.split_arguments(overrides, None)[0])
        if target.endswith(".QMCSweeper"):
            from clustersim.sweep.designs import count_jobs as count_design_jobs

            return count_design_jobs(overrides, int(sweeper.samples))
        if target.endswith(".SensitivitySweeper"):
            from hydra_plugins.clustersim_qmc_sweeper.sensitivity_sweeper import (
                count_sensitivity_jobs,
            )

            return count_sensitivity_jobs(config)
    except Exception:  # a sweep Hydra itself will reject, or glob() needing the config loader
        return None
    return None


def rerun_command(sweep_dir: str, argv: list[str] | None = None) -> str:
    """Return the command that reruns this sweep into the same folder (completed jobs skip)."""
    args = list(sys.argv[1:] if argv is None else argv)
    args = [a for a in args if not a.startswith("hydra.sweep.dir=")]
    if not {"-m", "--multirun"} & set(args):
        args.insert(0, "-m")
    args.append(f"hydra.sweep.dir={sweep_dir}")
    return shlex.join(["clustersim-run", *args])


def prepare_ray(sweep_dir: Path) -> list[str]:
    """Set the environment a local Ray needs here; return what was set (``NAME=value``).

    ``RAY_AUTH_MODE=disabled`` (token auth breaks a local cluster started by the launcher)
    and ``RAY_TMPDIR=<sweep>/.ray`` (Ray's sockets and logs stay with the sweep). A value
    already in the environment is kept. If the sweep's path is too long for Ray's socket
    paths, the temp dir is a short one in /tmp, linked from ``<sweep>/.ray``.
    """
    done = []
    if "RAY_AUTH_MODE" not in os.environ:
        os.environ["RAY_AUTH_MODE"] = "disabled"
        done.append("RAY_AUTH_MODE=disabled")
    if "RAY_TMPDIR" not in os.environ:
        link = sweep_dir.resolve() / ".ray"
        target = link
        if len(str(link)) > RAY_TEMP_MAX:
            import hashlib

            digest = hashlib.sha1(str(link).encode()).hexdigest()[:10]
            target = Path("/tmp") / f"ray-{digest}"
            target.mkdir(parents=True, exist_ok=True)
            if not link.is_symlink() and not link.exists():
                link.symlink_to(target, target_is_directory=True)
        target.mkdir(parents=True, exist_ok=True)
        os.environ["RAY_TMPDIR"] = str(target)
        done.append(f"RAY_TMPDIR={target}")
    return done


class SweepCallback(Callback):
    """Clears, watches, reports and collects a sweep (see the module docstring).

    Attributes:
        collect: gather the sweep's tables (``clustersim.results.collector``) at the end.
        progress: print progress lines while the jobs run.
        progress_interval: seconds between progress lines (at most one per interval).
        ray_env: prepare the environment of a local Ray when the Ray launcher is used.
        fail_exit: end the command with exit status 1 when a job of this session failed
            (after reporting and collecting), so that scripts and CI notice.
        lock_wait: seconds to wait for another sweep working in the same folder to finish
            (0: stop at once with a message naming it, exit status 1).

    """

    def __init__(
        self,
        collect: bool = True,
        progress: bool = True,
        progress_interval: float = 2.0,
        ray_env: bool = True,
        fail_exit: bool = True,
        lock_wait: float = 0.0,
    ) -> None:
        self.collect = collect
        self.lock_wait = float(lock_wait)
        self._lock: FileLock | None = None
        self.progress = progress
        self.progress_interval = float(progress_interval)
        self.ray_env = ray_env
        self.fail_exit = fail_exit
        self._watcher: ProgressWatcher | None = None
        self._total: int | None = None

    def __getstate__(self) -> dict[str, Any]:
        # launchers pickle the callbacks to send them to the jobs; the thread stays here
        state = self.__dict__.copy()
        state["_watcher"] = None
        state["_lock"] = None  # the lock belongs to the launching process
        return state

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        """Clear staging folders, reset statuses, announce the sweep, start the display."""
        # this process launches jobs and collects: the collector, held off while it
        # started (clustersim.startup), runs again from here
        resume_collector()
        sweep = Path(str(config.hydra.sweep.dir))
        try:
            sweep.mkdir(parents=True, exist_ok=True)
        except OSError as err:  # said here: Hydra would only warn, and fail again later
            _say(f"clustersim-run: {cannot_write(err)}")
            sys.exit(BAD_INPUT)
        try:
            self._lock = lock_sweep(sweep, self.lock_wait)
        except FolderBusyError as err:
            _say(
                f"clustersim-run: {err} (to wait for it instead: "
                "hydra.callbacks.clustersim_sweep.lock_wait=<seconds>)"
            )
            sys.exit(1)  # SystemExit passes through Hydra's callback wrapper
        cleared = clear_sweep_partials(sweep)
        reset_status(sweep)
        self._total = count_jobs(config)
        launcher = str(config.hydra.launcher.get("_target_", ""))
        if self.ray_env and "hydra_ray_launcher" in launcher:
            for setting in prepare_ray(sweep):
                _say(f"sweep: Ray environment: {setting}")
        complete = complete_jobs(sweep)
        total = f"{self._total} jobs" if self._total is not None else "jobs"
        line = f"sweep {sweep}: {total}"
        if complete:
            line += f"; {complete} already complete (skipped unless their settings changed)"
        if cleared:
            line += f"; removed {len(cleared)} staging folder(s) of interrupted runs"
        _say(line)
        if self.progress:
            self._watcher = ProgressWatcher(sweep, self._total, interval=self.progress_interval)
            self._watcher.start()

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        """Print the final counts and failures with the rerun command, then collect."""
        sweep_text = str(config.hydra.sweep.dir)
        sweep = Path(sweep_text)
        counts: Counts = self._watcher.stop() if self._watcher else read_counts(sweep)
        self._watcher = None
        line = (
            f"sweep finished: {counts.finished} jobs: {counts.done} done, "
            f"{counts.skipped} skipped (already complete), {counts.failed} failed"
        )
        if counts.busy:
            line += f", {counts.busy} left to another process running them"
        if self._total is not None and counts.finished < self._total:
            line += f", {self._total - counts.finished} did not report"
        _say(line)
        failures = read_failures(sweep)
        if failures:
            _say(f"{len(failures)} failed job(s) (last attempt of each, see .failures/):")
            for i, (job, record) in enumerate(sorted(failures.items())):
                if i == MAX_LISTED_FAILURES:
                    _say(f"  ... and {len(failures) - i} more (see {sweep / FAILURES_DIR})")
                    break
                overrides = " ".join(record.get("overrides") or []) or job
                _say(f"  {overrides}: {record.get('error')}")
            _say(
                "Rerun them with the same command (completed jobs are skipped, so only the "
                f"missing and failed ones run):\n  {rerun_command(sweep_text)}"
            )
        if self.collect:
            self._collect(sweep, ran=counts.done + counts.failed > 0)
        if self._lock is not None:
            self._lock.release()
            self._lock = None
        if self.fail_exit and counts.failed:
            sys.exit(1)  # SystemExit passes through Hydra's callback wrapper, which only warns

    @staticmethod
    def _collect(sweep: Path, ran: bool = True) -> None:
        from clustersim.results.collector import NotASweepError, collect, report

        if not ran:
            from clustersim.results.loader import tables_up_to_date

            if tables_up_to_date(sweep):
                _say("collect: no job ran and the collected tables are up to date")
                return
        try:
            result = collect(sweep)
        except NotASweepError as err:
            _say(f"collect: {err}")
            return
        except Exception as err:  # never end a finished sweep with a traceback
            _say(
                f"collect: failed ({type(err).__name__}: {err}); the runs are intact, "
                f"retry with: clustersim-collect {shlex.quote(str(sweep))}"
            )
            return
        for problem in (p for p in result.problems if p.kind != "failed"):  # failed: listed above
            _say(f"collect: {problem}")
        _say(report(result))
