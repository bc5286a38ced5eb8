"""From a sweep's runs to the outcome of each design row: the "evaluate" step, read back.

A sensitivity sweep runs every row of its design (``SensitivityDesign``) as a job, crossed
with any choice the command line added (``policy=huangpu_2024,pudong_2027``, seeds).
``outcome_table`` lines the collected runs (``runs.parquet``) up with the design's rows:

- each design row is found by its parameter values, exactly as the job was run with
  them; a missing row is an unfinished sweep, a run that matches no row means the sweep
  was not made with this design (both are errors that say so);
- runs that differ only by ``seed`` are averaged (the mean outcome over replicates);
- other varied settings (usually ``policy``) make groups: an outcome gets the group as a
  suffix, e.g. ``caused_jobs_huangpu_2024``.

Outcomes are named as in ``runs.parquet`` without the month (``caused_employment``), plus
a few names a policy reader uses (``OUTCOME_ALIASES`` and ``cost_per_caused_*``). Each is
given at the chosen month (default: the last report month) and, with the month, as
``<name>@<YYYY-MM>`` for every report month.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from clustersim.analysis.designs import SensitivityDesign
from clustersim.analysis.errors import AnalysisError

#: Columns of runs.parquet that describe a run rather than set or measure it.
META = ("job", "seed", "config_hash", "world", "start", "end", "run.progress")
#: Plain names for outcomes a report speaks of (alias: column of runs.parquet).
OUTCOME_ALIASES = {
    "caused_jobs": "caused_employment",
    "caused_firms": "caused_firms",
    "caused_jobs_pudong": "caused_employment_pudong",
    "caused_jobs_huangpu": "caused_employment_huangpu",
    "caused_jobs_rest_of_shanghai": "caused_employment_rest_of_shanghai",
    "spending": "spending_cumulative",
}
#: Spending per caused job by payer: (spending column, caused-jobs column). A jurisdiction's
#: spending is set against the jobs caused in its own area (the city's against all).
COST_PER_JOB = {
    "cost_per_caused_job": ("spending_cumulative", "caused_employment"),
    "cost_per_caused_job_shanghai": ("spending_shanghai_cumulative", "caused_employment"),
    "cost_per_caused_job_pudong": ("spending_pudong_cumulative", "caused_employment_pudong"),
    "cost_per_caused_job_huangpu": ("spending_huangpu_cumulative", "caused_employment_huangpu"),
    "cost_per_caused_firm": ("spending_cumulative", "caused_firms"),
}
#: The outcomes ``clustersim-analyze sensitivity`` analyses unless told otherwise, at each
#: report month: caused jobs and firms, spending per caused job, employment by area,
#: leading firms and innovative projects.
DEFAULT_OUTCOMES = (
    "caused_jobs",
    "caused_firms",
    "cost_per_caused_job",
    "employment_pudong",
    "employment_huangpu",
    "employment_rest_of_shanghai",
    "leading_firms",
    "innovative_projects",
)


def _cost(spent: pd.Series, caused: pd.Series) -> pd.Series:
    """Spending / caused units; infinite where money was spent and nothing was caused."""
    s, c = spent.to_numpy(float), caused.to_numpy(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(c > 0, s / c, np.where(s > 0, np.inf, np.nan))
    return pd.Series(out, index=spent.index)


def month_outcomes(runs: pd.DataFrame, month: str) -> pd.DataFrame:
    """The outcomes of each run at one month, by plain name (raw metrics, aliases, costs)."""
    suffix = f"@{month}"
    raw = {c[: -len(suffix)]: runs[c] for c in runs.columns if c.endswith(suffix)}
    out = dict(raw)
    for alias, col in OUTCOME_ALIASES.items():
        if col in raw:
            out[alias] = raw[col]
    for name, (spent, caused) in COST_PER_JOB.items():
        if spent in raw and caused in raw:
            out[name] = _cost(raw[spent], raw[caused])
    return pd.DataFrame(out, index=runs.index)


def report_months(runs: pd.DataFrame) -> list[str]:
    """The months a sweep's runs report outcomes at, in order."""
    return sorted({c.rpartition("@")[2] for c in runs.columns if "@" in c})


