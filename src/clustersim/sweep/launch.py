"""Running a sweep's jobs the way Hydra does, without the copies Hydra makes per job.

Hydra's launchers run each job through ``hydra.core.utils.run_job``; what a job costs
beyond the model there, with our config trees (measured in a worker, CPU seconds a job):

- ``run_job`` deep-copies the job's whole config to give the task its own copy without
  the ``hydra`` node (0.05-0.1 s: OmegaConf copies node by node), and sets Hydra's config
  twice (a copy of the ``hydra`` node each time);
- the joblib launcher pickles the sweep's whole config, Hydra's context and Hydra's
  global state once per job in the launching process (~50 ms, one after another) and
  unpickles them in the worker, where restoring Hydra's global state scans and
  re-executes every Hydra plugin module (~40 ms).

This module keeps what a Hydra user sees and drops those costs:

- ``run_job`` is Hydra 1.3's ``run_job`` step by step (the job's output folder,
  ``hydra.runtime.output_dir``, ``.hydra/`` files when ``hydra.output_subdir`` is set,
  ``hydra.job.chdir``, ``env_set``, logging, the ``on_job_start``/``on_job_end`` callbacks,
  the same ``JobReturn``), except that the task's copy of the config is made by the
  composing loader (``ReusingConfigLoader.load_sweep_job``: another unpickling of the
  composition, ~20 ms) and Hydra's config is set once;
- ``launch_serial`` is Hydra's basic launcher (jobs one after another in this process)
  with that ``run_job``;
- ``launch_on_cores`` is the joblib launcher (loky worker processes) with that
  ``run_job``, and it pickles the shared part of the jobs (Hydra's context, the sweep's
  config, the task, Hydra's global state) once per batch; a worker unpickles it and
  restores Hydra's state once, then each job only carries its overrides. Hydra's state
  is then shared by the jobs a worker runs, as it is by the jobs of the basic launcher.
  What comes back is each job's ``JobReturn`` without its configs (``execute_on_core``).

A job's config, its folder, its ``hydra.job`` fields and its outputs are the same to the
bit as under Hydra's own launchers (``tests/test_sweep_launch.py``). The launchers are
the plugins ``hydra_plugins.clustersim_launchers`` (``hydra/launcher=cores``, the default
``hydra/launcher=serial``); ``hydra/launcher=basic`` and ``joblib`` stay Hydra's own.
"""

from __future__ import annotations

import copy
import hashlib
import logging
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from textwrap import dedent
from typing import Any

from hydra.conf import HydraConf
from hydra.core.hydra_config import HydraConfig
from hydra.core.singleton import Singleton
from hydra.core.utils import (
    JobReturn,
    JobRuntime,
    JobStatus,
    _flush_loggers,
    _save_config,
    configure_log,
    env_override,
    filter_overrides,
    setup_globals,
)
from hydra.types import HydraContext, TaskFunction
from omegaconf import DictConfig, OmegaConf, flag_override, open_dict, read_write

log = logging.getLogger(__name__)


def job_configs(
    hydra_context: HydraContext, master: DictConfig, overrides: Sequence[str]
) -> tuple[DictConfig, DictConfig | None]:
    """The job's config as Hydra composes it, and a copy for its task when one comes cheap.

    The copy comes from ``ReusingConfigLoader.load_sweep_job``; another loader gives
    only the config (``run_job`` then copies it as Hydra does).
    """
    loader = hydra_context.config_loader
    if hasattr(loader, "load_sweep_job"):
        config, twin = loader.load_sweep_job(master, list(overrides))
        return config, twin
    return loader.load_sweep_config(master, list(overrides)), None


