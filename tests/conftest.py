"""Shared fixtures: compose the real configs, run small scenarios once per session."""

from __future__ import annotations

import contextlib
import copy
import gc
import importlib
import io
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import settings

if TYPE_CHECKING:  # imported where used: pytest-xdist's controlling process needs none of them
    from omegaconf import DictConfig

    from clustersim.model import ClusterModel
    from clustersim.settings import Scenario

#: Python's cyclic garbage collector is held off while this process imports the test
#: modules and collects the tests (each xdist worker collects every module: numpy,
#: pandas, Hydra, Mesa, matplotlib... ~10 CPU-s of imports, of which the collector's
#: repeated walks over the growing heap took ~3), then everything collection made is
#: frozen (``gc.freeze``: what Python documents for a process's long-lived start) and the
#: collector turned on again, so that the tests' own garbage is collected as before
#: without walking the modules again at every full collection (clustersim.startup does
#: the same for a run). Reference counting frees objects as always.
gc.disable()


def _collect_again() -> None:
    """End the pause: freeze what the process holds, turn the collector on again."""
    if not gc.isenabled():
        gc.freeze()
        gc.enable()


def pytest_collection_finish(session: pytest.Session) -> None:
    """The tests are collected: the collector runs again (see ``gc.disable`` above)."""
    _collect_again()


def pytest_sessionstart(session: pytest.Session) -> None:
    """pytest-xdist's controlling process collects nothing: its collector runs again now."""
    if session.config.pluginmanager.hasplugin("dsession"):
        _collect_again()


REPO = Path(__file__).resolve().parents[1]
#: Names the cache folder of the test session that made it. pytest-xdist's workers inherit
#: it from the process that started them and share its folder: a config composed by one
#: worker is read from the store by the other (~20 ms instead of ~1 s).
SESSION_CACHE = "CLUSTERSIM_TEST_SESSION_CACHE"
#: This process is a worker of pytest-xdist (which removes nothing: its session does).
WORKER = "PYTEST_XDIST_WORKER" in os.environ and SESSION_CACHE in os.environ
#: Composed configs are kept in a cache folder of this test session's own (shared with its
#: xdist workers and the command lines the tests start), never in the user's
#: (``clustersim.paths.cache_dir``).
CACHE = os.environ[SESSION_CACHE] if WORKER else tempfile.mkdtemp(prefix="clustersim-test-cache-")
os.environ["CLUSTERSIM_CACHE"] = os.environ[SESSION_CACHE] = CACHE


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Remove the session's cache folder (once its workers are done with it)."""
    _collect_again()  # (a session that ended before its collection did)
    if not WORKER:
        shutil.rmtree(CACHE, ignore_errors=True)


#: Property tests (hypothesis) draw the number of cases each states, ``cases(n)``, in
#: ``make test`` (and CI). ``make test-fast`` loads this profile
#: (``--hypothesis-profile=everyday``): a quarter of them, every property still checked.
settings.register_profile("everyday", max_examples=25)


def cases(n: int) -> settings:
    """Settings of a property test that draws ``n`` random cases in the whole suite.

    Scaled by the loaded profile's ``max_examples`` against Hypothesis's default of 100:
    ``n`` by default, ``n / 4`` under ``everyday``. No deadline: a case's time depends on
    what else runs on the machine.
    """
    share = settings.default.max_examples / 100
    return settings(max_examples=max(1, round(n * share)), deadline=None)


#: Test modules whose every test is slow (marked ``slow``; ``make test-fast`` does not
#: even import them, ``pytest_ignore_collect`` below):
#: they run the command line in a subprocess, a sweep, a notebook, the default world or
#: a model over many seeds (test_arthur: three presets x twelve seeds; test_national and
#: test_life_cycle: a third of the Shanghai world), the fault-injection script
#: (test_sweep_faults), the app in a browser (test_app_browser), or new Python
#: processes to see what a fresh one imports (test_mesa_import, test_ema_import); or they check the
#: machinery around the model against Hydra and Optuna, a composition by Hydra itself
#: (~1 CPU-s) or a study at a time: how sweeps are configured, composed, launched and
#: skipped, and the optimisation driver. Run those files by name when changing
#: ``sweep/``, ``hydra_plugins/`` or ``optimize/``.
#: Slow tests elsewhere carry ``@pytest.mark.slow`` themselves.
SLOW_MODULES = frozenset(
    {
        "test_api",
        "test_app_browser",
        "test_arthur",
        "test_calibrate_engine",
        "test_calibrate_presets",
        "test_cli_run",
        "test_ema_import",
        "test_firm_sizes",
        "test_life_cycle",
        "test_mesa_import",
        "test_national",
        "test_optimize_cli",
        "test_optimize_driver",
        "test_optimize_model",
        "test_report",
        "test_report_rationing",
        "test_sweep_cli",
        "test_sweep_compose",
        "test_sweep_conf",
        "test_sweep_faults",
        "test_sweep_launch",
        "test_sweep_preflight",
        "test_sweep_skip",
    }
)


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """Under ``-m "not slow"`` (``make test-fast``) a module of ``SLOW_MODULES`` is not imported.

    All its tests would be deselected anyway; importing it only to deselect them cost each
    xdist worker ~0.7 CPU-s (the report's, the optimiser's and the notebooks' imports).
    """
    if config.getoption("markexpr") == "not slow" and collection_path.suffix == ".py":
        return collection_path.stem in SLOW_MODULES or None
    return None


