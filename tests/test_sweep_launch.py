"""Our launchers' job runner gives a job what Hydra's own ``run_job`` gives it.

``clustersim.sweep.launch.run_job`` skips Hydra's per-job deep copy of the config (the
composing loader makes the task's copy) and sets Hydra's config once. Run side by side
with Hydra's ``hydra.core.utils.run_job`` on the same jobs, it must give the task the same
config, Hydra the same ``HydraConfig``, the callbacks the same calls, the folder the same
``.hydra/`` files, and return the same ``JobReturn``. Nothing is simulated: the task
records what it was given.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from hydra import initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.core.hydra_config import HydraConfig
from hydra.core.utils import JobStatus, setup_globals
from hydra.core.utils import run_job as hydra_run_job
from hydra.types import HydraContext, RunMode
from omegaconf import DictConfig, OmegaConf, open_dict, read_write

from clustersim.paths import conf_dir
from clustersim.sweep.compose import ReusingConfigLoader, reuse_compositions
from clustersim.sweep.launch import job_configs, run_job

JOBS = [
    ["world=toy", "seed=3"],
    ["world=toy", "seed=4", "behavior.entry.but_for_share=0.4"],
    ["policy=none", "world=toy", "seed=1"],  # another config group: another composition
]


class Recorder:
    """Hydra's callbacks, recording what each job's start and end were given."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []

    def on_job_start(self, config: DictConfig, task_function: Any) -> None:
        self.calls.append(("start", OmegaConf.to_yaml(config), task_function))

    def on_job_end(self, config: DictConfig, job_return: Any) -> None:
        self.calls.append(("end", OmegaConf.to_yaml(config), job_return.status))


def _seen(cfg: DictConfig, job: tuple[Any, ...]) -> dict[str, Any]:
    """What a task sees: its config (text and flags), Hydra's config and ``job``."""
    hc = HydraConfig.get()
    return {
        "yaml": OmegaConf.to_yaml(cfg),
        "struct": OmegaConf.is_struct(cfg),
        "readonly": OmegaConf.is_readonly(cfg),
        "has_hydra": "hydra" in cfg,
        "hydra": OmegaConf.to_yaml(hc),
        "output_dir": hc.runtime.output_dir,
        "job": job,
    }


def task(cfg: DictConfig) -> dict[str, Any]:
    """What a sweep job's task sees."""
    job = HydraConfig.get().job
    return _seen(cfg, (job.id, job.num, job.override_dirname))


@pytest.fixture
def sweep(tmp_path):
    """A multirun's config and Hydra context (composing through the reusing loader)."""
    setup_globals()
    with initialize_config_dir(config_dir=str(conf_dir()), version_base="1.3"):
        loader = GlobalHydra.instance().config_loader()
        master = loader.load_configuration(
            "config",
            [f"hydra.sweep.dir={tmp_path / 'sweep'}", "hydra.output_subdir=.hydra"],
            RunMode.MULTIRUN,
        )
        context = reuse_compositions(HydraContext(config_loader=loader, callbacks=None))
        assert isinstance(context.config_loader, ReusingConfigLoader)
        yield master, context.config_loader
        HydraConfig.instance().cfg = None


def _run(runner, loader, master, overrides, num, twin):
    recorder = Recorder()
    context = HydraContext(config_loader=loader, callbacks=recorder)
    config, task_config = job_configs(context, master, overrides)
    with open_dict(config):
        config.hydra.job.id = num
        config.hydra.job.num = num
    kwargs = {"task_config": task_config} if twin else {}
    before = HydraConfig.instance().cfg
    ret = runner(
        task_function=task,
        config=config,
        job_dir_key="hydra.sweep.dir",
        job_subdir_key="hydra.sweep.subdir",
        hydra_context=context,
        **kwargs,
    )
    assert HydraConfig.instance().cfg is before  # restored after the job
    folder = Path(ret.hydra_cfg.hydra.runtime.output_dir)
    files = {p.name: p.read_text() for p in sorted((folder / ".hydra").iterdir())}
    return ret, recorder.calls, files