def run_job(
    task_function: TaskFunction,
    config: DictConfig,
    job_dir_key: str,
    job_subdir_key: str | None,
    hydra_context: HydraContext,
    task_config: DictConfig | None = None,
    configure_logging: bool = True,
) -> JobReturn:
    """Hydra 1.3's ``hydra.core.utils.run_job``, with the task's copy of the config given.

    ``task_config`` is a copy of ``config`` (equal to ``copy.deepcopy(config)``) that the
    task may have; None: it is deep-copied here, as Hydra does. Hydra's config
    (``HydraConfig``) is set once (``set_hydra_config``: the job's own ``hydra`` node, not
    a copy), with ``hydra.runtime.output_dir`` then set in it too, where Hydra sets it a
    second time (the same result, one copy of the node fewer).
    """
    callbacks = hydra_context.callbacks

    old_cwd = os.getcwd()
    orig_hydra_cfg = HydraConfig.instance().cfg

    # init Hydra config for config evaluation
    set_hydra_config(config)

    output_dir = str(OmegaConf.select(config, job_dir_key))
    if job_subdir_key is not None:
        # evaluate job_subdir_key lazily (it holds e.g. hydra.job.num, known only now)
        subdir = str(OmegaConf.select(config, job_subdir_key))
        output_dir = os.path.join(output_dir, subdir)

    for cfg in (config, HydraConfig.instance().cfg):
        with read_write(cfg.hydra.runtime), open_dict(cfg.hydra.runtime):
            cfg.hydra.runtime.output_dir = os.path.abspath(output_dir)

    _chdir = None
    try:
        ret = JobReturn()
        if task_config is None:
            task_cfg = copy.deepcopy(config)
        else:
            task_cfg = task_config
            # the values resolvers cached meanwhile (timestamps), as a deep copy holds them
            OmegaConf.copy_cache(from_config=config, to_config=task_cfg)
        with read_write(task_cfg), open_dict(task_cfg):
            del task_cfg["hydra"]

        ret.cfg = task_cfg
        hydra_cfg = copy.deepcopy(HydraConfig.instance().cfg)
        assert isinstance(hydra_cfg, DictConfig)
        ret.hydra_cfg = hydra_cfg
        overrides = OmegaConf.to_container(config.hydra.overrides.task)
        assert isinstance(overrides, list)
        ret.overrides = overrides
        # handle output directories here
        Path(str(output_dir)).mkdir(parents=True, exist_ok=True)

        _chdir = hydra_cfg.hydra.job.chdir
        if _chdir is None:
            from hydra import version

            if version.base_at_least("1.2"):
                _chdir = False
        if _chdir is None:
            from hydra._internal.deprecation_warning import deprecation_warning

            url = "https://hydra.cc/docs/1.2/upgrades/1.1_to_1.2/changes_to_job_working_dir/"
            deprecation_warning(
                message=dedent(
                    f"""\
                    Future Hydra versions will no longer change working directory at job runtime by default.
                    See {url} for more information."""  # noqa: E501
                ),
                stacklevel=2,
            )
            _chdir = True

        if _chdir:
            os.chdir(output_dir)
            ret.working_dir = output_dir
        else:
            ret.working_dir = os.getcwd()

        if configure_logging:
            configure_log(config.hydra.job_logging, config.hydra.verbose)

        if config.hydra.output_subdir is not None:
            hydra_output = Path(config.hydra.runtime.output_dir) / Path(config.hydra.output_subdir)
            _save_config(task_cfg, "config.yaml", hydra_output)
            _save_config(hydra_cfg, "hydra.yaml", hydra_output)
            _save_config(config.hydra.overrides.task, "overrides.yaml", hydra_output)

        with env_override(hydra_cfg.hydra.job.env_set):
            callbacks.on_job_start(config=config, task_function=task_function)
            try:
                ret.return_value = task_function(task_cfg)
                ret.status = JobStatus.COMPLETED
            except Exception as e:
                ret.return_value = e
                ret.status = JobStatus.FAILED

        ret.task_name = JobRuntime.instance().get("name")

        _flush_loggers()

        callbacks.on_job_end(config=config, job_return=ret)

        return ret
    finally:
        HydraConfig.instance().cfg = orig_hydra_cfg
        if _chdir:
            os.chdir(old_cwd)


def set_hydra_config(config: DictConfig) -> None:
    """``HydraConfig.instance().set_config(config)``, without copying the ``hydra`` node.

    Hydra's ``set_config`` makes Hydra's config a copy of the job's ``hydra`` node
    (``OmegaConf.masked_copy``: ~10 ms a job with our configs), whose parent it then sets
    to the job's config; here that node itself is placed in Hydra's config (OmegaConf's
    ``no_deepcopy_set_nodes``) and given back its parent, the job's config. What Hydra's
    config holds and how its interpolations resolve are the same; the job's ``hydra``
    node is made read-only as ``set_config`` makes it, and ``run_job`` restores Hydra's
    earlier config when the job ends (``tests/test_sweep_launch.py`` compares both).
    """
    node = config._get_node("hydra")
    assert isinstance(node, DictConfig)
    OmegaConf.set_readonly(node, True)
    hydra_type = OmegaConf.get_type(config, "hydra")
    assert hydra_type is not None and issubclass(hydra_type, HydraConf)
    hydra_cfg = DictConfig({})
    with flag_override(hydra_cfg, "no_deepcopy_set_nodes", True):
        hydra_cfg["hydra"] = node
    node._set_parent(config)
    HydraConfig.instance().cfg = hydra_cfg  # type: ignore[assignment]


