"""A sweep's jobs share their no-plan counterfactual: same folders, fewer runs.

``clustersim.results.shared_counterfactuals``: a job whose no-plan counterfactual another
job already ran copies it instead of running it. That is only right if the parameters
declared inert without incentives really change nothing in a run without any, and if a
job folder written from a shared counterfactual is the one the job would have written
alone. Both are checked here, and that a damaged source is never shared. The sweep
cases are slow (a small sweep); the inertness check, which a model change can break
silently, is in the everyday subset.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from clustersim import api
from clustersim.results import run_folder as rf
from clustersim.results.shared_counterfactuals import (
    INERT_WITHOUT_INCENTIVES,
    SHELF,
    CounterfactualShelf,
    sharing_order,
    shelf_key,
)
from clustersim.runner import simulate, write_run
from tests.conftest import scenario

#: a toy world over four years: entries, exits and relocations all happen in it
WORLD = ("world=toy", "world.end=2023-12", "run.report_months=[2023-12]")

#: far from the defaults, within the bounds the config accepts
CHANGED = {
    "behavior.entry.but_for_share": 1.0,
    "behavior.entry.subsidy_weight": 7.5,
    "behavior.entry.subsidy_scale": 1.0,
    "behavior.talent.incentive_weight": 4.0,
    "behavior.talent.incentive_scale": 1.0,
    "behavior.policy_response.horizon_years": 0.25,
    "behavior.policy_response.response_scale": 1.0,
}


def _tables(*overrides: str) -> dict[str, pd.DataFrame]:
    result = simulate(scenario(*WORLD, "policy=none", *overrides))
    return {
        "monthly": result.monthly,
        "firms_yearly": result.firms_yearly,
        "relocations": result.relocations,
    }


def test_every_parameter_declared_inert_changes_nothing_without_incentives() -> None:
    assert set(CHANGED) == set(INERT_WITHOUT_INCENTIVES)  # a new declaration is tested too
    base = _tables()
    changed = _tables(*(f"{k}={v}" for k, v in CHANGED.items()))
    for name, frame in base.items():
        pd.testing.assert_frame_equal(changed[name], frame, check_exact=True, obj=name)
    # the comparison can fail: a parameter that matters without incentives changes the run
    other = _tables("behavior.agglomeration.strength=1.5")
    assert not other["monthly"].equals(base["monthly"])


@pytest.mark.slow
def test_only_a_no_plan_counterfactual_is_shared() -> None:
    assert shelf_key(scenario(*WORLD)) is None  # no counterfactual
    one = scenario(*WORLD, "run.counterfactual=shanghai_2020")
    assert shelf_key(one) is None  # a counterfactual that keeps some plans in force
    a = shelf_key(scenario(*WORLD, "run.counterfactual=no_policy"))
    b = shelf_key(scenario(*WORLD, "run.counterfactual=no_policy", "seed=1"))
    c = shelf_key(
        scenario(*WORLD, "run.counterfactual=no_policy", "behavior.entry.subsidy_weight=2")
    )
    d = shelf_key(
        scenario(*WORLD, "run.counterfactual=no_policy", "behavior.agglomeration.strength=1")
    )
    assert a is not None and a == c  # an inert parameter: the same counterfactual
    assert len({a, b, d}) == 3  # another seed, a parameter that matters: another one


@pytest.fixture(scope="module")
def shared_sweep(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("shared") / "sweep"
    grid = {"behavior.entry.subsidy_weight": [0.5, 2.0]}
    api.sweep(grid, base=[*WORLD, "run.counterfactual=no_policy"], folder=folder, progress=False)
    return folder


def _job(folder: Path, weight: str) -> Path:
    (job,) = [p for p in folder.iterdir() if f"subsidy_weight={weight}," in p.name]
    return job


@pytest.mark.slow
def test_the_second_job_takes_the_first_jobs_counterfactual(shared_sweep: Path) -> None:
    entries = list((shared_sweep / SHELF).glob("*.json"))
    assert len(entries) == 1  # one counterfactual for the two jobs
    entry = json.loads(entries[0].read_text())
    # had the second job run its own, it would have shelved it under its own name
    assert entry["run"] == _job(shared_sweep, "0.5").name
    first, second = _job(shared_sweep, "0.5"), _job(shared_sweep, "2.0")
    for name in ("monthly.parquet", "firms_yearly.parquet", "relocations.parquet"):
        cf = f"{rf.COUNTERFACTUAL}/{name}"
        assert (first / cf).read_bytes() == (second / cf).read_bytes()
    assert rf.StoredRun(second).damage(check_content=True) is None


@pytest.mark.slow
def test_a_job_with_a_shared_counterfactual_writes_what_it_would_alone(
    shared_sweep: Path, tmp_path: Path
) -> None:
    job = _job(shared_sweep, "2.0")
    alone = api.run([*WORLD, "run.counterfactual=no_policy", "behavior.entry.subsidy_weight=2.0"])
    write_run(alone, tmp_path / "alone", [])
    shared = rf.StoredRun(job)
    assert sorted(shared.tables()) == sorted(rf.StoredRun(tmp_path / "alone").tables())
    for name in [*shared.tables(), rf.SUMMARY]:
        assert (job / name).read_bytes() == (tmp_path / "alone" / name).read_bytes(), name


@pytest.mark.slow
def test_a_damaged_or_missing_source_is_not_shared(shared_sweep: Path, tmp_path: Path) -> None:
    copy = tmp_path / "sweep"
    shutil.copytree(shared_sweep, copy)
    shelf = CounterfactualShelf(copy)
    (key,) = [p.stem for p in (copy / SHELF).glob("*.json")]
    found = shelf.find(key)
    assert found is not None and found.source == _job(copy, "0.5")
    monthly = found.files["monthly.parquet"]
    monthly.write_bytes(monthly.read_bytes()[:100])  # truncated
    assert shelf.find(key) is None
    shutil.rmtree(_job(copy, "0.5"))  # deleted
    assert shelf.find(key) is None
    (copy / SHELF / f"{key}.json").write_text("{not json")  # unreadable entry
    assert shelf.find(key) is None


def test_jobs_that_can_share_are_launched_after_the_one_that_runs_it() -> None:
    jobs = [
        ["behavior.entry.subsidy_weight=1", "behavior.agglomeration.strength=0.5"],
        ["behavior.entry.subsidy_weight=2", "behavior.agglomeration.strength=0.5"],  # shares 0
        ["behavior.entry.subsidy_weight=1", "behavior.agglomeration.strength=1.5"],
        ["behavior.entry.but_for_share=0.1", "behavior.agglomeration.strength=1.5"],  # shares 2
        ["behavior.entry.subsidy_weight=1", "behavior.agglomeration.strength=0.7"],
    ]
    assert sharing_order(jobs) == [0, 2, 4, 1, 3]
    assert sorted(sharing_order(jobs)) == list(range(len(jobs)))  # every job, once


def test_a_run_the_shelf_cannot_hold_is_left_off_it_without_an_error(tmp_path: Path) -> None:
    run = tmp_path / "elsewhere" / "job"
    (run / rf.COUNTERFACTUAL).mkdir(parents=True)
    (run / rf.COUNTERFACTUAL / "monthly.parquet").write_bytes(b"x")
    shelf = CounterfactualShelf(tmp_path / "sweep")
    shelf.put("k", run, {"2027-12": {"firms": 1.0}})  # not a job of this sweep
    assert not (tmp_path / "sweep" / SHELF).exists() and shelf.find("k") is None
