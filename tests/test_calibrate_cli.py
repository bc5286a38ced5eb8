"""``clustersim-calibrate`` as a user types it: bad input is one line, status 2, nothing written.

The runs themselves (a calibration, its presets, its report, a resume) are in
tests/test_calibrate_engine.py (slow).
"""

from __future__ import annotations

import pytest

from clustersim.cli.calibrate import main


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (
            ["nowhere"],
            "clustersim-calibrate: invalid calibration: calibration = 'nowhere': no such file; "
            "known: shanghai, toy",
        ),
        (["toy", "population=lots"], "clustersim-calibrate: invalid calibration: population"),
        (
            ["toy", "population"],
            "clustersim-calibrate: invalid calibration: setting = 'population'",
        ),
        (["toy", "colour=blue"], "clustersim-calibrate: invalid calibration: colour = 'blue'"),
        (
            ["toy", "max_runs=0"],
            "clustersim-calibrate: invalid calibration: max_runs = 0: must be a whole number",
        ),
        (["toy", "--workers", "0"], "clustersim-calibrate: --workers = 0: must be at least 1"),
        (
            ["toy", "--no-preset", "--preset-dir", "x"],
            "clustersim-calibrate: --preset-dir and --no-preset",
        ),
        (
            ["toy", "hydra/launcher=nowhere"],
            "clustersim-calibrate: invalid calibration: hydra/launcher = 'nowhere': unknown "
            "hydra/launcher; allowed: basic, cores, joblib,",
        ),
        (
            ["toy", "hydra/launcher=basic", "--workers", "2"],
            "clustersim-calibrate: invalid calibration: hydra.launcher.n_jobs = '2': no such "
            "field in BasicLauncherConf",
        ),
        (
            ["toy", "hydra.launcher.colour=blue"],
            "clustersim-calibrate: invalid calibration: hydra.launcher.colour = 'blue': no such "
            "field in JobLibLauncherConf; its fields: backend, batch_size,",
        ),
        (
            ["toy", "hydra.sweep.dir=elsewhere"],
            "clustersim-calibrate: invalid calibration: hydra.sweep.dir = 'elsewhere': set by "
            "the calibration",
        ),
    ],
)
def test_bad_input_is_one_line_and_writes_nothing(tmp_path, monkeypatch, capsys, argv, says):
    monkeypatch.chdir(tmp_path)
    status = main([*argv, f"folder={tmp_path / 'out'}"] if len(argv) > 1 else argv)
    err = capsys.readouterr().err.strip().splitlines()
    assert status == 2
    assert len(err) == 1 and err[0].startswith(says), err
    assert list(tmp_path.iterdir()) == []


def test_report_only_without_a_calibration_says_so(tmp_path, capsys):
    status = main(["toy", "method=rejection", f"folder={tmp_path / 'none'}", "--report-only"])
    err = capsys.readouterr().err.strip().splitlines()
    assert status == 2
    assert err == [
        f"clustersim-calibrate: invalid calibration: --report-only = '{tmp_path / 'none'}': "
        "no finished generation there yet"
    ]
    assert not (tmp_path / "none").exists()


def test_a_folder_another_calibration_is_using_is_one_line(tmp_path, capsys):
    from clustersim.results.locks import lock_sweep

    folder = tmp_path / "busy"
    with lock_sweep(folder / "runs"):  # another calibration of this folder is running
        status = main(["toy", "method=rejection", f"folder={folder}", "--no-preset"])
    err = capsys.readouterr().err.strip().splitlines()
    assert status == 1
    assert len(err) == 1 and err[0].startswith("clustersim-calibrate: sweep folder "), err
    assert "in use by another sweep" in err[0] and "folder=" in err[0]
    assert sorted(p.name for p in folder.iterdir()) == ["runs"]  # no manifest, no run