def run_single_job(*, hydra_context: HydraContext, config: DictConfig, **kwargs: Any) -> JobReturn:
    """Hydra's ``run_job`` for a single run (``Hydra.run``), with the task's copy made cheaply.

    The copy comes from the composing loader (``ReusingConfigLoader.task_copy``), as a
    sweep job's does; with another loader, ``run_job`` deep-copies the config as Hydra does.
    """
    loader = hydra_context.config_loader
    twin = loader.task_copy(config) if hasattr(loader, "task_copy") else None
    return run_job(hydra_context=hydra_context, config=config, task_config=twin, **kwargs)


def run_sweep_job(
    hydra_context: HydraContext,
    master: DictConfig,
    task_function: TaskFunction,
    overrides: Sequence[str],
    job_id: Any,
    job_num: int,
) -> JobReturn:
    """Compose one job of a sweep, set its ``hydra.job.id`` and ``num``, and run it."""
    config, twin = job_configs(hydra_context, master, overrides)
    with open_dict(config):
        config.hydra.job.id = job_id
        config.hydra.job.num = job_num
    return run_job(
        hydra_context=hydra_context,
        task_function=task_function,
        config=config,
        job_dir_key="hydra.sweep.dir",
        job_subdir_key="hydra.sweep.subdir",
        task_config=twin,
    )


def _begin(launcher: Any) -> Path:
    """What both of Hydra's launchers do first: globals, logging, the sweep's folder."""
    setup_globals()
    assert launcher.hydra_context is not None
    assert launcher.config is not None
    assert launcher.task_function is not None
    configure_log(launcher.config.hydra.hydra_logging, launcher.config.hydra.verbose)
    sweep_dir = Path(str(launcher.config.hydra.sweep.dir))
    sweep_dir.mkdir(parents=True, exist_ok=True)
    return sweep_dir


def launch_serial(
    launcher: Any, job_overrides: Sequence[Sequence[str]], initial_job_idx: int
) -> list[JobReturn]:
    """Hydra's ``BasicLauncher.launch``: the jobs one after another, in this process."""
    _begin(launcher)
    log.info(f"Launching {len(job_overrides)} jobs locally")
    runs: list[JobReturn] = []
    for idx, overrides in enumerate(job_overrides):
        idx = initial_job_idx + idx
        lst = " ".join(filter_overrides(overrides))
        log.info(f"\t#{idx} : {lst}")
        ret = run_sweep_job(
            launcher.hydra_context, launcher.config, launcher.task_function, overrides, idx, idx
        )
        runs.append(ret)
        configure_log(launcher.config.hydra.hydra_logging, launcher.config.hydra.verbose)
    return runs


# --------------------------------------------------------------------------- on cores

#: What a worker process restored last: (digest, (Hydra's context, the sweep's config,
#: the task function)). One at a time, since Hydra's global state is one per process.
_SHARED: list[tuple[str, tuple[HydraContext, DictConfig, TaskFunction]]] = []


def _shared(digest: str, blob: bytes) -> tuple[HydraContext, DictConfig, TaskFunction]:
    """The shared part of the jobs, unpickled and Hydra's state restored once per process."""
    if _SHARED and _SHARED[0][0] == digest:
        return _SHARED[0][1]
    import pickle

    hydra_context, config, task_function, singleton_state = pickle.loads(blob)
    setup_globals()
    Singleton.set_state(singleton_state)
    _SHARED[:] = [(digest, (hydra_context, config, task_function))]
    return hydra_context, config, task_function


def execute_on_core(idx: int, overrides: Sequence[str], digest: str, blob: bytes) -> JobReturn:
    """One job in a worker process (the joblib launcher's ``execute_job``).

    The ``JobReturn`` sent back to the launching process leaves out the job's two
    configs (``cfg``, ``hydra_cfg``: None there): pickling them in the worker and
    unpickling them in the launching process cost ~60 ms a job, one job after another
    in the launcher's result thread, and no sweeper reads them (Hydra's and ours read
    ``return_value``, ``status``, ``overrides``). The job's callbacks (``on_job_end``)
    get the whole ``JobReturn`` in the worker, as before.
    """
    from clustersim.startup import collector_paused

    # a new worker imports the model and composes with the collector held off, until
    # its first run freezes what it loaded (clustersim.startup); later jobs: no effect
    with collector_paused():
        hydra_context, config, task_function = _shared(digest, blob)
        job_id = f"{config.hydra.job.name}_{idx}"  # as the joblib launcher numbers them
        ret = run_sweep_job(hydra_context, config, task_function, overrides, job_id, idx)
    ret.cfg = None
    ret.hydra_cfg = None
    return ret


