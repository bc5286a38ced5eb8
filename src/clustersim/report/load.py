"""Read a sweep folder into the few tables a report needs (the one place that touches files).

A report compares *variants*: the settings a sweep varied other than the seed, the
counterfactual and the behavioural parameters (usually just ``policy``). Runs of a variant
that share every other setting are *replicates*; a replicate is named by its seed and
behavioural values, and the same replicate of two variants shares its random numbers, so
differences between variants are paired by replicate.

A sweep with plan- or instrument-level counterfactuals (``run.counterfactual=<regime>`` or
``<regime>.<instrument>`` swept) holds the same with-policy run several times, once per
counterfactual; the headline tables keep one of them (the ``no_policy`` one when there is
one) and the others give the caused effect of each plan within the mix, or of each
instrument. What a run's caused figures are relative to is read from the run itself
(``runs.parquet``'s ``counterfactual`` column, from its ``summary.json``), so a
counterfactual set in an experiment file counts as one given on the command line.

Everything else here is aggregated per run as it is read (ledger by month and instrument,
relocations by month and area pair, supported firms at the report months), so memory stays
small however many grants and moves the runs made.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from clustersim.metrics import region_of
from clustersim.results.loader import SweepReadError, SweepTables, load_sweep
from clustersim.results.overrides import OverrideError, override_values
from clustersim.results.run_folder import (
    COUNTERFACTUAL,
    FIRMS_YEARLY,
    LEDGER,
    RELOCATIONS,
    BadRunFolderError,
    StoredRun,
)

#: Override keys that never define a variant: the seed, the counterfactual, run options.
NOT_VARIANT = ("seed", "run.counterfactual", "run.progress", "run.write_talent_snapshots")
#: Override keys that are not settings of a run: which preset set the sweep, Hydra's own.
NOT_A_SETTING = ("experiment",)
#: Prefix of the behavioural parameters (they define replicates, not variants).
BEHAVIOR = "behavior."
#: The behaviour preset chosen (``behavior=calibrated_draw_03``): a posterior draw is a
#: replicate, like a seed, so the report's intervals include parameter uncertainty.
BEHAVIOR_PRESET = "behavior"
#: The counterfactual whose caused figures the headline tables use.
NO_POLICY = "no_policy"
#: A run without a counterfactual (no caused figures).
OFF = "off"


def counterfactual_kind(key: str) -> str:
    """What a counterfactual removes: ``off``, ``no_policy``, ``regime`` or ``instrument``.

    ``huangpu_2024`` removes one plan (a regime), ``huangpu_2024.rd_subsidy`` one instrument.
    """
    if key in (OFF, NO_POLICY):
        return key
    return "instrument" if "." in key else "regime"


class ReportInputError(Exception):
    """The sweep folder or an option cannot give a report; the message says why and what to do."""


@dataclass
class SweepData:
    """A sweep as the report sees it.

    Attributes:
        sweep_dir: the sweep folder.
        runs: one row per replicate of each variant (runs.parquet columns plus ``variant``,
            ``replicate``, ``counterfactual``), in variant then replicate order.
        instrument_runs: runs whose counterfactual removed one instrument (same columns);
            empty when the sweep ran none.
        regime_runs: runs whose counterfactual removed one whole plan (a regime) and kept
            the others (same columns); empty when the sweep ran none.
        panel: panel.parquet rows of the runs in ``runs``, with ``variant``.
        variants: the variants, baseline first, then in a fixed order.
        baseline: the variant differences are taken against, or None (a single variant).
        configs: the resolved config of one run per variant (parks, plans, behaviour).
        months: the report months (``YYYY-MM``), sorted.
        behaviour_varied: behavioural parameters (override columns) the sweep varied.
        ledger: grants per run, month, regime, issuer and instrument: ``amount`` (RMB),
            ``grants`` and ``largest`` (the largest single grant); empty without grants.
        rationing: the rows of the sweep's collected ``rationing.parquet`` for the runs in
            ``runs``: per run and instrument-month, the approved applications the grant
            engine turned away for lack of budget (``job``, ``regime``, ``issuer``,
            ``instrument``, ``month``, ``year``, ``applications``, ``amount``,
            ``largest``); empty when none was turned away or none was recorded.
        rationing_jobs: the runs in ``runs`` that recorded turn-aways (their folder holds a
            ``rationing.parquet``); the others (no plan, or written before runs recorded
            them) have no record, and a report estimates from their ledger instead.
        relocations: moves between areas per run, scenario (``with`` or ``without`` the
            policy), month, ``from_area`` and ``to_area``: ``jobs`` and ``firms``.
        supported: per run and report month, firms that had received a grant and still
            operated (``supported_firms``) and their employees (``supported_jobs``).
        problems: job folders of the sweep that could not be read, one line each.
        notes: what loading had to do (e.g. collect the sweep again), one line each.

    """

    sweep_dir: Path
    runs: pd.DataFrame
    instrument_runs: pd.DataFrame
    panel: pd.DataFrame
    variants: list[str]
    baseline: str | None
    configs: dict[str, dict[str, Any]]
    months: list[str]
    behaviour_varied: list[str]
    ledger: pd.DataFrame
    relocations: pd.DataFrame
    supported: pd.DataFrame
    regime_runs: pd.DataFrame = field(default_factory=pd.DataFrame)
    rationing: pd.DataFrame = field(default_factory=lambda: _empty(_RATIONING_COLUMNS))
    rationing_jobs: frozenset[str] = frozenset()
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def has_counterfactual(self) -> bool:
        """True when every run carries caused figures from its own no-policy counterfactual."""
        return any(c.startswith("caused_") for c in self.runs.columns) and bool(
            (self.runs["counterfactual"] == NO_POLICY).all()
        )

    def runs_per_variant(self) -> dict[str, int]:
        """Number of replicates of each variant."""
        counts = self.runs.groupby("variant", sort=False).size()
        return {v: int(counts.get(v, 0)) for v in self.variants}


#: Policy names in the order a report lists them (others follow, sorted).
POLICY_ORDER = ("none", "shanghai_2020", "pudong_2027", "huangpu_2024", "all_three")


def _stored(folder: Path, what: str) -> Any:
    """The overrides or config of a collected run; ``ReportInputError`` if unreadable."""
    run = StoredRun(folder)
    try:
        return run.overrides() if what == "overrides" else run.config()
    except BadRunFolderError as err:
        raise ReportInputError(f"{folder}: {err}") from err


def settings_of(overrides: list[str], where: Path) -> dict[str, str]:
    """A run's settings as typed: ``["policy=none", "+x=1"]`` -> ``{"policy": "none", "x": "1"}``.

    The preset (``experiment``) and Hydra's own keys are left out: they are not settings
    of the run; a deleted key reads as "".
    """
    try:
        values = override_values(overrides)
    except OverrideError as err:
        raise ReportInputError(f"{where}: {err}") from err
    return {
        k: "" if v is None else str(v)
        for k, v in values.items()
        if k not in NOT_A_SETTING and not k.startswith("hydra")
    }


def _counterfactual_of(runs: pd.DataFrame, row: int, overrides: dict[str, str]) -> str:
    """What run ``row``'s caused figures are relative to (``off`` without any).

    The run's own record (the collected ``counterfactual`` column) first; tables collected
    before it existed fall back on the override.
    """
    if "counterfactual" in runs:
        value = runs["counterfactual"].iloc[row]
        if isinstance(value, str) and value:
            return value
    return overrides.get("run.counterfactual", OFF)


def _policy_rank(label: str) -> tuple[int, str]:
    head = label.split(" ", 1)[0]
    rank = POLICY_ORDER.index(head) if head in POLICY_ORDER else len(POLICY_ORDER)
    return (rank, label)


def _label(values: dict[str, str], keys: list[str], policy: str) -> str:
    """Name a variant: its policy, then any other varied setting in brackets."""
    extra = [f"{k}={values.get(k, '')}" for k in keys if k != "policy"]
    return policy + (f" ({', '.join(extra)})" if extra else "")


def _aggregate_ledger(run: StoredRun, job: str) -> pd.DataFrame | None:
    led = run.table(LEDGER, columns=["regime", "issuer", "instrument", "month", "rule", "amount"])
    if led is None or led.empty:
        return None
    led = led[led["rule"].astype(str) != "service"]  # in kind: valued, but costs the plan nothing
    if led.empty:
        return None
    for c in ("regime", "issuer", "instrument", "month"):
        led[c] = led[c].astype(str)
    out = (
        led.groupby(["regime", "issuer", "instrument", "month"], sort=True)["amount"]
        .agg(amount="sum", grants="size", largest="max")
        .reset_index()
    )
    out.insert(0, "job", job)
    return out


def _aggregate_relocations(
    run: StoredRun, name: str, job: str, scenario: str
) -> pd.DataFrame | None:
    rel = run.table(name, columns=["month", "from_district", "to_district", "employees"])
    if rel is None or rel.empty:
        return None
    rel = rel.assign(
        from_area=rel["from_district"].astype(str).map(region_of),
        to_area=rel["to_district"].astype(str).map(region_of),
        month=rel["month"].astype(str),
    )
    out = (
        rel.groupby(["month", "from_area", "to_area"], sort=True)["employees"]
        .agg(jobs="sum", firms="size")
        .reset_index()
    )
    out.insert(0, "scenario", scenario)
    out.insert(0, "job", job)
    return out


def _supported(run: StoredRun, job: str, months: list[str]) -> list[dict[str, Any]]:
    snap = run.table(FIRMS_YEARLY, columns=["month", "employees", "subsidies"])
    if snap is None:
        return []
    snap["month"] = snap["month"].astype(str)
    taken = set(snap["month"])
    rows = []
    for m in months:
        at = snap[(snap["month"] == m) & (snap["subsidies"] > 0)]
        known = m in taken  # snapshots are taken at year ends only
        rows.append(
            {
                "job": job,
                "month": m,
                "supported_firms": float(len(at)) if known else np.nan,
                "supported_jobs": float(at["employees"].sum()) if known else np.nan,
            }
        )
    return rows


def _empty(columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=float if c in _NUMERIC else str) for c in columns})


def _concat(frames: list[pd.DataFrame | None], columns: list[str]) -> pd.DataFrame:
    kept = [f for f in frames if f is not None]
    if not kept:
        return _empty(columns)
    return pd.concat(kept, ignore_index=True)


def _rationing(tables: SweepTables, jobs: list[str]) -> tuple[pd.DataFrame, frozenset[str]]:
    """The collected turn-aways of ``jobs``, and which of them recorded any (see ``SweepData``)."""
    recorded = frozenset(j for j in jobs if j in tables.rationing_jobs)
    if not recorded or tables.rationing is None:
        return _empty(_RATIONING_COLUMNS), frozenset()
    table = tables.rationing[tables.rationing["job"].isin(recorded)]
    table = table.reindex(columns=_RATIONING_COLUMNS)
    for c in ("job", "regime", "issuer", "instrument", "month"):
        table[c] = table[c].astype(str)
    for c in ("year", "applications"):
        table[c] = table[c].astype("int64")
    for c in ("amount", "largest"):
        table[c] = table[c].astype(float)
    table = table.sort_values(["job", "month", "regime", "instrument"]).reset_index(drop=True)
    return table, recorded


def _read_run_tables(
    sweep_dir: Path, jobs: list[str], months: list[str]
) -> tuple[dict[str, tuple[Any, Any, Any, list[dict[str, Any]]]], dict[str, str]]:
    """Each run's aggregated ledger, moves and supported firms; and the runs that fail.

    A run whose table cannot be read (a truncated ``ledger.parquet``) is returned in the
    second mapping with what is wrong, never as a traceback.
    """
    read: dict[str, tuple[Any, Any, Any, list[dict[str, Any]]]] = {}
    unreadable: dict[str, str] = {}
    for job in jobs:
        run = StoredRun(sweep_dir / job)
        try:
            read[job] = (
                _aggregate_ledger(run, job),
                _aggregate_relocations(run, RELOCATIONS, job, "with"),
                _aggregate_relocations(run, f"{COUNTERFACTUAL}/{RELOCATIONS}", job, "without"),
                _supported(run, job, months),
            )
        except BadRunFolderError as err:
            unreadable[job] = str(err)
    return read, unreadable


_NUMERIC = ("amount", "grants", "largest", "jobs", "firms", "year", "applications")
_LEDGER_COLUMNS = ["job", "regime", "issuer", "instrument", "month", "amount", "grants", "largest"]
_RELOCATION_COLUMNS = ["job", "scenario", "month", "from_area", "to_area", "jobs", "firms"]
_RATIONING_COLUMNS = [
    "job",
    "regime",
    "issuer",
    "instrument",
    "month",
    "year",
    "applications",
    "amount",
    "largest",
]


def report_data(sweep: Path | str | SweepTables, baseline: str | None = None) -> SweepData:
    """Read a sweep for a report; raise ``ReportInputError`` for bad input.

    ``sweep`` is a sweep folder (read with ``clustersim.results.load_sweep``, collected
    again when stale) or tables already loaded. ``baseline`` names the variant
    differences are taken against; ``None`` means ``none`` if the sweep has it, else no
    baseline when the sweep has a single variant.
    """
    if isinstance(sweep, SweepTables):
        tables = sweep
    else:
        try:
            tables = load_sweep(sweep)
        except SweepReadError as err:
            raise ReportInputError(str(err)) from err
    sweep_dir = tables.folder
    notes = list(tables.notes)
    problems = list(tables.problems)
    runs = tables.runs

    overrides = {
        job: settings_of(_stored(sweep_dir / job, "overrides"), sweep_dir / job)
        for job in runs["job"]
    }
    keys = sorted({k for o in overrides.values() for k in o})
    varied = [k for k in keys if len({o.get(k) for o in overrides.values()}) > 1]
    variant_keys = [
        k
        for k in varied
        if k not in NOT_VARIANT and not k.startswith(BEHAVIOR) and k != BEHAVIOR_PRESET
    ]
    replicate_keys = [k for k in varied if k not in variant_keys and k != "run.counterfactual"]
    if "seed" not in replicate_keys:
        replicate_keys.insert(0, "seed")
    policy_col = runs["policy"].astype(str) if "policy" in runs else pd.Series("?", runs.index)
    labels, replicates, counterfactuals = [], [], []
    for i, job in enumerate(runs["job"]):
        o = overrides[job]
        labels.append(_label(o, variant_keys, o.get("policy", policy_col.iloc[i])))
        rep = {
            k: o.get(k, str(runs["seed"].iloc[i]) if k == "seed" else "") for k in replicate_keys
        }
        replicates.append(", ".join(f"{k}={v}" for k, v in rep.items()))
        counterfactuals.append(_counterfactual_of(runs, i, o))
    runs = runs.assign(variant=labels, replicate=replicates, counterfactual=counterfactuals)
    behaviour_varied = [k for k in replicate_keys if k.startswith(BEHAVIOR)]
    for k in behaviour_varied:
        runs[k] = pd.to_numeric(runs[k], errors="coerce") if k in runs else np.nan

    # one with-policy run per replicate: prefer the no_policy counterfactual, then job order
    pref = (runs["counterfactual"] != NO_POLICY).astype(int)
    ordered = runs.assign(_pref=pref).sort_values(["variant", "replicate", "_pref", "job"])
    chosen = ordered.drop_duplicates(["variant", "replicate"], keep="first").drop(columns="_pref")
    kinds = runs["counterfactual"].map(counterfactual_kind)
    instrument_runs = runs[kinds == "instrument"].reset_index(drop=True)
    regime_runs = runs[kinds == "regime"].reset_index(drop=True)
    months = sorted({c.split("@", 1)[1] for c in runs.columns if c.startswith("firms@")})
    per_job, unreadable = _read_run_tables(sweep_dir, chosen["job"].tolist(), months)
    if unreadable:  # left out, and named in the report's overview
        chosen = chosen[~chosen["job"].isin(unreadable)]
        problems += [f"{sweep_dir / j}: left out of the report: {e}" for j, e in unreadable.items()]
        if chosen.empty:
            raise ReportInputError(
                f"{sweep_dir}: no run of the sweep can be read in full ({len(unreadable)} "
                "left out); rerun the sweep after deleting their folders"
            )

    variants = sorted(chosen["variant"].unique(), key=_policy_rank)
    if baseline is None:
        if "none" in variants:
            baseline_v: str | None = "none"
        elif len(variants) == 1:
            baseline_v = None
            notes.append("the sweep has a single variant: no differences against a baseline")
        else:
            raise ReportInputError(
                f"baseline 'none' is not in the sweep; pass --baseline with one of: "
                f"{', '.join(variants)}"
            )
    elif baseline in variants:
        baseline_v = baseline
    else:
        raise ReportInputError(
            f"--baseline {baseline!r} is not a variant of this sweep; allowed: "
            f"{', '.join(variants)}"
        )
    if baseline_v is not None:
        variants = [baseline_v, *[v for v in variants if v != baseline_v]]
    rank = {v: i for i, v in enumerate(variants)}
    chosen = chosen.assign(_rank=chosen["variant"].map(rank))
    chosen = chosen.sort_values(["_rank", "replicate"]).drop(columns="_rank")
    chosen = chosen.reset_index(drop=True)

    configs = {
        v: _stored(sweep_dir / chosen.loc[chosen["variant"] == v, "job"].iloc[0], "config")
        for v in variants
    }
    jobs = chosen["job"].tolist()
    panel = tables.panel[tables.panel["job"].isin(jobs)]
    panel = panel.merge(chosen[["job", "variant"]], on="job", how="inner")
    panel = panel.sort_values(["job", "month"]).reset_index(drop=True)

    ledgers, moves, supported = [], [], []
    for job in jobs:
        ledger, with_moves, without_moves, job_supported = per_job[job]
        ledgers.append(ledger)
        moves += [with_moves, without_moves]
        supported.extend(job_supported)
    supported_frame = pd.DataFrame(
        supported, columns=["job", "month", "supported_firms", "supported_jobs"]
    )
    rationing, rationing_jobs = _rationing(tables, jobs)
    return SweepData(
        sweep_dir=sweep_dir,
        runs=chosen,
        instrument_runs=instrument_runs,
        regime_runs=regime_runs,
        panel=panel,
        variants=variants,
        baseline=baseline_v,
        configs=configs,
        months=months,
        behaviour_varied=behaviour_varied,
        ledger=_concat(ledgers, _LEDGER_COLUMNS),
        relocations=_concat(moves, _RELOCATION_COLUMNS),
        supported=supported_frame,
        rationing=rationing,
        rationing_jobs=rationing_jobs,
        problems=problems,
        notes=notes,
    )


__all__ = ["ReportInputError", "SweepData", "counterfactual_kind", "report_data", "settings_of"]
