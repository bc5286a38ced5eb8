"""Calibration targets and config: the shipped files check out; bad input gets one clear error."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from clustersim.calibrate.problem import load_problem
from clustersim.calibrate.spec import check_parameters, load_spec
from clustersim.calibrate.statistics import Snapshots, evaluate
from clustersim.calibrate.targets import check_against_run, load_targets
from clustersim.config import ConfigError
from clustersim.paths import conf_dir

TARGETS = conf_dir() / "targets" / "shanghai.yaml"
SPEC = conf_dir() / "calibration" / "shanghai.yaml"


@pytest.fixture(scope="module")
def shanghai_problem():  # composes and probes the default world: used by a slow test only
    return load_problem("shanghai")


@pytest.mark.slow
def test_shipped_targets_and_config_check_out(shanghai_problem):
    p = shanghai_problem
    assert len(p.parameters) == 6
    assert len(p.fit_targets) >= 8
    assert p.targets.used_for("validate"), "some targets are held out for validation"
    for t in p.targets.targets:
        assert t.uncertainty > 0 and len(t.source) > 40


def test_every_prior_names_its_source_and_lies_inside_the_schema():
    spec = load_spec(SPEC)
    checked = check_parameters(spec.parameters)
    assert [p.key for p in checked] == [p.key for p in spec.parameters]
    for p in checked:
        assert p.low < p.high and p.source


def _write(tmp_path: Path, name: str, data: dict) -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    return path


def _targets_with(tmp_path: Path, target: str, **changes) -> Path:
    data = yaml.safe_load(TARGETS.read_text())
    for key, value in changes.items():
        if value is None:
            data["targets"][target].pop(key, None)
        else:
            data["targets"][target][key] = value
    return _write(tmp_path, "targets.yaml", data)


@pytest.mark.parametrize(
    ("target", "changes", "field", "says"),
    [
        ("exit_rate", {"uncertainty": 0}, "targets.exit_rate.uncertainty", "must be > 0"),
        ("exit_rate", {"uncertainty": -0.1}, "targets.exit_rate.uncertainty", "must be > 0"),
        ("exit_rate", {"source": None}, "targets.exit_rate.source", "needs its source"),
        ("exit_rate", {"source": " "}, "targets.exit_rate.source", "needs its source"),
        ("exit_rate", {"statistic": "mean_happiness"}, "targets.exit_rate.statistic", "one of"),
        ("exit_rate", {"use": "maybe"}, "targets.exit_rate.use", "fit"),
        ("exit_rate", {"period": ["2021-01", "2021-13"]}, "targets.exit_rate.period[1]", "month"),
        (
            "zipf_exponent",
            {"month": "2024-12", "period": ["2021-01", "2021-12"]},
            "targets.zipf_exponent",
            "exactly one",
        ),
        ("exit_rate", {"colour": "red"}, "targets.exit_rate.colour", "unknown key"),
    ],
)
def test_bad_targets_file_names_field_value_and_rule(tmp_path, target, changes, field, says):
    path = _targets_with(tmp_path, target, **changes)
    with pytest.raises(ConfigError) as err:
        load_targets(path)
    assert err.value.field == field
    assert says in err.value.allowed


def _only(targets, name):
    return [t for t in targets.targets if t.name == name]


def test_target_on_an_outcome_the_run_does_not_record(tmp_path):
    targets = load_targets(_targets_with(tmp_path, "exit_rate", column="firms_on_mars"))
    with pytest.raises(ConfigError) as err:
        check_against_run(
            _only(targets, "exit_rate"), ["month", "firms", "exits"], "2020-01", "2027-12"
        )
    assert err.value.field == "targets.exit_rate.column"
    assert err.value.value == "firms_on_mars"
    assert "no such outcome" in err.value.allowed


def test_target_month_outside_the_run(tmp_path):
    targets = load_targets(_targets_with(tmp_path, "leading_firms_2024", month="2031-12"))
    with pytest.raises(ConfigError) as err:
        check_against_run(
            _only(targets, "leading_firms_2024"), ["month", "leading_firms"], "2020-01", "2027-12"
        )
    assert err.value.field == "targets.leading_firms_2024.month"
    assert "2020-01..2027-12" in err.value.allowed


def test_snapshot_target_needs_a_year_end_inside_the_run(tmp_path):
    targets = load_targets(
        _targets_with(tmp_path, "growth_size_beta", period=["2027-12", "2027-12"])
    )
    with pytest.raises(ConfigError) as err:
        check_against_run(_only(targets, "growth_size_beta"), ["month"], "2020-01", "2027-12")
    assert "next December" in err.value.allowed


def _spec_with(tmp_path: Path, key: str, prior: dict | None, **top) -> Path:
    data = yaml.safe_load(SPEC.read_text())
    if prior is None:
        data["parameters"].pop(key, None)
    else:
        data["parameters"][key] = prior
    data.update(top)
    return _write(tmp_path, "spec.yaml", data)


SRC = "assumption: a test range long enough"


@pytest.mark.parametrize(
    ("key", "prior", "field", "says"),
    [
        (
            "behavior.growth.volatility",
            {"low": 0.3, "high": 0.3, "source": SRC},
            "parameters.behavior.growth.volatility.low",
            "must be below high",
        ),
        (
            "behavior.growth.volatility",
            {"low": 0.5, "high": 0.1, "source": SRC},
            "parameters.behavior.growth.volatility.low",
            "must be below high",
        ),
        (
            "behavior.growth.volatility",
            {"low": 0.1, "high": 0.3},
            "parameters.behavior.growth.volatility.source",
            "needs its source",
        ),
        (
            "behavior.growth.volatility",
            {"low": 0.0, "high": 0.3, "log": True, "source": SRC},
            "parameters.behavior.growth.volatility.low",
            "low > 0",
        ),
    ],
)
def test_bad_prior_in_the_file(tmp_path, key, prior, field, says):
    with pytest.raises(ConfigError) as err:
        load_spec(_spec_with(tmp_path, key, prior))
    assert err.value.field == field
    assert says in err.value.allowed


@pytest.mark.parametrize(
    ("key", "prior", "field", "says"),
    [
        (
            "behavior.growth.size_elasticity",
            {"low": 0.1, "high": 1.5, "source": SRC},
            "parameters.behavior.growth.size_elasticity.high",
            "must be >= 0 and < 1",
        ),
        (
            "behavior.entry.but_for_share",
            {"low": -0.2, "high": 0.5, "source": SRC},
            "parameters.behavior.entry.but_for_share.low",
            ">= 0",
        ),
        (
            "behavior.growth.wobble",
            {"low": 0.1, "high": 0.5, "source": SRC},
            "parameters.behavior.growth.wobble",
            "no such setting",
        ),
        (
            "behavior.entry.sequential",
            {"low": 0.0, "high": 1.0, "source": SRC},
            "parameters.behavior.entry.sequential",
            "must be a number",
        ),
        (
            "seed",
            {"low": 0.0, "high": 1.0, "source": SRC},
            "parameters.seed",
            "behavior.* setting",
        ),
        (  # a world's scale is not fitted: the result is a behaviour preset
            "world.firm_entrants.per_month",
            {"low": 20.0, "high": 200.0, "source": SRC},
            "parameters.world.firm_entrants.per_month",
            "behavior.* setting",
        ),
    ],
)
def test_prior_outside_what_the_config_accepts(tmp_path, key, prior, field, says):
    spec = load_spec(_spec_with(tmp_path, key, prior))
    with pytest.raises(ConfigError) as err:
        check_parameters(spec.parameters)
    assert err.value.field == field
    assert says in err.value.allowed


def test_unknown_calibration_setting(tmp_path):
    with pytest.raises(ConfigError) as err:
        load_spec(
            _spec_with(
                tmp_path,
                "behavior.growth.volatility",
                {"low": 0.1, "high": 0.3, "source": SRC},
                populaton=50,
            )
        )
    assert err.value.field == "populaton"
    assert "unknown key" in err.value.allowed


@pytest.mark.parametrize(
    ("preset", "says"),
    [
        ("default", "would overwrite conf/behavior/default.yaml"),
        ("../calibrated", "must be a preset name"),
        ("", "must be a preset name"),
        (3, "must be a preset name"),
    ],
)
def test_bad_preset_name(tmp_path, preset, says):
    with pytest.raises(ConfigError) as err:
        load_spec(_spec_with(tmp_path, "behavior.growth.volatility", None, preset=preset))
    assert err.value.field == "preset"
    assert says in err.value.allowed


def test_each_calibration_writes_its_own_preset(tmp_path):
    assert load_spec(SPEC).preset == "calibrated"  # the default world's: behavior=calibrated
    assert load_spec(SPEC.with_name("toy.yaml")).preset == "calibrated_toy"
    data = yaml.safe_load(SPEC.read_text())
    data.pop("preset")
    assert load_spec(_write(tmp_path, "mine.yaml", data)).preset == "calibrated_mine"


# ------------------------------------------------------------------ statistics


def _snapshots(sizes_by_year: dict[str, np.ndarray], born: np.ndarray) -> pd.DataFrame:
    rows = []
    for month, sizes in sizes_by_year.items():
        alive = ~np.isnan(sizes)
        rows.append(
            pd.DataFrame(
                {
                    "month": month,
                    "firm_id": np.flatnonzero(alive),
                    "employees": sizes[alive],
                    "born": born[alive],
                }
            )
        )
    return pd.concat(rows, ignore_index=True)


MONTHLY = pd.DataFrame({"month": ["2020-01", "2020-02"], "firms": [100.0, 100.0]})


def test_zipf_exponent_recovers_a_pareto_tail():
    rng = np.random.default_rng(0)
    sizes = 10.0 * (1 - rng.random(20_000)) ** (-1 / 1.06)
    firms = _snapshots({"2020-12": sizes}, np.zeros(len(sizes)))
    est = evaluate(
        "zipf_exponent",
        MONTHLY,
        firms,
        first="2020-12",
        last="2020-12",
        settings={"min_employees": 10},
    )
    assert est == pytest.approx(1.06, abs=0.03)


@pytest.mark.parametrize("beta", [0.0, 0.2, 0.4])
def test_growth_size_beta_recovers_the_size_variance_slope(beta):
    rng = np.random.default_rng(1)
    size = np.exp(rng.uniform(1, 8, 20_000))
    growth = rng.laplace(0, 0.5 * size**-beta / np.sqrt(2))
    firms = _snapshots({"2020-12": size, "2021-12": size * np.exp(growth)}, np.zeros(len(size)))
    est = evaluate("growth_size_beta", MONTHLY, firms, first="2020-12", last="2020-12", settings={})
    assert est == pytest.approx(beta, abs=0.03)


def test_growth_kurtosis_tells_laplace_from_normal():
    rng = np.random.default_rng(2)
    size = np.full(20_000, 50.0)
    for draw, want in ((rng.laplace(0, 0.2, 20_000), 3.0), (rng.normal(0, 0.2, 20_000), 0.0)):
        firms = _snapshots({"2020-12": size, "2021-12": size * np.exp(draw)}, np.zeros(20_000))
        est = evaluate(
            "growth_kurtosis", MONTHLY, firms, first="2020-12", last="2020-12", settings={}
        )
        assert est == pytest.approx(want, abs=0.4)


def test_exit_rate_by_age_counts_firms_gone_a_year_later():
    # run starts 2020-01 (month index 0); at 2020-12 (index 11) ages are 11 - born
    born = np.array(
        [5, 5, 5, 5, -30, -30, -100, -100], dtype=float
    )  # ages 6, 6, 6, 6, 41, 41, 111, 111
    y0 = np.full(8, 10.0)
    y1 = np.array([10, np.nan, np.nan, 10, 10, np.nan, 10, 10], dtype=float)
    firms = _snapshots({"2020-12": y0, "2021-12": y1}, born)
    monthly = MONTHLY

    def rate(lo, hi):
        return evaluate(
            "exit_rate_by_age",
            monthly,
            firms,
            first="2020-12",
            last="2020-12",
            settings={"min_age_months": lo, "max_age_months": hi},
        )

    assert rate(0, 12) == pytest.approx(0.5)
    assert rate(12, 60) == pytest.approx(0.5)
    assert rate(84, 1e9) == pytest.approx(0.0)


def test_snapshot_panels_equal_pandas_pivot_tables():
    # firms enter and leave between year ends, rows come unsorted: the numpy panel the
    # statistics share must hold what pivot_table(index=firm_id, columns=month) holds
    rng = np.random.default_rng(4)
    rows = []
    for year in range(2020, 2025):
        alive = rng.choice(500, size=300, replace=False)
        rows.append(
            pd.DataFrame(
                {
                    "month": f"{year}-12",
                    "firm_id": alive,
                    "employees": rng.integers(1, 400, len(alive)),
                    "born": rng.integers(-200, 60, len(alive)).astype(float),
                }
            )
        )
    firms = pd.concat(rows, ignore_index=True).sample(frac=1.0, random_state=0)
    snaps = Snapshots(firms)
    for column in ("employees", "born"):
        pivot = firms.pivot_table(index="firm_id", columns="month", values=column, aggfunc="first")
        assert list(snaps.months) == list(pivot.columns)
        np.testing.assert_array_equal(snaps.panel(column), pivot.to_numpy(float))
    # a statistic computed with the shared panels equals the one computed alone
    shared = evaluate("growth_sd", MONTHLY, snaps, first="2020-12", last="2023-12", settings={})
    alone = evaluate("growth_sd", MONTHLY, firms, first="2020-12", last="2023-12", settings={})
    assert shared == alone and np.isfinite(shared)


def test_monthly_rates_and_ratios():
    monthly = pd.DataFrame(
        {
            "month": [f"2021-{m:02d}" for m in range(1, 13)],
            "firms": np.full(12, 200.0),
            "exits": np.full(12, 1.0),
            "entries": np.full(12, 2.0),
        }
    )
    kw = {"first": "2021-01", "last": "2021-12"}
    assert evaluate(
        "annual_rate", monthly, None, settings={"column": "exits", "per": "firms"}, **kw
    ) == pytest.approx(0.06)
    assert evaluate(
        "ratio", monthly, None, settings={"column": "entries", "per": "exits"}, **kw
    ) == pytest.approx(2.0)
    assert evaluate(
        "share", monthly, None, settings={"column": "exits", "per": "firms"}, **kw
    ) == pytest.approx(0.005)