def _joblib_settings(launcher: Any) -> Any:
    """The launcher's ``joblib.Parallel`` settings, as the joblib launcher reads them."""
    from hydra_plugins.hydra_joblib_launcher._core import process_joblib_cfg

    # Joblib's backend is loky (processes): threads cannot hold Hydra's per-job state
    joblib_cfg = launcher.joblib
    joblib_cfg["backend"] = "loky"
    process_joblib_cfg(joblib_cfg)
    return joblib_cfg


#: The thread starting the worker processes ahead of the first batch (``start_workers``).
_STARTING: list[threading.Thread] = []


def start_workers(launcher: Any) -> None:
    """Start the launcher's worker processes now; each imports the model and waits.

    A sweep's launching process checks its first batch before launching it
    (``clustersim.sweep.preflight``: imports and a composition per setting, 2-4 CPU-s
    on ``compare_plans`` with nothing composed yet), while the other core idles; only
    then did the workers start, each importing the model (~1.5 CPU-s) before its first
    job. Started here (by the sweepers, before the check), the workers import meanwhile,
    in the same pool the jobs then use (joblib reuses loky's workers across calls with
    the same settings). A check that fails leaves them idle until the process exits
    (loky stops them). Warming saves time only: if it fails, the jobs start the workers.
    """
    if _STARTING:
        return
    from joblib import Parallel, delayed, effective_n_jobs

    joblib_cfg = dict(_joblib_settings(launcher))
    workers = effective_n_jobs(joblib_cfg.get("n_jobs", -1))

    def warm() -> None:
        try:
            Parallel(**joblib_cfg)(delayed(warm_worker)() for _ in range(workers))
        except Exception as err:  # the batch's own Parallel starts the workers anyway
            log.debug("the workers were not started ahead of the jobs: %s", err)

    thread = threading.Thread(target=warm, name="clustersim-start-workers", daemon=True)
    thread.start()
    _STARTING.append(thread)


def warm_worker() -> int:
    """In a worker process: import what every job needs, with the collector held off."""
    from clustersim.startup import collector_paused

    with collector_paused():
        import clustersim.cli.run
        import clustersim.results.summary
        import clustersim.runner  # noqa: F401
    return os.getpid()


def start_workers_of(launcher: Any) -> None:
    """``start_workers`` for a launcher that has workers to start (``cores``), else nothing."""
    start = getattr(launcher, "start_workers", None)
    if callable(start):
        start()


def _workers_started() -> None:
    """Wait for ``start_workers`` to be done (one ``Parallel`` at a time on the pool)."""
    while _STARTING:
        _STARTING.pop().join()


def launch_on_cores(
    launcher: Any, job_overrides: Sequence[Sequence[str]], initial_job_idx: int
) -> Sequence[JobReturn]:
    """The joblib launcher's ``launch``, shipping what the jobs share once per batch."""
    from joblib import Parallel, delayed
    from joblib.externals.loky.backend.reduction import cloudpickle

    sweep_dir = _begin(launcher)
    joblib_cfg = _joblib_settings(launcher)
    _workers_started()

    log.info(
        "Joblib.Parallel({}) is launching {} jobs".format(
            ",".join([f"{k}={v}" for k, v in joblib_cfg.items()]),
            len(job_overrides),
        )
    )
    log.info(f"Launching jobs, sweep output dir : {sweep_dir}")
    for idx, overrides in enumerate(job_overrides):
        log.info("\t#{} : {}".format(idx, " ".join(filter_overrides(overrides))))

    shared = (
        launcher.hydra_context,
        launcher.config,
        launcher.task_function,
        Singleton.get_state(),
    )
    blob = cloudpickle.dumps(shared)
    digest = hashlib.sha256(blob).hexdigest()
    runs = Parallel(**joblib_cfg)(
        delayed(execute_on_core)(initial_job_idx + idx, list(overrides), digest, blob)
        for idx, overrides in enumerate(job_overrides)
    )
    assert isinstance(runs, list)
    for run in runs:
        assert isinstance(run, JobReturn)
    return runs


__all__ = [
    "execute_on_core",
    "job_configs",
    "launch_on_cores",
    "launch_serial",
    "run_job",
    "run_single_job",
    "run_sweep_job",
    "set_hydra_config",
    "start_workers",
    "start_workers_of",
]