@pytest.mark.parametrize("num", range(len(JOBS)))
def test_run_job_gives_what_hydras_run_job_gives(sweep, num):
    master, loader = sweep
    overrides = JOBS[num]
    ours, our_calls, our_files = _run(run_job, loader, master, overrides, num, twin=True)
    theirs, their_calls, their_files = _run(
        hydra_run_job, loader, master, overrides, num, twin=False
    )
    assert ours.status == theirs.status == JobStatus.COMPLETED
    assert ours.return_value == theirs.return_value
    assert not ours.return_value["has_hydra"]
    assert ours.return_value["output_dir"].endswith(ours.return_value["job"][2])
    assert OmegaConf.to_yaml(ours.cfg) == OmegaConf.to_yaml(theirs.cfg)
    assert ours.cfg == theirs.cfg
    assert OmegaConf.to_yaml(ours.hydra_cfg) == OmegaConf.to_yaml(theirs.hydra_cfg)
    assert ours.overrides == theirs.overrides == overrides
    assert (ours.working_dir, ours.task_name) == (theirs.working_dir, theirs.task_name)
    assert our_calls == their_calls and [c[0] for c in our_calls] == ["start", "end"]
    assert our_files == their_files  # .hydra/config.yaml, hydra.yaml, overrides.yaml
    assert set(our_files) == {"config.yaml", "hydra.yaml", "overrides.yaml"}


def test_task_copy_equals_a_deep_copy_and_is_independent(sweep):
    master, loader = sweep
    config, twin = loader.load_sweep_job(master, ["world=toy", "seed=9"])
    assert twin is not None
    deep = copy.deepcopy(config)
    for cfg in (twin, deep):  # the task's copy: without Hydra's node, as run_job hands it
        with read_write(cfg), open_dict(cfg):
            del cfg["hydra"]
    assert OmegaConf.to_yaml(twin) == OmegaConf.to_yaml(deep)
    assert OmegaConf.is_struct(twin) == OmegaConf.is_struct(deep)
    twin.seed = 123  # the task's copy shares nothing with the job's config
    assert config.seed == 9


def test_failing_task_is_reported_as_hydra_reports_it(sweep):
    master, loader = sweep

    def failing(cfg: DictConfig) -> None:
        raise ValueError(f"bad seed {cfg.seed}")

    context = HydraContext(config_loader=loader, callbacks=Recorder())
    config, task_config = job_configs(context, master, ["world=toy", "seed=5"])
    with open_dict(config):
        config.hydra.job.id = config.hydra.job.num = 0
    ret = run_job(failing, config, "hydra.sweep.dir", "hydra.sweep.subdir", context, task_config)
    assert ret.status == JobStatus.FAILED
    with pytest.raises(ValueError, match="bad seed 5"):  # as Hydra's JobReturn re-raises it
        _ = ret.return_value


def single_task(cfg: DictConfig) -> dict[str, Any]:
    """What a single run's task sees (a run has no ``hydra.job.id`` or ``num``)."""
    hc = HydraConfig.get()
    return _seen(cfg, (hc.job.name, hc.job.override_dirname, hc.mode))


