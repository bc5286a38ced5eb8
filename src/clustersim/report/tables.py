"""Every number of a report, as DataFrames computed from the collected tables (pure functions).

Inputs are the frames of ``clustersim.report.load.SweepData`` (``runs``: one row per
replicate with ``variant`` and ``replicate`` columns; ``panel``; the aggregated ``ledger``
and ``relocations``; ``supported``; the collected ``rationing``); outputs are long tables
with plain numbers. Nothing here reads files, draws or formats text, so each function can
be checked against a direct computation on the same frames.

Vocabulary:

- *level*: an outcome of the with-policy run (``firms@2027-12``);
- *caused*: the run minus its own counterfactual, same seed (``caused_firms@2027-12``);
- *difference vs baseline*: a variant's run minus the baseline variant's run of the same
  replicate (seed and behavioural values);
- *supported (gross)*: firms that had received any grant and still operated at the month,
  and their employees: what a programme's own monitoring would count.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from clustersim.months import Month
from clustersim.outputs import MUNICIPAL_TARGETS, REGIONS
from clustersim.report.stats import Estimate, bootstrap_mean_ci, spearman, spread
from clustersim.vocabulary import JURISDICTIONS

#: Jurisdictions as a report names them.
JURISDICTION_LABELS = {"shanghai": "the municipality", "pudong": "Pudong", "huangpu": "Huangpu"}
#: Outcomes of the headline table and the differences, with their labels and units.
OUTCOMES: dict[str, str] = {
    "firms": "firms",
    "employment": "employment (people)",
    "talent": "talent in Shanghai (people)",
    "leading_firms": "leading firms",
    "leading_application_institutions": "institutions leading in application",
    "innovative_projects": "innovative projects",
}
#: Spending columns of the headline table (cumulative RMB to the month), by jurisdiction.
SPENDING: dict[str, str] = {
    **{
        f"spending_{j}_cumulative": f"spending by {JURISDICTION_LABELS.get(j, j)} (RMB m)"
        for j in JURISDICTIONS
    },
    "spending_cumulative": "spending, all jurisdictions (RMB m)",
}
#: Monthly metrics drawn as trajectories.
TRAJECTORY_METRICS = (*OUTCOMES, "spending_cumulative")
#: Area names as a report prints them.
AREA_NAMES = {"pudong": "Pudong", "huangpu": "Huangpu", "rest_of_shanghai": "rest of Shanghai"}
#: The area whose jobs and firms each jurisdiction's spending is set against ("" = city).
JURISDICTION_AREA = {"shanghai": "", "pudong": "pudong", "huangpu": "huangpu", "all": ""}


def _col(metric: str, month: str, caused: bool = False) -> str:
    return f"{'caused_' if caused else ''}{metric}@{month}"


def _values(runs: pd.DataFrame, variant: str, column: str) -> np.ndarray:
    if column not in runs:
        return np.array([], dtype=float)
    return runs.loc[runs["variant"] == variant, column].to_numpy(dtype=float)


# --------------------------------------------------------------------------- 1. headline


def headline_table(
    runs: pd.DataFrame, variants: Sequence[str], months: Sequence[str]
) -> pd.DataFrame:
    """Mean and 90% interval across replicates of each headline outcome and spending.

    One row per variant, outcome and month: ``variant``, ``outcome``, ``month``, ``mean``,
    ``low``, ``high`` (5th and 95th percentiles; NaN with one run), ``n`` and ``target``
    (the municipal yardstick, NaN for outcomes without one).
    """
    rows = []
    for outcome in (*OUTCOMES, *SPENDING):
        for month in months:
            for v in variants:
                s = spread(_values(runs, v, _col(outcome, month)))
                rows.append(
                    {
                        "variant": v,
                        "outcome": outcome,
                        "month": month,
                        "mean": s.mean,
                        "low": s.low,
                        "high": s.high,
                        "n": s.n,
                        "target": float(MUNICIPAL_TARGETS.get(outcome, math.nan)),
                    }
                )
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- 2. trajectories


def trajectories(
    panel: pd.DataFrame, variants: Sequence[str], metrics: Sequence[str] = TRAJECTORY_METRICS
) -> pd.DataFrame:
    """Per variant, metric and month: mean and 90% interval across replicates.

    Columns ``variant``, ``metric``, ``month``, ``mean``, ``low``, ``high``, ``n``.
    """
    present = [m for m in metrics if m in panel]
    grouped = panel.groupby(["variant", "month"], sort=True)[present]
    mean = grouped.mean()
    low = grouped.quantile(0.05)
    high = grouped.quantile(0.95)
    n = grouped.size()
    frames = []
    for metric in present:
        f = pd.DataFrame(
            {
                "mean": mean[metric],
                "low": low[metric],
                "high": high[metric],
                "n": n,
            }
        ).reset_index()
        f.loc[f["n"] < 2, ["low", "high"]] = math.nan
        f.insert(1, "metric", metric)
        frames.append(f)
    out = pd.concat(frames, ignore_index=True)
    out = out[out["variant"].isin(variants)]
    order = {v: i for i, v in enumerate(variants)}
    out = out.assign(_o=out["variant"].map(order)).sort_values(["_o", "metric", "month"])
    return out.drop(columns="_o").reset_index(drop=True)


def plan_starts(configs: dict[str, dict[str, Any]]) -> dict[str, str]:
    """Earliest ``window.start`` of each regime's instruments across the variants' configs."""
    starts: dict[str, str] = {}
    for cfg in configs.values():
        for regime, block in (cfg.get("policy") or {}).items():
            if not isinstance(block, dict):
                continue
            for inst in block.values():
                if isinstance(inst, dict) and isinstance(inst.get("window"), dict):
                    start = inst["window"].get("start")
                    if start is not None:
                        text = str(Month.parse(str(start)))
                        starts[regime] = min(starts.get(regime, text), text)
    return dict(sorted(starts.items(), key=lambda kv: (kv[1], kv[0])))


# --------------------------------------------------------------------------- 3. differences


def _paired(
    runs: pd.DataFrame, variant: str, baseline: str, column: str
) -> tuple[np.ndarray, np.ndarray]:
    """The variant's and the baseline's values of ``column``, matched by replicate."""
    a = runs.loc[runs["variant"] == variant, ["replicate", column]]
    b = runs.loc[runs["variant"] == baseline, ["replicate", column]]
    m = a.merge(b, on="replicate", suffixes=("_v", "_b")).sort_values("replicate")
    return m[f"{column}_v"].to_numpy(dtype=float), m[f"{column}_b"].to_numpy(dtype=float)


def differences(
    runs: pd.DataFrame,
    variants: Sequence[str],
    baseline: str,
    months: Sequence[str],
    outcomes: Iterable[str] = (*OUTCOMES, "spending_cumulative"),
) -> pd.DataFrame:
    """Each variant minus the baseline, paired by replicate, with a 95% bootstrap CI.

    Columns ``variant``, ``outcome``, ``month``, ``n`` (pairs), ``variant_mean``,
    ``baseline_mean``, ``diff``, ``low``, ``high``, ``verdict`` (see ``stats.Estimate``).
    """
    rows = []
    for outcome in outcomes:
        for month in months:
            column = _col(outcome, month)
            if column not in runs:
                continue
            for v in variants:
                if v == baseline:
                    continue
                x, y = _paired(runs, v, baseline, column)
                e = bootstrap_mean_ci(x, y)
                rows.append(
                    {
                        "variant": v,
                        "outcome": outcome,
                        "month": month,
                        "n": e.n,
                        "variant_mean": float(np.mean(x)) if x.size else math.nan,
                        "baseline_mean": float(np.mean(y)) if y.size else math.nan,
                        "diff": e.mean,
                        "low": e.low,
                        "high": e.high,
                        "verdict": e.verdict,
                    }
                )
    return pd.DataFrame(
        rows,
        columns=[
            "variant",
            "outcome",
            "month",
            "n",
            "variant_mean",
            "baseline_mean",
            "diff",
            "low",
            "high",
            "verdict",
        ],
    )


# --------------------------------------------------------------------------- 4. additionality


def _estimate_row(e: Estimate, prefix: str) -> dict[str, Any]:
    return {
        f"{prefix}": e.mean,
        f"{prefix}_low": e.low,
        f"{prefix}_high": e.high,
        f"{prefix}_verdict": e.verdict,
    }


def gross_vs_caused(
    runs: pd.DataFrame, supported: pd.DataFrame, variants: Sequence[str], months: Sequence[str]
) -> pd.DataFrame:
    """Level, supported (gross) and caused firms and jobs per variant and month.

    Columns ``variant``, ``month``, ``measure`` (``firms`` or ``employment``), ``level``
    (mean of the with-policy runs), ``supported`` (mean number of supported firms, or their
    employees), ``caused`` with ``caused_low``/``caused_high`` (95% bootstrap CI over
    replicates) and ``caused_verdict``, and ``additionality`` = caused / supported (NaN
    when nothing was supported). Empty when the runs have no counterfactual.
    """
    rows = []
    sup = supported.merge(runs[["job", "variant"]], on="job", how="inner")
    for v in variants:
        for month in months:
            for measure, sup_col in (
                ("firms", "supported_firms"),
                ("employment", "supported_jobs"),
            ):
                column = _col(measure, month, caused=True)
                if column not in runs:
                    continue
                caused = _values(runs, v, column)
                e = bootstrap_mean_ci(caused)
                s = sup.loc[(sup["variant"] == v) & (sup["month"] == month), sup_col]
                supported_mean = float(s.mean()) if len(s) else math.nan
                rows.append(
                    {
                        "variant": v,
                        "month": month,
                        "measure": measure,
                        "level": float(np.nanmean(_values(runs, v, _col(measure, month)))),
                        "supported": supported_mean,
                        **_estimate_row(e, "caused"),
                        "additionality": e.mean / supported_mean
                        if supported_mean and supported_mean > 0
                        else math.nan,
                    }
                )
    return pd.DataFrame(rows)


def per_caused(spent: float, caused: Estimate) -> tuple[float, str]:
    """RMB per caused unit (ratio of means) and a note; NaN when it is not meaningful.

    Not meaningful when the caused effect is zero or negative, or when its interval holds
    zero; with a single run it is given but untested.
    """
    if not math.isfinite(caused.mean) or caused.mean <= 0:
        return math.nan, "not meaningful: caused effect ≤ 0"
    if caused.verdict == "indistinguishable":
        return math.nan, "not meaningful: caused effect not distinguishable from zero"
    if caused.verdict == "single":
        return spent / caused.mean, "one run: not tested against zero"
    return spent / caused.mean, ""


def spending_per_caused(
    runs: pd.DataFrame, variants: Sequence[str], months: Sequence[str]
) -> pd.DataFrame:
    """Spending by jurisdiction against the jobs and firms caused where it paid.

    The municipality and "all" are set against caused jobs and firms in the whole city;
    Pudong and Huangpu against those caused in their own area (by every plan in force).
    Columns ``variant``, ``month``, ``jurisdiction``, ``area``, ``spending`` (mean RMB,
    cumulative to the month), ``caused_jobs`` (+ ``_low``, ``_high``, ``_verdict``),
    ``per_job``, ``per_job_note``, ``caused_firms`` (+ ...), ``per_firm``, ``per_firm_note``.
    """
    rows = []
    for v in variants:
        for month in months:
            for j, area in JURISDICTION_AREA.items():
                spend_col = (
                    _col("spending_cumulative", month)
                    if j == "all"
                    else _col(f"spending_{j}_cumulative", month)
                )
                suffix = f"_{area}" if area else ""
                jobs_col = _col(f"employment{suffix}", month, caused=True)
                firms_col = _col(f"firms{suffix}", month, caused=True)
                if jobs_col not in runs or spend_col not in runs:
                    continue
                spent = float(np.nanmean(_values(runs, v, spend_col)))
                rows.append(
                    {
                        "variant": v,
                        "month": month,
                        "jurisdiction": j,
                        "area": AREA_NAMES.get(area, "Shanghai"),
                        **_cost_fields(
                            spent, _values(runs, v, jobs_col), _values(runs, v, firms_col)
                        ),
                    }
                )
    return pd.DataFrame(rows)


def _cost_fields(spent: float, caused_jobs: np.ndarray, caused_firms: np.ndarray) -> dict:
    """Spending, caused jobs and firms (mean and CI over runs), and RMB per caused unit."""
    jobs = bootstrap_mean_ci(caused_jobs)
    firms = bootstrap_mean_ci(caused_firms)
    per_job, job_note = per_caused(spent, jobs)
    per_firm, firm_note = per_caused(spent, firms)
    return {
        "spending": spent,
        **_estimate_row(jobs, "caused_jobs"),
        "per_job": per_job,
        "per_job_note": job_note,
        **_estimate_row(firms, "caused_firms"),
        "per_firm": per_firm,
        "per_firm_note": firm_note,
    }


def _cumulative_spending(ledger: pd.DataFrame, month: str) -> pd.DataFrame:
    """RMB granted per job, regime, issuer and instrument up to and including ``month``."""
    upto = ledger[ledger["month"] <= month]
    return upto.groupby(["job", "regime", "issuer", "instrument"], as_index=False)["amount"].sum()


def spending_by_instrument(
    ledger: pd.DataFrame, runs: pd.DataFrame, variants: Sequence[str], month: str
) -> pd.DataFrame:
    """Mean RMB per run granted by each instrument up to ``month``, per variant.

    Runs that granted nothing count as zero. Columns ``variant``, ``regime``, ``issuer``,
    ``instrument``, ``spending``; sorted by variant order, then spending (largest first).
    """
    cum = _cumulative_spending(ledger, month).merge(runs[["job", "variant"]], on="job")
    n_runs = runs.groupby("variant").size()
    out = cum.groupby(["variant", "regime", "issuer", "instrument"], as_index=False)["amount"].sum()
    out["spending"] = out["amount"] / out["variant"].map(n_runs)
    out = out.drop(columns="amount")
    order = {v: i for i, v in enumerate(variants)}
    out = out.assign(_o=out["variant"].map(order)).sort_values(
        ["_o", "spending", "regime", "instrument"], ascending=[True, False, True, True]
    )
    return out.drop(columns="_o").reset_index(drop=True)


def instrument_caused(
    instrument_runs: pd.DataFrame,
    runs: pd.DataFrame,
    ledger: pd.DataFrame,
    variants: Sequence[str],
    month: str,
    configs: dict[str, dict[str, Any]] | None = None,
) -> pd.DataFrame:
    """Caused jobs and firms of single instruments, from instrument-level counterfactuals.

    A run with ``run.counterfactual=<regime>.<instrument>`` is the variant's run minus that
    instrument; its with-policy half equals the variant's run of the same replicate, whose
    ledger gives the instrument's spending. Columns ``variant``, ``instrument`` (the
    counterfactual key), ``n``, ``spending``, ``caused_jobs`` (+ CI columns), ``per_job``,
    ``per_job_note``, ``caused_firms`` (+ CI), ``per_firm``, ``per_firm_note``. Empty when the
    sweep ran no instrument-level counterfactual. With ``configs``, instruments of a plan
    the variant does not have (nothing to remove) are left out.
    """
    columns = ["variant", "instrument", "n", "spending", "caused_jobs", "per_job", "caused_firms"]
    jobs_col, firms_col = _col("employment", month, True), _col("firms", month, True)
    if instrument_runs.empty or jobs_col not in instrument_runs:
        return pd.DataFrame(columns=columns)
    cum = _cumulative_spending(ledger, month)
    cum["key"] = cum["regime"] + "." + cum["instrument"]
    rows = []
    for v in variants:
        mine = instrument_runs[instrument_runs["variant"] == v]
        plans = set(((configs or {}).get(v) or {}).get("policy") or {})
        for key in sorted(mine["counterfactual"].unique()):
            if configs is not None and key.split(".", 1)[0] not in plans:
                continue
            sub = mine[mine["counterfactual"] == key]
            with_jobs = sub[["replicate"]].merge(
                runs.loc[runs["variant"] == v, ["replicate", "job"]], on="replicate", how="left"
            )
            paid = cum[cum["key"] == key].set_index("job")["amount"]
            spent = float(with_jobs["job"].map(paid).fillna(0.0).mean())
            rows.append(
                {
                    "variant": v,
                    "instrument": key,
                    "n": len(sub),
                    **_cost_fields(
                        spent,
                        sub[jobs_col].to_numpy(dtype=float),
                        sub[firms_col].to_numpy(dtype=float),
                    ),
                }
            )
    return pd.DataFrame(rows)


def _net_by_run(relocations: pd.DataFrame, month: str) -> pd.DataFrame:
    """Jobs moved into and out of each area per job and scenario up to ``month``."""
    moves = relocations[
        (relocations["month"] <= month) & (relocations["from_area"] != relocations["to_area"])
    ]
    inflow = moves.groupby(["job", "scenario", "to_area"])["jobs"].sum()
    outflow = moves.groupby(["job", "scenario", "from_area"])["jobs"].sum()
    inflow.index = inflow.index.set_names("area", level=2)
    outflow.index = outflow.index.set_names("area", level=2)
    net = pd.DataFrame({"in": inflow, "out": outflow}).fillna(0.0)
    net["net"] = net["in"] - net["out"]
    return net.reset_index()


def relocation_flows(
    relocations: pd.DataFrame, runs: pd.DataFrame, variants: Sequence[str], month: str
) -> pd.DataFrame:
    """Mean jobs and firms moved from one area to another per run, up to ``month``.

    Only moves between different areas; with-policy runs. Columns ``variant``,
    ``from_area``, ``to_area``, ``jobs``, ``firms`` (every pair of areas, zero if none).
    """
    moves = relocations[
        (relocations["scenario"] == "with")
        & (relocations["month"] <= month)
        & (relocations["from_area"] != relocations["to_area"])
    ].merge(runs[["job", "variant"]], on="job")
    total = moves.groupby(["variant", "from_area", "to_area"])[["jobs", "firms"]].sum()
    n_runs = runs.groupby("variant").size()
    rows = []
    for v in variants:
        for a in REGIONS:
            for b in REGIONS:
                if a == b:
                    continue
                key = (v, a, b)
                got = total.loc[key] if key in total.index else None
                rows.append(
                    {
                        "variant": v,
                        "from_area": a,
                        "to_area": b,
                        "jobs": float(got["jobs"]) / n_runs[v] if got is not None else 0.0,
                        "firms": float(got["firms"]) / n_runs[v] if got is not None else 0.0,
                    }
                )
    return pd.DataFrame(rows)


def net_relocation(
    relocations: pd.DataFrame,
    runs: pd.DataFrame,
    variants: Sequence[str],
    month: str,
    counterfactual: bool,
) -> pd.DataFrame:
    """Per variant and area: mean jobs moved in, out, net, and the net caused by the policy.

    ``caused_net`` is the mean over replicates of net(with) - net(without the policy), from
    each run's own counterfactual (NaN when ``counterfactual`` is False). Columns
    ``variant``, ``area``, ``in``, ``out``, ``net``, ``caused_net`` (+ CI columns).
    """
    net = _net_by_run(relocations, month)
    rows = []
    for v in variants:
        jobs = runs.loc[runs["variant"] == v, "job"].tolist()
        for area in REGIONS:

            def per_run(
                scenario: str, column: str, jobs: list[str] = jobs, area: str = area
            ) -> np.ndarray:
                sel = net[(net["scenario"] == scenario) & (net["area"] == area)]
                return sel.set_index("job")[column].reindex(jobs).fillna(0.0).to_numpy()

            with_net = per_run("with", "net")
            row: dict[str, Any] = {
                "variant": v,
                "area": area,
                "in": float(per_run("with", "in").mean()),
                "out": float(per_run("with", "out").mean()),
                "net": float(with_net.mean()),
            }
            if counterfactual:
                row.update(
                    _estimate_row(
                        bootstrap_mean_ci(with_net, per_run("without", "net")), "caused_net"
                    )
                )
            else:
                row.update(
                    {
                        "caused_net": math.nan,
                        "caused_net_low": math.nan,
                        "caused_net_high": math.nan,
                        "caused_net_verdict": "none",
                    }
                )
            rows.append(row)
    return pd.DataFrame(rows)


def relocated_vs_new(
    runs: pd.DataFrame,
    relocations: pd.DataFrame,
    variants: Sequence[str],
    months: Sequence[str],
) -> pd.DataFrame:
    """Caused jobs per area split into relocated from other areas and newly created.

    ``caused`` = caused employment in the area (run minus counterfactual); ``relocated`` =
    the caused net inflow of jobs by relocation (jobs at the time of the move); ``new`` =
    caused - relocated (new firms, growth, fewer exits). The city as a whole gains nothing
    by moves within it, so for ``Shanghai`` every caused job is new to the city. Means over
    replicates; columns ``variant``, ``month``, ``area``, ``caused`` (+ CI columns),
    ``relocated``, ``new``.
    """
    rows = []
    for month in months:
        net = _net_by_run(relocations, month)
        for v in variants:
            sel = runs[runs["variant"] == v]
            jobs = sel["job"].tolist()
            for area in ("", *REGIONS):
                column = _col(f"employment_{area}" if area else "employment", month, True)
                if column not in runs:
                    continue
                caused = sel[column].to_numpy(dtype=float)
                if area:
                    by = net[net["area"] == area].pivot_table(
                        index="job", columns="scenario", values="net", aggfunc="sum"
                    )
                    w = by["with"].reindex(jobs).fillna(0.0) if "with" in by else 0.0
                    wo = by["without"].reindex(jobs).fillna(0.0) if "without" in by else 0.0
                    moved = np.asarray(w - wo, dtype=float) * np.ones(len(jobs))
                else:
                    moved = np.zeros(len(jobs))
                e = bootstrap_mean_ci(caused)
                rows.append(
                    {
                        "variant": v,
                        "month": month,
                        "area": AREA_NAMES.get(area, "Shanghai"),
                        **_estimate_row(e, "caused"),
                        "relocated": float(moved.mean()) if len(jobs) else math.nan,
                        "new": float((caused - moved).mean()) if len(jobs) else math.nan,
                    }
                )
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- 5. parks


def park_sizes(
    panel: pd.DataFrame, configs: dict[str, dict[str, Any]], variants: Sequence[str], month: str
) -> pd.DataFrame:
    """Per variant and park: coordinates and mean firms and employment at ``month``.

    Columns ``variant``, ``park``, ``name``, ``district``, ``lon``, ``lat``, ``firms``,
    ``employment``.
    """
    at = panel[panel["month"] == month]
    rows = []
    for v in variants:
        sel = at[at["variant"] == v]
        parks = ((configs.get(v) or {}).get("world") or {}).get("parks") or {}
        for park, p in parks.items():
            f_col, e_col = f"firms_park_{park}", f"employment_park_{park}"
            rows.append(
                {
                    "variant": v,
                    "park": park,
                    "name": str(p.get("name", park)),
                    "district": str(p.get("district", "")),
                    "lon": float(p.get("lon", math.nan)),
                    "lat": float(p.get("lat", math.nan)),
                    "firms": float(sel[f_col].mean()) if f_col in sel and len(sel) else math.nan,
                    "employment": float(sel[e_col].mean())
                    if e_col in sel and len(sel)
                    else math.nan,
                }
            )
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- 6. spending


def spending_over_time(
    ledger: pd.DataFrame, runs: pd.DataFrame, variants: Sequence[str], months: Sequence[str]
) -> pd.DataFrame:
    """Mean cumulative RMB per run granted by each instrument, month by month.

    Columns ``variant``, ``instrument`` (``regime.instrument``), ``month``, ``cumulative``;
    every month of ``months`` for every instrument a variant used.
    """
    if ledger.empty:
        return pd.DataFrame(columns=["variant", "instrument", "month", "cumulative"])
    led = ledger.merge(runs[["job", "variant"]], on="job")
    led = led.assign(instrument=led["regime"] + "." + led["instrument"])
    n_runs = runs.groupby("variant").size()
    frames = []
    for v in variants:
        sub = led[led["variant"] == v]
        if sub.empty:
            continue
        wide = sub.pivot_table(index="month", columns="instrument", values="amount", aggfunc="sum")
        wide = wide.reindex(list(months)).fillna(0.0).cumsum() / n_runs[v]
        long = wide.reset_index().melt(
            id_vars="month", var_name="instrument", value_name="cumulative"
        )
        long.insert(0, "variant", v)
        frames.append(long[["variant", "instrument", "month", "cumulative"]])
    if not frames:
        return pd.DataFrame(columns=["variant", "instrument", "month", "cumulative"])
    return pd.concat(frames, ignore_index=True)


def budgets(config: dict[str, Any]) -> dict[str, float]:
    """Yearly budget in RMB per ``regime.instrument`` (annual_budget x budget_scale).

    Instruments without a budget line (entitlements), switched off, or with a zero budget
    are left out.
    """
    out: dict[str, float] = {}
    for regime, block in (config.get("policy") or {}).items():
        if not isinstance(block, dict):
            continue
        scale = float(block.get("budget_scale", 1.0) or 0.0)
        for name, inst in block.items():
            if not isinstance(inst, dict) or inst.get("annual_budget") is None:
                continue
            if inst.get("enabled", True) is False:
                continue
            budget = float(inst["annual_budget"]) * scale
            if budget > 0:
                out[f"{regime}.{name}"] = budget
    return dict(sorted(out.items()))


#: Columns of ``budget_runout``, in order.
RUNOUT_COLUMNS = (
    "variant",
    "instrument",
    "year",
    "budget",
    "spent_share",
    "ran_out",
    "n",
    "month",
    "estimated",
    "turned_away",
    "turned_away_amount",
)


def _estimated_runout(grants: pd.DataFrame, budget: float) -> Month | None:
    """The month a run's yearly budget ran out, estimated from its ledger alone (or None).

    For runs without a record of turned-away applications (older run folders): the first
    month when the money left for the year fell below the largest single grant the
    instrument paid that year (grants are paid in full or not at all, so an application of
    that size could no longer have been paid).
    """
    if grants.empty:
        return None
    g = grants.sort_values("month")
    spent = g["amount"].cumsum().to_numpy()
    largest = float(g["largest"].max())
    hit = np.flatnonzero(budget - spent < largest - 1e-9 * budget)
    return Month.parse(g["month"].iloc[hit[0]]) if hit.size else None


def budget_runout(
    ledger: pd.DataFrame,
    runs: pd.DataFrame,
    configs: dict[str, dict[str, Any]],
    variants: Sequence[str],
    rationing: pd.DataFrame | None = None,
    recorded: Iterable[str] = (),
) -> pd.DataFrame:
    """When each yearly budget ran out, per variant, instrument and year.

    A yearly budget ran out in the first month of that year in which the grant engine
    turned an approved application away because what was left of the budget could not
    pay it in full (``rationing``: the collected ``rationing.parquet`` rows, one per run
    and instrument-month with turned-away applications). That is a fact recorded by each
    run in ``recorded`` (the runs whose folder holds a ``rationing.parquet``). For any
    other run (written before runs recorded turn-aways) it is estimated from the ledger:
    the first month when the money left for the year fell below the largest single grant
    the instrument paid that year.

    Columns (``RUNOUT_COLUMNS``): ``variant``, ``instrument`` (``regime.instrument``),
    ``year``, ``budget`` (RMB), ``spent_share`` (mean over runs of the share of the
    budget granted), ``ran_out`` (runs in which it ran out), ``n`` (runs), ``month`` (the
    median month it ran out among those runs, ``""`` if never), ``estimated`` (runs whose
    month, or its absence, is the ledger estimate because they recorded no turn-aways),
    ``turned_away`` and ``turned_away_amount`` (mean over the recording runs of the
    applications turned away that year and their RMB; NaN when no run recorded). Listed:
    instrument-years with budget lines and any grant or any turned-away application in
    some run.
    """
    if ledger.empty and (rationing is None or rationing.empty):
        return pd.DataFrame(columns=list(RUNOUT_COLUMNS))
    recorded = frozenset(recorded) if rationing is not None else frozenset()
    led = ledger.assign(
        key=ledger["regime"] + "." + ledger["instrument"], year=ledger["month"].str[:4].astype(int)
    )
    if rationing is None:
        rationing = pd.DataFrame(
            columns=["job", "regime", "instrument", "month", "applications", "amount"]
        )
    away = rationing[rationing["job"].isin(recorded)]
    away = away.assign(
        key=away["regime"] + "." + away["instrument"], year=away["month"].str[:4].astype(int)
    )
    rows = []
    for v in variants:
        jobs = runs.loc[runs["variant"] == v, "job"].tolist()
        lines = budgets(configs.get(v) or {})
        sub = led[led["job"].isin(jobs) & led["key"].isin(lines)]
        out_sub = away[away["job"].isin(jobs) & away["key"].isin(lines)]
        years = sorted(
            set(zip(sub["key"], sub["year"], strict=True))
            | set(zip(out_sub["key"], out_sub["year"], strict=True))
        )
        granted = dict(tuple(sub.groupby(["key", "year"], sort=False)))
        turned = dict(tuple(out_sub.groupby(["key", "year"], sort=False)))
        mine = [j for j in jobs if j in recorded]
        for key, year in years:
            budget = lines[key]
            grp = granted.get((key, year), sub.iloc[:0])
            gone = turned.get((key, year), out_sub.iloc[:0])
            shares, out_months = [], []
            for job in jobs:
                g = grp[grp["job"] == job]
                shares.append(float(g["amount"].sum()) / budget if len(g) else 0.0)
                if job in recorded:
                    months = gone.loc[gone["job"] == job, "month"]
                    month = Month.parse(months.min()) if len(months) else None
                else:
                    month = _estimated_runout(g, budget)
                if month is not None:
                    out_months.append(month)
            out_months.sort()
            per_run = gone.groupby("job")[["applications", "amount"]].sum()
            per_run = per_run.reindex(mine, fill_value=0)
            rows.append(
                {
                    "variant": v,
                    "instrument": key,
                    "year": int(year),
                    "budget": budget,
                    "spent_share": float(np.mean(shares)),
                    "ran_out": len(out_months),
                    "n": len(jobs),
                    "month": str(out_months[(len(out_months) - 1) // 2]) if out_months else "",
                    "estimated": len(jobs) - len(mine),
                    "turned_away": float(per_run["applications"].mean()) if mine else math.nan,
                    "turned_away_amount": float(per_run["amount"].mean()) if mine else math.nan,
                }
            )
    return pd.DataFrame(rows, columns=list(RUNOUT_COLUMNS))


# --------------------------------------------------------------------------- 7. assumptions


def flatten(block: Any, prefix: str = "") -> dict[str, Any]:
    """A nested mapping as ``{"a.b.c": value}``; lists stay values."""
    if not isinstance(block, dict):
        return {prefix: block}
    out: dict[str, Any] = {}
    for key, value in block.items():
        name = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, dict):
            out.update(flatten(value, name))
        else:
            out[name] = value
    return out


def behaviour_parameters(
    config: dict[str, Any], runs: pd.DataFrame, varied: Sequence[str]
) -> pd.DataFrame:
    """Every behavioural parameter of the runs: its value, or its range when the sweep varied it.

    Columns ``parameter`` (``behavior.<...>``), ``value`` (text), ``varied`` (bool),
    ``low``, ``high`` (NaN unless varied).
    """
    rows = []
    for name, value in flatten(config.get("behavior") or {}, "behavior").items():
        is_varied = name in varied and name in runs
        values = runs[name].to_numpy(dtype=float) if is_varied else np.array([])
        rows.append(
            {
                "parameter": name,
                "value": "varied" if is_varied else _text(value),
                "varied": is_varied,
                "low": float(np.nanmin(values)) if is_varied else math.nan,
                "high": float(np.nanmax(values)) if is_varied else math.nan,
            }
        )
    for name in varied:  # varied through an override the config does not show (unlikely)
        if name not in {r["parameter"] for r in rows} and name in runs:
            values = runs[name].to_numpy(dtype=float)
            rows.append(
                {
                    "parameter": name,
                    "value": "varied",
                    "varied": True,
                    "low": float(np.nanmin(values)),
                    "high": float(np.nanmax(values)),
                }
            )
    return pd.DataFrame(rows)


def _text(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list):
        return ", ".join(_text(v) for v in value)
    return str(value)


def sensitivity(
    runs: pd.DataFrame,
    variants: Sequence[str],
    parameters: Sequence[str],
    month: str,
    outcomes: Iterable[str] = (*OUTCOMES, "caused_employment"),
) -> pd.DataFrame:
    """Spearman rank correlation across each variant's runs between parameters and outcomes.

    Columns ``variant``, ``outcome``, ``parameter``, ``rho``, ``n``; ``rho`` is NaN when the
    outcome or the parameter did not vary among the runs (or fewer than three runs).
    """
    rows = []
    for v in variants:
        sel = runs[runs["variant"] == v]
        for outcome in outcomes:
            column = f"{outcome}@{month}"
            if column not in sel:
                continue
            for p in parameters:
                if p not in sel:
                    continue
                rows.append(
                    {
                        "variant": v,
                        "outcome": outcome,
                        "parameter": p,
                        "rho": spearman(sel[p], sel[column]),
                        "n": len(sel),
                    }
                )
    return pd.DataFrame(rows, columns=["variant", "outcome", "parameter", "rho", "n"])


__all__ = [
    "AREA_NAMES",
    "OUTCOMES",
    "RUNOUT_COLUMNS",
    "SPENDING",
    "TRAJECTORY_METRICS",
    "behaviour_parameters",
    "budget_runout",
    "budgets",
    "differences",
    "flatten",
    "gross_vs_caused",
    "headline_table",
    "instrument_caused",
    "net_relocation",
    "park_sizes",
    "per_caused",
    "plan_starts",
    "relocated_vs_new",
    "relocation_flows",
    "sensitivity",
    "spending_by_instrument",
    "spending_over_time",
    "trajectories",
]
