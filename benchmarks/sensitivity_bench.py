"""Cost of sensitivity studies: a Morris screen and a Sobol design, run and analysed.

Prints, does not assert (speed is measured here, never in tests):

1. A Morris screen of the ten parameters of conf/sensitivity/behaviour.yaml run through
   the real ``clustersim-run -m experiment=sensitivity_morris`` (each point with its
   counterfactual) on the chosen world, with ``--trajectories`` trajectories (the issue's
   target: 20 trajectories = 220 runs in under 6 minutes on the default world). Prints
   the wall time, the runs and the wall time per run.
2. The Sobol design of the ``sensitivity_sobol`` preset (6 parameters, N=256: 3,584 runs):
   its size, and, from its first ``--sobol-jobs`` jobs and then twice as many (each a
   fresh sweep through the same command), the wall time per run beyond what a sweep pays
   once, and the extrapolated total (the fixed cost once, plus 3,584 runs).
3. The analysis itself on a design of that size (synthetic outcomes, 16 outcomes x 1,000
   bootstrap resamples, with the N/2 convergence check): its time.

Usage: python benchmarks/sensitivity_bench.py [--world shanghai] [--trajectories 20]
       [--sobol-jobs 56] [--out /tmp/sens_bench]
The machine may be shared: the figures say what was measured, under whatever load.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np


def run_design(experiment: str, world: str, n: int, sweep: Path) -> tuple[float, str]:
    """Run a preset's design of size ``n`` into a fresh ``sweep``: wall seconds, its log."""
    shutil.rmtree(sweep, ignore_errors=True)
    args = ["-m", f"experiment={experiment}", f"world={world}", f"hydra.sweeper.n={n}"]
    return run_sweep([*args, f"hydra.sweep.dir={sweep}"], sweep.parent)


def run_sweep(args: list[str], cwd: Path) -> tuple[float, str]:
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "clustersim.cli.run", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=dict(os.environ, PYTHONHASHSEED="0"),
    )
    took = time.perf_counter() - start
    if proc.returncode != 0:
        print(proc.stderr[-3000:], file=sys.stderr)
        raise SystemExit(f"sweep failed: {' '.join(args)}")
    return took, proc.stdout + proc.stderr


def count_runs(sweep: Path) -> int:
    return sum(1 for p in sweep.iterdir() if (p / "COMPLETE").is_file())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--world", default="shanghai")
    parser.add_argument("--trajectories", type=int, default=20)
    parser.add_argument("--sobol-jobs", type=int, default=56, help="jobs of the Sobol design run")
    parser.add_argument("--out", type=Path, default=Path("/tmp/sensitivity_bench"))
    parser.add_argument("--skip-morris", action="store_true")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at start")

    if not args.skip_morris:
        sweep = args.out / "morris"
        took, _ = run_design("sensitivity_morris", args.world, args.trajectories, sweep)
        runs = count_runs(sweep)
        print(
            f"morris: 10 parameters x {args.trajectories} trajectories on world={args.world}: "
            f"{runs} distinct runs (each with its counterfactual) in {took:.0f} s wall, "
            f"{took / runs:.2f} s per run; 220 runs would take ~{220 * took / runs / 60:.1f} min"
        )
        start = time.perf_counter()
        from clustersim.analysis.study import analyse_sweep

        analyse_sweep(sweep)
        print(f"morris: analysis of every default outcome {time.perf_counter() - start:.1f} s")

    from clustersim.analysis.designs import sample
    from clustersim.analysis.space import load_space

    names = [
        "behavior.entry.but_for_share",
        "behavior.entry.subsidy_weight",
        "behavior.policy_response.horizon_years",
        "behavior.agglomeration.strength",
        "behavior.entry.talent_weight",
        "behavior.growth.volatility",
    ]
    design = sample(load_space("behaviour").subset(names), "sobol", 256, seed=0)
    print(f"sobol: 6 parameters, N=256, second order: {design.rows} runs")
    if args.sobol_jobs > 0:
        # the first jobs of the preset's design: a smaller N is a prefix of the same Sobol
        # sequence, so N=4 runs the first 4*14 = 56 design rows of N=256. Two sizes (N and
        # 2N, fresh folders) separate what a sweep pays once (starting, planning, the
        # workers' imports, collecting) from what each run costs: the full design pays the
        # first once and the second 3,584 times.
        n = max(1, args.sobol_jobs // 14)
        took: dict[int, tuple[float, int, int]] = {}
        for size in (n, 2 * n):
            sweep = args.out / f"sobol_{size}"
            wall, log = run_design("sensitivity_sobol", args.world, size, sweep)
            took[size] = (wall, count_runs(sweep), log.count("counterfactual shared from"))
            wall, runs, shared = took[size]
            print(
                f"sobol: {runs} runs of the design on world={args.world} in {wall:.0f} s wall "
                f"({wall / runs:.2f} s a run, fixed costs included; {shared} counterfactuals "
                "shared)"
            )
        (w1, r1, _), (w2, r2, _) = took[n], took[2 * n]
        per = (w2 - w1) / (r2 - r1)
        fixed = w1 - per * r1
        print(
            f"sobol: {per:.2f} s wall a run beyond what a sweep pays once ({fixed:.0f} s); "
            f"the 3,584 runs would take ~{(fixed + 3584 * per) / 60:.0f} min "
            "(extrapolated, not run)"
        )

    from clustersim.analysis.study import analyse_table

    rng = np.random.default_rng(0)
    x = design.values
    scaled = (x - x.min(axis=0)) / np.ptp(x, axis=0)
    import pandas as pd

    table = pd.DataFrame(x, columns=design.space.names)
    outcomes = {}
    for k in range(16):
        w = rng.uniform(0, 1, size=6)
        outcomes[f"y{k}"] = scaled @ w + np.sin(3 * scaled[:, 0]) * scaled[:, 1] * k / 8
    table = pd.concat([table, pd.DataFrame(outcomes)], axis=1)
    start, cpu = time.perf_counter(), time.process_time()
    result = analyse_table(design, table, outcomes=list(outcomes))
    took, cpu = time.perf_counter() - start, time.process_time() - cpu
    print(
        f"sobol: analysis of {len(outcomes)} outcomes over {design.rows} runs (1,000 bootstrap "
        f"resamples, N/2 check): {took:.1f} s wall, {cpu:.1f} s of CPU "
        f"({len(result.indices)} index rows)"
    )
    print(f"load average at end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
