"""A sweep with bad input stops before any job runs and leaves nothing behind."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import call_cli


def test_bad_value_in_a_sweep_is_one_clear_error_and_writes_nothing(tmp_path: Path) -> None:
    proc = call_cli(
        "-m", "world=toy", "seed=0,1", "behavior.entry.but_for_share=0.2,7", cwd=tmp_path
    )
    assert proc.returncode == 2, proc.stderr
    assert "behavior.entry.but_for_share = 7.0: must be >= 0 and <= 1" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "results").exists()


def test_unknown_key_added_with_plus_stops_a_sweep(tmp_path: Path) -> None:
    proc = call_cli("-m", "world=toy", "seed=0,1", "+behavior.entry.typo=1", cwd=tmp_path)
    assert proc.returncode == 2 and "behavior.entry.typo" in proc.stderr
    assert not (tmp_path / "results").exists()


def test_a_report_written_into_the_sweep_folder_is_not_taken_for_a_job(tmp_path: Path) -> None:
    from clustersim.results.discover import find_jobs

    sweep = tmp_path / "sw"
    proc = call_cli("-m", "world=toy", "seed=0", f"hydra.sweep.dir={sweep}", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    (sweep / "report_figures").mkdir()
    (sweep / "report_figures" / "figure-01.png").write_bytes(b"png")
    complete, problems = find_jobs(sweep)
    assert len(complete) == 1 and problems == []
