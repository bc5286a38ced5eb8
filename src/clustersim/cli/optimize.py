"""``clustersim-optimize``: search a plan's instrument mixes under its budget, and report.

Usage::

    clustersim-optimize experiment=optimize_huangpu                     # the preset
    clustersim-optimize experiment=optimize_huangpu world=toy optimize.trials=30
    clustersim-optimize optimize.plan=huangpu_2024 optimize.objectives=[jobs,firms]
    clustersim-optimize --report-only results/optimize/huangpu          # tables -> report

Arguments are Hydra overrides on ``conf/config.yaml``: ``optimize.<key>=...`` sets a
study setting (``conf/optimize/default.yaml`` lists them), ``experiment=<preset>`` picks a
preset, and any other override (``world=toy``, ``behavior.entry.subsidy_weight=2``) is
added to every run of the study. Rerunning the same command resumes the study (trials
already done and runs already in the folder are not repeated). At the end the command
writes ``report.html`` and ``report.md`` into the study folder.

Bad input (an unknown setting, an instrument not of the plan, a multiple above the
clause's cap, a budget of 0, ...) gets one line naming the field, the value and what is
allowed, exit status 2, and nothing written.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from clustersim.config import ConfigError

#: Exit statuses (as the project's other tools).
OK, FAILED, BAD_INPUT = 0, 1, 2

_STUDY_KEYS = ("optimize.", "optimize=", "+optimize", "experiment=", "+experiment=")


def split_overrides(overrides: Sequence[str]) -> tuple[list[str], list[str]]:
    """(study overrides, scenario overrides): what sets the study, what goes to every run."""
    study = [o for o in overrides if o.startswith(_STUDY_KEYS)]
    scenario = [o for o in overrides if not o.startswith(_STUDY_KEYS)]
    return study, scenario


def _has_experiment_group(config: Path) -> bool:
    """True if ``config.yaml``'s defaults list has an ``experiment`` entry (no ``+`` needed)."""
    import yaml

    defaults = (yaml.safe_load(config.read_text()) or {}).get("defaults") or []
    return any(isinstance(d, dict) and "experiment" in d for d in defaults)


def _check_keys(overrides: Sequence[str]) -> None:
    """An ``optimize.<key>=`` override must name a study setting (else one clear error)."""
    import dataclasses

    from clustersim.optimize.errors import StudyConfigError
    from clustersim.optimize.spec import StudySpec

    names = [f.name for f in dataclasses.fields(StudySpec)]
    for o in overrides:
        key, _, value = o.lstrip("+~").partition("=")
        if key.startswith("optimize."):
            top = key.split(".")[1]
            if top not in names:
                raise StudyConfigError(key, value, f"unknown key; allowed: {', '.join(names)}")


def compose_study(overrides: Sequence[str]) -> dict:
    """The composed ``optimize`` node for these study overrides (defaults filled in)."""
    from hydra import compose, initialize_config_dir
    from omegaconf import OmegaConf

    from clustersim.paths import conf_dir

    _check_keys(overrides)
    overrides = list(overrides)
    if not any(o.split("=", 1)[0].lstrip("+") == "experiment" for o in overrides):
        overrides.insert(0, "+optimize=default")
    elif not _has_experiment_group(conf_dir() / "config.yaml"):
        overrides = [("+" + o) if o.startswith("experiment=") else o for o in overrides]
    with initialize_config_dir(config_dir=str(conf_dir()), version_base="1.3"):
        cfg = compose("config", overrides=overrides)
    node = OmegaConf.to_container(cfg.get("optimize"), resolve=True)
    return node if isinstance(node, dict) else {}


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``clustersim-optimize``; returns the exit status."""
    parser = argparse.ArgumentParser(
        prog="clustersim-optimize",
        description="Search one plan's instrument mixes (in force or not, amounts within "
        "the clauses' caps, shares of the yearly budget) for the most caused jobs, firms, "
        "leading firms or innovative projects; check the best on fresh seeds; report.",
    )
    parser.add_argument("overrides", nargs="*", help="Hydra overrides (see the module doc)")
    parser.add_argument(
        "--report-only",
        type=Path,
        default=None,
        metavar="STUDY",
        help="only (re)write the report of an existing study folder",
    )
    parser.add_argument("--no-report", action="store_true", help="do not write the report")
    args = parser.parse_args(argv)

    from hydra.errors import HydraException
    from omegaconf.errors import OmegaConfBaseException

    from clustersim.optimize import optimize
    from clustersim.optimize.report import write_report
    from clustersim.optimize.spec import spec_from_mapping
    from clustersim.optimize.study import load_spec

    try:
        if args.report_only is not None:
            spec = load_spec(args.report_only)
            html, md = write_report(spec)
            print(f"optimize: report {html} (and {md})")
            return OK
        study_overrides, scenario = split_overrides(args.overrides)
        node = compose_study(study_overrides)
        node["base"] = [*(node.get("base") or []), *scenario]
        spec = spec_from_mapping(node)
        result = optimize(spec)
    except ConfigError as err:
        print(f"clustersim-optimize: {err}", file=sys.stderr)
        return BAD_INPUT
    except (HydraException, OmegaConfBaseException) as err:
        print(f"clustersim-optimize: {err}", file=sys.stderr)
        return BAD_INPUT
    except FileNotFoundError as err:
        print(f"clustersim-optimize: {err}", file=sys.stderr)
        return BAD_INPUT
    except KeyboardInterrupt:
        print("clustersim-optimize: interrupted; rerun the same command to resume", file=sys.stderr)
        return FAILED
    _print_summary(result)
    if not args.no_report:
        html, md = write_report(spec)
        print(f"optimize: report {html} (and {md})")
    return OK


def _print_summary(result: Any) -> None:
    """Print where the tables are and the best mixes against the plan as written."""
    t = result.trials
    done = t[t["state"] == "complete"]
    print(
        f"optimize: {len(done)} trials in {result.folder}/trials.parquet; "
        f"{len(result.front)} on the front (pareto.parquet)"
    )
    if result.validation is not None and len(result.validation):
        v = result.validation
        for _, row in v[v["measure"] == f"caused_{result.study.spec.objectives[0]}"].iterrows():
            print(
                f"optimize: {row['mix_label']}: {row['mean']:,.0f} caused vs "
                f"{row['written_mean']:,.0f} as written; difference {row['difference']:+,.0f} "
                f"[{row['difference_low']:+,.0f}, {row['difference_high']:+,.0f}] "
                f"on {int(row['seeds'])} fresh seeds"
            )


if __name__ == "__main__":
    sys.exit(main())
