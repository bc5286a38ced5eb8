"""The sweep configs compose: experiments, launcher presets, the qmc sweeper, the callback."""

from __future__ import annotations

import importlib.util

import pytest
from hydra import compose, initialize_config_dir
from hydra._internal.config_loader_impl import get_overrides_dirname
from hydra.core.hydra_config import HydraConfig
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.singleton import Singleton

from clustersim.config import config_hash, to_plain
from clustersim.paths import conf_dir, respell
from clustersim.results.names import MAX_FOLDER_BYTES, job_folder
from clustersim.results.sweep_folder import DEFAULT_JOB_NAME, NOT_IN_JOB_NAME, job_name
from clustersim.sweep.callbacks import SweepCallback, count_jobs, rerun_command
from clustersim.sweep.designs import plan_jobs


def hydra_cfg(*overrides: str):
    with initialize_config_dir(config_dir=str(conf_dir()), version_base="1.3"):
        return compose("config", overrides=list(overrides), return_hydra_config=True)


def test_compare_plans_is_100_jobs_on_the_cores_in_a_fixed_folder():
    cfg = hydra_cfg("experiment=compare_plans")
    assert count_jobs(cfg) == 100
    assert cfg.hydra.sweep.dir == "results/sweeps/compare_plans"
    assert cfg.hydra.launcher._target_.endswith("CoresLauncher")  # joblib's, our job runner
    assert cfg.hydra.sweeper._target_.endswith("GridSweeper")
    assert cfg.hydra.mode.name == "MULTIRUN"
    assert cfg.run.progress is False


def test_compare_plans_names_only_existing_policies():
    cfg = hydra_cfg("experiment=compare_plans")
    names = str(cfg.hydra.sweeper.params.policy).split(",")
    missing = [n for n in names if not (conf_dir() / "policy" / f"{n}.yaml").is_file()]
    assert missing == [], f"conf/policy/ lacks {missing}"


def test_sensitivity_is_a_reproducible_64_point_sobol_design():
    cfg = hydra_cfg("experiment=sensitivity", "policy=none")
    sweeper = cfg.hydra.sweeper
    assert sweeper._target_.endswith("QMCSweeper")
    assert count_jobs(cfg) == 64
    texts = [f"{k}={v}" for k, v in sweeper.params.items()]
    settings = {
        "method": sweeper.method,
        "samples": sweeper.samples,
        "seed": sweeper.seed,
        "digits": sweeper.digits,
    }
    jobs, dims = plan_jobs(OverridesParser.create().parse_overrides(texts), **settings)
    again, _ = plan_jobs(OverridesParser.create().parse_overrides(texts), **settings)
    assert jobs == again and len({tuple(j) for j in jobs}) == 64
    assert len(dims) == 5
    assert max(len(",".join(j).encode()) for j in jobs) < 255  # job folder names fit
    assert cfg.run.counterfactual == "no_policy"


@pytest.mark.parametrize(
    ("preset", "target"),
    [
        ("cores", "clustersim_launchers.launchers.CoresLauncher"),
        ("serial", "clustersim_launchers.launchers.SerialLauncher"),
        ("joblib", "hydra_joblib_launcher.joblib_launcher.JoblibLauncher"),
        ("basic", "basic_launcher.BasicLauncher"),
        ("slurm", "SlurmLauncher"),
        ("slurm_local", "LocalLauncher"),
    ],
)
def test_launcher_presets_compose(preset, target):
    cfg = hydra_cfg(f"hydra/launcher={preset}")
    launcher = cfg.hydra.launcher
    assert launcher._target_.endswith(target)
    if preset.startswith("slurm"):
        assert launcher.submitit_folder.endswith("/.submitit/%j")  # hidden: not a job folder
        assert launcher.cpus_per_task == 1
    if preset == "slurm":
        assert {"partition", "timeout_min", "mem_gb", "account"} <= set(launcher)


@pytest.mark.skipif(
    importlib.util.find_spec("hydra_plugins.hydra_ray_launcher") is None,
    reason="hydra-ray-launcher is not installed (pip install -e '.[ray]')",
)
def test_ray_preset_composes():
    cfg = hydra_cfg("hydra/launcher=ray_cluster")
    assert cfg.hydra.launcher._target_.endswith("RayLauncher")
    assert cfg.hydra.launcher.ray.remote.num_cpus == 1


def test_callback_is_configured_and_picklable():
    import pickle

    cfg = hydra_cfg()
    node = cfg.hydra.callbacks.clustersim_sweep
    assert node._target_ == "clustersim.sweep.callbacks.SweepCallback"
    cb = SweepCallback(**{k: v for k, v in node.items() if k != "_target_"})
    cb._watcher = object()  # a running thread must not travel with the callback to the jobs
    assert pickle.loads(pickle.dumps(cb))._watcher is None


def test_job_folders_leave_out_how_a_sweep_is_launched():
    excluded = set(hydra_cfg().hydra.job.config.override_dirname.exclude_keys)
    assert {"hydra/launcher", "hydra/sweeper", "+experiment", "hydra.sweep.dir"} <= excluded
    # the API names its job folders by the same rule (clustersim.results.job_name)
    assert excluded == set(NOT_IN_JOB_NAME)