#: The most expensive modules, most expensive first (CPU seconds of the whole suite
#: measured with ``benchmarks/test_costs.py`` on 4db855a: 128 for test_notebooks down to
#: ~10 for test_cli_errors): they start first, so that the two workers of ``make test``
#: end together instead of one finishing a long module while the other waits. The
#: everyday subset's own heaviest (test_grants, test_config, test_policy_conf,
#: test_cli_errors) are here too: a slow module's place is simply empty there.
LONGEST_FIRST = (
    "test_notebooks",
    "test_report",
    "test_calibrate_engine",
    "test_sweep_cli",
    "test_analysis_sweep",
    "test_sweep_compose",
    "test_optimize_driver",
    "test_cli_run",
    "test_sweep_faults",
    "test_grants",
    "test_sweep_conf",
    "test_policy_effects",
    "test_report_rationing",
    "test_config",
    "test_optimize_cli",
    "test_sweep_launch",
    "test_optimize_model",
    "test_policy_conf",
    "test_calibrate_presets",
    "test_api",
    "test_arthur",
    "test_sweep_preflight",
    "test_cli_errors",
)
#: Modules whose tests are independent and long: pytest-xdist hands their tests to the
#: workers one by one. Every other module goes to one worker as a whole, so that its
#: module- and session-scoped fixtures (a sweep, a study, a calibration) are made once,
#: not once per worker (``pytest_xdist_make_scheduler`` below).
SPLIT_MODULES = frozenset({"test_notebooks", "test_cli_run", "test_calibrate_presets"})


def _module(item: pytest.Item) -> str:
    return item.module.__name__.rsplit(".", 1)[-1] if item.module is not None else ""


