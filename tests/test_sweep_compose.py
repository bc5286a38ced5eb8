"""A job's config composed from a kept composition (in memory or on disk) equals Hydra's own."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from hydra._internal.config_loader_impl import ConfigLoaderImpl
from hydra._internal.utils import create_config_search_path
from hydra.errors import ConfigCompositionException
from hydra.types import RunMode
from omegaconf import OmegaConf

from clustersim.paths import cache_dir, conf_dir
from clustersim.sweep import compose, composition_store
from clustersim.sweep.compose import ReusingConfigLoader

JOBS = [
    [],
    ["seed=3"],
    ["seed=4", "world=toy"],
    ["world=toy", "seed=5", "policy=none"],
    ["policy=none", "world=toy", "seed=6", "behavior.entry.but_for_share=0.4"],
    ["world=toy", "policy=huangpu_2024", "seed=1", "run.counterfactual=no_policy"],
    ["world=toy", "seed=2", "world.parks.lujiazui.name='A/B <b>'", "hydra.sweep.dir=/x/y"],
    ["experiment=compare_plans", "policy=none", "seed=7"],
    ["preset=arthur_lockin", "seed=3", "hydra.job.chdir=false"],
    ["world=toy", "seed=8", "+run.extra=1"],
    ["world=toy", "seed=9", "~run.counterfactual"],
    ["hydra/launcher=cores", "world=toy", "seed=10"],
]
#: The command line of a multirun (composed in MULTIRUN mode only).
SWEEPS = [["world=toy", "policy=none,huangpu_2024", "seed=0,1", "hydra/launcher=cores"]]


def loaders() -> tuple[ConfigLoaderImpl, ReusingConfigLoader]:
    path = create_config_search_path(str(conf_dir()))
    return ConfigLoaderImpl(config_search_path=path), ReusingConfigLoader(config_search_path=path)


#: A few jobs for the multirun case: a value override, a group, a counterfactual, a name
#: that needs escaping (the run case checks every job of ``JOBS``).
QUICK = [JOBS[1], JOBS[2], JOBS[6], JOBS[5]]


@pytest.mark.parametrize(
    ("mode", "jobs"),
    [
        pytest.param(RunMode.RUN, JOBS, id="RUN"),
        # a multirun composes each job as a run does; its own is the sweep's command line
        pytest.param(RunMode.MULTIRUN, [*QUICK, *SWEEPS], id="MULTIRUN"),
    ],
)
def test_reused_compositions_equal_hydras_own(mode, jobs):
    compose.clear()
    hydra_loader, reusing = loaders()
    # Hydra's own composition of a job does not change: asked once per job. The second
    # time every composition is kept in this process; the third time (after forgetting
    # those, as a new process would) every one is read from the store on disk
    # (its YAML and resolved settings are worked out once per job, not once per pass)
    wanted = [_hydras(hydra_loader.load_configuration("config", list(job), mode)) for job in jobs]
    for i, job in enumerate([*jobs, *jobs, *jobs]):
        if i == 2 * len(jobs):
            assert stored_files()
            compose.clear()
        want_yaml, want_struct, want_settings = wanted[i % len(jobs)]
        got = reusing.load_configuration("config", list(job), run_mode=mode)
        got.hydra.runtime.cwd = "."  # the same process: only to be explicit
        assert OmegaConf.to_yaml(got) == want_yaml, job
        assert OmegaConf.is_struct(got) == want_struct
        settings = {k: got[k] for k in got if k != "hydra"}
        assert OmegaConf.to_container(OmegaConf.create(settings), resolve=True) == want_settings
    assert 0 < len(compose._CACHE) < len(jobs)  # kept per set of groups, not per job


def _hydras(want) -> tuple[str, bool, dict]:
    """What is compared of Hydra's own composition: its YAML, whether it is struct, and
    its settings with every interpolation resolved."""
    want.hydra.runtime.cwd = "."  # the same process: only to be explicit
    settings = {
        k: OmegaConf.to_container(v, resolve=True) if OmegaConf.is_config(v) else v
        for k, v in ((k, want[k]) for k in want if k != "hydra")
    }
    return OmegaConf.to_yaml(want), OmegaConf.is_struct(want), settings


def stored_files() -> list[Path]:
    """The compositions kept on disk (in the test session's cache folder)."""
    folder = cache_dir()
    assert folder is not None
    return sorted((folder / composition_store.FOLDER).glob("*.pickle"))


def test_an_edited_config_file_is_composed_again_in_a_new_process(tmp_path, monkeypatch):
    conf = tmp_path / "conf"
    shutil.copytree(conf_dir(), conf)
    monkeypatch.setenv("CLUSTERSIM_CACHE", str(tmp_path / "cache"))
    path = create_config_search_path(str(conf))
    for seed in (7, 8):
        (conf / "config.yaml").write_text(
            (conf_dir() / "config.yaml").read_text().replace("\nseed: 0", f"\nseed: {seed}")
        )
        for _ in range(2):  # a new process: composed (or read from the store) afresh
            compose.clear()
            cfg = ReusingConfigLoader(path).load_configuration("config", [], RunMode.RUN)
            assert cfg.seed == seed
    assert len(stored_files()) == 2  # one composition per content of the files


def test_a_damaged_store_file_is_composed_again(tmp_path, monkeypatch):
    monkeypatch.setenv("CLUSTERSIM_CACHE", str(tmp_path / "cache"))
    compose.clear()
    _, reusing = loaders()
    want = OmegaConf.to_yaml(reusing.load_configuration("config", ["seed=2"], RunMode.RUN))
    (stored,) = stored_files()
    stored.write_bytes(stored.read_bytes()[:100])  # truncated, e.g. by a full disk
    compose.clear()
    got = reusing.load_configuration("config", ["seed=2"], RunMode.RUN)
    assert OmegaConf.to_yaml(got) == want
    assert stored.stat().st_size > 100  # replaced by a whole one


def test_the_store_can_be_turned_off(tmp_path, monkeypatch):
    monkeypatch.setenv("CLUSTERSIM_CACHE", "off")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setenv("HOME", str(tmp_path))
    compose.clear()
    _, reusing = loaders()
    assert reusing.load_configuration("config", ["seed=2"], RunMode.RUN).seed == 2
    assert cache_dir() is None and not any(tmp_path.iterdir())


def test_the_store_keeps_the_most_recently_used(tmp_path, monkeypatch):
    monkeypatch.setenv("CLUSTERSIM_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(composition_store, "KEEP", 2)
    monkeypatch.setattr(composition_store._prune, "__defaults__", (2,))
    compose.clear()
    _, reusing = loaders()
    for choice in ("policy=none", "policy=huangpu_2024", "policy=pudong_2027"):
        reusing.load_configuration("config", ["world=toy", choice], RunMode.RUN)
    assert len(stored_files()) == 2


def test_a_kept_composition_is_never_changed_by_a_job():
    compose.clear()
    _, reusing = loaders()
    first = reusing.load_configuration("config", ["world=toy", "seed=1"], RunMode.RUN)
    first.seed = 99
    again = reusing.load_configuration("config", ["world=toy", "seed=2"], RunMode.RUN)
    assert again.seed == 2 and first.seed == 99
    assert list(again.hydra.overrides.task) == ["world=toy", "seed=2"]
    assert again.hydra.job.override_dirname == "seed=2,world=toy"


def test_bad_overrides_fail_as_in_hydra():
    compose.clear()
    hydra_loader, reusing = loaders()
    for job in (["world=toy", "no.such.key=1"], ["policy=no_such_plan"]):
        with pytest.raises(ConfigCompositionException) as want:
            hydra_loader.load_configuration("config", job, RunMode.RUN)
        with pytest.raises(ConfigCompositionException) as got:
            reusing.load_configuration("config", job, RunMode.RUN)
        assert str(got.value) == str(want.value)


@pytest.mark.parametrize(
    "job", [[], ["world=toy", "policy=none"], ["preset=arthur_lockin"], JOBS[5], JOBS[6]]
)
def test_settings_of_a_config_are_read_without_copying_it(job):
    from omegaconf import open_dict

    from clustersim.config import NOT_SETTINGS, settings_of, to_plain

    cfg = loaders()[0].load_configuration("config", list(job), RunMode.RUN)
    copied = cfg.copy()  # what to_plain did before: copy, drop hydra and paths, convert
    with open_dict(copied):
        for node in NOT_SETTINGS:
            copied.pop(node, None)
    want = OmegaConf.to_container(copied, resolve=True)
    got = to_plain(cfg)
    assert settings_of(got) == want and list(settings_of(got)) == list(want)
    # and of Hydra's node, the policy option it was composed with (tests/test_policy_choice)
    assert got["hydra"] == {"runtime": {"choices": {"policy": cfg.hydra.runtime.choices.policy}}}


def test_hydras_structured_configs_have_one_digest_in_every_process():
    """A worker gets Hydra's state unpickled: its structured configs digest as the launcher's.

    (The digest names kept compositions; a worker's used to differ, so each worker
    composed every config group again.) A change in a stored node changes it.
    """
    import pickle
    from dataclasses import dataclass

    from hydra.core.config_store import ConfigStore
    from hydra.core.plugins import Plugins
    from hydra.core.singleton import Singleton
    from joblib.externals.loky.backend.reduction import cloudpickle

    Plugins.instance()  # (the plugins have stored their settings, as in a sweep)
    before = composition_store._structured_digest()
    state = Singleton.get_state()
    assert before is not None
    try:
        Singleton.set_state(pickle.loads(cloudpickle.dumps(state)))  # as a worker restores it
        assert composition_store._structured_digest() == before

        @dataclass
        class Extra:
            size: int = 3

        ConfigStore.instance().store(group="test_digest", name="extra", node=Extra)
        with_extra = composition_store._structured_digest()
        assert with_extra not in (None, before)
        ConfigStore.instance().store(group="test_digest", name="extra", node={"size": 4})
        assert composition_store._structured_digest() not in (None, before, with_extra)
    finally:
        Singleton.set_state(state)
    assert composition_store._structured_digest() == before
