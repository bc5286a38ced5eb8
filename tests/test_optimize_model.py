"""A small study of the Huangpu plan on the toy world, with real model runs.

One study is run once per session (3 trials x 2 seeds, validation on 2 fresh seeds) and
its folder is checked for the properties a user relies on.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml

import clustersim.api as cs
from clustersim.config import config_hash
from clustersim.optimize import StudyConfigError, StudySpec, optimize

LEVERS = ("enterprise_landing_award", "compute_subsidy", "talent_introduction", "patent_award")


def quiet(_msg: str) -> None:
    pass


def small(folder: Path, **kw) -> StudySpec:
    settings = dict(
        folder=folder,
        plan="huangpu_2024",
        base=("world=toy",),
        instruments=LEVERS,
        seeds=2,
        trials=3,
        sampler="random",
        study_seed=3,
        validation_seeds=2,
        validate_best=1,
    )
    settings.update(kw)
    return StudySpec(**settings)


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    folder = tmp_path_factory.mktemp("optimize") / "huangpu"
    return optimize(small(folder), log=quiet)


def mix_runs(folder: Path) -> list[Path]:
    return sorted(p for p in (folder / "runs").iterdir() if p.name.startswith("mix="))


def test_every_run_keeps_caps_and_the_yearly_budget(study):
    budget = study.budget
    space = study.study.space
    runs = mix_runs(study.folder)
    assert len(runs) >= 2 * 3  # each trial's mix on two seeds (+ validation runs)
    for run in runs:
        regime = yaml.safe_load((run / "config.yaml").read_text())["policy"]["huangpu_2024"]
        lines = 0.0
        for lv in space.levers:
            inst = regime[lv.instrument]
            if not inst["enabled"]:
                continue
            lines += inst["annual_budget"]
            if lv.uses_rate:
                assert 0 <= inst["payout"]["rate"] <= 1
            elif lv.cap is not None:
                assert 0 <= inst["payout"]["amount"] <= lv.cap, (run.name, lv.instrument)
        assert lines <= budget + 1e-6
        spending = pd.read_parquet(run / "spending.parquet")
        spending = spending[spending["instrument"].isin(space.ids)]
        per_year = spending.groupby("year")["amount"].sum()
        assert (per_year <= budget + 1e-6).all(), run.name
        for (inst, _year), spent in (
            spending.groupby(["instrument", "year"])["amount"].sum().items()
        ):
            assert spent <= regime[inst]["annual_budget"] + 1e-6
    assert study.trials["feasible"].all()


def test_caused_is_the_models_own_counterfactual(study):
    """The shared run without the plan gives what run.counterfactual=no_policy gives."""
    written = study.trials[study.trials["label"] == "plan as written"].iloc[0]
    own = cs.run(
        [
            "world=toy",
            "policy=huangpu_2024",
            "seed=0",
            "run.progress=false",
            "run.counterfactual=no_policy",
            "run.report_months=[2027-12]",
        ]
    )
    measures = json.loads(json.dumps(written.to_dict(), default=str))  # plain
    seed0 = next(m for m in _measures(study, int(written["trial"])) if m["run"].endswith("seed=0"))
    assert seed0["caused_jobs"] == own.caused["2027-12"]["employment"]
    assert seed0["caused_firms"] == own.caused["2027-12"]["firms"]
    assert measures["caused_jobs"] == pytest.approx(
        sum(m["caused_jobs"] for m in _measures(study, int(written["trial"]))) / 2
    )


def _measures(study, number: int) -> list[dict]:
    import optuna

    from clustersim.optimize.study import STUDY_NAME, storage

    ost = optuna.load_study(study_name=STUDY_NAME, storage=storage(study.study.storage_url))
    return ost.trials[number].user_attrs["measures"]


def test_a_run_is_what_its_recorded_overrides_give(study):
    run = mix_runs(study.folder)[0]
    overrides = yaml.safe_load((run / "overrides.yaml").read_text())
    marker = json.loads((run / "COMPLETE").read_text())
    assert any(o.startswith("policy.huangpu_2024.") for o in overrides)
    assert config_hash(cs.compose(overrides)) == marker["config_hash"]


def test_a_rerun_runs_nothing_twice(study):
    before = {
        p.name: (p / "COMPLETE").stat().st_mtime_ns
        for p in (study.folder / "runs").iterdir()
        if not p.name.startswith(".")
    }
    again = optimize(small(study.folder), log=quiet)
    after = {
        p.name: (p / "COMPLETE").stat().st_mtime_ns
        for p in (study.folder / "runs").iterdir()
        if not p.name.startswith(".")
    }
    assert after == before
    assert len(again.trials) == 3
    pd.testing.assert_frame_equal(again.validation, study.validation)


def test_validation_is_on_fresh_seeds_with_paired_intervals(study):
    v, runs = study.validation, study.validation_runs
    searched = {int(s) for seeds in study.trials["seeds"] for s in seeds.split(",")}
    assert searched == {0, 1}
    assert set(runs["seed"]) == {1000, 1001}
    assert not searched & set(runs["seed"])
    assert set(runs["mix_label"]) == {"plan as written", v["mix_label"].iloc[0]}
    jobs = v[v["measure"] == "caused_jobs"].iloc[0]
    assert jobs["difference_low"] <= jobs["difference"] <= jobs["difference_high"]
    assert jobs["difference"] == pytest.approx(jobs["mean"] - jobs["written_mean"])
    assert (study.folder / "trials.parquet").is_file()
    assert (study.folder / "pareto.parquet").is_file()


BAD = [
    (
        {"instruments": ("enterprise_landing_award", "rd_subsidy_pudong")},
        "optimize.instruments[1]",
        "not an instrument of huangpu_2024",
    ),
    (
        {"multiples": {"enterprise_landing_award": [0.5, 20.0]}},
        "optimize.multiples.enterprise_landing_award",
        "at most 10",
    ),
    ({"multiples": {"compute_subsidy": [-1.0, 2.0]}}, "optimize.multiples.compute_subsidy", ">= 0"),
    ({"budget": 0}, "optimize.budget", "> 0"),
    ({"budget": -5e6}, "optimize.budget", "> 0"),
    ({"objectives": ("jobs", "happiness")}, "optimize.objectives[1]", "allowed: jobs"),
    ({"seeds": 0}, "optimize.seeds", ">= 1"),
    (
        {"plan": "pudong_2027", "base": ("world=toy", "policy=huangpu_2024")},
        "optimize.plan",
        "allowed: huangpu_2024",
    ),
    ({"plan": "pudong_2027"}, "optimize.instruments[0]", "not an instrument of pudong_2027"),
    ({"validation_seed_start": 1}, "optimize.validation_seed_start", "overlap"),
]


@pytest.mark.parametrize(("change", "field", "allowed"), BAD)
def test_bad_input_is_one_clear_error_and_writes_nothing(tmp_path, change, field, allowed):
    folder = tmp_path / "study"
    with pytest.raises(StudyConfigError) as err:
        optimize(small(folder, **change), log=quiet)
    message = str(err.value)
    assert message.startswith(f"{field} = "), message
    assert allowed in message
    assert not folder.exists()
