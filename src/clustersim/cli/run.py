"""``clustersim-run``: simulate one scenario, or a sweep of them with ``-m``.

Every parameter is a Hydra override (``clustersim-run seed=7 world=toy
behavior.entry.but_for_share=0.5``). A single run checks the config, runs the model with
a progress bar, prints a summary table and writes its folder under ``paths.runs``
(``results/runs/`` unless ``conf/paths/`` says otherwise).
Bad input gets one clear line naming the field, the value and what is allowed, exit
code 2, and nothing written: a value out of its domain (several are listed together), an
unknown key or option, an override or config file Hydra cannot parse (file and line), a
run folder that cannot be written or already holds a complete run (before simulating).
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.errors import HydraException
from hydra.types import RunMode
from omegaconf import DictConfig
from omegaconf.errors import OmegaConfBaseException

from clustersim.cli.common import BAD_INPUT, cannot_write
from clustersim.composition import explain
from clustersim.config import ConfigError, to_plain
from clustersim.paths import conf_dir, respell
from clustersim.results.recipe import recipe_of
from clustersim.results.run_folder import remove_if_empty
from clustersim.startup import collector_paused, freeze_long_lived

log = logging.getLogger("clustersim")


def execute(
    cfg: DictConfig | dict[str, Any], out_dir: Path, progress: bool | None = None
) -> dict[str, Any]:
    """Check, simulate and write one scenario into ``out_dir``; return its summary.

    ``cfg``: the composed config, or the plain data ``clustersim.config.to_plain`` made of it.
    """
    # the model and its tables load here, not with this module: the process that launches
    # a sweep only composes configs and hands jobs out
    from clustersim.results.shared_counterfactuals import CounterfactualShelf, SharedCounterfactual
    from clustersim.runner import run_into
    from clustersim.settings import load_scenario

    scenario = load_scenario(cfg)
    show = scenario.run.progress if progress is None else progress
    overrides, recipe, shelf = [], None, None
    if HydraConfig.initialized():
        hc = HydraConfig.get()
        overrides, recipe = list(hc.overrides.task), recipe_of(hc)
        if hc.mode == RunMode.MULTIRUN:  # a sweep job shares its no-plan counterfactual
            shelf = CounterfactualShelf(Path(hc.sweep.dir))
    freeze_long_lived()
    result = run_into(scenario, out_dir, overrides, recipe, shelf, progress=show)
    secs = result.seconds
    shared = (
        result.counterfactual if isinstance(result.counterfactual, SharedCounterfactual) else None
    )
    log.info(
        "%s | seed %d | %s..%s | setup %.2fs, run %.2fs | cpu %.2fs | %s%s",
        scenario.policy_name,
        scenario.seed,
        scenario.world.start,
        scenario.world.end,
        secs["setup"],
        secs["run"],
        secs["cpu"],  # the model's CPU seconds (benchmarks/ read them)
        out_dir,
        f" | counterfactual shared from {shared.source.name}" if shared is not None else "",
    )
    return result.summary()


def _single_run(cfg: dict[str, Any], out_dir: Path) -> dict[str, Any]:
    from clustersim.results.summary import summary_table
    from clustersim.runner import check_output_folder

    try:
        check_output_folder(out_dir, "hydra.run.dir")  # before the run, not after it
        summary = execute(cfg, out_dir)
    except ConfigError as err:
        remove_if_empty(out_dir, stop_at=Path.cwd())
        print(f"clustersim-run: invalid config: {err}", file=sys.stderr)
        sys.exit(BAD_INPUT)
    except BaseException:
        remove_if_empty(out_dir, stop_at=Path.cwd())
        raise
    print(summary_table(summary["outcomes"], summary["caused"]))
    print(f"\noutputs: {out_dir}")
    return summary


#: Set once Hydra has composed a config and called ``task``: from then on an error that is
#: not Hydra's or the file system's comes from the simulation and keeps its traceback.
_TASK_STARTED: list[bool] = []


@hydra.main(config_path=str(conf_dir()), config_name="config", version_base="1.3")
def task(cfg: DictConfig) -> dict[str, Any]:
    """Hydra's task function: one job of a run or of a sweep."""
    _TASK_STARTED.append(True)
    logging.getLogger("MESA").setLevel(logging.WARNING)  # Mesa logs every step at INFO
    hc = HydraConfig.get()
    out_dir = Path(hc.runtime.output_dir)
    # resolved once (the job runner hashes it, execute checks it: each took ~20 ms), with
    # the policy option Hydra chose: Hydra hands the task its config without its node
    plain = to_plain(cfg, choices=hc.runtime.choices)
    if hc.mode == RunMode.MULTIRUN:
        from clustersim.sweep.jobs import sweep_job

        return sweep_job(plain, out_dir, lambda c, d: execute(c, d, progress=False))
    return _single_run(plain, out_dir)


