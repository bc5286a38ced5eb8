"""Regenerate the figures of docs/validation.md: the stylised facts over many seeds.

    .venv/bin/python scripts/validation.py                 # 20 seeds, 100 Arthur seeds
    .venv/bin/python scripts/validation.py --seeds 3 --arthur-seeds 10 --print-only

Runs the default world (``world=shanghai``, default policy) for each seed, watching every
month for how large firms close, and measures each fact with the functions of
``clustersim.validation`` (the same ones the tests use). It then rewrites the block between
``<!-- figures:start -->`` and ``<!-- figures:end -->`` in docs/validation.md (or only
prints it, with ``--print-only``). Takes a few minutes on two cores.
"""

from __future__ import annotations

import argparse
import logging
import re
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from clustersim import api
from clustersim import validation as v
from clustersim.model import ClusterModel
from clustersim.runner import build_incentives

#: A one-seed rise in the exit rate between adjacent classes counts only beyond this many
#: standard errors (binomial) of the difference: smaller rises are sampling noise.
NOISE_Z = 2.0
DOC = Path(__file__).resolve().parents[1] / "docs" / "validation.md"
START, END = "<!-- figures:start -->", "<!-- figures:end -->"
logging.getLogger("MESA").setLevel(logging.WARNING)


def life_cycle(seeds: range, base: list[str]) -> dict:
    """Every life-cycle measure, per seed, on the default world."""
    per_seed, exits, closures, falls = [], [], [], []
    for seed in seeds:
        scenario = api.scenario([*base, f"seed={seed}"])
        model = ClusterModel(scenario, build_incentives(scenario))
        closed = v.watch_large_closures(model, threshold=500.0)
        yearly, monthly = model.firms_yearly(), model.monthly()
        index = {str(m): i for i, m in enumerate(model.calendar)}
        growth = v.yearly_growth(yearly)
        changed = growth[growth["growth"] != 0]
        fit = v.laplace_vs_normal(changed["growth"].to_numpy())
        slope, _ = v.dispersion_slope(growth)
        table = v.exit_rates(yearly, index)
        exits.append(table)
        closures += closed
        if seed - seeds.start < 10:
            falls.append(v.largest_district_fall(monthly, list(model.parks.districts), 10_000))
        firms = monthly["firms"].mean()
        per_seed.append(
            {
                "seed": seed,
                "zero_share": v.zero_growth_share(growth),
                "laplace_minus_normal": fit.laplace - fit.normal,
                "laplace_better": fit.laplace_better,
                "dispersion_slope": slope,
                "hill_2020": v.hill(yearly[yearly["month"] == "2020-12"]["employees"]),
                "hill_2027": v.hill(yearly[yearly["month"] == "2027-12"]["employees"]),
                "size_falls": v.falls_with(table, "size", noise_z=NOISE_Z),
                "age_falls": v.falls_with(table, "age", noise_z=NOISE_Z),
                "size_falls_strictly": v.falls_with(table, "size"),
                "age_falls_strictly": v.falls_with(table, "age"),
                "entry_rate": monthly["entries"].sum() / 8 / firms,
                "exit_rate": monthly["exits"].sum() / 8 / firms,
                "employment_2020_01": monthly["employment"].iloc[0],
                "employment_2027_12": monthly["employment"].iloc[-1],
                "relocated_job_share": monthly["relocation_jobs"].sum()
                / 8
                / monthly["employment"].mean(),
                "national_2027": monthly["national_tax_expenditure_cumulative"].iloc[-1],
                "spending_2027": monthly["spending_cumulative"].iloc[-1],
                "leading_firms_2027": monthly["leading_firms"].iloc[-1],
                "leading_application_2027": monthly["leading_application_institutions"].iloc[-1],
                "innovative_projects_2027": monthly["innovative_projects"].iloc[-1],
            }
        )
        print(f"  seed {seed} done", file=sys.stderr)
    pooled = pd.concat(exits).groupby(["by", "class"], as_index=False)[["firms", "exits"]].sum()
    pooled["rate"] = pooled["exits"] / pooled["firms"]
    return {
        "seeds": pd.DataFrame(per_seed),
        "exits": pooled,
        "closures": closures,
        "falls": falls,
    }


def national_under_none(seeds: range) -> np.ndarray:
    """National tax expenditure to 2027-12 with no plan at all (policy=none), per seed."""
    out = []
    for seed in seeds:
        run = api.run(["world=shanghai", "policy=none", f"seed={seed}", "run.progress=false"])
        monthly = run.monthly
        out.append(monthly["national_tax_expenditure_cumulative"].iloc[-1])
    print("  policy=none done", file=sys.stderr)
    return np.array(out)


