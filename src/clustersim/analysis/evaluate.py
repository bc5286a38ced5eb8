"""Evaluate a design in this process: SALib's step two for notebooks and scripts.

A sweep (``hydra/sweeper=sensitivity``) is the way to run a large design: resumable, on
any launcher. For a small design in a notebook, ``evaluate`` runs each distinct row here,
composing the config once and changing only the design's parameters, and returns a table
shaped like a sweep's ``runs.parquet`` (``job``, ``seed``, ``policy``, the parameters,
``<metric>@<month>`` and ``caused_<metric>@<month>``), so ``outcomes.outcome_table`` and
everything after it take the same path as for a sweep.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from typing import Any

import pandas as pd

from clustersim.analysis.designs import SensitivityDesign
from clustersim.analysis.space import check_against, set_path


def _flatten(block: dict[str, dict[str, float]] | None, prefix: str) -> dict[str, float]:
    if not block:
        return {}
    return {f"{prefix}{k}@{m}": float(v) for m, row in block.items() for k, v in row.items()}


def evaluate(
    design: SensitivityDesign,
    overrides: Sequence[str] = (),
    *,
    progress: Callable[[int, int], Any] | None = None,
) -> pd.DataFrame:
    """Run every distinct design row with ``overrides`` (Hydra overrides) as the base.

    ``progress(done, total)`` is called after each run, if given.
    """
    from clustersim.api import compose
    from clustersim.config import to_plain
    from clustersim.runner import simulate
    from clustersim.settings import load_scenario

    plain = to_plain(compose(list(overrides)))
    check_against(design.space, plain)
    unique, _ = design.unique_rows()
    rows = []
    for i, values in enumerate(unique):
        data = copy.deepcopy(plain)
        for path, value in zip(design.space.names, values, strict=True):
            set_path(data, path, float(value))
        scenario = load_scenario(data)
        result = simulate(scenario)
        row: dict[str, Any] = {"job": f"point={i:05d}", "seed": scenario.seed}
        row["policy"] = scenario.policy_name
        row.update(zip(design.space.names, (float(v) for v in values), strict=True))
        row.update(_flatten(result.outcomes, ""))
        row.update(_flatten(result.caused, "caused_"))
        rows.append(row)
        if progress is not None:
            progress(i + 1, len(unique))
    return pd.DataFrame(rows)