@pytest.mark.parametrize("overrides", [["world=toy", "seed=3"], ["policy=none", "world=toy"]])
def test_a_single_run_gets_what_hydras_run_job_gives(tmp_path, overrides):
    """``clustersim-run`` without ``-m``: Hydra's ``Hydra.run`` composes the config and
    calls ``run_job``, which ``cli.run`` points to ``run_single_job`` (the task's copy
    from the loader, ``task_copy``): the same job as Hydra's own."""
    from clustersim.sweep.launch import run_single_job

    setup_globals()
    results = []
    with initialize_config_dir(config_dir=str(conf_dir()), version_base="1.3"):
        hydra_loader = GlobalHydra.instance().config_loader()
        loader = ReusingConfigLoader(config_search_path=hydra_loader.get_search_path())
        for name, runner in (("ours", run_single_job), ("theirs", hydra_run_job)):
            line = [*overrides, f"hydra.run.dir={tmp_path / name}", "hydra.output_subdir=.hydra"]
            config = loader.load_configuration("config", line, RunMode.RUN)
            with open_dict(config):
                config.hydra.mode = RunMode.RUN  # as Hydra.run sets it
            if runner is run_single_job:
                assert loader.task_copy(config) is not None
                assert loader.task_copy(copy.deepcopy(config)) is None  # not the last composed
            recorder = Recorder()
            context = HydraContext(config_loader=loader, callbacks=recorder)
            ret = runner(
                hydra_context=context,
                task_function=single_task,
                config=config,
                job_dir_key="hydra.run.dir",
                job_subdir_key=None,
            )
            folder = tmp_path / name / ".hydra"
            files = {p.name: p.read_text() for p in sorted(folder.iterdir())}
            results.append((ret, recorder.calls, files))
    HydraConfig.instance().cfg = None
    (ours, our_calls, our_files), (theirs, their_calls, their_files) = results
    assert ours.status == theirs.status == JobStatus.COMPLETED
    mine, hydras = dict(ours.return_value), dict(theirs.return_value)
    assert mine.pop("output_dir").endswith("ours") and hydras.pop("output_dir").endswith("theirs")
    assert mine.pop("hydra").replace("ours", "theirs") == hydras.pop("hydra")
    assert mine == hydras and not mine["has_hydra"]
    assert ours.cfg == theirs.cfg and OmegaConf.to_yaml(ours.cfg) == OmegaConf.to_yaml(theirs.cfg)
    assert [c[0] for c in our_calls] == [c[0] for c in their_calls] == ["start", "end"]
    assert our_files["config.yaml"] == their_files["config.yaml"]
    assert set(our_files) == set(their_files) == {"config.yaml", "hydra.yaml", "overrides.yaml"}


def test_a_job_on_cores_returns_what_the_launcher_reads_without_its_configs(sweep):
    """``execute_on_core`` (a worker's job) hands back status, value, overrides, folder."""
    import hashlib

    from hydra.core.singleton import Singleton
    from joblib.externals.loky.backend.reduction import cloudpickle

    from clustersim.sweep import launch

    master, loader = sweep
    recorder = Recorder()
    context = HydraContext(config_loader=loader, callbacks=recorder)
    blob = cloudpickle.dumps((context, master, task, Singleton.get_state()))
    digest = hashlib.sha256(blob).hexdigest()
    launch._SHARED.clear()
    try:
        ours = launch.execute_on_core(7, JOBS[0], digest, blob)
        in_worker = launch._SHARED[0][1][0].callbacks  # (the worker's copy of the recorder)
    finally:
        launch._SHARED.clear()
    theirs, _, _ = _run(hydra_run_job, loader, master, JOBS[0], 7, twin=False)
    assert ours.cfg is None and ours.hydra_cfg is None  # (they stay in the worker)
    assert ours.status == theirs.status == JobStatus.COMPLETED
    assert ours.return_value["yaml"] == theirs.return_value["yaml"]
    assert ours.return_value["job"][1:] == theirs.return_value["job"][1:]  # (num, dirname)
    assert ours.overrides == theirs.overrides == JOBS[0]
    assert (ours.working_dir, ours.task_name) == (theirs.working_dir, theirs.task_name)
    assert [c[0] for c in in_worker.calls] == ["start", "end"]  # with the whole JobReturn


def test_workers_started_ahead_are_the_ones_the_jobs_run_on() -> None:
    """``start_workers`` fills the pool the batch's ``Parallel`` then reuses, model imported."""
    import os
    import sys
    from types import SimpleNamespace

    from joblib import Parallel, delayed

    from clustersim.sweep import launch

    launcher = SimpleNamespace(joblib={"n_jobs": 2, "prefer": "processes", "pre_dispatch": "4"})
    launch.start_workers(launcher)
    assert len(launch._STARTING) == 1
    launch.start_workers(launcher)  # (once: a second call while starting adds nothing)
    assert len(launch._STARTING) == 1
    started = launch._STARTING[0]
    launch._workers_started()
    assert not started.is_alive() and not launch._STARTING

    def imported() -> tuple[int, bool]:
        return os.getpid(), "clustersim.runner" in sys.modules

    settings = launch._joblib_settings(launcher)
    seen = Parallel(**settings)(delayed(imported)() for _ in range(8))
    assert {pid for pid, _ in seen} - {os.getpid()}  # worker processes, not this one
    assert all(model for _, model in seen)  # each had imported the model before its jobs
