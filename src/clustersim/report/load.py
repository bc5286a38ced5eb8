"""Read a sweep folder into the few tables a report needs (the one place that touches files).

A report compares *variants*: the settings a sweep varied other than the seed, the
counterfactual and the behavioural parameters (usually just ``policy``). Runs of a variant
that share every other setting are *replicates*; a replicate is named by its seed and
behavioural values, and the same replicate of two variants shares its random numbers, so
differences between variants are paired by replicate.

A sweep with instrument-level counterfactuals (``run.counterfactual=<regime>.<instrument>``
swept) holds the same with-policy run several times, once per counterfactual; the headline
tables keep one of them (the ``no_policy`` one when there is one) and the others give the
caused effect of each instrument.

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
import pyarrow.parquet as pq
import yaml

from clustersim.io import read_yaml
from clustersim.metrics import region_of
from clustersim.sweep.collect import (
    RATIONING_TABLE,
    RUN_RATIONING,
    NotASweepError,
    collect,
    find_jobs,
)
from clustersim.sweep.layout import PANEL_TABLE, RUNS_TABLE

#: Override keys that never define a variant: the seed, the counterfactual, run options.
NOT_VARIANT = ("seed", "run.counterfactual", "run.progress", "run.write_talent_snapshots")
#: Prefix of the behavioural parameters (they define replicates, not variants).
BEHAVIOR = "behavior."
#: The counterfactual whose caused figures the headline tables use.
NO_POLICY = "no_policy"


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


def _read_yaml(path: Path) -> Any:
    try:
        return read_yaml(path)
    except (OSError, yaml.YAMLError) as err:
        raise ReportInputError(f"{path}: cannot be read ({err})") from err


def _override_map(overrides: Any) -> dict[str, str]:
    """``["policy=none", "+x=1"]`` -> ``{"policy": "none", "x": "1"}`` (experiments dropped)."""
    out: dict[str, str] = {}
    for text in overrides or []:
        key, _, value = str(text).partition("=")
        key = key.lstrip("+~").split("@", 1)[0]
        if key in ("experiment",) or key.startswith("hydra"):
            continue
        out[key] = value
    return out


def _policy_rank(label: str) -> tuple[int, str]:
    head = label.split(" ", 1)[0]
    rank = POLICY_ORDER.index(head) if head in POLICY_ORDER else len(POLICY_ORDER)
    return (rank, label)


def _label(values: dict[str, str], keys: list[str], policy: str) -> str:
    """Name a variant: its policy, then any other varied setting in brackets."""
    extra = [f"{k}={values.get(k, '')}" for k in keys if k != "policy"]
    return policy + (f" ({', '.join(extra)})" if extra else "")


def _ensure_collected(sweep_dir: Path, notes: list[str]) -> tuple[list[Path], list[str]]:
    """Return the complete job folders and the problem lines; collect again if stale."""
    try:
        folders, problems = find_jobs(sweep_dir)
    except NotASweepError as err:
        raise ReportInputError(str(err)) from err
    lines = [str(p) for p in problems]
    if not folders:
        detail = f" ({len(problems)} job folder(s) did not finish)" if problems else ""
        raise ReportInputError(
            f"{sweep_dir}: no finished run in this sweep folder{detail}; run or resume the "
            "sweep first (clustersim-run -m ... hydra.sweep.dir=<folder>)"
        )
    runs_path, panel_path = sweep_dir / RUNS_TABLE, sweep_dir / PANEL_TABLE
    stale = not runs_path.is_file() or not panel_path.is_file()
    if not stale:
        collected = set(pq.read_table(runs_path, columns=["job"]).column("job").to_pylist())
        stale = collected != {f.relative_to(sweep_dir).as_posix() for f in folders}
    if not stale:  # runs that recorded turn-aways, but no collected table of them (or back)
        recorded = any((f / RUN_RATIONING).is_file() for f in folders)
        stale = recorded != (sweep_dir / RATIONING_TABLE).is_file()
    if stale:
        result = collect(sweep_dir)
        if not result.jobs:
            raise ReportInputError(f"{sweep_dir}: no finished run could be read")
        tables = f"{RUNS_TABLE} and {PANEL_TABLE}"
        if result.rationing_path is not None:
            tables = f"{RUNS_TABLE}, {PANEL_TABLE} and {RATIONING_TABLE}"
        notes.append(
            f"collected {len(result.jobs)} runs into {tables} "
            "(the tables were missing or out of date)"
        )
    return folders, lines


def _aggregate_ledger(path: Path, job: str) -> pd.DataFrame | None:
    if not path.is_file():
        return None
    led = pd.read_parquet(path, columns=["regime", "issuer", "instrument", "month", "amount"])
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


def _aggregate_relocations(path: Path, job: str, scenario: str) -> pd.DataFrame | None:
    if not path.is_file():
        return None
    rel = pd.read_parquet(path, columns=["month", "from_district", "to_district", "employees"])
    if rel.empty:
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


def _supported(path: Path, job: str, months: list[str]) -> list[dict[str, Any]]:
    if not path.is_file():
        return []
    snap = pd.read_parquet(path, columns=["month", "employees", "subsidies"])
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


def _read_rationing(sweep_dir: Path, jobs: list[str]) -> tuple[pd.DataFrame, frozenset[str]]:
    """The collected turn-aways of ``jobs``, and which of them recorded any (see ``SweepData``)."""
    recorded = frozenset(j for j in jobs if (sweep_dir / j / RUN_RATIONING).is_file())
    path = sweep_dir / RATIONING_TABLE
    if not recorded or not path.is_file():
        return _empty(_RATIONING_COLUMNS), frozenset()
    table = pd.read_parquet(path, filters=[("job", "in", sorted(recorded))])
    table = table.reindex(columns=_RATIONING_COLUMNS)
    for c in ("job", "regime", "issuer", "instrument", "month"):
        table[c] = table[c].astype(str)
    for c in ("year", "applications"):
        table[c] = table[c].astype("int64")
    for c in ("amount", "largest"):
        table[c] = table[c].astype(float)
    table = table.sort_values(["job", "month", "regime", "instrument"]).reset_index(drop=True)
    return table, recorded


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


def load_sweep(sweep_dir: Path | str, baseline: str | None = None) -> SweepData:
    """Read a sweep folder for a report; raise ``ReportInputError`` for bad input.

    ``baseline`` names the variant differences are taken against; ``None`` means
    ``none`` if the sweep has it, else no baseline when the sweep has a single variant.
    """
    sweep_dir = Path(sweep_dir)
    notes: list[str] = []
    if not sweep_dir.exists():
        raise ReportInputError(f"{sweep_dir}: no such folder (give the sweep's hydra.sweep.dir)")
    if not sweep_dir.is_dir():
        raise ReportInputError(f"{sweep_dir}: is a file, not a sweep folder")
    _, problems = _ensure_collected(sweep_dir, notes)
    runs = pd.read_parquet(sweep_dir / RUNS_TABLE)
    if runs.empty:
        raise ReportInputError(f"{sweep_dir}: {RUNS_TABLE} holds no run")

    overrides = {
        job: _override_map(_read_yaml(sweep_dir / job / "overrides.yaml")) for job in runs["job"]
    }
    keys = sorted({k for o in overrides.values() for k in o})
    varied = [k for k in keys if len({o.get(k) for o in overrides.values()}) > 1]
    variant_keys = [k for k in varied if k not in NOT_VARIANT and not k.startswith(BEHAVIOR)]
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
        counterfactuals.append(o.get("run.counterfactual", "off"))
    runs = runs.assign(variant=labels, replicate=replicates, counterfactual=counterfactuals)
    behaviour_varied = [k for k in replicate_keys if k.startswith(BEHAVIOR)]
    for k in behaviour_varied:
        runs[k] = pd.to_numeric(runs[k], errors="coerce") if k in runs else np.nan

    # one with-policy run per replicate: prefer the no_policy counterfactual, then job order
    pref = (runs["counterfactual"] != NO_POLICY).astype(int)
    ordered = runs.assign(_pref=pref).sort_values(["variant", "replicate", "_pref", "job"])
    chosen = ordered.drop_duplicates(["variant", "replicate"], keep="first").drop(columns="_pref")
    is_instrument = ~runs["counterfactual"].isin([NO_POLICY, "off"])
    instrument_runs = runs[is_instrument].reset_index(drop=True)

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

    months = sorted({c.split("@", 1)[1] for c in runs.columns if c.startswith("firms@")})
    configs = {
        v: _read_yaml(sweep_dir / chosen.loc[chosen["variant"] == v, "job"].iloc[0] / "config.yaml")
        for v in variants
    }
    jobs = chosen["job"].tolist()
    panel = pd.read_parquet(sweep_dir / PANEL_TABLE, filters=[("job", "in", jobs)])
    panel = panel.merge(chosen[["job", "variant"]], on="job", how="inner")
    panel = panel.sort_values(["job", "month"]).reset_index(drop=True)

    ledgers, moves, supported = [], [], []
    for job in jobs:
        folder = sweep_dir / job
        ledgers.append(_aggregate_ledger(folder / "ledger.parquet", job))
        moves.append(_aggregate_relocations(folder / "relocations.parquet", job, "with"))
        cf = folder / "counterfactual" / "relocations.parquet"
        moves.append(_aggregate_relocations(cf, job, "without"))
        supported.extend(_supported(folder / "firms_yearly.parquet", job, months))
    supported_frame = pd.DataFrame(
        supported, columns=["job", "month", "supported_firms", "supported_jobs"]
    )
    rationing, rationing_jobs = _read_rationing(sweep_dir, jobs)
    return SweepData(
        sweep_dir=sweep_dir,
        runs=chosen,
        instrument_runs=instrument_runs,
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


__all__ = ["ReportInputError", "SweepData", "load_sweep"]
