"""sweep_job: skip complete jobs, record failures without stopping the sweep, resume cleanly.

These tests use a fake ``execute`` that writes a small run folder through the real
atomic writer, so they run in milliseconds; the end-to-end tests against the real
``clustersim-run`` are in test_sweep_cli.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml
from omegaconf import OmegaConf

from clustersim.config import config_hash
from clustersim.results.run_folder import atomic_run_folder, is_complete
from clustersim.results.sweep_folder import (
    DEFAULT_JOB_NAME,
    clear_sweep_partials,
    failure_path,
    job_file_stem,
    job_from_file_stem,
    read_failures,
    read_statuses,
    reset_status,
)
from clustersim.sweep.jobs import sweep_job
from clustersim.sweep.progress import Counts, read_counts, render


class FakeModel:
    """Stands in for the simulation: counts calls, fails for chosen seeds."""

    def __init__(self, fail_seeds: set[int] | None = None) -> None:
        self.calls: list[int] = []
        self.fail_seeds = fail_seeds or set()

    def __call__(self, cfg, out_dir: Path) -> dict:
        seed = int(cfg.seed)
        self.calls.append(seed)
        if seed in self.fail_seeds:
            raise ValueError(f"seed {seed} is cursed\nsecond line of the message")
        summary = {
            "seed": seed,
            "config_hash": config_hash(cfg),
            "outcomes": {"2025-12": {"firms": seed}},
        }
        marker = {"config_hash": config_hash(cfg), "seed": seed, "version": "test"}
        with atomic_run_folder(out_dir, marker) as w:
            w.text("config.yaml", yaml.safe_dump(OmegaConf.to_container(cfg)))
            w.text("overrides.yaml", yaml.safe_dump([f"seed={seed}"]))
            w.json("summary.json", summary)
            w.table("monthly.parquet", pd.DataFrame({"month": ["2025-12"], "firms": [seed]}))
        return summary


def cfg_for(seed: int, **extra):
    return OmegaConf.create({"seed": seed, "world": {"name": "toy"}, **extra})


def run(sweep: Path, seed: int, model, **extra):
    return sweep_job(
        cfg_for(seed, **extra),
        sweep / f"seed={seed}",
        model,
        sweep_dir=sweep,
        overrides=[f"seed={seed}"],
    )


def test_completed_job_is_skipped_and_returns_stored_summary(tmp_path):
    model = FakeModel()
    first = run(tmp_path, 1, model)
    second = run(tmp_path, 1, model)
    assert model.calls == [1]
    assert second == first == json.loads((tmp_path / "seed=1" / "summary.json").read_text())
    assert read_statuses(tmp_path) == {"seed=1": "skipped"}


def test_failure_is_recorded_reported_and_does_not_raise(tmp_path, capsys):
    model = FakeModel(fail_seeds={2})
    out = run(tmp_path, 2, model)
    assert out["status"] == "failed"
    assert out["error"] == "ValueError: seed 2 is cursed"
    record = json.loads(failure_path(tmp_path, "seed=2").read_text())
    assert record["overrides"] == ["seed=2"]
    assert "Traceback" in record["traceback"] and "second line" in record["traceback"]
    err = capsys.readouterr().err
    assert "FAILED job seed=2: ValueError: seed 2 is cursed" in err
    assert "second line" not in err
    assert not is_complete(tmp_path / "seed=2")
    assert read_counts(tmp_path) == Counts(done=0, skipped=0, failed=1)


def test_rerun_after_fix_clears_the_failure_record(tmp_path):
    model = FakeModel(fail_seeds={2})
    run(tmp_path, 2, model)
    assert "seed=2" in read_failures(tmp_path)
    model.fail_seeds.clear()
    out = run(tmp_path, 2, model)
    assert out["seed"] == 2
    assert read_failures(tmp_path) == {}
    assert read_statuses(tmp_path) == {"seed=2": "done"}


def test_keyboard_interrupt_stops_the_sweep_and_leaves_nothing(tmp_path):
    def interrupted(cfg, out_dir):
        with atomic_run_folder(out_dir, {"config_hash": "x"}) as w:
            w.text("config.yaml", "seed: 1\n")
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run(tmp_path, 1, interrupted)
    assert not (tmp_path / "seed=1").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name != ".sweep"] == []
    assert read_failures(tmp_path) == {}


def test_changed_config_is_a_failure_not_a_silent_skip_or_overwrite(tmp_path):
    model = FakeModel()
    run(tmp_path, 1, model)
    before = (tmp_path / "seed=1" / "summary.json").read_bytes()
    out = run(tmp_path, 1, model, extra_setting=5)
    assert out["status"] == "failed"
    assert "holds a run of another config" in out["error"]
    assert model.calls == [1]
    assert (tmp_path / "seed=1" / "summary.json").read_bytes() == before


def test_a_damaged_complete_job_runs_again(tmp_path, capsys):
    model = FakeModel()
    run(tmp_path, 1, model)
    monthly = tmp_path / "seed=1" / "monthly.parquet"
    monthly.write_bytes(monthly.read_bytes()[:10])  # truncated after the run
    out = run(tmp_path, 1, model)
    assert model.calls == [1, 1] and out["seed"] == 1
    assert "DAMAGED job seed=1: monthly.parquet holds 10 bytes" in capsys.readouterr().err
    assert read_statuses(tmp_path) == {"seed=1": "done"}
    assert read_failures(tmp_path) == {}
    run(tmp_path, 1, model)
    assert model.calls == [1, 1]  # intact again: skipped


def test_stale_staging_folders_are_removed(tmp_path):
    stale = tmp_path / ".seed=1.partial-99999"
    stale.mkdir()
    (stale / "config.yaml").write_text("half written")
    other = tmp_path / ".seed=2.partial-99999"
    other.mkdir()
    run(tmp_path, 1, FakeModel())
    assert not stale.exists()
    assert other.exists()  # another job's staging folder is not this job's to remove
    assert clear_sweep_partials(tmp_path) == [other]
    assert not other.exists()


def test_job_without_overrides_gets_a_named_folder(tmp_path):
    sweep_job(cfg_for(0), tmp_path, FakeModel(), sweep_dir=tmp_path, overrides=[])
    assert is_complete(tmp_path / DEFAULT_JOB_NAME)


def test_job_names_round_trip_through_file_names():
    name = "behavior.entry.but_for_share=0.25,policy=a/b,seed=3"
    stem = job_file_stem(name)
    assert "/" not in stem
    assert job_from_file_stem(stem) == name


def test_progress_counts_and_render(tmp_path):
    model = FakeModel(fail_seeds={3})
    for seed in (1, 2, 3):
        run(tmp_path, seed, model)
    run(tmp_path, 1, model)
    assert read_counts(tmp_path) == Counts(done=1, skipped=1, failed=1)
    line = render(read_counts(tmp_path), total=4, elapsed=30)
    assert line.startswith("sweep 3/4 (75%) | done 1, skipped 1, failed 1 | 30s")
    assert "about 15s left" in line
    reset_status(tmp_path)
    assert read_counts(tmp_path) == Counts()