@pytest.mark.parametrize(
    "overrides",
    [
        ["seed=3", "policy=none"],
        ["world=toy", "behavior.entry.but_for_share=0.25", "seed=1"],
        ["+experiment=compare_plans", "seed=2", "hydra/launcher=cores", "a.b=1", "a=2"],
        ["experiment=sensitivity", "preset=arthur_lockin"],
        ["~run.counterfactual", "seed=0"],
    ],
)
def test_job_name_is_hydras_override_dirname(overrides):
    node = hydra_cfg().hydra.job.config.override_dirname
    parsed = OverridesParser.create().parse_overrides(overrides)
    expected = get_overrides_dirname(
        parsed, list(node.exclude_keys), item_sep=node.item_sep, kv_sep=node.kv_sep
    )
    assert job_name(overrides) == (job_folder(expected) or DEFAULT_JOB_NAME)


@pytest.mark.parametrize(
    "value",
    [
        "'A/B <script>alert(1)</script>'",
        "'Zhangjiang 张江 park'",
        "'" + "x" * 300 + "'",
        "'.hidden'",
    ],
)
def test_hydra_names_job_folders_as_job_name_does_for_any_value(value):
    overrides = ["seed=3", f"world.parks.lujiazui.name={value}"]
    cfg = hydra_cfg(*overrides)
    state = Singleton.get_state()
    try:
        HydraConfig.instance().set_config(cfg)
        folder = cfg.hydra.sweep.subdir
    finally:  # a job's HydraConfig left set would be read by the next tests' sweep jobs
        Singleton.set_state(state)
    assert folder == job_name(overrides)
    assert "/" not in folder and not folder.startswith(".")
    assert len(folder.encode()) <= MAX_FOLDER_BYTES
    assert folder.isascii() and " " not in folder and "<" not in folder
    run_dir = cfg.hydra.run.dir
    assert run_dir.count("/") == cfg.paths.runs.count("/") + 1  # one folder, not nested ones


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("+experiment=compare_plans", "experiment=compare_plans"),
        ("++experiment=sensitivity", "experiment=sensitivity"),
        ("+experiment=arthur_lockin", "preset=arthur_lockin"),
        ("experiment=arthur_bounded", "preset=arthur_bounded"),
        ("+preset=no_agglomeration", "preset=no_agglomeration"),
    ],
)
def test_the_old_spelling_of_presets_is_accepted_with_a_note(typed, meant):
    args, notes = respell(["seed=1", typed])
    assert args == ["seed=1", meant]
    assert len(notes) == 1 and repr(meant) in notes[0]
    assert respell(["experiment=compare_plans", "preset=arthur_lockin"])[1] == []


def test_paths_say_where_results_go_and_stay_out_of_the_run_config():
    cfg = hydra_cfg("paths.results=/big/disk")
    assert cfg.hydra.sweep.dir.startswith("/big/disk/sweeps/")
    assert cfg.hydra.run.dir.startswith("/big/disk/runs/")
    assert hydra_cfg("experiment=compare_plans", "paths.results=x").hydra.sweep.dir == (
        "x/sweeps/compare_plans"
    )
    assert config_hash(hydra_cfg("paths.results=/big/disk")) == config_hash(hydra_cfg())
    assert "paths" not in to_plain(hydra_cfg())


def test_rerun_command_pins_the_sweep_folder():
    cmd = rerun_command("results/sweeps/x", ["experiment=compare_plans", "hydra.sweep.dir=old"])
    assert cmd == "clustersim-run -m experiment=compare_plans hydra.sweep.dir=results/sweeps/x"
    quoted = rerun_command("a b", ["-m", "x=interval(0,1)"])
    assert quoted == "clustersim-run -m 'x=interval(0,1)' 'hydra.sweep.dir=a b'"


def qmc_sweeper(**settings):
    from types import SimpleNamespace

    from hydra_plugins.clustersim_qmc_sweeper.qmc_sweeper import QMCSweeper

    base = {"method": "lhs", "samples": 4, "seed": 0, "scramble": True, "digits": 6}
    sweeper = QMCSweeper(max_batch_size=None, **{**base, **settings})
    sweeper.config = hydra_cfg("world=toy", "policy=none")
    sweeper.hydra_context = SimpleNamespace(config_loader=None)
    return sweeper


def test_qmc_sweeper_refuses_parameters_that_are_not_numbers():
    from hydra.errors import HydraException

    with pytest.raises(HydraException, match=r"behavior\.entry\.typo = None: a design parameter"):
        qmc_sweeper().plan(["behavior.entry.typo=interval(0,1)"])
    with pytest.raises(HydraException, match=r"world\.name = 'toy': a design parameter"):
        qmc_sweeper().plan(["world.name=interval(0,1)"])
    jobs = qmc_sweeper().plan(["behavior.entry.but_for_share=interval(0.1,0.2)", "seed=0,1"])
    assert len(jobs) == 8


def test_qmc_design_with_long_names_gets_short_distinct_folders():
    from clustersim.results.names import MAX_FOLDER_BYTES, job_folder

    params = [
        "behavior.entry.but_for_share=interval(0.1,0.2)",
        "behavior.entry.subsidy_weight=interval(0.5,2)",
        "behavior.agglomeration.strength=interval(0.1,2)",
        "behavior.growth.volatility=interval(0.05,0.2)",
        "behavior.relocation.review_rate=interval(0.001,0.05)",
        "behavior.agglomeration.cross_kind_weight=interval(0.1,0.9)",
    ]
    jobs = qmc_sweeper(digits=17).plan(params)
    folders = {job_folder(",".join(sorted(job))) for job in jobs}
    assert len(folders) == len(jobs) == 4
    assert all(len(f.encode()) <= MAX_FOLDER_BYTES for f in folders)