def arthur(n_seeds: int) -> dict:
    """Largest location share at the end of each Arthur preset run."""
    out = {}
    for preset in ("arthur_lockin", "arthur_bounded"):
        shares = []
        for seed in range(n_seeds):
            m = ClusterModel(api.scenario([f"preset={preset}", f"seed={seed}"])).run()
            last = m.monthly().iloc[-1]
            counts = np.array([last[f"firms_park_{p}"] for p in m.parks.ids])
            shares.append(counts.max() / counts.sum())
        out[preset] = np.array(shares)
        print(f"  {preset} done", file=sys.stderr)
    return out


def render(lc: dict, arth: dict, none: np.ndarray, seeds: range, elapsed: float) -> str:
    """The figures block of docs/validation.md, as markdown."""
    s = lc["seeds"]
    n = len(s)
    first10 = s.head(10)
    lines = [
        f"Regenerated by `scripts/validation.py` over seeds {seeds.start}–{seeds.stop - 1} of the "
        f"default scenario (world=shanghai, policy=all_three) in {elapsed / 60:.0f} min.",
        "",
        "| fact (source) | target | figure reached |",
        "| --- | --- | --- |",
    ]

    def row(fact: str, target: str, figure: str) -> None:
        lines.append(f"| {fact} | {target} | {figure} |")

    row(
        "National law (15% high-tech rate, R&D super-deduction) runs with `policy=none`",
        "in force in every scenario",
        f"national tax expenditure 2020-2027 with policy=none: RMB {none.mean() / 1e9:.2f} bn "
        f"(seeds 0-{len(none) - 1}); with all three plans: RMB "
        f"{s['national_2027'].mean() / 1e9:.2f} bn",
    )
    row(
        "Plans' spending excludes national law",
        "national tax expenditure reported apart",
        f"all three plans' spending 2020-2027: RMB {s['spending_2027'].mean() / 1e9:.2f} bn "
        "(money only; in-kind services and designations RMB 0)",
    )
    row(
        "Municipal targets at 2027-12 (reported, not calibrated)",
        "~20 leading firms, ~20 institutions leading in application, ~50 projects",
        f"leading firms {s['leading_firms_2027'].mean():.1f}; institutions leading in "
        f"application {s['leading_application_2027'].mean():.1f}; innovative projects "
        f"{s['innovative_projects_2027'].mean():.1f}",
    )
    row(
        "Exit rate falls with size class (BDS; HJM 2013)",
        f"falls in every seed (no rise beyond {NOISE_Z:g} s.e.); pooled: strictly",
        f"{int(s['size_falls'].sum())} of {n} seeds ({int(s['size_falls_strictly'].sum())} "
        f"strictly); pooled over seeds: "
        f"{'falls strictly' if v.falls_with(lc['exits'], 'size') else 'RISES'}",
    )
    row(
        "Exit rate falls with age class (BDS; HJM 2013)",
        f"falls in every seed (no rise beyond {NOISE_Z:g} s.e.); pooled: strictly",
        f"{int(s['age_falls'].sum())} of {n} seeds ({int(s['age_falls_strictly'].sum())} "
        f"strictly); pooled over seeds: "
        f"{'falls strictly' if v.falls_with(lc['exits'], 'age') else 'RISES'}",
    )
    abrupt = [c for c in lc["closures"] if c.months_declining < 3]
    worst = max((c.people_before for c in lc["closures"]), default=0.0)
    row(
        "No firm of 500+ people closes without months of decline (Griliches & Regev 1995)",
        "0 abrupt closures",
        f"{len(lc['closures'])} closures of firms that had 500+ people; {len(abrupt)} with "
        f"< 3 months of decline; largest head count in the month before closing {worst:.0f}",
    )
    falls: dict[str, float] = {}
    for f in lc["falls"]:
        for d, x in f.items():
            falls[d] = max(falls.get(d, 0.0), x)
    row(
        "Largest one-month fall of employment, districts with >= 10,000 jobs "
        f"({len(lc['falls'])} seeds x 96 months)",
        "< 8% (before: Huangpu 28%)",
        ", ".join(f"{d} {x:.1%}" for d, x in sorted(falls.items())) or "no such district",
    )
    row(
        "Annual growth exactly zero, surviving firms",
        "< 10% (before: 48%)",
        f"mean {s['zero_share'].mean():.2%}, max {s['zero_share'].max():.2%}",
    )
    row(
        "Laplace beats Normal by log-likelihood, firms whose size changed "
        "(Stanley et al. 1996; Bottazzi & Secchi 2003)",
        "every one of 10 seeds (before: 0 of 10)",
        f"{int(first10['laplace_better'].sum())} of {len(first10)} seeds "
        f"({int(s['laplace_better'].sum())} of {n}); log-likelihood gap "
        f"{s['laplace_minus_normal'].min():.0f}–{s['laplace_minus_normal'].max():.0f}",
    )
    row(
        "Growth dispersion falls with size: slope of log s.d. on log size (beta 0.15–0.2)",
        "negative",
        f"mean {s['dispersion_slope'].mean():.3f}, range {s['dispersion_slope'].min():.3f} "
        f"to {s['dispersion_slope'].max():.3f}",
    )
    drift = (s["hill_2027"] - s["hill_2020"]).abs()
    drift10 = drift.head(10)
    inside = ((s[["hill_2020", "hill_2027"]] >= 0.8) & (s[["hill_2020", "hill_2027"]] <= 1.3)).all(
        axis=1
    )
    row(
        "Hill exponent, top 10% of firm sizes (Axtell 2001: 1.06)",
        "in [0.8, 1.3] at 2020-12 and 2027-12, drift < 0.1",
        f"2020-12 mean {s['hill_2020'].mean():.2f} ({s['hill_2020'].min():.2f}–"
        f"{s['hill_2020'].max():.2f}); 2027-12 mean {s['hill_2027'].mean():.2f} "
        f"({s['hill_2027'].min():.2f}–{s['hill_2027'].max():.2f}); in range in "
        f"{int(inside.sum())} of {n} seeds; |drift| mean {drift.mean():.3f}, max "
        f"{drift.max():.3f} (seeds 0-9: max {drift10.max():.3f})",
    )
    lock = arth["arthur_lockin"]
    row(
        "Arthur (1990) unbounded returns lock in (`preset=arthur_lockin`)",
        ">= 95 of 100 seeds with a > 0.9 share",
        f"{int((lock > 0.9).sum())} of {len(lock)} seeds; smallest winner share {lock.min():.3f}",
    )
    bounded = arth["arthur_bounded"]
    row(
        "Arthur bounded returns share the industry (`preset=arthur_bounded`)",
        "no lock-in",
        f"largest share {bounded.max():.3f} over {len(bounded)} seeds",
    )
    row(
        "Relocation is a small share of job change (California: ~0.06% of jobs a year)",
        "small next to births and deaths",
        f"jobs moved between parks a year: {s['relocated_job_share'].mean():.2%} of employment",
    )
    row(
        "Entry and exit rates (calibration, `docs/ODD.md`)",
        "~15% each",
        f"entry {s['entry_rate'].mean():.1%}, exit {s['exit_rate'].mean():.1%} of firms a year",
    )
    growth = (s["employment_2027_12"] / s["employment_2020_01"]) ** (1 / 8) - 1
    row(
        "FinTech employment (scale, `conf/world/shanghai.yaml`)",
        "~60,000 in 2020, growing ~5% a year",
        f"2020-01 {s['employment_2020_01'].mean():,.0f}; 2027-12 "
        f"{s['employment_2027_12'].mean():,.0f} ({growth.mean():.1%} a year)",
    )
    lines += ["", "Exit rates by class, all seeds pooled (firm-years, closures in the year):", ""]
    lines += [
        "| by | class (lower bound) | firm-years | exits | rate |",
        "| --- | --- | --- | --- | --- |",
    ]
    for r in lc["exits"].itertuples():
        unit = "people" if r.by == "size" else "years"
        lines.append(f"| {r.by} | {r._2:g} {unit} | {r.firms} | {r.exits} | {r.rate:.1%} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Run the seeds, print the figures, and write them into docs/validation.md."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=20, help="seeds of the default world")
    parser.add_argument("--arthur-seeds", type=int, default=100, help="seeds of each Arthur preset")
    parser.add_argument("--print-only", action="store_true", help="do not rewrite the doc")
    args = parser.parse_args(argv)
    if args.seeds < 1 or args.arthur_seeds < 1:
        parser.error("--seeds and --arthur-seeds must be at least 1")
    t0 = time.perf_counter()
    seeds = range(args.seeds)
    lc = life_cycle(seeds, ["world=shanghai", "run.progress=false"])
    none = national_under_none(range(min(5, args.seeds)))
    arth = arthur(args.arthur_seeds)
    block = render(lc, arth, none, seeds, time.perf_counter() - t0)
    print(block)
    if not args.print_only:
        text = DOC.read_text()
        pattern = re.compile(re.escape(START) + ".*?" + re.escape(END), re.S)
        if not pattern.search(text):
            print(f"{DOC}: markers {START} ... {END} not found; nothing written", file=sys.stderr)
            return 1
        DOC.write_text(pattern.sub(lambda _: f"{START}\n{block}{END}", text))
        print(f"wrote {DOC}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
