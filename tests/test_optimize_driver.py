"""The study driver on a stand-in objective with a known optimum (no model runs).

The same driver as the real studies: the Huangpu plan's composed config gives the search
space (toy world), Optuna asks and tells through the SQLite file in the study folder; only
the evaluator is the synthetic one. Every test here is slow (``SLOW_MODULES`` in
tests/conftest.py): a study asks and tells through SQLite, ~1 s for a few trials, ~25 s for
the 40-trial search on a loaded 2-core machine.
"""

from __future__ import annotations

import math
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from clustersim.optimize import StudyConfigError, StudySpec, SyntheticEvaluator, optimize

LEVERS = ("enterprise_landing_award", "high_growth_subsidy", "compute_subsidy")
TARGET = "high_growth_subsidy"


def spec(folder: Path, **kw) -> StudySpec:
    settings = dict(
        folder=folder,
        plan="huangpu_2024",
        base=("world=toy",),
        instruments=LEVERS,
        spending_objective=False,
        seeds=2,
        trials=12,
        validation_seeds=0,
    )
    settings.update(kw)
    return StudySpec(**settings)


def quiet(_msg: str) -> None:
    pass


def sequence(trials) -> list[tuple]:
    cols = [c for c in trials.columns if c.endswith((".in_force", ".multiple", ".share"))]
    return [tuple(round(float(v), 12) for v in row) for row in trials[cols].to_numpy()]


def test_search_finds_the_known_optimum(tmp_path):
    result = optimize(
        spec(tmp_path / "s", trials=40, sampler="tpe"),
        SyntheticEvaluator(target=TARGET, best_multiple=2.0),
        log=quiet,
    )
    done = result.trials[result.trials["state"] == "complete"]
    assert len(done) == 40
    best = done.loc[done["caused_jobs"].idxmax()]
    # the optimum: the target alone in force (whole budget) at twice its written amount
    assert best[f"{TARGET}.in_force"]
    assert not any(best[f"{i}.in_force"] for i in LEVERS if i != TARGET)
    assert best[f"{TARGET}.share"] == pytest.approx(1.0)
    assert abs(math.log(best[f"{TARGET}.multiple"] / 2.0)) < math.log(1.5)
    # and it is far better than the plan as written (trial 0: everything in force)
    written = done[done["label"] == "plan as written"].iloc[0]
    assert best["caused_jobs"] > written["caused_jobs"] + 300


def test_every_trial_respects_caps_and_budget(tmp_path):
    result = optimize(
        spec(tmp_path / "s", trials=25, sampler="random", spending_objective=True),
        SyntheticEvaluator(target=TARGET),
        log=quiet,
    )
    space, budget = result.study.space, result.budget
    assert budget == pytest.approx(space.written_budget)
    t = result.trials
    assert (t["state"] == "complete").all() and len(t) == 25
    for lv in space.levers:
        value = t[f"{lv.instrument}.{'rate' if lv.uses_rate else 'amount'}"]
        if lv.cap is not None and not lv.uses_rate:
            assert (value <= lv.cap).all(), lv.instrument
        assert (value >= 0).all()
        if lv.uses_rate:
            assert (value <= 1).all()
    lines = t[[f"{i}.line" for i in space.ids]].sum(axis=1)
    assert (lines <= budget).all()
    assert t["feasible"].all()
    assert len(result.front) >= 1 and result.front["pareto"].all()


def test_same_study_seed_gives_the_same_trials(tmp_path):
    ev = SyntheticEvaluator(target=TARGET)
    a = optimize(spec(tmp_path / "a", study_seed=7, trials=8), ev, log=quiet).trials
    b = optimize(spec(tmp_path / "b", study_seed=7, trials=8), ev, log=quiet).trials
    c = optimize(spec(tmp_path / "c", study_seed=8, trials=8), ev, log=quiet).trials
    assert sequence(a) == sequence(b)
    assert sequence(a) != sequence(c)


def test_a_rerun_adds_only_the_missing_trials(tmp_path):
    ev = SyntheticEvaluator(target=TARGET)
    first = optimize(spec(tmp_path / "s", trials=6), ev, log=quiet).trials
    again = optimize(spec(tmp_path / "s", trials=6), ev, log=quiet).trials
    more = optimize(spec(tmp_path / "s", trials=10), ev, log=quiet).trials
    assert len(first) == len(again) == 6
    assert sequence(again) == sequence(first)
    assert len(more) == 10 and sequence(more)[:6] == sequence(first)


