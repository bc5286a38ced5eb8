"""A short Python API for notebooks and scripts, over the same configs as the command line.

Overrides are Hydra overrides, exactly as typed after ``clustersim-run``, and the config is
composed by Hydra's config loader from the same ``conf/``, as the command line does; so a
notebook and a command line with the same overrides give the same numbers.

    import clustersim.api as cs
    result = cs.run(["world=toy", "seed=3"])          # one scenario, in memory
    results = cs.run_seeds(["world=toy"], range(30))   # one scenario, many seeds
    result.monthly, result.firms_yearly, result.model  # its tables and the model itself
    tables = cs.sweep({"policy": ["none", "huangpu_2024"], "seed": [0, 1, 2]},
                      base=["world=toy"], folder="results/sweeps/demo")
    tables.runs, tables.panel                          # one row per run; run x month
    tables = cs.load_sweep("results/sweeps/compare_plans")
"""

from __future__ import annotations

import copy
import itertools
import json
import logging
import shutil
import sys
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from hydra import initialize_config_dir
from hydra.types import RunMode
from omegaconf import DictConfig

from clustersim.composition import explain
from clustersim.config import ConfigError, to_plain
from clustersim.paths import conf_dir, respell
from clustersim.results.collector import collect
from clustersim.results.jobs import JobOutcome, run_job
from clustersim.results.loader import SweepReadError, SweepTables, load_sweep
from clustersim.results.locks import lock_sweep
from clustersim.results.recipe import recipe, recipe_of, sources_digest
from clustersim.results.run_folder import MARKER, StoredRun
from clustersim.results.shared_counterfactuals import CounterfactualShelf
from clustersim.results.sweep_folder import (
    FAILURES_DIR,
    clear_failure,
    job_name,
    record_status,
    reset_status,
)
from clustersim.runner import RunResult, check_output_folder, run_into, simulate, write_run
from clustersim.settings import Scenario, load_scenario
from clustersim.sweep.compose import loader_for

__all__ = [
    "SweepFailedError",
    "SweepTables",
    "compose",
    "load_sweep",
    "run",
    "run_seeds",
    "run_to_folder",
    "scenario",
    "sweep",
]

logging.getLogger("MESA").setLevel(logging.WARNING)  # Mesa logs every step at INFO


class SweepFailedError(RuntimeError):
    """No job of a sweep could run; the message lists the first errors."""


def compose(overrides: Sequence[str] = ()) -> DictConfig:
    """The config ``clustersim-run <overrides>`` would run, composed from ``conf/``.

    The old spelling of presets (``+experiment=arthur_lockin``) is accepted with a
    ``FutureWarning`` saying what to type instead, as the command line does. An override
    or config file Hydra cannot use raises ``clustersim.composition.ComposeError`` (a
    ``ConfigError``) naming it and what is allowed.
    """
    overrides, notes = respell(list(overrides))
    for note in notes:
        warnings.warn(note, FutureWarning, stacklevel=2)
    try:
        with initialize_config_dir(config_dir=str(conf_dir()), version_base="1.3"):
            # what hydra.compose(return_hydra_config=True) does, through the loader the
            # sweeps use: a notebook composing many scenarios that differ only in values
            # (seeds, parameters) composes their config groups once
            return loader_for(str(conf_dir())).load_configuration(
                "config", overrides, run_mode=RunMode.RUN, from_shell=False
            )
    except Exception as err:
        explained = explain(overrides, err)
        if explained is None:
            raise
        raise explained from err


def scenario(overrides: Sequence[str] = ()) -> Scenario:
    """The checked scenario for these overrides (raises ``ConfigError`` on bad input)."""
    return load_scenario(compose(overrides))


def run(overrides: Sequence[str] = (), progress: bool = False) -> RunResult:
    """Run one scenario in memory and return its tables (and the model, for inspection)."""
    return simulate(scenario(overrides), progress=progress)


def run_seeds(
    overrides: Sequence[str] = (), seeds: Iterable[int] = (0,), progress: bool = False
) -> list[RunResult]:
    """One scenario under each of ``seeds``, in memory, composed once.

    The same runs as ``[run([*overrides, f"seed={s}"]) for s in seeds]``, to the bit,
    without composing the config again for every seed (composing costs about as much
    as a small world's run).
    """
    plain = to_plain(compose(overrides))  # (with the policy option it was composed with)
    results = []
    for seed in seeds:
        data = copy.deepcopy(plain)
        data["seed"] = seed
        results.append(simulate(load_scenario(data), progress=progress))
    return results


def run_to_folder(overrides: Sequence[str], folder: str | Path) -> RunResult:
    """Run one scenario and write its run folder at ``folder``, as the command line does.

    The folder is checked before the run (``ConfigError`` if it already holds a complete
    run or cannot be written), so a bad folder costs no simulation.
    """
    check_output_folder(Path(folder), "folder")
    result = run(overrides)
    write_run(result, Path(folder), list(overrides))
    return result


