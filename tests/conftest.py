"""Shared fixtures: compose the real configs, run small scenarios once per session."""

from __future__ import annotations

import copy
import os
import shutil
import subprocess
import sys
import tempfile
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from hydra import initialize_config_dir
from hydra.types import RunMode
from omegaconf import open_dict

from clustersim.config import to_plain
from clustersim.model import ClusterModel
from clustersim.paths import conf_dir
from clustersim.settings import Scenario, load_scenario
from clustersim.sweep.compose import loader_for

REPO = Path(__file__).resolve().parents[1]
#: Composed configs are kept in a cache folder of this test session's own (shared with the
#: command lines the tests start), never in the user's (``clustersim.paths.cache_dir``).
CACHE = os.environ["CLUSTERSIM_CACHE"] = tempfile.mkdtemp(prefix="clustersim-test-cache-")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Remove the session's cache folder."""
    shutil.rmtree(CACHE, ignore_errors=True)


#: Test modules whose every test is slow (marked ``slow``; ``make test-fast`` skips them):
#: they run the command line in a subprocess, a sweep, a notebook, the default world or
#: a model over many seeds (test_arthur: three presets x twelve seeds).
#: Slow tests elsewhere carry ``@pytest.mark.slow`` themselves.
SLOW_MODULES = frozenset(
    {
        "test_api",
        "test_arthur",
        "test_calibrate_engine",
        "test_calibrate_presets",
        "test_cli_run",
        "test_firm_sizes",
        "test_notebooks",
        "test_optimize_cli",
        "test_optimize_model",
        "test_report",
        "test_report_rationing",
        "test_sweep_cli",
        "test_sweep_preflight",
    }
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test of a slow module ``slow``."""
    for item in items:
        if item.module is not None and item.module.__name__.rsplit(".", 1)[-1] in SLOW_MODULES:
            item.add_marker(pytest.mark.slow)


def compose_cfg(*overrides: str):
    """Compose ``conf/config.yaml`` with overrides, as Hydra's compose API would.

    Through the loader the sweeps use (``clustersim.sweep.compose``), which composes each
    set of config groups once per process and applies value overrides to a copy: the
    tests compose hundreds of configs that differ only in values, at about a second
    each otherwise. ``tests/test_sweep_compose.py`` checks it gives Hydra's own result;
    a config with a missing or unusual override goes through Hydra unchanged.
    """
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
    return to_plain(compose_cfg(*overrides))


@cache
def scenario(*overrides: str) -> Scenario:
    """The checked scenario for these overrides (cached).

    A ``seed=N`` override is set in the config composed without it, which is composed
    once for all seeds: the same scenario as composing with it (``cs.run_seeds`` does
    the same; tests/test_api.py checks that the runs are identical).
    """
    seeds = [o for o in overrides if o.startswith("seed=") and o[5:].isdigit()]
    if len(seeds) != 1:
        return load_scenario(compose_cfg(*overrides))
    data = copy.deepcopy(_composed(*(o for o in overrides if o != seeds[0])))
    data["seed"] = int(seeds[0][5:])
    return load_scenario(data)


@cache
def finished(*overrides: str) -> ClusterModel:
    """A model run to the end with these overrides (cached per session; do not mutate)."""
    return ClusterModel(scenario(*overrides)).run()


def run_cli(*args: str, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    """Run ``clustersim-run`` as a user would, from ``cwd``."""
    env = dict(os.environ, PYTHONHASHSEED="0")
    return subprocess.run(
        [sys.executable, "-m", "clustersim.cli.run", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )


@pytest.fixture
def toy() -> ClusterModel:
    """A fresh toy-world model, not yet run."""
    return ClusterModel(scenario("world=toy"))
