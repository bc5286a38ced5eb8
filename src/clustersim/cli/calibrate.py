"""``clustersim-calibrate``: fit behavioural parameters to published figures.

Usage::

    clustersim-calibrate <calibration> [setting=value ...] [hydra/launcher=NAME ...]
                         [--workers N] [--preset-dir DIR | --no-preset] [--report-only]

``<calibration>`` names ``conf/calibration/<name>.yaml`` (or is a path). Settings of the
calibration config can be changed on the command line (``population=50``,
``method=rejection``, ``folder=results/calibration/try``); ``overrides+=world.end=2023-12``
adds (or replaces) a base override of every run. Hydra settings choose the launcher
that runs the model, as for a sweep: ``hydra/launcher=basic`` (one run after the other,
in this process), ``hydra/launcher=cores`` (the default: joblib, every core),
``hydra/launcher=slurm hydra.launcher.partition=...``, ``hydra/launcher=ray_cluster``;
``--workers N`` is short for ``hydra.launcher.n_jobs=N`` (joblib launchers). The
posterior does not depend on the launcher. What it writes, and how it resumes:
``clustersim.calibrate.workflow`` and docs/calibration.md.

Bad input (a calibration config or targets file that does not check out, a folder that
holds a calibration of other settings) gets one line naming the field, the value and
what is allowed, exit status 2, and nothing is written. Interrupted (Ctrl-C), it says so
and exits with status 1: the same command resumes.
"""

from __future__ import annotations

import sys
from pathlib import Path

from clustersim.cli.common import BAD_INPUT, FAILED, OK, command, fail
from clustersim.config import ConfigError


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``clustersim-calibrate``; returns the exit status."""
    from clustersim.paths import conf_dir

    parser = command(
        "clustersim-calibrate",
        "Fit behavioural parameters to published figures by approximate Bayesian "
        "computation (pyabc ABC-SMC, or rejection on a Sobol design), then write the "
        "posterior, the calibrated presets and the calibration report: docs/calibration.md",
    )
    parser.add_argument(
        "calibration", help="name in conf/calibration/ (e.g. shanghai, toy) or a path"
    )
    parser.add_argument(
        "settings",
        nargs="*",
        help="setting=value changes to the calibration config (population=50, "
        "method=rejection, folder=..., overrides+=world.end=2023-12), and Hydra settings "
        "of the launcher that runs the model (hydra/launcher=basic|cores|slurm|"
        "slurm_local|ray_cluster, hydra.launcher.<field>=...; default: cores)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=None,
        help="processes running the model, short for hydra.launcher.n_jobs=N (joblib "
        "launchers: cores, joblib); default: every core",
    )
    parser.add_argument(
        "--preset-dir",
        type=Path,
        default=conf_dir() / "behavior",
        help="where the presets go: <preset>.yaml and <preset>_draw_NN.yaml (preset: of "
        "the calibration config)",
    )
    parser.add_argument("--no-preset", action="store_true", help="do not write the presets")
    parser.add_argument(
        "--report-only",
        action="store_true",
        help="rebuild the report and presets (of the generations finished so far)",
    )
    args = parser.parse_intermixed_args(argv)  # settings may follow the options
    if args.workers is not None and args.workers < 1:
        return fail(parser, f"--workers = {args.workers}: must be at least 1")
    if args.no_preset and args.preset_dir != parser.get_default("preset_dir"):
        return fail(parser, "--preset-dir and --no-preset: give one of them, not both")

    from clustersim.calibrate.workflow import calibrate
    from clustersim.results.locks import FolderBusyError

    preset_dir = None if args.no_preset else args.preset_dir
    settings = list(args.settings)
    if args.workers is not None:
        settings.append(f"hydra.launcher.n_jobs={args.workers}")
    try:
        calibrate(args.calibration, settings, preset_dir, args.report_only)
    except ConfigError as err:
        return fail(parser, f"invalid calibration: {err}", BAD_INPUT)
    except FolderBusyError as err:
        return fail(parser, str(err), FAILED)
    except OSError as err:
        return fail(parser, f"cannot write the calibration's outputs: {err}", BAD_INPUT)
    except KeyboardInterrupt:
        return fail(parser, "interrupted; run the same command again to resume", FAILED)
    return OK


if __name__ == "__main__":
    sys.exit(main())
