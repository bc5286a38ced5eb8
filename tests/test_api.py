"""The Python API gives the command line's numbers, and sweeps in-process like a multirun."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import clustersim.api as cs
from clustersim.io import RunFolderError
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


def test_in_process_sweep_collects_and_resumes(tmp_path: Path) -> None:
    grid = {"policy": ["none", "huangpu_2024"], "seed": [0, 1]}
    tables = cs.sweep(grid, base=["world=toy"], folder=tmp_path / "sw", progress=False)
    assert len(tables.runs) == 4 and set(tables.runs["seed"]) == {0, 1}
    assert len(tables.panel) == 4 * 96
    stamp = {p.name: p.stat().st_mtime_ns for p in (tmp_path / "sw").iterdir() if p.is_dir()}
    again = cs.sweep(grid, base=["world=toy"], folder=tmp_path / "sw", progress=False)
    assert {
        p.name: p.stat().st_mtime_ns for p in (tmp_path / "sw").iterdir() if p.is_dir()
    } == stamp
    pd.testing.assert_frame_equal(again.runs, tables.runs)
    loaded = cs.load_sweep(tmp_path / "sw")
    pd.testing.assert_frame_equal(loaded.panel, tables.panel)
    with pytest.raises(RunFolderError, match="another config"):
        cs.sweep(
            grid, base=["world=toy", "behavior.entry.but_for_share=0.5"], folder=tmp_path / "sw"
        )
