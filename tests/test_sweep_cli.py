"""Sweeps end to end through the real ``clustersim-run -m`` on the toy world.

Resume after a killed sweep, the same collected tables whichever launcher ran the jobs,
failures reported with a rerun command, and the QMC sweeper. Each test runs a handful of
toy jobs (well under a second each) in a temporary folder. A sweep runs in this process
(``call_cli``: same arguments, exit status and output, without a new process's imports),
whichever launcher runs its jobs: ``serial`` (the default) and Hydra's ``basic`` run them
here, ``cores``, ``joblib`` and ``slurm_local`` in worker processes of their own. A sweep
that is killed or runs beside another starts ``clustersim-run`` as a new process, so the
byte-for-byte comparisons also compare a sweep in this process with sweeps in others.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from clustersim.results.locks import JOB_LOCKS, SWEEP_LOCK
from clustersim.results.run_folder import MARKER
from clustersim.results.sweep_folder import STATUS_DIR, read_failures, read_statuses
from tests.conftest import call_cli, run_cli

SEEDS = "0,1,2,3,4"
JOBS = [f"policy=none,seed={s},world=toy" for s in SEEDS.split(",")]


def sweep_args(sweep: Path, *extra: str) -> list[str]:
    return ["-m", "world=toy", "policy=none", f"seed={SEEDS}", f"hydra.sweep.dir={sweep}", *extra]


def job_folders(sweep: Path) -> list[str]:
    return sorted(p.name for p in sweep.iterdir() if p.is_dir() and not p.name.startswith("."))


def marker_stamps(sweep: Path) -> dict[str, tuple[int, int]]:
    out = {}
    for name in job_folders(sweep):
        marker = sweep / name / MARKER
        if marker.is_file():
            st = marker.stat()
            out[name] = (st.st_ino, st.st_mtime_ns)
    return out


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> Path:
    """An uninterrupted sweep with the default launcher (``serial``): what all is compared to."""
    root = tmp_path_factory.mktemp("reference")
    proc = call_cli(*sweep_args(root / "sweep"), cwd=root)
    assert proc.returncode == 0, proc.stderr
    return root / "sweep"


def test_sweep_collects_and_rerun_skips_everything(reference, tmp_path):
    assert job_folders(reference) == JOBS
    runs = pd.read_parquet(reference / "runs.parquet")
    assert runs["job"].tolist() == JOBS
    assert runs["seed"].tolist() == [0, 1, 2, 3, 4]
    assert len(pd.read_parquet(reference / "panel.parquet")) == 5 * 96
    before_tables = (reference / "runs.parquet").read_bytes()
    before = marker_stamps(reference)
    shutil.rmtree(reference / JOB_LOCKS)  # each launched job takes its lock file
    proc = call_cli(*sweep_args(reference), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "5 already complete" in proc.stderr
    assert "5 jobs: 0 done, 5 skipped" in proc.stderr
    assert "sweep 5/5 (100%) | done 0, skipped 5, failed 0" in proc.stderr  # progress line
    assert marker_stamps(reference) == before
    assert (reference / "runs.parquet").read_bytes() == before_tables
    # skipped before launch: no job was handed to a worker, nothing collected again
    assert not (reference / JOB_LOCKS).exists()
    assert "collected tables are up to date" in proc.stderr


def test_killed_sweep_resumes_every_job_exactly_once(reference, tmp_path):
    sweep = tmp_path / "sweep"
    env = dict(os.environ, PYTHONHASHSEED="0")
    proc = subprocess.Popen(
        [sys.executable, "-m", "clustersim.cli.run", *sweep_args(sweep)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 120
    try:
        while len(marker_stamps(sweep) if sweep.is_dir() else {}) < 2:
            assert proc.poll() is None, "the sweep ended before it could be killed"
            assert time.monotonic() < deadline, "no job finished within 120 s"
            time.sleep(0.02)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # like kill -9 of the sweep and its jobs
        proc.wait()
    finished = marker_stamps(sweep)
    assert 2 <= len(finished) < len(JOBS)
    assert not (sweep / "runs.parquet").exists()
    # what a kill during a write leaves behind: a staging folder beside the job folders
    stale = sweep / f".{JOBS[-1]}.partial-999999"
    stale.mkdir()
    (stale / "config.yaml").write_text("half written")

    rerun = call_cli(*sweep_args(sweep), cwd=tmp_path)
    assert rerun.returncode == 0, rerun.stderr
    assert "staging folder(s) of interrupted runs" in rerun.stderr
    assert not stale.exists()
    assert job_folders(sweep) == JOBS
    assert not [p for p in sweep.iterdir() if ".partial-" in p.name]
    statuses = read_statuses(sweep)
    assert {j for j, s in statuses.items() if s == "skipped"} == set(finished)
    assert {j for j, s in statuses.items() if s == "done"} == set(JOBS) - set(finished)
    stamps = marker_stamps(sweep)
    assert {j: stamps[j] for j in finished} == finished  # completed jobs were not rerun
    for table in ("runs.parquet", "panel.parquet"):
        assert pq.read_table(sweep / table).equals(pq.read_table(reference / table))
        assert (sweep / table).read_bytes() == (reference / table).read_bytes()


def test_two_sweeps_at_once_run_each_job_once(reference, tmp_path):
    sweep = tmp_path / "sweep"
    env = dict(os.environ, PYTHONHASHSEED="0")
    first = subprocess.Popen(
        [sys.executable, "-m", "clustersim.cli.run", *sweep_args(sweep)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    while not (sweep / SWEEP_LOCK).is_file() or not (sweep / SWEEP_LOCK).read_text():
        assert first.poll() is None and time.monotonic() < deadline, "the first sweep never began"
        time.sleep(0.02)
    waiting = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "clustersim.cli.run",
            *sweep_args(sweep, "hydra.callbacks.clustersim_sweep.lock_wait=300"),
        ],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    refused = call_cli(*sweep_args(sweep), cwd=tmp_path)
    assert refused.returncode == 1
    assert f"in use by another sweep: process {first.pid}" in refused.stderr
    assert "lock_wait" in refused.stderr and "Traceback" not in refused.stderr
    _, first_err = first.communicate(timeout=300)
    _, waiting_err = waiting.communicate(timeout=300)
    assert first.returncode == 0, first_err
    assert waiting.returncode == 0, waiting_err
    assert "5 jobs: 5 done, 0 skipped (already complete), 0 failed" in first_err
    assert "5 jobs: 0 done, 5 skipped" in waiting_err  # it waited, then found them complete
    assert read_failures(sweep) == {}
    for table in ("runs.parquet", "panel.parquet"):
        assert (sweep / table).read_bytes() == (reference / table).read_bytes()


def test_any_value_names_one_job_folder_and_resume_finds_it(tmp_path):
    sweep = tmp_path / "sweep"
    name = "world.parks.lujiazui.name='Lu/jia zui 陆家嘴 <b>'"
    args = [*sweep_args(sweep)[:3], "seed=0,1", name, f"hydra.sweep.dir={sweep}"]
    proc = call_cli(*args, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    folders = job_folders(sweep)
    assert len(folders) == 2 and all((sweep / f / MARKER).is_file() for f in folders)
    runs = pd.read_parquet(sweep / "runs.parquet")
    assert runs["world.parks.lujiazui.name"].tolist() == ["Lu/jia zui 陆家嘴 <b>"] * 2
    again = call_cli(*args, cwd=tmp_path)
    assert "2 jobs: 0 done, 2 skipped" in again.stderr


@pytest.mark.parametrize("launcher", ["basic", "cores", "joblib", "slurm_local"])
def test_same_tables_whichever_launcher(reference, tmp_path, launcher):
    sweep = tmp_path / "sweep"
    proc = call_cli(*sweep_args(sweep, f"hydra/launcher={launcher}"), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert job_folders(sweep) == JOBS
    for table in ("runs.parquet", "panel.parquet"):
        assert (sweep / table).read_bytes() == (reference / table).read_bytes(), table
    for job in JOBS:
        for name in ("summary.json", "monthly.parquet", "firms_yearly.parquet", "config.yaml"):
            assert (sweep / job / name).read_bytes() == (reference / job / name).read_bytes()


def test_failed_job_is_reported_listed_and_rerun_command_given(tmp_path, monkeypatch):
    """A run that fails inside the simulation (injected: every invalid value is refused
    before a sweep launches, test_sweep_preflight.py). The default launcher runs the jobs
    in this process, so the fault is put into ``clustersim.runner.simulate`` here."""
    import clustersim.runner as runner

    simulate = runner.simulate

    def failing(scenario, *args, **kwargs):
        if scenario.seed == 1:
            raise RuntimeError("injected fault: this run fails inside the simulation")
        return simulate(scenario, *args, **kwargs)

    monkeypatch.setattr(runner, "simulate", failing)
    sweep = tmp_path / "sweep"
    args = ["-m", "world=toy", "policy=none", "seed=0,1", f"hydra.sweep.dir={sweep}"]
    proc = call_cli(*args, cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr  # the sweep ran to the end, but a job failed
    err = proc.stderr
    first_line = "RuntimeError: injected fault: this run fails inside the simulation"
    assert f"FAILED job world=toy policy=none seed=1: {first_line}" in err
    assert "1 failed job(s) (last attempt of each, see .failures/):" in err
    assert "Rerun them with the same command (completed jobs are skipped" in err
    command = "clustersim-run -m world=toy policy=none seed=0,1"
    assert f"{command} hydra.sweep.dir={sweep}" in err
    assert "collect: 1 run from" in err
    assert "Traceback" not in err
    assert list(read_failures(sweep)) == ["policy=none,seed=1,world=toy"]
    assert pd.read_parquet(sweep / "runs.parquet")["seed"].tolist() == [0]
    # rerunning reruns only the failed job (it fails again: the fault is still there)
    again = call_cli(*args, cwd=tmp_path)
    assert "2 jobs: 0 done, 1 skipped (already complete), 1 failed" in again.stderr
    # without the fault, the rerun completes the sweep and clears the failure record
    monkeypatch.setattr(runner, "simulate", simulate)
    healed = call_cli(*args, cwd=tmp_path)
    assert healed.returncode == 0, healed.stderr
    assert list(read_failures(sweep)) == []
    assert sorted(pd.read_parquet(sweep / "runs.parquet")["seed"]) == [0, 1]


def test_qmc_sweeper_reproducible_design_named_by_settings(tmp_path):
    sweep = tmp_path / "sweep"
    args = [
        "-m",
        "hydra/sweeper=qmc",
        "hydra.sweeper.method=lhs",
        "hydra.sweeper.samples=3",
        "hydra.sweeper.digits=4",
        "behavior.entry.but_for_share=interval(0.02,0.7)",
        "world=toy",
        "policy=none",
        f"hydra.sweep.dir={sweep}",
    ]
    proc = call_cli(*args, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "sweep" in proc.stderr and "3 jobs" in proc.stderr
    runs = pd.read_parquet(sweep / "runs.parquet")
    shares = runs["behavior.entry.but_for_share"]
    assert shares.between(0.02, 0.7).all() and shares.nunique() == 3
    assert all(j.startswith("behavior.entry.but_for_share=0.") for j in runs["job"])
    again = call_cli(*args, cwd=tmp_path)
    assert "3 jobs: 0 done, 3 skipped" in again.stderr
    bad = call_cli(
        *args[:-1], "hydra.sweeper.method=sobol", f"hydra.sweep.dir={tmp_path / 'b'}", cwd=tmp_path
    )
    assert bad.returncode == 2  # bad input (clustersim-run exits 2 for it since the inputs work)
    assert "samples = 3: a Sobol design keeps its balance only with a power of two" in bad.stderr
    assert not (tmp_path / "b" / STATUS_DIR).exists()


@pytest.mark.skipif(
    importlib.util.find_spec("hydra_plugins.hydra_ray_launcher") is None,
    reason="hydra-ray-launcher is not installed (pip install -e '.[ray]')",
)
def test_same_tables_with_ray(reference, tmp_path):
    sweep = tmp_path / "sweep"
    proc = run_cli(*sweep_args(sweep, "hydra/launcher=ray_cluster"), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    for table in ("runs.parquet", "panel.parquet"):
        assert (sweep / table).read_bytes() == (reference / table).read_bytes(), table
