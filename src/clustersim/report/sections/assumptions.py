"""Section 7, assumptions: the behavioural parameters and what the outcomes moved with."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from clustersim.report import fmt
from clustersim.report.common import OUTCOMES, variant_frame
from clustersim.report.document import Paragraph, Section, Table
from clustersim.report.load import SweepData
from clustersim.report.stats import spearman

#: Below this |ρ| a parameter is not named as the one an outcome "moved most with".
WEAK_RHO = 0.1


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


def assumptions_section(data: SweepData) -> Section:
    """Section 7: behavioural parameters used, and which outcomes moved with which."""
    sec = Section("assumptions", "7. Assumptions")
    config = data.configs[data.variants[0]]
    params = behaviour_parameters(config, data.runs, data.behaviour_varied)
    frame = pd.DataFrame(
        {
            "parameter": params["parameter"],
            "value used": [
                f"varied {fmt.num(r.low)} – {fmt.num(r.high)}" if r.varied else r.value
                for r in params.itertuples()
            ],
        }
    )
    sec.add(
        Paragraph(
            "The behavioural parameters of the runs (conf/behavior/default.yaml, each with its "
            "source or the reason for the assumption, plus the sweep's overrides). The results "
            "hold for these values; section 7's second table shows which ones matter where "
            "the sweep varied them."
        ),
        Table("Behavioural parameters", frame, "The values every run used, or the range swept."),
    )
    if not data.behaviour_varied:
        sec.add(
            Paragraph(
                "The sweep did not vary any behavioural parameter, so this report cannot say "
                "how sensitive the results are to them. A sensitivity sweep: clustersim-run "
                "experiment=sensitivity.",
                "note",
            )
        )
        return sec
    last = data.months[-1]
    sens = sensitivity(data.runs, data.variants, data.behaviour_varied, last)
    rows = []
    for (v, outcome), grp in sens.groupby(["variant", "outcome"], sort=False):
        ok = grp.dropna(subset=["rho"])
        label = OUTCOMES.get(outcome, "caused employment")
        row = {"variant": v, "outcome": f"{label}, {last}"}
        if ok.empty:
            row["moved most with"] = "outcome did not vary"
        else:
            best = ok.loc[ok["rho"].abs().idxmax()]
            row["moved most with"] = (
                f"{best['parameter']} (ρ = {best['rho']:+.2f})"
                if abs(best["rho"]) >= WEAK_RHO
                else f"none: |ρ| < {WEAK_RHO} for every parameter"
            )
        for p in data.behaviour_varied:
            got = grp[grp["parameter"] == p]["rho"]
            row[p.removeprefix("behavior.")] = (
                f"{got.iloc[0]:+.2f}" if len(got) and math.isfinite(got.iloc[0]) else fmt.MISSING
            )
        rows.append(row)
    sec.add(
        Paragraph(
            "Sensitivity: Spearman's rank correlation ρ between each varied parameter and each "
            "outcome across the runs of a variant (all seeds and parameter values). ρ near +1: "
            "the outcome rises with the parameter in almost every run; near −1: it falls; near "
            f"0: no monotone relation (below {WEAK_RHO} no parameter is named). It measures "
            "association one parameter at a time (the others vary too), which suits the "
            "sweep's designs, where parameters vary independently."
        ),
        Table(
            "Which outcome moved most with which parameter (Spearman ρ)",
            variant_frame(rows),
            "The 'moved most with' column names the parameter with the largest |ρ| per outcome.",
        ),
    )
    return sec
