"""Check a sweep's settings before any job runs: bad input stops the sweep, not each job.

Hydra composes a sweep's configs before launching them, which catches unknown groups
and wrong types, but not a value the model cannot run with (a negative scale, a month
that does not exist, an unknown key added with ``+``). ``check_batch`` composes each job
and checks it as ``clustersim-run`` would (``load_scenario``); on the first bad one (or
one Hydra cannot compose, ``clustersim.composition.explain``) it
removes the sweep folder this command created (unless it already holds jobs), prints one
line naming the job, the field, the value and what is allowed, and exits with status 2.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from clustersim.composition import explain
from clustersim.config import ConfigError
from clustersim.results.run_folder import remove_if_empty
from clustersim.settings import load_scenario


def check_batch(sweeper: Any, batch: Sequence[Sequence[str]], sweep_dir: Path) -> None:
    """Compose every job of ``batch`` with the sweeper's loader and check its scenario."""
    loader = getattr(sweeper, "hydra_context", None)
    loader = loader.config_loader if loader is not None else sweeper.config_loader
    for overrides in batch:
        try:
            cfg = loader.load_sweep_config(
                master_config=sweeper.config, sweep_overrides=list(overrides)
            )
            load_scenario(cfg)
        except Exception as exc:  # only bad input is reported here; anything else re-raised
            err = exc if isinstance(exc, ConfigError) else explain(list(overrides), exc)
            if err is None:
                raise
            _abandon(Path(sweep_dir))
            job = " ".join(overrides)
            print(f"clustersim-run: invalid config in sweep job [{job}]: {err}", file=sys.stderr)
            sys.exit(2)


def _abandon(sweep_dir: Path) -> None:
    """Remove a sweep folder that holds no job yet (only Hydra's and our bookkeeping)."""
    if not sweep_dir.is_dir():
        return
    if any(p.is_dir() and not p.name.startswith(".") for p in sweep_dir.iterdir()):
        return  # a resumed sweep: its finished jobs stay
    shutil.rmtree(sweep_dir, ignore_errors=True)
    remove_if_empty(sweep_dir.parent, stop_at=Path.cwd())