def sweep(
    grid: Mapping[str, Sequence[Any]],
    base: Sequence[str] = (),
    folder: str | Path | None = None,
    progress: bool = True,
) -> SweepTables:
    """Run every combination of ``grid`` in this process and collect the sweep.

    Job folders are named by their overrides, ``base`` included
    (``clustersim.results.job_name``), exactly as ``clustersim-run -m`` names them, and
    each job goes through the same job runner as there
    (``clustersim.results.jobs.run_job``): a rerun skips the jobs already complete with
    the same config, and a job that fails is recorded in ``<folder>/.failures/`` and
    reported while the others go on. The folder can be read by ``clustersim-collect`` and
    ``clustersim-report`` like any sweep. The folder is locked while the sweep runs
    (``clustersim.results.locks``): a second sweep into it, from this or another
    process, raises ``FolderBusyError`` naming the first. Every job's config is checked
    before the first one runs (``ConfigError`` names the job); a job complete with the
    same recipe is skipped without composing it. Jobs that fail while running are listed
    in the returned tables' ``problems``; ``SweepFailedError`` is raised only when no
    job finished.
    """
    if folder is None:  # <paths.sweeps>/api, as composed from conf/paths/
        folder = Path(str(compose(base).paths.sweeps)) / "api"
    folder = Path(folder)
    keys = list(grid)
    created = not folder.exists()
    folder.mkdir(parents=True, exist_ok=True)
    with lock_sweep(folder, what="folder"):
        try:
            failed, ran, busy, total = _sweep_locked(folder, keys, grid, base, progress)
        except ConfigError:
            if created:  # bad input leaves nothing behind
                shutil.rmtree(folder, ignore_errors=True)
            raise
        if busy:
            print(
                f"sweep: {len(busy)} job(s) left to another process running them: "
                + ", ".join(o.job for o in busy[:5]),
                file=sys.stderr,
            )
        if failed:
            print(
                f"sweep: {len(failed)} of {total} jobs failed (records in "
                f"{folder / FAILURES_DIR}); the others are collected",
                file=sys.stderr,
            )
        if ran:
            collect(folder)  # a rerun job replaces its folder: collect whatever the job set
        try:
            return load_sweep(folder)
        except SweepReadError as err:
            errors = "; ".join(f"{f.job}: {f.error}" for f in failed[:3])
            raise SweepFailedError(f"{err} (failed: {errors})" if failed else str(err)) from err


def _sweep_locked(
    folder: Path,
    keys: list[str],
    grid: Mapping[str, Sequence[Any]],
    base: Sequence[str],
    progress: bool,
) -> tuple[list[JobOutcome], int, list[JobOutcome], int]:
    """The body of ``sweep`` once the folder's lock is held: check, skip, run every job.

    A job whose folder is complete with the job's recipe is skipped without composing its
    config (``clustersim.sweep.skip``); every other job's config is composed and checked
    before the first one runs.
    """
    reset_status(folder)
    combos = [
        [*base, *(f"{k}={_text(v)}" for k, v in zip(keys, values, strict=True))]
        for values in itertools.product(*(grid[k] for k in keys))
    ]
    jobs: list[tuple[list[str], DictConfig | None]] = []
    sources: str | None = None
    for overrides in combos:
        name = job_name(overrides)
        wanted = recipe("config", overrides, sources) if sources is not None else None
        if _complete_with(folder / name, wanted):
            jobs.append((overrides, None))
            continue
        cfg = _checked(overrides)
        sources = sources_digest([dict(s) for s in cfg.hydra.runtime.config_sources])
        jobs.append((overrides, cfg))
    failed, ran, busy = [], 0, []
    for i, (overrides, cfg) in enumerate(jobs, start=1):
        if cfg is None:
            clear_failure(folder, job_name(overrides))
            record_status(folder, job_name(overrides), "skipped")
            if progress:
                print(f"sweep {i}/{len(jobs)}: {job_name(overrides)} (skipped)")
            continue
        outcome = run_job(
            cfg,
            folder / job_name(overrides),
            _execute(overrides, recipe_of(cfg.hydra), CounterfactualShelf(folder)),
            sweep_dir=folder,
            overrides=overrides,
        )
        if outcome.status == "failed":
            failed.append(outcome)
        busy += [outcome] if outcome.status == "busy" else []
        ran += outcome.status == "done"
        if progress:
            print(f"sweep {i}/{len(jobs)}: {outcome.job} ({outcome.status})")
    return failed, ran, busy, len(jobs)


def _complete_with(job_dir: Path, wanted: str | None) -> bool:
    """True if ``job_dir`` is complete and its marker holds the recipe ``wanted``."""
    if wanted is None:
        return False
    try:
        marker = json.loads((job_dir / MARKER).read_text())
    except (OSError, ValueError):
        return False
    if not isinstance(marker, dict) or marker.get("recipe") != wanted:
        return False
    return StoredRun(job_dir).damage() is None


def _checked(overrides: list[str]) -> DictConfig:
    """The composed config of one job, checked before any job runs (as the command line does).

    Raises ``ConfigError`` naming the job and the field when a job's config is invalid.
    """
    cfg = compose(overrides)
    try:
        load_scenario(cfg)
    except ConfigError as err:
        raise err.within(f"sweep job [{' '.join(overrides)}]: ") from err
    return cfg


def _execute(
    overrides: list[str], job_recipe: str | None = None, shelf: CounterfactualShelf | None = None
) -> Callable[[DictConfig, Path], dict[str, Any]]:
    """What runs one job of ``sweep``: simulate, write the run folder, return its summary.

    ``shelf``: the sweep's counterfactuals, shared between its jobs (``run_into``).
    """

    def execute(cfg: DictConfig, out: Path) -> dict[str, Any]:
        return run_into(load_scenario(cfg), out, overrides, job_recipe, shelf).summary()

    return execute


def _text(value: Any) -> str:
    """An override value as the command line would spell it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