SCRIPT = """
import sys
from pathlib import Path
from clustersim.optimize import StudyConfigError, StudySpec, SyntheticEvaluator, optimize
if __name__ == "__main__":  # worker processes are spawned: they import this file
    spec = StudySpec(folder=Path(sys.argv[1]), plan="huangpu_2024", base=("world=toy",),
                     instruments={levers!r}, spending_objective=False, seeds=2, trials=12,
                     validation_seeds=0, workers=int(sys.argv[2]))
    optimize(spec, SyntheticEvaluator(target={target!r}, delay=float(sys.argv[3])))
"""


def count(db: Path, state: str) -> int:
    if not db.is_file():
        return 0
    try:
        with sqlite3.connect(db, timeout=30) as con:
            return con.execute("select count(*) from trials where state=?", (state,)).fetchone()[0]
    except sqlite3.OperationalError:
        return 0


def running_with_all_params(db: Path) -> bool:
    try:
        with sqlite3.connect(db, timeout=30) as con:
            rows = con.execute(
                "select count(p.param_id) from trials t left join trial_params p "
                "on p.trial_id = t.trial_id where t.state='RUNNING' group by t.trial_id"
            ).fetchall()
    except sqlite3.OperationalError:
        return False
    return len(rows) == 1 and rows[0][0] == 3 * len(LEVERS)


def test_kill_9_mid_study_then_rerun_loses_and_duplicates_nothing(tmp_path):
    folder = tmp_path / "killed"
    script = tmp_path / "study.py"
    script.write_text(SCRIPT.format(levers=LEVERS, target=TARGET))
    proc = subprocess.Popen(
        [sys.executable, str(script), str(folder), "1", "0.5"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    db = folder / "study.db"
    deadline = time.time() + 120
    # kill while a trial is being evaluated (each takes 1 s), after 4 are done
    while not (count(db, "COMPLETE") >= 4 and running_with_all_params(db)):
        assert proc.poll() is None, proc.stderr.read().decode()
        assert time.time() < deadline
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert count(db, "RUNNING") == 1
    cut = count(db, "COMPLETE")
    assert 4 <= cut < 12

    result = optimize(spec(folder), SyntheticEvaluator(target=TARGET), log=quiet)
    t = result.trials
    assert len(t) == 12 and (t["state"] == "complete").all()
    assert sorted(t["trial"]) == list(range(12))
    assert t["resumed"].sum() == 1  # the trial cut off by the kill, finished as itself
    # and the interrupted study is the study an uninterrupted run gives
    whole = optimize(spec(tmp_path / "whole"), SyntheticEvaluator(target=TARGET), log=quiet)
    assert sequence(t) == sequence(whole.trials)


def test_two_workers_complete_exactly_the_trials_asked(tmp_path):
    folder = tmp_path / "parallel"
    script = tmp_path / "study.py"
    script.write_text(SCRIPT.format(levers=LEVERS, target=TARGET))
    out = subprocess.run(
        [sys.executable, str(script), str(folder), "2", "0.05"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    with sqlite3.connect(folder / "study.db") as con:
        states = dict(con.execute("select state, count(*) from trials group by state").fetchall())
        owners = {
            r[0]
            for r in con.execute("select value_json from trial_user_attributes where key='owner'")
        }
    assert states == {"COMPLETE": 12}
    assert len(owners) == 2  # both workers took trials


def test_the_budget_can_be_an_amount_or_what_the_plan_spends(tmp_path):
    result = optimize(
        spec(tmp_path / "amount", trials=4, budget=1_000_000),
        SyntheticEvaluator(TARGET),
        log=quiet,
    )
    lines = result.trials[[f"{i}.line" for i in LEVERS]].sum(axis=1)
    assert result.budget == 1_000_000 and (lines <= 1_000_000).all() and (lines > 0).any()
    # the stand-in's plan as written spends nothing: a budget of 0 is refused, nothing written
    folder = tmp_path / "spent"
    with pytest.raises(StudyConfigError, match=r"^optimize.budget = 'spent'.*must be > 0"):
        optimize(spec(folder, budget="spent"), SyntheticEvaluator(TARGET), log=quiet)
    assert not folder.exists()
