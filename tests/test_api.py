"""The Python API gives the command line's numbers, and sweeps in-process like a multirun."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

import clustersim.api as cs
from clustersim.config import ConfigError
from clustersim.results.sweep_folder import read_failures
from tests.conftest import run_cli


def test_api_and_command_line_give_identical_tables(tmp_path: Path) -> None:
    overrides = ["world=toy", "seed=9", "policy=huangpu_2024", "behavior.entry.but_for_share=0.5"]
    proc = run_cli(*overrides, "hydra.run.dir=results/runs/cli", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    cli = tmp_path / "results/runs/cli"
    api = cs.run_to_folder(overrides, tmp_path / "api")
    for name in ("monthly.parquet", "firms_yearly.parquet", "ledger.parquet", "summary.json"):
        assert (cli / name).read_bytes() == (tmp_path / "api" / name).read_bytes(), name
    pd.testing.assert_frame_equal(api.monthly, pd.read_parquet(cli / "monthly.parquet"))


def test_run_seeds_gives_each_seeds_own_run() -> None:
    """Composing once for many seeds gives, to the bit, the runs composed one by one."""
    base = ["world=toy", "policy=huangpu_2024", "run.counterfactual=no_policy"]
    many = cs.run_seeds(base, [4, 7])
    assert [r.scenario.seed for r in many] == [4, 7]
    for seed, result in zip([4, 7], many, strict=True):
        one = cs.run([*base, f"seed={seed}"])
        assert json.dumps(result.summary()) == json.dumps(one.summary())  # NaN == NaN here
        pd.testing.assert_frame_equal(result.monthly, one.monthly)
        pd.testing.assert_frame_equal(result.ledger, one.ledger)
    assert not many[0].monthly.equals(many[1].monthly)


def test_run_seeds_names_the_policy_it_composed_even_after_a_hydra_job() -> None:
    """A Hydra job run earlier in this process (its HydraConfig still set) does not
    relabel the API's runs: ``run_seeds`` keeps the policy option it composed."""
    from hydra.core.hydra_config import HydraConfig
    from hydra.core.singleton import Singleton

    state = Singleton.get_state()
    try:
        HydraConfig.instance().set_config(cs.compose(["world=toy", "policy=none"]))
        (result,) = cs.run_seeds(["world=toy", "policy=all_three"], [1])
    finally:
        Singleton.set_state(state)
    assert result.summary()["policy"] == "all_three"


def test_in_process_sweep_collects_and_resumes(tmp_path: Path) -> None:
    grid = {"policy": ["none", "huangpu_2024"], "seed": [0, 1]}
    tables = cs.sweep(grid, base=["world=toy"], folder=tmp_path / "sw", progress=False)
    assert len(tables.runs) == 4 and set(tables.runs["seed"]) == {0, 1}
    assert len(tables.panel) == 4 * 96

    def stamps() -> dict[str, int]:  # the job folders (hidden ones are bookkeeping)
        return {p.name: p.stat().st_mtime_ns for p in (tmp_path / "sw").glob("[!.]*/")}

    stamp = stamps()
    again = cs.sweep(grid, base=["world=toy"], folder=tmp_path / "sw", progress=False)
    assert stamps() == stamp and len(stamp) == 4
    pd.testing.assert_frame_equal(again.runs, tables.runs)
    loaded = cs.load_sweep(tmp_path / "sw")
    pd.testing.assert_frame_equal(loaded.panel, tables.panel)
    assert sorted(tables.runs["job"]) == sorted(
        f"policy={p},seed={s},world=toy" for p in grid["policy"] for s in grid["seed"]
    )  # named by every override, as clustersim-run -m names them


def test_in_process_sweep_checks_every_config_before_running(tmp_path: Path) -> None:
    grid = {"seed": [0], "behavior.entry.but_for_share": [0.5, -1]}
    with pytest.raises(ConfigError, match=r"sweep job \[.*but_for_share=-1\]"):
        cs.sweep(grid, base=["world=toy"], folder=tmp_path / "sw", progress=False)
    assert not (tmp_path / "sw").exists()  # nothing ran, nothing written


def test_in_process_sweep_runs_every_job_and_reports_failures(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import clustersim.runner as runner

    real = runner.simulate

    def flaky(scenario, *args, **kwargs):
        if scenario.seed == 1:
            raise RuntimeError("the machine caught fire")
        return real(scenario, *args, **kwargs)

    monkeypatch.setattr(runner, "simulate", flaky)  # what each sweep job runs (run_into)
    grid = {"seed": [0, 1, 2]}
    tables = cs.sweep(grid, base=["world=toy", "policy=none"], folder=tmp_path / "sw")
    assert sorted(tables.runs["seed"]) == [0, 2]  # the jobs after the failure ran
    assert list(read_failures(tmp_path / "sw")) == ["policy=none,seed=1,world=toy"]
    assert any("the machine caught fire" in p for p in tables.problems)
    err = capsys.readouterr().err
    assert "FAILED job" in err and "1 of 3 jobs failed" in err
    monkeypatch.setattr(runner, "simulate", real)
    again = cs.sweep(grid, base=["world=toy", "policy=none"], folder=tmp_path / "sw")
    assert sorted(again.runs["seed"]) == [0, 1, 2] and not read_failures(tmp_path / "sw")
