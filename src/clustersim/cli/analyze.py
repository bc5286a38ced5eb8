"""``clustersim-analyze``: sensitivity indices and scenario discovery for a sensitivity sweep.

Usage::

    clustersim-analyze sensitivity <sweep> [--outcome caused_jobs ...] [--month 2027-12]
    clustersim-analyze discover <sweep> --where "cost_per_caused_job > 1e6" [--box 12]

The sweep must have been made with a sensitivity design (``experiment=sensitivity_sobol``
or ``sensitivity_morris``, or ``hydra/sweeper=sensitivity``). ``sensitivity`` writes
``<sweep>/analysis/<method>_indices.parquet`` (one row per outcome, index and parameter,
with its bootstrap interval), ``<method>_convergence.parquet`` (each index at N/2 and N)
and one figure per outcome; ``discover`` writes the PRIM peeling trajectory, the PRIM
box limits per step, the CART leaves and the peeling figure. Bad input (not a sensitivity
sweep, an unknown outcome or column, too few runs...) gets one line naming the field, the
value and what is allowed, exit status 2, and nothing written.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

from clustersim.analysis.errors import AnalysisError

#: Exit status for bad input (as argparse uses for bad arguments).
BAD_INPUT = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="clustersim-analyze",
        description="Sensitivity indices and scenario discovery for a sensitivity sweep.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sens = sub.add_parser(
        "sensitivity",
        help="Sobol indices (S1, ST) or Morris mu*/sigma per outcome, with a convergence check",
    )
    sens.add_argument("sweep", type=Path, help="the sweep folder")
    sens.add_argument(
        "--outcome",
        action="append",
        default=None,
        help="outcome to analyse (repeatable): a name such as caused_jobs (every plan and "
        "month), or one column such as caused_jobs@2027-12; default: caused jobs and firms, "
        "spending per caused job, employment by area, leading firms, innovative projects",
    )
    sens.add_argument("--month", default=None, help="report month of plain names (default: last)")
    sens.add_argument("--resamples", type=int, default=1000, help="bootstrap resamples (1000)")
    sens.add_argument("--conf-level", type=float, default=0.95, help="interval level (0.95)")
    sens.add_argument("--seed", type=int, default=0, help="seed of the bootstrap (0)")
    disc = sub.add_parser("discover", help="PRIM boxes and a CART tree for a condition")
    disc.add_argument("sweep", type=Path, help="the sweep folder")
    disc.add_argument(
        "--where",
        required=True,
        help="condition on outcomes, e.g. 'cost_per_caused_job > 1e6' or "
        "'caused_jobs_pudong_2027 > caused_jobs_huangpu_2024'",
    )
    disc.add_argument("--box", type=int, default=None, help="step of the peeling trajectory")
    disc.add_argument("--month", default=None, help="report month of plain names (default: last)")
    disc.add_argument("--peel-alpha", type=float, default=0.05, help="share peeled per step")
    disc.add_argument("--mass-min", type=float, default=0.05, help="smallest box (share of runs)")
    disc.add_argument("--name", default="discovery", help="prefix of the files written")
    return parser


def _print_sensitivity(result) -> None:
    method = result.design.method
    print(
        f"{method} design: {len(result.design.space)} parameters, n={result.design.n}, "
        f"{result.design.rows} design rows, seed {result.design.seed}"
    )
    key = "ST" if method == "sobol" else "mu_star"
    table = result.indices
    for outcome in result.outcomes:
        rows = table[(table.outcome == outcome) & (table["index"] == key)]
        rows = rows.sort_values("value", ascending=False).head(3)
        top = ", ".join(
            f"{r.parameter} {r.value:.3g} [{r.low:.3g}, {r.high:.3g}]" for r in rows.itertuples()
        )
        if rows["note"].astype(bool).any():
            print(f"  {outcome}: {rows['note'].iloc[0]}")
            continue
        conv = result.convergence[result.convergence.outcome == outcome]
        flag = "" if conv["converged"].all() else "  (not converged at N/2 vs N)"
        print(f"  {outcome}: {key} {top}{flag}")
    for name, why in result.skipped.items():
        print(f"  {name}: not analysed, {why}")


def _print_discovery(result) -> None:
    prim = result.prim
    box = prim.box
    print(
        f"{result.condition}: {prim.cases} of {prim.runs} design points; PRIM box at step "
        f"{prim.chosen} of {len(prim.trajectory) - 1}: coverage {box['coverage']:.2f}, "
        f"density {box['density']:.2f}, mass {box['mass']:.2f}"
    )
    for r in prim.box_limits.itertuples():
        full = prim.ranges.set_index("parameter").loc[r.parameter]
        print(
            f"  {r.parameter} in [{r.low:.4g}, {r.high:.4g}]"
            f"  (sampled {full.low:.4g}..{full.high:.4g})"
        )
    if prim.box_limits.empty:
        print("  (the box restricts no parameter: pick a later step with --box)")
    best = result.cart[result.cart.leaf == result.cart.leaf.iloc[0]]
    limits = ", ".join(
        f"{r.parameter} in [{r.low:.4g}, {r.high:.4g}]"
        for r in best.itertuples()
        if not pd.isna(r.parameter)
    )
    print(
        f"CART densest leaf: coverage {best.coverage.iloc[0]:.2f}, density "
        f"{best.density.iloc[0]:.2f}: {limits or 'no restriction'}"
    )


def main(argv: list[str] | None = None) -> int:
    """Run ``clustersim-analyze``; exit 0 on success, 2 on bad input."""
    from clustersim.analysis import study

    args = _parser().parse_args(argv)
    try:
        if args.command == "sensitivity":
            result = study.analyse_sweep(
                args.sweep,
                args.outcome,
                month=args.month,
                resamples=args.resamples,
                conf_level=args.conf_level,
                seed=args.seed,
            )
            written = study.write_sensitivity(result, args.sweep)
            _print_sensitivity(result)
        else:
            found = study.discover_sweep(
                args.sweep,
                args.where,
                box=args.box,
                month=args.month,
                peel_alpha=args.peel_alpha,
                mass_min=args.mass_min,
            )
            written = study.write_discovery(found, args.sweep, args.name)
            _print_discovery(found)
    except AnalysisError as err:
        print(f"clustersim-analyze {args.command}: {err}", file=sys.stderr)
        return BAD_INPUT
    print(f"wrote {len(written)} files to {Path(args.sweep) / study.ANALYSIS_DIR}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
