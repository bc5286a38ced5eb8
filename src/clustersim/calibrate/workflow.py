"""A calibration from its config to its outputs: run or resume, then posterior, presets, report.

``calibrate(name, settings, preset_dir)`` is what ``clustersim-calibrate``
(``clustersim.cli.calibrate``) runs. ``settings`` change the calibration config
(``population=50``) or, when they are Hydra's (``hydra/launcher=basic``,
``hydra.launcher.n_jobs=2``), choose the launcher that runs the model
(``clustersim.calibrate.launch``). It checks the calibration config, its targets and the
launcher before anything is written, refuses a folder that holds a calibration of other
settings (``calibration.json``'s fingerprint) or that another calibration is using (the
runs folder's lock, as a sweep's), runs the inference (``engine.smc`` or
``engine.rejection``), and writes into the calibration's folder
(``results/calibration/<name>`` by default):
``runs/`` (one settings-named run folder per simulation), ``abc.db`` (pyabc's record of
the generations), ``particles.parquet`` (every particle: parameter values, statistics,
distance, weight, generation), ``posterior.parquet`` (equal-weight posterior draws),
``parameters.csv`` (prior and posterior summary), ``report.html`` and ``report.md``; and
the presets ``<preset>.yaml`` and ``<preset>_draw_NN.yaml`` into ``preset_dir`` (``preset``
of the calibration config: ``calibrated`` for shanghai, ``calibrated_toy`` for toy).
Running the same calibration again resumes: finished runs and generations are not redone.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import pandas as pd

from clustersim.config import ConfigError

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
    preset_dir: Path | None,
    report_only: bool = False,
    log: Any = print,
) -> Path:
    """Run (or resume) a calibration and write its outputs; return its folder."""
    from clustersim.calibrate.engine import rejection, smc
    from clustersim.calibrate.launch import Launch, is_hydra_setting
    from clustersim.calibrate.posterior import draw, summarise, write_presets
    from clustersim.calibrate.problem import load_problem
    from clustersim.calibrate.report import build_report, write_calibration_report
    from clustersim.results.locks import lock_sweep
    from clustersim.results.sweep_folder import write_json_atomic

    hydra = [s for s in settings if is_hydra_setting(s)]
    own = [s for s in settings if not is_hydra_setting(s)]
    problem = load_problem(name, extra=own)  # every check before anything is written
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
        launch = Launch(problem, folder, hydra, log=log)  # checked before anything is written
        folder.mkdir(parents=True, exist_ok=True)
        with lock_sweep(launch.runs, what="folder="):
            write_json_atomic(
                folder / MANIFEST,
                {"fingerprint": stamp, "calibration": spec.name, "status": "running"},
            )
            log(
                f"calibrate {spec.name}: {spec.method}, {len(spec.parameters)} parameters, "
                f"{len(problem.fit_targets)} fitting targets, folder {folder}, "
                f"runs launched by {launch.launcher_name}"
            )
            if spec.method == "smc":
                particles = smc(problem, folder, launch, progress=log)
            else:
                particles = rejection(problem, folder, launch)
            _atomic_parquet(particles, particles_path)
    n_runs, failed = _count_runs(folder)
    draws = draw(
        problem, particles, max(spec.population, int(particles["accepted"].sum())), spec.seed
    )
    _atomic_parquet(draws, folder / "posterior.parquet")
    summarise(problem, particles).to_csv(folder / "parameters.csv", index=False)
    if preset_dir is not None:
        few = draw(problem, particles, PRESET_DRAWS, spec.seed + 1)
        command = " ".join(["clustersim-calibrate", name, *own])
        written = write_presets(problem, particles, few, preset_dir, n_runs, command)
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
