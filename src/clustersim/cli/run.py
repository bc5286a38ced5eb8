"""``clustersim-run``: simulate one scenario, or a sweep of them with ``-m``.

Every parameter is a Hydra override (``clustersim-run seed=7 world=toy
behavior.entry.but_for_share=0.5``). A single run checks the config, runs the model with
a progress bar, prints a summary table and writes its folder under ``paths.runs``
(``results/runs/`` unless ``conf/paths/`` says otherwise).
Bad input gets one clear line naming the field, the value and what is allowed, exit
code 2, and nothing written.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig

from clustersim.config import ConfigError
from clustersim.paths import conf_dir, respell
from clustersim.results.run_folder import remove_if_empty
from clustersim.results.summary import summary_table
from clustersim.runner import simulate, write_run
from clustersim.settings import load_scenario

log = logging.getLogger("clustersim")


def execute(cfg: DictConfig, out_dir: Path, progress: bool | None = None) -> dict[str, Any]:
    """Check, simulate and write one scenario into ``out_dir``; return its summary."""
    scenario = load_scenario(cfg)
    show = scenario.run.progress if progress is None else progress
    result = simulate(scenario, progress=show)
    overrides = list(HydraConfig.get().overrides.task) if HydraConfig.initialized() else []
    write_run(result, out_dir, overrides)
    secs = result.seconds
    log.info(
        "%s | seed %d | %s..%s | setup %.2fs, run %.2fs | %s",
        scenario.policy_name,
        scenario.seed,
        scenario.world.start,
        scenario.world.end,
        secs["setup"],
        secs["run"],
        out_dir,
    )
    return result.summary()


def _single_run(cfg: DictConfig, out_dir: Path) -> dict[str, Any]:
    try:
        summary = execute(cfg, out_dir)
    except ConfigError as err:
        remove_if_empty(out_dir, stop_at=Path.cwd())
        print(f"clustersim-run: invalid config: {err}", file=sys.stderr)
        sys.exit(2)
    except BaseException:
        remove_if_empty(out_dir, stop_at=Path.cwd())
        raise
    print(summary_table(summary["outcomes"], summary["caused"]))
    print(f"\noutputs: {out_dir}")
    return summary


@hydra.main(config_path=str(conf_dir()), config_name="config", version_base="1.3")
def task(cfg: DictConfig) -> dict[str, Any]:
    """Hydra's task function: one job of a run or of a sweep."""
    logging.getLogger("MESA").setLevel(logging.WARNING)  # Mesa logs every step at INFO
    hc = HydraConfig.get()
    out_dir = Path(hc.runtime.output_dir)
    if hc.mode == RunMode.MULTIRUN:
        from clustersim.sweep.jobs import sweep_job

        return sweep_job(cfg, out_dir, lambda c, d: execute(c, d, progress=False))
    return _single_run(cfg, out_dir)


def main() -> None:
    """Entry point of ``clustersim-run``: Hydra parses the command line and runs ``task``.

    The old spelling of presets (``+experiment=arthur_lockin``) is rewritten first, with a
    note on standard error saying what to type from now on (``clustersim.paths.respell``).
    """
    args, notes = respell(sys.argv[1:])
    for note in notes:
        print(f"clustersim-run: note: {note}", file=sys.stderr)
    sys.argv[1:] = args
    task()


if __name__ == "__main__":
    main()
