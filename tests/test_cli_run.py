"""clustersim-run as a user runs it: outputs, determinism, bad input, interruption.

Most cases call the command's entry function in this process (``call_cli``: the same
arguments, exit status and output, without a new process's imports); the first run, the
unknown world and a simulation's own failure start ``clustersim-run`` as a new process.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from clustersim.results.run_folder import MARKER, atomic_run_folder, is_complete
from tests.conftest import call_cli, run_cli


def _run_folder(root: Path) -> Path:
    folders = [p for p in (root / "results" / "runs").iterdir() if not p.name.startswith(".")]
    assert len(folders) == 1, folders
    return folders[0]


def test_toy_run_writes_a_complete_folder(tmp_path: Path) -> None:
    proc = run_cli("world=toy", "seed=4", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "2025-12" in proc.stdout and "2027-12" in proc.stdout and "leading firms" in proc.stdout
    folder = _run_folder(tmp_path)
    assert is_complete(folder)
    for name in (
        "config.yaml",
        "overrides.yaml",
        "summary.json",
        "monthly.parquet",
        "firms_yearly.parquet",
        "relocations.parquet",
    ):
        assert (folder / name).is_file(), name
    monthly = pd.read_parquet(folder / "monthly.parquet")
    assert monthly["month"].iloc[-1] == "2027-12" and len(monthly) == 96
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["seed"] == 4 and set(summary["outcomes"]) == {"2025-12", "2027-12"}
    yearly = pd.read_parquet(folder / "firms_yearly.parquet")
    assert sorted(yearly["month"].unique()) == [f"{y}-12" for y in range(2020, 2028)]


def _outputs(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def test_same_seed_same_bytes_other_seed_other_outputs(tmp_path: Path) -> None:
    runs = {}
    for name, seed in (("a", 11), ("b", 11), ("c", 12)):
        (tmp_path / name).mkdir()
        proc = call_cli(
            "world=toy", f"seed={seed}", "hydra.run.dir=results/runs/x", cwd=tmp_path / name
        )
        assert proc.returncode == 0, proc.stderr
        runs[name] = _outputs(tmp_path / name / "results/runs/x")
    assert runs["a"] == runs["b"]
    assert runs["a"]["monthly.parquet"] != runs["c"]["monthly.parquet"]


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ("world.start=2020-13", "world.start"),
        ("world.end=2019-01", "world.end"),
        ("world.scale=-1", "world.scale"),
        ("+behavior.entry.typo=1", "behavior.entry.typo"),
        ("behavior.entry.but_for_share=nan", "behavior.entry.but_for_share"),
        ("world.initial.talent_agents=100000", "world.parks.*.capacity"),
        ("seed=99999999999999999999", "seed"),
        ("run.report_months=[]", "run.report_months"),
        ("world.scale=1e12", "world.scale"),
        ("behavior.entry.nokey=3", "behavior.entry.nokey"),  # Hydra's error, in one line
    ],
)
def test_bad_input_is_one_clear_line_and_nothing_is_written(
    tmp_path: Path, override: str, field: str
) -> None:
    proc = call_cli("world=toy", override, cwd=tmp_path)
    assert proc.returncode == 2
    assert f"invalid config: {field} = " in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "results" / "runs").exists() or not any(
        (tmp_path / "results" / "runs").iterdir()
    )


def test_unknown_world_is_rejected_by_name(tmp_path: Path) -> None:
    proc = run_cli("world=atlantis", cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.strip() == (
        "clustersim-run: invalid config: world = 'atlantis': unknown world; "
        "allowed: arthur, shanghai, toy"
    )
    assert not (tmp_path / "results").exists()


def test_a_user_experiment_file_is_checked_whole_and_its_yaml_errors_located(
    tmp_path: Path,
) -> None:
    mine = tmp_path / "mine" / "experiment"
    mine.mkdir(parents=True)
    (mine / "broken.yaml").write_text("# @package _global_\nworld:\n  scale: [1, 2\nseed: 3\n")
    (mine / "bad.yaml").write_text(
        "# @package _global_\nseed: -3\nworld:\n  scale: -1\n"
        "behavior:\n  growth:\n    volatility: -2\n"
    )
    broken = call_cli("-cd", str(tmp_path / "mine"), "experiment=broken", cwd=tmp_path)
    assert broken.returncode == 2 and len(broken.stderr.strip().splitlines()) == 1
    assert "broken.yaml, line 4, column 5': not valid YAML" in broken.stderr
    bad = call_cli("-cd", str(tmp_path / "mine"), "experiment=bad", "world=toy", cwd=tmp_path)
    assert bad.returncode == 2 and "3 settings are invalid" in bad.stderr
    for field in ("seed = -3", "world.scale = -1.0", "behavior.growth.volatility = -2.0"):
        assert field in bad.stderr
    assert "Traceback" not in broken.stderr + bad.stderr
    assert not (tmp_path / "results").exists()


def test_an_unwritable_run_folder_is_one_line(tmp_path: Path) -> None:
    proc = call_cli("world=toy", "hydra.run.dir=/proc/forbidden", cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "clustersim-run: cannot write /proc/forbidden: No such file or directory (runs write "
        "under paths.results; choose a folder you can write with hydra.run.dir=, "
        "hydra.sweep.dir= or paths.results=)"
    ]


def test_a_complete_run_folder_is_refused_before_simulating(tmp_path: Path) -> None:
    folder = tmp_path / "run"
    first = call_cli("world=toy", "run.progress=false", f"hydra.run.dir={folder}", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    before = _outputs(folder)
    marker_time = (folder / MARKER).stat().st_mtime_ns
    again = call_cli("world=toy", "run.progress=false", f"hydra.run.dir={folder}", cwd=tmp_path)
    assert again.returncode == 2
    assert f"invalid config: hydra.run.dir = '{folder}': already holds a complete run" in (
        again.stderr
    )
    assert "setup" not in again.stdout + again.stderr  # the run's log line: it never ran
    assert _outputs(folder) == before and (folder / MARKER).stat().st_mtime_ns == marker_time


def test_a_seed_too_large_stops_a_sweep_before_any_job(tmp_path: Path) -> None:
    proc = call_cli(
        "-m", "world=toy", "seed=1,99999999999999999999", "hydra.sweep.dir=sweep", cwd=tmp_path
    )
    assert proc.returncode == 2
    assert "invalid config in sweep job [world=toy seed=99999999999999999999]: seed = " in (
        proc.stderr
    )
    assert not (tmp_path / "sweep").exists()


def test_an_interrupted_write_leaves_no_folder(tmp_path: Path) -> None:
    final = tmp_path / "run"
    final.mkdir()  # as Hydra creates it
    with pytest.raises(KeyboardInterrupt), atomic_run_folder(final, {"seed": 0}) as w:
        w.text("config.yaml", "seed: 0")
        raise KeyboardInterrupt
    assert not (final / MARKER).exists() and not final.exists()
    assert not [p for p in tmp_path.iterdir()]  # no staging folder left either


def test_old_preset_spelling_is_accepted_with_a_note(tmp_path: Path) -> None:
    proc = call_cli("+experiment=arthur_lockin", "--cfg", "job", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "'+experiment=arthur_lockin' is now spelled 'preset=arthur_lockin'" in proc.stderr
    assert "sequential: true" in proc.stdout  # the preset was applied
    assert not (tmp_path / "results").exists()


def test_paths_results_moves_the_run_folder(tmp_path: Path) -> None:
    proc = call_cli("world=toy", "run.progress=false", "paths.results=elsewhere", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    runs = list((tmp_path / "elsewhere" / "runs").iterdir())
    assert len(runs) == 1 and is_complete(runs[0])
    assert not (tmp_path / "results").exists()


def test_an_unknown_key_in_a_sweep_stops_it_in_one_line_and_leaves_no_folder(
    tmp_path: Path,
) -> None:
    proc = call_cli(
        "-m", "world=toy", "seed=1,2", "foo.bar=1", "hydra.sweep.dir=sweep", cwd=tmp_path
    )
    assert proc.returncode == 2
    assert (
        "foo.bar = '1': unknown key; the keys of the top level are: seed, world, behavior, "
        "policy, national, run" in proc.stderr
    )
    assert "Traceback" not in proc.stderr and not (tmp_path / "sweep").exists()


def test_a_folder_holding_other_files_is_never_replaced_by_a_run(tmp_path: Path) -> None:
    folder = tmp_path / "documents"
    folder.mkdir()
    (folder / "thesis.txt").write_text("precious")
    proc = call_cli("world=toy", "run.progress=false", f"hydra.run.dir={folder}", cwd=tmp_path)
    assert proc.returncode == 2
    assert "holds files that are not a run's (thesis.txt)" in proc.stderr
    assert [p.name for p in folder.iterdir()] == ["thesis.txt"]
    assert (folder / "thesis.txt").read_text() == "precious"


def test_a_failure_of_the_simulation_keeps_its_traceback(tmp_path: Path) -> None:
    """Only bad input is shortened to one line; a bug inside a rule must stay visible."""
    code = (
        "import sys\n"
        "import clustersim.cli.run as run\n"
        "import clustersim.runner as runner\n"
        "def broken(*args, **kwargs):\n"
        "    raise ValueError('a rule went wrong')\n"
        "runner.simulate = broken  # run.execute imports it when it runs\n"
        "sys.argv = ['clustersim-run', 'world=toy', 'hydra.run.dir=out']\n"
        "run.main()\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 1
    assert "Traceback" in proc.stderr and "ValueError: a rule went wrong" in proc.stderr
    assert "invalid config" not in proc.stderr and not (tmp_path / "out").exists()
