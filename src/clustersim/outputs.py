"""From a finished run to its outputs: the headline summary and the printed table.

``headline`` picks the outcomes a report compares (firms, employment, talent, leading
firms, innovative projects, spending, by area) at the report months; ``caused`` subtracts
the counterfactual's from the run's, month by month, and prices the difference.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from clustersim.metrics import region_of
from clustersim.vocabulary import JURISDICTIONS

#: Headline outcomes, in the order a summary shows them.
HEADLINE = (
    "firms",
    "employment",
    "talent",
    "unemployed",
    "leading_firms",
    "leading_application_institutions",
    "innovative_projects",
    "patents",
    "high_tech_firms",
    "specialised_firms",
    "spending_cumulative",
    "national_tax_expenditure_cumulative",
)
REGIONS = ("pudong", "huangpu", "rest_of_shanghai")
#: The municipal plan's yardsticks (003_7fb046b7cde93cc0.txt, 三、发展目标): about 20 leading
#: FinTech firms, about 20 financial markets and headquarters institutions whose technology
#: application leads internationally, and about 50 innovative projects.
MUNICIPAL_TARGETS = {
    "leading_firms": 20,
    "leading_application_institutions": 20,
    "innovative_projects": 50,
}
#: Outcomes of national law (``clustersim.national``): reported, never a plan's caused effect.
NATIONAL = ("national_tax_expenditure", "national_tax_expenditure_cumulative")


def with_regions(monthly: pd.DataFrame, districts: Sequence[str]) -> pd.DataFrame:
    """Add firms_/employment_ columns for Pudong, Huangpu and the rest of Shanghai."""
    out = monthly.copy()
    for what in ("firms", "employment"):
        for region in REGIONS:
            cols = [
                f"{what}_{d}" for d in districts if region_of(d) == region and f"{what}_{d}" in out
            ]
            out[f"{what}_{region}"] = out[cols].sum(axis=1) if cols else 0.0
    return out


def headline(
    monthly: pd.DataFrame, districts: Sequence[str], months: Sequence[str]
) -> dict[str, dict[str, float]]:
    """Headline outcomes at each report month: {month: {metric: value}}."""
    table = with_regions(monthly, districts).set_index("month")
    names = [*HEADLINE, *(f"{w}_{r}" for w in ("firms", "employment") for r in REGIONS)]
    names += [f"spending_{j}_cumulative" for j in JURISDICTIONS]
    cumulative = table[["entries", "exits", "relocations", "relocation_jobs"]].cumsum()
    out: dict[str, dict[str, float]] = {}
    for m in months:
        if m not in table.index:
            continue
        row = {n: float(table.at[m, n]) for n in names if n in table}
        row.update({f"{c}_since_start": float(cumulative.at[m, c]) for c in cumulative})
        out[m] = row
    return out


def targets(outcomes: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
    """Progress against the municipal plan's yardsticks at each report month."""
    return {
        name: {"target": goal, **{m: row.get(name, float("nan")) for m, row in outcomes.items()}}
        for name, goal in MUNICIPAL_TARGETS.items()
    }


def caused(
    run: dict[str, dict[str, float]], without: dict[str, dict[str, float]]
) -> dict[str, dict[str, float]]:
    """Caused = with − without, per report month, and the spending per caused job and firm."""
    out: dict[str, dict[str, float]] = {}
    for month, row in run.items():
        base = without[month]
        diff = {k: row[k] - base[k] for k in row if k in base and k not in NATIONAL}
        spent = row.get("spending_cumulative", 0.0)
        for unit, key in (("job", "employment"), ("firm", "firms")):
            d = diff.get(key, 0.0)
            diff[f"spending_per_caused_{unit}"] = spent / d if d > 0 else float("nan")
        out[month] = diff
    return out


def summary_table(outcomes: dict[str, dict[str, float]], caused_: dict | None = None) -> str:
    """A short plain-text table of the headline outcomes, one column per report month."""
    rows = [
        ("firms", "firms"),
        ("employment (people)", "employment"),
        ("talent in Shanghai (people)", "talent"),
        ("leading firms (target ~20)", "leading_firms"),
        ("institutions leading in application (target ~20)", "leading_application_institutions"),
        ("innovative projects (target ~50)", "innovative_projects"),
        ("patents since start", "patents"),
        ("firms in Pudong", "firms_pudong"),
        ("firms in Huangpu", "firms_huangpu"),
        ("firms elsewhere in Shanghai", "firms_rest_of_shanghai"),
        ("employment in Pudong", "employment_pudong"),
        ("employment in Huangpu", "employment_huangpu"),
        ("employment elsewhere", "employment_rest_of_shanghai"),
        ("plans' spending (RMB m)", "spending_cumulative"),
        ("national tax expenditure, not a plan's (RMB m)", "national_tax_expenditure_cumulative"),
    ]
    months = list(outcomes)
    width = max(len(label) for label, _ in rows) + 2
    lines = [" " * width + "".join(f"{m:>14}" for m in months)]
    for label, key in rows:
        cells = []
        for m in months:
            v = outcomes[m].get(key, np.nan)
            money = key.endswith("_cumulative")
            v = v / 1e6 if money else v
            cells.append(f"{v:>14,.1f}" if money else f"{v:>14,.0f}")
        lines.append(f"{label:<{width}}" + "".join(cells))
    if caused_:
        lines.append("caused by the policy (run − counterfactual):")
        for label, key in (
            ("  firms", "firms"),
            ("  employment", "employment"),
            ("  talent", "talent"),
        ):
            lines.append(
                f"{label:<{width}}"
                + "".join(f"{caused_[m].get(key, np.nan):>14,.0f}" for m in months)
            )
        lines.append(
            f"{'  RMB per caused job':<{width}}"
            + "".join(
                f"{caused_[m].get('spending_per_caused_job', np.nan):>14,.0f}" for m in months
            )
        )
    return "\n".join(lines)