def main() -> None:
    """Entry point of ``clustersim-run``: Hydra parses the command line and runs ``task``.

    The old spelling of presets (``+experiment=arthur_lockin``) is rewritten first, with a
    note on standard error saying what to type from now on (``clustersim.paths.respell``).
    """
    _TASK_STARTED.clear()  # (a process may call main more than once: tests, notebooks)
    args, notes = respell(sys.argv[1:])
    for note in notes:
        print(f"clustersim-run: note: {note}", file=sys.stderr)
    sys.argv[1:] = args
    # the collector is held off while the process imports and composes (~0.15 CPU-s of a
    # run); the run itself, or a sweep's start, turns it back on (clustersim.startup)
    with _one_line_errors(args), reusing_compositions(), collector_paused():
        task()


@contextmanager
def _one_line_errors(args: list[str]) -> Iterator[None]:
    """Report what Hydra cannot compose or create in one line, with exit status 2.

    Hydra prints its own multi-line report (and a hint about ``HYDRA_FULL_ERROR``) for an
    unknown key or option, a YAML error or a run folder it cannot create, and exits with
    status 1. With ``HYDRA_FULL_ERROR`` set, Hydra lets the error reach us instead, and we
    say what was wrong and what is allowed in one line (``clustersim.composition``), as
    every other entry point does. Errors of the simulation itself propagate unchanged.
    """
    previous = os.environ.get("HYDRA_FULL_ERROR")
    os.environ["HYDRA_FULL_ERROR"] = "1"
    try:
        yield
    except ConfigError as err:
        _exit(f"invalid config: {err}")
    except Exception as err:
        if _TASK_STARTED and not isinstance(err, HydraException | OmegaConfBaseException | OSError):
            raise  # a failure of the simulation, not of the input: keep its traceback
        explained = explain([a for a in args if "=" in a and not a.startswith("-")], err)
        if explained is not None:  # (Hydra's missing-option error is also an OSError)
            _exit(f"invalid config: {explained}")
        if not isinstance(err, OSError):
            raise
        _exit(cannot_write(err))
    finally:
        if previous is None:
            os.environ.pop("HYDRA_FULL_ERROR", None)
        else:
            os.environ["HYDRA_FULL_ERROR"] = previous


def _exit(message: str) -> None:
    print(f"clustersim-run: {message}", file=sys.stderr)
    sys.exit(BAD_INPUT)


@contextmanager
def reusing_compositions() -> Iterator[None]:
    """Let Hydra's own process compose through ``clustersim.sweep.compose``.

    Hydra 1.3 composes the config of a run twice (once to find the run mode, once to run
    it), 0.3-1 s each; with the reusing loader the second is a copy. Hydra builds its
    loader from the name ``ConfigLoaderImpl`` in ``hydra._internal.hydra``, so that name
    points to the reusing loader while ``task`` runs, only where it is Hydra's 1.3 loader.
    A single run's job then runs as a sweep's do (``clustersim.sweep.launch.run_job``:
    the task's copy of the config from the loader, not a deep copy), through the name
    ``run_job`` there.
    """
    import hydra._internal.hydra as internal
    from hydra._internal.config_loader_impl import ConfigLoaderImpl
    from hydra.core.utils import run_job

    from clustersim.sweep.compose import ReusingConfigLoader
    from clustersim.sweep.launch import run_single_job

    if getattr(internal, "ConfigLoaderImpl", None) is not ConfigLoaderImpl or (
        getattr(internal, "run_job", None) is not run_job
    ):
        yield
        return
    internal.ConfigLoaderImpl = ReusingConfigLoader  # type: ignore[misc]
    internal.run_job = run_single_job  # type: ignore[assignment]
    try:
        yield
    finally:
        internal.ConfigLoaderImpl = ConfigLoaderImpl  # type: ignore[misc]
        internal.run_job = run_job


if __name__ == "__main__":
    main()