@pytest.hookimpl(optionalhook=True)  # a hook of pytest-xdist, absent with -p no:xdist
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """Under ``-n`` (xdist's ``load``): one unit of work per module, or per test of a split one.

    xdist's ``loadgroup`` would do this with marks, but it names groups through a
    private attribute pytest 9 no longer reads. Units go out in the order of the
    collection (``--no-loadscope-reorder`` in the Makefile keeps it), longest first.
    """
    if config.getoption("dist") != "load":  # the user chose another distribution
        return None
    from xdist.scheduler import LoadScopeScheduling

    class ModuleScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            path = nodeid.split("::", 1)[0]
            return nodeid if Path(path).stem in SPLIT_MODULES else path

    return ModuleScheduling(config, log)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test of a slow module ``slow``; start the longest modules first."""
    for item in items:
        if _module(item) in SLOW_MODULES:
            item.add_marker(pytest.mark.slow)
    rank = {m: i for i, m in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(_module(item), len(rank)))  # stable: same order within


def compose_cfg(*overrides: str) -> DictConfig:
    """Compose ``conf/config.yaml`` with overrides, as Hydra's compose API would.

    Through the loader the sweeps use (``clustersim.sweep.compose``), which composes each
    set of config groups once per process and applies value overrides to a copy: the
    tests compose hundreds of configs that differ only in values, at about a second
    each otherwise. ``tests/test_sweep_compose.py`` checks it gives Hydra's own result;
    a config with a missing or unusual override goes through Hydra unchanged.
    """
    from hydra import initialize_config_dir
    from hydra.types import RunMode
    from omegaconf import open_dict

    from clustersim.paths import conf_dir
    from clustersim.sweep.compose import loader_for

    with initialize_config_dir(config_dir=str(conf_dir()), version_base="1.3"):
        cfg = loader_for(str(conf_dir())).load_configuration(
            "config", list(overrides), run_mode=RunMode.RUN, from_shell=False
        )
    with open_dict(cfg):
        del cfg["hydra"]  # as ``hydra.compose(..., return_hydra_config=False)``
    return cfg


@cache
def _composed(*overrides: str) -> dict[str, Any]:
    """The plain config for these overrides (cached: composing costs about a second)."""
    from clustersim.config import to_plain

    return to_plain(compose_cfg(*overrides))


@cache
def scenario(*overrides: str) -> Scenario:
    """The checked scenario for these overrides (cached).

    A ``seed=N`` override is set in the config composed without it, which is composed
    once for all seeds: the same scenario as composing with it (``cs.run_seeds`` does
    the same; tests/test_api.py checks that the runs are identical).
    """
    from clustersim.settings import load_scenario

    seeds = [o for o in overrides if o.startswith("seed=") and o[5:].isdigit()]
    if len(seeds) != 1:
        return load_scenario(compose_cfg(*overrides))
    data = copy.deepcopy(_composed(*(o for o in overrides if o != seeds[0])))
    data["seed"] = int(seeds[0][5:])
    return load_scenario(data)


@cache
def finished(*overrides: str) -> ClusterModel:
    """A model run to the end with these overrides (cached per session; do not mutate)."""
    from clustersim.model import ClusterModel

    return ClusterModel(scenario(*overrides)).run()


def run_cli(*args: str, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    """Run ``clustersim-run`` as a user would, from ``cwd``, in a new process.

    For what only a new process shows (the console script, its exit status, a kill, a
    worker process); ``call_cli`` runs the same command in this process, without the
    ~1.5 CPU-s of imports a new process pays.
    """
    env = dict(os.environ, PYTHONHASHSEED="0")
    return subprocess.run(
        [sys.executable, "-m", "clustersim.cli.run", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )


@pytest.fixture(autouse=True)
def _hydra_config_put_back() -> Any:
    """Each test leaves Hydra's global job config (``HydraConfig``) as it found it.

    A test that sets it (a job's config, as Hydra does while a job runs) and does not put
    it back would make the next test in the same worker read that job's sweep folder and
    overrides (``clustersim.sweep.jobs``): an order-dependent failure. Cheap: one
    attribute read and one write per test.
    """
    from hydra.core.hydra_config import HydraConfig

    before = HydraConfig.instance().cfg
    yield
    HydraConfig.instance().cfg = before


@pytest.fixture
def toy() -> ClusterModel:
    """A fresh toy-world model, not yet run."""
    from clustersim.model import ClusterModel

    return ClusterModel(scenario("world=toy"))


def in_fresh_python(code: str, *flags: str) -> Any:
    """Run ``code`` in a new interpreter (``flags`` before ``-c``); its last line, as JSON.

    For properties of what a process imports, which this process (with every test
    module loaded) cannot show.
    """
    out = subprocess.run(
        [sys.executable, *flags, "-c", code],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def call_cli(
    *args: str, cwd: Path, module: str = "clustersim.cli.run"
) -> subprocess.CompletedProcess:
    """Run a command line in this process, as its console script would, from ``cwd``.

    Calls ``<module>.main()`` with ``sys.argv`` set (``clustersim-run`` by default) and
    returns what ``run_cli`` returns: the exit status (``sys.exit``'s code or ``main``'s
    return value), standard output and standard error. The working folder, ``sys.argv``,
    the logging setup (Hydra configures logging for each run) and Hydra's global state
    (a finished run leaves its ``HydraConfig`` set) are put back after.
    An exception that escapes ``main`` propagates (a new process would print its
    traceback and exit 1).
    """
    from hydra.core.singleton import Singleton

    main = importlib.import_module(module).main
    out, err = io.StringIO(), io.StringIO()
    argv, here, logs = sys.argv, Path.cwd(), _logging_state()
    hydra_state = Singleton.get_state()  # HydraConfig, GlobalHydra, the plugins' registry
    code: int | str | None = 0
    try:
        os.chdir(cwd)
        sys.argv = [f"clustersim-{module.rsplit('.', 1)[-1]}", *args]  # the script's name
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main()
            except SystemExit as ended:
                code = ended.code
    finally:
        sys.argv = argv
        os.chdir(here)
        _restore_logging(logs)
        Singleton.set_state(hydra_state)  # a finished command leaves no Hydra job behind
    if isinstance(code, str):  # sys.exit("message") prints it and exits 1
        err.write(code + "\n")
        code = 1
    return subprocess.CompletedProcess(
        [module, *args], int(code or 0), out.getvalue(), err.getvalue()
    )


def _logging_state() -> dict[str, tuple[int, list[logging.Handler], bool, bool]]:
    loggers = [logging.root] + [
        lg for lg in logging.root.manager.loggerDict.values() if isinstance(lg, logging.Logger)
    ]
    return {lg.name: (lg.level, list(lg.handlers), lg.propagate, lg.disabled) for lg in loggers}


def _restore_logging(state: dict[str, tuple[int, list[logging.Handler], bool, bool]]) -> None:
    """Put back every logger's level and handlers (dropping those a run added)."""
    for lg in [logging.root, *logging.root.manager.loggerDict.values()]:
        if not isinstance(lg, logging.Logger):
            continue
        level, handlers, propagate, disabled = state.get(lg.name, (logging.NOTSET, [], True, False))
        lg.setLevel(level)
        lg.handlers[:] = handlers
        lg.propagate, lg.disabled = propagate, disabled
