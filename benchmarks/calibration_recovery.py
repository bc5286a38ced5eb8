"""Parameter recovery, the full check: six parameters of the toy world, ABC-SMC.

Generates targets from the model itself at known values (mean of five seeds), calibrates
conf/calibration/toy.yaml against them, and prints for each parameter the true value, the
posterior median and 90% interval, whether the truth is inside, and the interval's width
relative to the prior's. The issue asks for the truth inside for at least 5 of 6 and every
posterior narrower than its prior.

    python benchmarks/calibration_recovery.py [population=100 generations=4] [--workers 2]

Hydra launcher settings among the settings choose how the runs are launched
(``hydra/launcher=basic``); by default ``cores`` with ``--workers`` processes.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import yaml

from clustersim.calibrate.engine import rejection, smc
from clustersim.calibrate.launch import Launch, is_hydra_setting
from clustersim.calibrate.posterior import summarise
from clustersim.calibrate.problem import load_problem
from clustersim.calibrate.recovery import write_synthetic_targets
from clustersim.paths import conf_dir

#: The "unknown" truth: away from the defaults and from the prior's edges.
TRUE = {
    "behavior.exit.kind_multiplier.high_growth": 1.8,
    "behavior.exit.financing_multiplier": 2.0,
    "behavior.growth.volatility": 0.4,
    "behavior.growth.size_elasticity": 0.3,
    "behavior.growth.drift.high_growth": 0.007,
    "behavior.growth.exit_size": 0.8,
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("settings", nargs="*", default=["population=100", "generations=4"])
    parser.add_argument("--folder", default="results/calibration/recovery")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    folder = Path(args.folder)
    folder.mkdir(parents=True, exist_ok=True)
    spec = yaml.safe_load((conf_dir() / "calibration" / "toy.yaml").read_text())
    base = load_problem("toy")
    targets = write_synthetic_targets(
        base, [TRUE[p.key] for p in base.parameters], range(100, 105), folder / "targets.yaml"
    )
    spec["targets"] = str(targets)
    spec["folder"] = str(folder)
    (folder / "spec.yaml").write_text(yaml.safe_dump(spec))
    own = [s for s in args.settings if not is_hydra_setting(s)]
    hydra = [s for s in args.settings if is_hydra_setting(s)]
    if not any(s.startswith("hydra/launcher=") for s in hydra):
        hydra += ["hydra/launcher=cores", f"hydra.launcher.n_jobs={args.workers}"]
    problem = load_problem(folder / "spec.yaml", extra=own)
    launch = Launch(problem, folder, hydra)
    t0 = time.perf_counter()
    run = smc if problem.spec.method == "smc" else rejection
    particles = run(problem, folder, launch)
    wall = time.perf_counter() - t0
    summary = summarise(problem, particles)
    inside = 0
    print(f"{'parameter':36} {'true':>9} {'median':>9} {'5%':>9} {'95%':>9} inside width/prior")
    for row in summary.itertuples():
        true = TRUE[row.parameter]
        ok = row.q05 <= true <= row.q95
        inside += ok
        print(
            f"{row.parameter:36} {true:9.4g} {row.median:9.4g} {row.q05:9.4g} {row.q95:9.4g} "
            f"{'yes' if ok else 'NO ':>6} {row.width_ratio:10.2f}"
        )
    runs = sum(1 for p in (folder / "runs").iterdir() if (p / "COMPLETE").is_file())
    print(
        f"truth inside the 90% interval: {inside} of {len(summary)}; "
        f"narrower than the prior: {(summary['width_ratio'] < 1).sum()} of {len(summary)}"
    )
    print(f"{runs} model runs, {wall:.0f} s ({launch.launcher_name}: {' '.join(hydra)})")
    return 0 if inside >= 5 and (summary["width_ratio"] < 1).all() else 1


if __name__ == "__main__":
    raise SystemExit(main())
