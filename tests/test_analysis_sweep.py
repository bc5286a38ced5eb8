"""Sensitivity sweeps end to end: the ``sensitivity`` sweeper, resume, ``clustersim-analyze``.

A Morris design over three parameters on the toy world cut to two years (8 trajectories,
at most 32 short jobs: trajectories that meet share a job),
run through the real ``clustersim-run -m``; then the analysis command on its folder. Bad
input stops the sweep before anything is written, with one line naming field and value.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from hydra import compose, initialize_config_dir

from clustersim.analysis.designs import DESIGN_FILE, read_design
from clustersim.analysis.space import check_against
from clustersim.config import to_plain
from clustersim.paths import conf_dir
from clustersim.results.run_folder import MARKER
from hydra_plugins.clustersim_qmc_sweeper.sensitivity_sweeper import draw_design
from tests.conftest import call_cli

PARAMS = (
    "[behavior.entry.but_for_share,behavior.agglomeration.strength,behavior.entry.subsidy_weight]"
)
SHORT = ["world=toy", "world.end=2021-12", "run.report_months=[2021-06,2021-12]"]


def sweep_args(sweep: Path, *extra: str) -> list[str]:
    return [
        "-m",
        "hydra/sweeper=sensitivity",
        "hydra.sweeper.method=morris",
        "hydra.sweeper.n=8",
        f"hydra.sweeper.parameters={PARAMS}",
        *SHORT,
        f"hydra.sweep.dir={sweep}",
        *extra,
    ]


def analyze(*args: str, cwd: Path, new_process: bool = False) -> subprocess.CompletedProcess:
    """``clustersim-analyze <args>``: in this process (``call_cli``), or in a new one."""
    if not new_process:
        return call_cli(*args, cwd=cwd, module="clustersim.cli.analyze")
    return subprocess.run(
        [sys.executable, "-m", "clustersim.cli.analyze", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
    )


def jobs(sweep: Path) -> list[str]:
    return sorted(p.name for p in sweep.iterdir() if (p / MARKER).is_file())


@pytest.fixture(scope="module")
def morris_sweep(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("morris")
    proc = call_cli(*sweep_args(root / "sweep"), cwd=root)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return root / "sweep"


@pytest.mark.slow
def test_sweep_writes_its_design_runs_each_point_once_and_resumes(morris_sweep):
    design = read_design(morris_sweep)
    assert design.method == "morris" and design.n == 8 and design.rows == 8 * 4
    unique, _ = design.unique_rows()
    assert 20 <= len(unique) <= design.rows
    names = jobs(morris_sweep)
    assert names == [f"point={i:05d}" for i in range(len(unique))]
    runs = pd.read_parquet(morris_sweep / "runs.parquet")
    assert runs[design.space.names].to_numpy().tolist() == unique.tolist()
    stamps = {n: (morris_sweep / n / MARKER).stat().st_mtime_ns for n in names}
    again = call_cli(*sweep_args(morris_sweep), cwd=morris_sweep.parent)
    assert again.returncode == 0, again.stderr[-2000:]
    assert f"{len(names)} skipped" in again.stderr
    assert {n: (morris_sweep / n / MARKER).stat().st_mtime_ns for n in names} == stamps


@pytest.mark.slow
def test_analyze_writes_tidy_indices_and_figures(morris_sweep, tmp_path):
    proc = analyze("sensitivity", str(morris_sweep), "--resamples", "100", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    table = pd.read_parquet(morris_sweep / "analysis" / "morris_indices.parquet")
    assert {"outcome", "index", "parameter", "value", "low", "high"} <= set(table.columns)
    assert set(table["outcome"]) >= {"employment_pudong@2021-06", "employment_pudong@2021-12"}
    assert set(table["parameter"]) == set(read_design(morris_sweep).space.names)
    figures = list((morris_sweep / "analysis" / "figures").glob("morris_*.png"))
    assert len(figures) == table["outcome"].nunique()
    conv = pd.read_parquet(morris_sweep / "analysis" / "morris_convergence.parquet")
    assert set(conv["n_half"]) == {4}
    runs = pd.read_parquet(morris_sweep / "runs.parquet")
    threshold = float(runs["firms@2021-12"].median())
    found = analyze("discover", str(morris_sweep), "--where", f"firms > {threshold}", cwd=tmp_path)
    assert found.returncode == 0, found.stderr
    assert "coverage" in found.stdout
    assert (morris_sweep / "analysis" / "figures" / "discovery_peeling.png").is_file()


@pytest.mark.slow
def test_analyze_bad_input_one_line_nothing_written(morris_sweep, tmp_path):
    before = (
        sorted(p.name for p in (morris_sweep / "analysis").rglob("*"))
        if (morris_sweep / "analysis").exists()
        else []
    )
    for args, words in (
        (["sensitivity", str(morris_sweep), "--outcome", "caused_jobs"], "names no outcome"),
        (["discover", str(morris_sweep), "--where", "firmz > 3"], "names no column"),
        (["discover", str(morris_sweep), "--where", "firms > 1e12"], "no run meets it"),
    ):
        proc = analyze(*args, cwd=tmp_path)
        assert proc.returncode == 2, proc.stderr
        assert proc.stderr.count("\n") == 1 and words in proc.stderr
    after = (
        sorted(p.name for p in (morris_sweep / "analysis").rglob("*"))
        if (morris_sweep / "analysis").exists()
        else []
    )
    assert after == before


@pytest.mark.slow
def test_a_plain_sweep_is_not_a_sensitivity_sweep(tmp_path):
    sweep = tmp_path / "plain"
    proc = call_cli("-m", *SHORT, "seed=0,1", f"hydra.sweep.dir={sweep}", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    out = analyze("sensitivity", str(sweep), cwd=tmp_path, new_process=True)
    assert out.returncode == 2
    assert "not made with a sensitivity design" in out.stderr
    assert not (sweep / "analysis").exists()


@pytest.mark.slow
@pytest.mark.parametrize(
    ("extra", "words"),
    [
        (["hydra.sweeper.parameters=[behavior.entry.but_for_shar]"], "not in the space"),
        (["behavior.entry.but_for_share=0.3"], "is a parameter of the design"),
        (["hydra.sweeper.n=1"], "at least 2 trajectories"),
        (["hydra.sweeper.space=nosuch"], "no such file"),
    ],
)
def test_bad_sweeps_stop_before_any_job(tmp_path, extra, words):
    sweep = tmp_path / "sweep"
    proc = call_cli(*sweep_args(sweep, *extra), cwd=tmp_path)
    assert proc.returncode != 0
    assert words in proc.stderr, proc.stderr[-2000:]
    assert not sweep.exists() or not any(p.is_dir() for p in sweep.iterdir())
    assert not (sweep / DESIGN_FILE).exists()


@pytest.mark.slow
def test_a_range_the_model_refuses_stops_the_sweep(tmp_path):
    space = tmp_path / "bad.yaml"
    space.write_text(
        "parameters:\n  behavior.entry.but_for_share:\n    low: 0.1\n    high: 1.2\n"
        "    source: 'assumption: a test'\n"
    )
    sweep = tmp_path / "sweep"
    proc = call_cli(
        *sweep_args(sweep, f"hydra.sweeper.space={space}", "hydra.sweeper.parameters=null"),
        cwd=tmp_path,
    )
    assert proc.returncode != 0
    assert "parameters.behavior.entry.but_for_share.high = 1.2" in proc.stderr
    assert "<= 1" in proc.stderr
    assert not (sweep / DESIGN_FILE).exists()


@pytest.mark.slow
def test_another_design_into_the_same_folder_is_refused(morris_sweep):
    proc = call_cli(
        *sweep_args(morris_sweep, "hydra.sweeper.seed=1"),
        cwd=morris_sweep.parent,
    )
    assert proc.returncode != 0
    assert "holds a sweep of another design" in proc.stderr
    assert read_design(morris_sweep).seed == 0


@pytest.mark.parametrize(
    ("preset", "method", "rows"),
    [("sensitivity_morris", "morris", 20 * 11), ("sensitivity_sobol", "sobol", 256 * 14)],
)
def test_presets_compose_and_their_ranges_are_accepted(preset, method, rows):
    with initialize_config_dir(config_dir=str(conf_dir()), version_base="1.3"):
        cfg = compose("config", overrides=[f"experiment={preset}"], return_hydra_config=True)
    assert cfg.hydra.sweeper.method == method
    design = draw_design(cfg.hydra.sweeper)
    assert design.rows == rows
    check_against(design.space, to_plain(cfg))
    assert cfg.run.counterfactual == "no_policy"


@pytest.mark.slow
def test_evaluating_in_process_gives_the_sweeps_numbers_bit_for_bit(morris_sweep):
    from clustersim.analysis.evaluate import evaluate
    from clustersim.analysis.outcomes import outcome_table

    design = read_design(morris_sweep)
    here = evaluate(design, SHORT)
    swept = pd.read_parquet(morris_sweep / "runs.parquet")
    a, _ = outcome_table(design, here)
    b, _ = outcome_table(design, swept)
    outcome_cols = [c for c in a.columns if "@" in c]
    assert set(outcome_cols) == {c for c in b.columns if "@" in c}
    pd.testing.assert_frame_equal(a[outcome_cols], b[outcome_cols], check_exact=True)


@pytest.mark.slow
def test_the_report_of_a_sensitivity_sweep_says_which_assumptions_matter(morris_sweep, tmp_path):
    from clustersim.report.publish import write_report

    _, md = write_report(morris_sweep, out=tmp_path / "report.html")
    text = md.read_text()
    assert "## 8. Which assumptions matter" in text
    assert "## 9. Under which assumptions does the verdict change" in text
    # no counterfactual in this sweep: the section says why it cannot trace the verdicts
    assert "without a counterfactual" in text
    assert "the but-for share (location choices a subsidy can tip)" in text  # ranges table
