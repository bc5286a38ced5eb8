"""``clustersim-calibrate``: fit behavioural parameters to published figures.

Usage::

    clustersim-calibrate <calibration> [setting=value ...] [--workers N]
                         [--preset-dir DIR | --no-preset] [--report-only]

``<calibration>`` names ``conf/calibration/<name>.yaml`` (or is a path). Settings of the
calibration config can be changed on the command line (``population=50``,
``method=rejection``, ``folder=results/calibration/try``); ``overrides+=world.end=2023-12``
adds (or replaces) a base override of every run.

Writes into the calibration's folder (``results/calibration/<name>`` by default):
``runs/`` (one settings-named run folder per simulation), ``abc.db`` (pyabc's record of
the generations), ``particles.parquet`` (every particle: parameter values, statistics,
distance, weight, generation), ``posterior.parquet`` (equal-weight posterior draws),
``parameters.csv`` (prior and posterior summary), ``report.html`` and ``report.md``; and
the presets ``calibrated.yaml`` and ``calibrated_draw_NN.yaml`` into ``conf/behavior/``
(or ``--preset-dir``). Running the same command again resumes: finished runs and
generations are not redone.

Bad input (a calibration config or targets file that does not check out, a folder that
holds a calibration of other settings) gets one line naming the field, the value and
what is allowed, exit status 2, and nothing is written.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
from pathlib import Path
from typing import Any

import pandas as pd

from clustersim.config import ConfigError

BAD_INPUT = 2
#: The calibration folder's record of what it holds.
MANIFEST = "calibration.json"
#: Posterior draws written as behaviour presets for experiment=posterior_compare_plans.
PRESET_DRAWS = 10


def fingerprint(problem: Any) -> str:
    """What a calibration folder's runs and generations depend on (not how many generations)."""
    spec = problem.spec
    data = {
        "targets": [t.__dict__ for t in problem.targets.targets],
        "parameters": [p.__dict__ for p in spec.parameters],
        "overrides": list(spec.overrides),
        "method": spec.method,
        "population": spec.population,
        "design_points": spec.design_points,
        "accept": spec.accept,
        "seed": spec.seed,
        "runs_per_point": spec.runs_per_point,
    }
    text = json.dumps(data, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _check_folder(folder: Path, print_: str) -> None:
    manifest = folder / MANIFEST
    if manifest.is_file():
        found = json.loads(manifest.read_text()).get("fingerprint")
        if found != print_:
            raise ConfigError(
                "folder",
                str(folder),
                f"holds a calibration of other settings (fingerprint {found}, this one "
                f"{print_}): use another folder= or remove it to start again",
            )


def _count_runs(folder: Path) -> tuple[int, int]:
    from clustersim.calibrate.runs import RUNS_DIR
    from clustersim.results.run_folder import MARKER

    runs = folder / RUNS_DIR
    done = sum(1 for p in runs.iterdir() if (p / MARKER).is_file()) if runs.is_dir() else 0
    failures = runs / ".failures"
    failed = sum(1 for _ in failures.glob("*.json")) if failures.is_dir() else 0
    return done, failed


def calibrate(
    name: str,
    settings: list[str],
    workers: int,
    preset_dir: Path | None,
    report_only: bool = False,
    log: Any = print,
) -> Path:
    """Run (or resume) a calibration and write its outputs; return its folder."""
    from clustersim.calibrate.engine import rejection, smc
    from clustersim.calibrate.posterior import draw, summarise, write_presets
    from clustersim.calibrate.problem import load_problem
    from clustersim.calibrate.report import build_report, write_calibration_report
    from clustersim.results.sweep_folder import write_json_atomic

    problem = load_problem(name, extra=settings)  # every check before anything is written
    spec = problem.spec
    folder = Path(spec.folder)
    stamp = fingerprint(problem)
    _check_folder(folder, stamp)
    if spec.method == "smc":
        try:
            import pyabc  # noqa: F401
        except ImportError:
            raise ConfigError(
                "method",
                "smc",
                "needs pyabc: pip install -e '.[calibrate]'; or method=rejection (fast mode)",
            ) from None
    particles_path = folder / "particles.parquet"
    if report_only:
        particles = _finished_so_far(problem, folder, particles_path)
    else:
        folder.mkdir(parents=True, exist_ok=True)
        write_json_atomic(
            folder / MANIFEST, {"fingerprint": stamp, "calibration": spec.name, "status": "running"}
        )
        log(
            f"calibrate {spec.name}: {spec.method}, {len(spec.parameters)} parameters, "
            f"{len(problem.fit_targets)} fitting targets, folder {folder}"
        )
        if spec.method == "smc":
            particles = smc(problem, folder, workers, progress=log)
        else:
            particles = rejection(problem, folder, workers)
        _atomic_parquet(particles, particles_path)
    n_runs, failed = _count_runs(folder)
    draws = draw(
        problem, particles, max(spec.population, int(particles["accepted"].sum())), spec.seed
    )
    _atomic_parquet(draws, folder / "posterior.parquet")
    summarise(problem, particles).to_csv(folder / "parameters.csv", index=False)
    if preset_dir is not None:
        few = draw(problem, particles, PRESET_DRAWS, spec.seed + 1)
        written = write_presets(problem, particles, few, preset_dir, n_runs)
        log(f"presets: {written[0]} and {len(written) - 1} posterior draws")
    html, md = write_calibration_report(build_report(problem, particles, n_runs, failed), folder)
    if report_only:
        log(f"report: {html} ({md})")
        return folder
    write_json_atomic(
        folder / MANIFEST,
        {
            "fingerprint": stamp,
            "calibration": spec.name,
            "status": "complete",
            "runs": n_runs,
            "failed": failed,
        },
    )
    log(f"report: {html} ({md})")
    return folder


def _finished_so_far(problem: Any, folder: Path, particles_path: Path) -> pd.DataFrame:
    """The particles of a finished calibration, or of the generations finished so far."""
    from clustersim.calibrate.engine import DATABASE, smc_particles

    if problem.spec.method == "smc" and (folder / DATABASE).is_file():
        particles = smc_particles(problem, folder)
        if len(particles):
            return particles
    if particles_path.is_file():
        return pd.read_parquet(particles_path)
    raise ConfigError("--report-only", str(folder), "no finished generation there yet")


def _atomic_parquet(frame: pd.DataFrame, path: Path) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    frame.to_parquet(tmp, index=False)
    os.replace(tmp, path)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    from clustersim.paths import conf_dir

    parser = argparse.ArgumentParser(
        prog="clustersim-calibrate",
        description="Fit behavioural parameters to published figures (ABC): docs/calibration.md",
    )
    parser.add_argument(
        "calibration", help="name in conf/calibration/ (e.g. shanghai, toy) or a path"
    )
    parser.add_argument(
        "settings", nargs="*", help="setting=value changes to the calibration config"
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=os.cpu_count() or 1,
        help="processes running the model (default: every core)",
    )
    parser.add_argument(
        "--preset-dir",
        type=Path,
        default=None,
        help="where calibrated.yaml and the draw presets go (default conf/behavior)",
    )
    parser.add_argument("--no-preset", action="store_true", help="do not write the presets")
    parser.add_argument(
        "--report-only",
        action="store_true",
        help="rebuild the report and presets (of the generations finished so far)",
    )
    args = parser.parse_args(argv)
    if args.workers < 1:
        parser.error(f"--workers = {args.workers}: must be at least 1")
    preset_dir = None if args.no_preset else (args.preset_dir or conf_dir() / "behavior")
    try:
        calibrate(args.calibration, args.settings, args.workers, preset_dir, args.report_only)
    except ConfigError as err:
        print(f"clustersim-calibrate: invalid calibration: {err}", file=sys.stderr)
        return BAD_INPUT
    return 0


if __name__ == "__main__":
    sys.exit(main())
