"""A short Python API for notebooks and scripts, over the same configs as the command line.

Overrides are Hydra overrides, exactly as typed after ``clustersim-run``, and the config is
composed with Hydra's compose API from the same ``conf/``; so a notebook and a command
line with the same overrides give the same numbers.

    import clustersim.api as cs
    result = cs.run(["world=toy", "seed=3"])          # one scenario, in memory
    result.monthly, result.firms_yearly, result.model  # its tables and the model itself
    tables = cs.sweep({"policy": ["none", "huangpu_2024"], "seed": [0, 1, 2]},
                      base=["world=toy"], folder="results/sweeps/demo")
    tables.runs, tables.panel                          # one row per run; run x month
    tables = cs.load_sweep("results/sweeps/compare_plans")
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from hydra import compose as hydra_compose
from hydra import initialize_config_dir
from omegaconf import DictConfig

from clustersim.config import config_hash
from clustersim.io import RunFolderError, is_complete, read_marker
from clustersim.paths import conf_dir
from clustersim.runner import RunResult, simulate, write_run
from clustersim.settings import Scenario, load_scenario

__all__ = ["SweepTables", "compose", "load_sweep", "run", "run_to_folder", "scenario", "sweep"]

logging.getLogger("MESA").setLevel(logging.WARNING)  # Mesa logs every step at INFO


def compose(overrides: Sequence[str] = ()) -> DictConfig:
    """The config ``clustersim-run <overrides>`` would run, composed from ``conf/``."""
    with initialize_config_dir(config_dir=str(conf_dir()), version_base="1.3"):
        return hydra_compose("config", overrides=list(overrides), return_hydra_config=True)


def scenario(overrides: Sequence[str] = ()) -> Scenario:
    """The checked scenario for these overrides (raises ``ConfigError`` on bad input)."""
    return load_scenario(compose(overrides))


def run(overrides: Sequence[str] = (), progress: bool = False) -> RunResult:
    """Run one scenario in memory and return its tables (and the model, for inspection)."""
    return simulate(scenario(overrides), progress=progress)


def run_to_folder(overrides: Sequence[str], folder: str | Path) -> RunResult:
    """Run one scenario and write its run folder at ``folder``, as the command line does."""
    result = run(overrides)
    write_run(result, Path(folder), list(overrides))
    return result


@dataclass(frozen=True)
class SweepTables:
    """The collected tables of a sweep folder.

    Attributes:
        folder: the sweep folder.
        runs: one row per run: its overrides, seed, config hash, headline outcomes
            (``<metric>@<YYYY-MM>``) and caused figures (``caused_<metric>@<YYYY-MM>``).
        panel: one row per run and month (``job``, ``month`` and every monthly metric).

    """

    folder: Path
    runs: pd.DataFrame
    panel: pd.DataFrame


def load_sweep(folder: str | Path) -> SweepTables:
    """Read a sweep folder's collected tables, collecting them first if they are missing."""
    from clustersim.sweep.collect import PANEL_TABLE, RUNS_TABLE, collect

    folder = Path(folder)
    if not (folder / RUNS_TABLE).is_file():
        result = collect(folder)
        if not result.jobs:
            raise FileNotFoundError(f"{folder}: no finished run to collect")
    return SweepTables(
        folder, pd.read_parquet(folder / RUNS_TABLE), pd.read_parquet(folder / PANEL_TABLE)
    )


def job_name(overrides: Iterable[str]) -> str:
    """A job folder's name: its overrides sorted by key, as Hydra's ``override_dirname``."""
    return ",".join(sorted(overrides, key=lambda o: o.split("=", 1)[0]))


def sweep(
    grid: Mapping[str, Sequence[Any]],
    base: Sequence[str] = (),
    folder: str | Path = "results/sweeps/api",
    progress: bool = True,
) -> SweepTables:
    """Run every combination of ``grid`` in this process and collect the sweep.

    Job folders are named by their varied settings, like a Hydra multirun's, so a rerun
    skips the jobs already complete with the same config, and the folder can be read by
    ``clustersim-collect`` and ``clustersim-report`` like any sweep.
    """
    from clustersim.sweep.collect import collect

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    keys = list(grid)
    combos = list(itertools.product(*(grid[k] for k in keys)))
    for i, values in enumerate(combos, start=1):
        varied = [f"{k}={_text(v)}" for k, v in zip(keys, values, strict=True)]
        overrides = [*base, *varied]
        cfg = compose(overrides)
        out = folder / job_name(varied)
        if is_complete(out):
            if read_marker(out).get("config_hash") == config_hash(cfg):
                continue  # done before, with the same config
            raise RunFolderError(
                f"{out} holds a finished run of another config (base overrides changed?); "
                "use another folder, or remove that one to rerun it"
            )
        result = simulate(load_scenario(cfg))
        write_run(result, out, overrides)
        if progress:
            print(f"sweep {i}/{len(combos)}: {job_name(varied)}")
    collect(folder)
    return load_sweep(folder)


def _text(value: Any) -> str:
    """An override value as the command line would spell it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
