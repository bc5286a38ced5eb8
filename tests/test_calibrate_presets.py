"""The shipped calibration results compose and run like any other config.

conf/behavior/calibrated.yaml (posterior medians) and calibrated_draw_NN.yaml (posterior
draws) are written by clustersim-calibrate; experiment=posterior_compare_plans sweeps the
regimes across the draws, and the comparison report treats a draw as a replicate.
"""

from __future__ import annotations

import pytest
import yaml

import clustersim.api as cs
from clustersim.paths import conf_dir
from clustersim.report.load import report_data
from clustersim.report.publish import write_report
from tests.conftest import call_cli

BEHAVIOR = conf_dir() / "behavior"
SHORT = ["world=toy", "world.end=2021-12", "run.report_months=[2021-12]"]


def _leaves(data, prefix="behavior"):
    for key, value in data.items():
        if key == "defaults":
            continue
        if isinstance(value, dict):
            yield from _leaves(value, f"{prefix}.{key}")
        else:
            yield f"{prefix}.{key}", value


def _get(obj, dotted):
    for part in dotted.split(".")[1:]:
        obj = getattr(obj, part)
    return obj


def test_calibrated_preset_composes_and_runs():
    preset = yaml.safe_load((BEHAVIOR / "calibrated.yaml").read_text())
    fitted = dict(_leaves(preset))
    assert len(fitted) >= 6
    default = cs.scenario(SHORT)
    calibrated = cs.scenario([*SHORT, "behavior=calibrated"])
    for key, value in fitted.items():
        assert _get(calibrated.behavior, key) == pytest.approx(value)
    assert any(_get(default.behavior, k) != pytest.approx(v) for k, v in fitted.items())
    result = cs.run([*SHORT, "behavior=calibrated", "seed=1"])
    assert len(result.monthly) == 24 and result.monthly["firms"].iloc[-1] > 0


def test_posterior_draws_are_presets_of_the_same_parameters():
    fitted = set(dict(_leaves(yaml.safe_load((BEHAVIOR / "calibrated.yaml").read_text()))))
    draws = sorted(BEHAVIOR.glob("calibrated_draw_*.yaml"))
    assert len(draws) >= 2
    values = set()
    first = None
    for path in draws:
        data = yaml.safe_load(path.read_text())
        leaves = dict(_leaves(data))
        assert set(leaves) == fitted, path.name
        values.add(tuple(sorted(leaves.items())))
        if first is None:  # composing one shows how they all compose (same defaults list)
            first = data["defaults"]
            scenario = cs.scenario([*SHORT, f"behavior={path.stem}"])
            for key, value in leaves.items():
                assert _get(scenario.behavior, key) == pytest.approx(value)
        assert data["defaults"] == first, path.name
        # every draw's values are within what the model accepts
        cs.scenario([*SHORT, *(f"{k}={v}" for k, v in leaves.items())])
    assert len(values) > 1, "the draws differ"


def test_posterior_comparison_runs_and_its_report_builds(tmp_path):
    sweep = tmp_path / "sweep"
    proc = call_cli(
        "-m",
        "experiment=posterior_compare_plans",
        *SHORT,
        "policy=none,shanghai_2020",
        "behavior=calibrated_draw_00,calibrated_draw_01",
        "seed=0",
        "hydra/launcher=basic",
        f"hydra.sweep.dir={sweep}",
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    data = report_data(sweep)
    counts = data.runs.groupby("variant").size().to_dict()
    assert counts == {"none": 2, "shanghai_2020": 2}  # two draws = two replicates per regime
    html, md = write_report(sweep)
    assert html.is_file() and md.is_file()