def group_columns(runs: pd.DataFrame, design: SensitivityDesign) -> list[str]:
    """Settings other than the design's parameters and the seed that differ between runs."""
    skip = set(META) | set(design.space.names)
    cols = [c for c in runs.columns if "@" not in c and c not in skip]
    return [c for c in cols if runs[c].astype(str).nunique(dropna=False) > 1]


def _group_label(keys: Sequence[str], values: Sequence) -> str:
    if len(keys) == 1 and keys[0] == "policy":
        return str(values[0])
    return "_".join(f"{k.rsplit('.', 1)[-1]}_{v}" for k, v in zip(keys, values, strict=True))


def outcome_table(
    design: SensitivityDesign, runs: pd.DataFrame, month: str | None = None
) -> tuple[pd.DataFrame, dict[str, str]]:
    """One row per design row: its parameter values and every outcome, by group.

    Returns the table and, for each group label, what it stands for
    (``{"huangpu_2024": "policy=huangpu_2024"}``; ``{"": "all runs"}`` without groups).
    Raises ``AnalysisError`` when the runs were not made with this design or miss a row.
    """
    names = design.space.names
    missing = [p for p in names if p not in runs.columns]
    if missing:
        raise AnalysisError(
            "sweep",
            f"runs without {missing[0]}",
            f"the runs do not vary the design's parameters ({', '.join(names)}): "
            "not made with this design",
        )
    months = report_months(runs)
    if not months:
        raise AnalysisError(
            "sweep", "runs.parquet", "holds no outcome columns (<metric>@<YYYY-MM>)"
        )
    month = month or months[-1]
    if month not in months:
        raise AnalysisError(
            "--month", month, f"must be a report month of the sweep: {', '.join(months)}"
        )
    uniq, row_of = design.unique_rows()
    lookup = {tuple(v): i for i, v in enumerate(uniq.tolist())}
    params = runs[names].to_numpy(dtype=float)
    point = np.array([lookup.get(tuple(v), -1) for v in params.tolist()])
    strays = int((point < 0).sum())
    if strays:
        example = runs.loc[point < 0, "job"].iloc[0] if "job" in runs else "?"
        raise AnalysisError(
            "sweep",
            f"{strays} runs (e.g. {example})",
            "match no row of the sweep's design: the sweep holds runs of another design "
            "or settings",
        )
    groups = group_columns(runs, design)
    per_month = {m: month_outcomes(runs, m) for m in months}
    columns: dict[str, np.ndarray] = {}
    labels: dict[str, str] = {}
    keyed = runs[groups].astype(str) if groups else pd.DataFrame(index=runs.index)
    by = groups if len(groups) != 1 else groups[0]
    for gvalues, idx in (
        keyed.groupby(by, sort=True).groups.items() if groups else [((), runs.index)]
    ):
        gvalues = gvalues if isinstance(gvalues, tuple) else (gvalues,)
        label = _group_label(groups, gvalues) if groups else ""
        labels[label] = (
            ", ".join(f"{k}={v}" for k, v in zip(groups, gvalues, strict=True)) or "all runs"
        )
        pts = point[runs.index.get_indexer(idx)]
        have = np.bincount(pts, minlength=len(uniq)) > 0
        if not have.all():
            where = f" ({labels[label]})" if groups else ""
            raise AnalysisError(
                "sweep",
                f"{int((~have).sum())} of {len(uniq)} design points without a finished run{where}",
                "every point of the design is needed: rerun the sweep to finish it, then collect",
            )
        for m in months:
            frame = per_month[m].loc[idx]
            means = frame.groupby(pts).mean()  # replicates (seeds) of a point are averaged
            expanded = means.reindex(row_of).to_numpy()
            for j, col in enumerate(means.columns):
                name = f"{col}_{label}" if label else col
                columns[f"{name}@{m}"] = expanded[:, j]
                if m == month:
                    columns[name] = expanded[:, j]
    table = pd.concat([pd.DataFrame(design.values, columns=names), pd.DataFrame(columns)], axis=1)
    return table, labels


def outcome_names(table: pd.DataFrame, design: SensitivityDesign) -> list[str]:
    """The outcome columns of an ``outcome_table`` (everything but the parameters)."""
    return [c for c in table.columns if c not in design.space.names]
