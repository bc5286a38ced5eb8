"""clustersim-collect on synthetic sweep folders: tables, schema unification, bad input."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
import yaml

from clustersim.cli.collect import main
from clustersim.policy.engine import RATIONING_COLUMNS
from clustersim.results import collector as collect_mod
from clustersim.results.collector import NotASweepError, collect
from clustersim.results.run_folder import atomic_run_folder
from clustersim.results.sweep_folder import failure_path, write_json_atomic

MONTHS = ["2025-11", "2025-12", "2026-01"]


def make_run(
    sweep: Path,
    seed: int,
    *,
    policy: str = "none",
    extra_metric: str | None = None,
    caused: bool = False,
    share: float | int = 0.25,
    rationing: pd.DataFrame | None = None,
) -> Path:
    """Write a complete run folder as clustersim-run would (contract of docs/sweeps.md).

    ``rationing``: the run's turned-away applications; None writes no rationing.parquet,
    as runs without a plan and runs written before it was recorded.
    """
    name = f"behavior.entry.but_for_share={share},policy={policy},seed={seed}"
    overrides = [f"policy={policy}", f"seed={seed}", f"behavior.entry.but_for_share={share}"]
    config = {
        "seed": seed,
        "policy": {"regimes": {}},
        "behavior": {"entry": {"but_for_share": share}},
    }
    outcomes = {m: {"firms": 10 + seed, "employment": 100.5 * seed} for m in ("2025-12", "2027-12")}
    if extra_metric:
        outcomes["2027-12"][extra_metric] = 7
    summary = {
        "seed": seed,
        "config_hash": f"hash{seed}",
        "policy": policy,
        "world": "toy",
        "start": "2020-01",
        "end": "2027-12",
        "outcomes": outcomes,
        "caused": {"2027-12": {"firms": 1.5}} if caused else None,
    }
    monthly = pd.DataFrame({"month": MONTHS, "firms": [seed, seed + 1, seed + 2]})
    if extra_metric:
        monthly[extra_metric] = [0.5, 1.5, 2.5]
    folder = sweep / name
    with atomic_run_folder(folder, {"config_hash": f"hash{seed}", "seed": seed}) as w:
        w.text("config.yaml", yaml.safe_dump(config))
        w.text("overrides.yaml", yaml.safe_dump(overrides))
        w.json("summary.json", summary)
        w.table("monthly.parquet", monthly)
        if rationing is not None:
            w.table("rationing.parquet", rationing)
    return folder


def as_written(job: Path, name: str, data: bytes) -> None:
    """Replace a file of a run and its marker's record, as if the run had written it so."""
    (job / name).write_bytes(data)
    marker = json.loads((job / "COMPLETE").read_text())
    marker["files"][name] = [len(data), hashlib.sha256(data).hexdigest()]
    (job / "COMPLETE").write_text(json.dumps(marker))


def make_sweep(sweep: Path, seeds=(0, 1, 2)) -> Path:
    sweep.mkdir(parents=True, exist_ok=True)
    (sweep / "multirun.yaml").write_text("hydra: {}\n")
    for s in seeds:
        make_run(sweep, s)
    return sweep


def test_runs_and_panel_tables(tmp_path):
    sweep = make_sweep(tmp_path / "sw")
    make_run(sweep, 3, caused=True)
    result = collect(sweep)
    assert result.problems == []
    runs = pd.read_parquet(sweep / "runs.parquet")
    assert list(runs.columns[:7]) == [
        "job",
        "seed",
        "config_hash",
        "policy",
        "world",
        "start",
        "end",
    ]
    assert runs["seed"].tolist() == [0, 1, 2, 3]
    assert runs["job"].is_monotonic_increasing
    assert runs["behavior.entry.but_for_share"].tolist() == [0.25] * 4
    assert runs["firms@2025-12"].tolist() == [10.0, 11.0, 12.0, 13.0]
    assert runs["employment@2027-12"].dtype == "float64"
    assert runs["caused_firms@2027-12"].isna().tolist() == [True, True, True, False]
    panel = pd.read_parquet(sweep / "panel.parquet")
    assert list(panel.columns) == ["job", "month", "firms"]
    assert len(panel) == 4 * len(MONTHS)
    assert panel["month"].tolist()[:3] == MONTHS
    assert (panel.groupby("job").size() == len(MONTHS)).all()
    assert result.panel_rows == len(panel)


def test_runs_with_different_metrics_are_unified(tmp_path):
    sweep = make_sweep(tmp_path / "sw", seeds=(0,))
    make_run(sweep, 1, extra_metric="patents", share=1)  # an int override beside floats
    collect(sweep)
    runs = pd.read_parquet(sweep / "runs.parquet")
    # jobs in name order: ...share=0.25,...,seed=0 (no patents) before ...share=1,...,seed=1
    assert runs["seed"].tolist() == [0, 1]
    assert runs["patents@2027-12"].isna().tolist() == [True, False]
    assert runs["behavior.entry.but_for_share"].dtype == "float64"
    panel = pd.read_parquet(sweep / "panel.parquet")
    assert list(panel.columns) == ["job", "month", "firms", "patents"]
    assert panel["patents"].isna().tolist() == [True] * 3 + [False] * 3


def test_output_is_deterministic_whatever_the_creation_order(tmp_path):
    a = tmp_path / "a"
    b = tmp_path / "b"
    make_sweep(a, seeds=(0, 1, 2, 3))
    make_sweep(b, seeds=(3, 1, 0, 2))
    collect(a)
    collect(b)
    for table in ("runs.parquet", "panel.parquet"):
        assert (a / table).read_bytes() == (b / table).read_bytes()


def test_streaming_in_small_row_groups_gives_the_same_table(tmp_path, monkeypatch):
    sweep = make_sweep(tmp_path / "sw", seeds=range(7))
    collect(sweep)
    whole = pq.read_table(sweep / "panel.parquet")
    monkeypatch.setattr(collect_mod, "ROWS_PER_GROUP", 2)
    collect(sweep)
    assert pq.ParquetFile(sweep / "panel.parquet").metadata.num_row_groups > 1
    assert pq.read_table(sweep / "panel.parquet").equals(whole)
    assert len(pq.read_table(sweep / "runs.parquet")) == 7


def test_bad_jobs_are_named_and_good_jobs_still_collected(tmp_path, capsys):
    sweep = make_sweep(tmp_path / "sw", seeds=(0, 1, 2, 3, 4))
    (sweep / "behavior.entry.but_for_share=0.25,policy=none,seed=1" / "summary.json").write_text(
        "{oops"
    )
    (
        sweep / "behavior.entry.but_for_share=0.25,policy=none,seed=2" / "monthly.parquet"
    ).write_bytes(b"not parquet")
    (sweep / "behavior.entry.but_for_share=0.25,policy=none,seed=3" / "monthly.parquet").unlink()
    (sweep / "policy=none,seed=9").mkdir()  # Hydra made it, the job never finished
    half = sweep / "policy=none,seed=8"
    half.mkdir()
    (half / "summary.json").write_text("{}")  # written without the atomic writer
    (sweep / ".policy=none,seed=7.partial-123").mkdir()
    write_json_atomic(
        failure_path(sweep, "policy=none,seed=6"),
        {"job": "policy=none,seed=6", "overrides": ["seed=6"], "error": "ValueError: boom"},
    )
    code = main([str(sweep)])
    err = capsys.readouterr()
    assert code == 0
    assert "2 runs from" in err.out
    runs = pd.read_parquet(sweep / "runs.parquet")
    assert runs["seed"].tolist() == [0, 4]
    messages = err.err
    assert "seed=1: corrupt job, not collected: summary.json holds 5 bytes, the run" in messages
    assert "seed=2: corrupt job, not collected: monthly.parquet holds 11 bytes" in messages
    assert "seed=3: corrupt job, not collected: monthly.parquet is missing" in messages
    assert "seed=9: job did not finish (empty folder)" in messages
    assert "seed=8: incomplete job: no COMPLETE marker" in messages
    assert "partial-123: staging folder of an interrupted run" in messages
    assert "seed=6: failed: ValueError: boom" in messages
    assert "Traceback" not in messages


@pytest.mark.parametrize(
    ("setup", "expected"),
    [
        (lambda p: None, "no such folder"),
        (lambda p: p.write_text("x"), "is a file, not a sweep folder"),
        (lambda p: p.mkdir(), "not a sweep folder (no multirun.yaml"),
        (lambda p: (p.mkdir(), (p / "notes.txt").write_text("hi")), "not a sweep folder"),
    ],
)
def test_not_a_sweep_is_a_clear_error_and_exit_1(tmp_path, capsys, setup, expected):
    target = tmp_path / "target"
    setup(target)
    assert main([str(target)]) == 1
    err = capsys.readouterr().err
    assert expected in err and str(target) in err
    assert "Traceback" not in err


def test_a_single_run_folder_is_not_a_sweep(tmp_path):
    sweep = make_sweep(tmp_path / "sw", seeds=(0,))
    run = next(p for p in sweep.iterdir() if p.is_dir())
    with pytest.raises(NotASweepError, match="single run folder"):
        collect(run)


def test_empty_sweep_collects_nothing_and_exits_1(tmp_path, capsys):
    sweep = make_sweep(tmp_path / "sw", seeds=())
    assert main([str(sweep)]) == 1
    assert "nothing collected" in capsys.readouterr().err
    assert not (sweep / "runs.parquet").exists()


def test_only_corrupt_jobs_exit_1_and_leave_no_tables(tmp_path, capsys):
    sweep = make_sweep(tmp_path / "sw", seeds=(0,))
    job = next(p for p in sweep.iterdir() if p.is_dir())
    (job / "COMPLETE").write_text("not json")
    assert main([str(sweep)]) == 1
    assert "COMPLETE cannot be read" in capsys.readouterr().err
    assert not (sweep / "runs.parquet").exists() and not (sweep / "panel.parquet").exists()
    assert [p.name for p in sweep.iterdir() if p.name.startswith(".")] == []


def test_recollecting_replaces_tables_atomically(tmp_path):
    sweep = make_sweep(tmp_path / "sw", seeds=(0, 1))
    collect(sweep)
    shutil.rmtree(next(p for p in sweep.iterdir() if p.name.endswith("seed=1")))
    collect(sweep)
    assert pd.read_parquet(sweep / "runs.parquet")["seed"].tolist() == [0]
    assert sorted(p.name for p in sweep.iterdir()) == [
        "behavior.entry.but_for_share=0.25,policy=none,seed=0",
        "multirun.yaml",
        "panel.parquet",
        "runs.parquet",
    ]


def test_summary_with_a_non_number_outcome_is_reported(tmp_path, capsys):
    sweep = make_sweep(tmp_path / "sw", seeds=(0, 1))
    job = next(p for p in sweep.iterdir() if p.name.endswith("seed=1"))
    summary = json.loads((job / "summary.json").read_text())
    summary["outcomes"]["2025-12"]["firms"] = [1, 2]
    as_written(job, "summary.json", json.dumps(summary).encode())
    assert main([str(sweep)]) == 0
    assert "outcomes.2025-12.firms = [1, 2] is not a number" in capsys.readouterr().err


def test_failed_rerun_of_a_complete_job_keeps_its_earlier_run(tmp_path, capsys):
    sweep = make_sweep(tmp_path / "sw", seeds=(0, 1))
    job = next(p.name for p in sweep.iterdir() if p.name.endswith("seed=1"))
    write_json_atomic(
        failure_path(sweep, job),
        {"job": job, "overrides": [], "error": "StaleRunError: holds a run of another config"},
    )
    assert main([str(sweep)]) == 0
    out = capsys.readouterr()
    assert "last attempt failed: StaleRunError" in out.err
    assert "earlier complete run in the folder is collected" in out.err
    assert "2 runs from" in out.out and "not collected" not in out.out


# --------------------------------------------------------------------------- rationing


def _away(rows: list[tuple[str, str, int, float]]) -> pd.DataFrame:
    """A run's rationing.parquet: (instrument, month, applications, RMB) per row."""
    frame = pd.DataFrame(
        [
            ("huangpu_2024", inst, "huangpu", month, int(month[:4]), n, rmb, rmb / n)
            for inst, month, n, rmb in rows
        ],
        columns=list(RATIONING_COLUMNS),
    )
    return frame.astype(RATIONING_COLUMNS)


def test_turn_aways_are_gathered_and_runs_without_the_file_still_collect(tmp_path, capsys):
    sweep = make_sweep(tmp_path / "sw", seeds=(0, 1))  # older runs: no rationing.parquet
    rows = [("rd_subsidy", "2025-09", 2, 3e6), ("talent_services", "2026-04", 1, 1e5)]
    recorded = make_run(sweep, 2, rationing=_away(rows)).name
    quiet = make_run(sweep, 3, rationing=_away([])).name  # recorded, nobody turned away
    assert main([str(sweep)]) == 0
    out = capsys.readouterr()
    assert "4 runs from" in out.out and "rationing.parquet (2 rows" in out.out
    assert "2 of the 4 runs have no rationing.parquet" in out.out
    assert out.err == ""
    result = collect(sweep)
    assert result.problems == [] and len(result.jobs) == 4
    assert result.rationing_jobs == [recorded, quiet] and result.rationing_rows == 2
    table = pd.read_parquet(sweep / "rationing.parquet")
    assert list(table.columns) == ["job", *RATIONING_COLUMNS]
    assert table["job"].tolist() == [recorded, recorded]
    assert table["instrument"].tolist() == ["rd_subsidy", "talent_services"]
    assert table["applications"].tolist() == [2, 1] and table["amount"].tolist() == [3e6, 1e5]
    assert len(pd.read_parquet(sweep / "runs.parquet")) == 4


def test_rationing_table_is_deterministic_and_empty_when_nobody_was_turned_away(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    for sweep, seeds in ((a, (0, 1, 2)), (b, (2, 0, 1))):
        sweep.mkdir()
        (sweep / "multirun.yaml").write_text("hydra: {}\n")
        for s in seeds:
            make_run(sweep, s, rationing=_away([("rd_subsidy", f"2025-0{s + 1}", s + 1, 1e6)]))
        collect(sweep)
    assert (a / "rationing.parquet").read_bytes() == (b / "rationing.parquet").read_bytes()
    assert pd.read_parquet(a / "rationing.parquet")["applications"].tolist() == [1, 2, 3]
    empty = tmp_path / "e"
    empty.mkdir()
    (empty / "multirun.yaml").write_text("hydra: {}\n")
    make_run(empty, 0, rationing=_away([]))
    collect(empty)
    table = pd.read_parquet(empty / "rationing.parquet")
    assert table.empty and list(table.columns) == ["job", *RATIONING_COLUMNS]


def test_a_corrupt_rationing_file_leaves_its_run_out_of_every_table(tmp_path, capsys):
    sweep = make_sweep(tmp_path / "sw", seeds=(0,))
    make_run(sweep, 1, rationing=_away([("rd_subsidy", "2025-09", 2, 3e6)]))
    bad = make_run(sweep, 2, rationing=_away([("rd_subsidy", "2025-10", 1, 1e6)]))
    as_written(bad, "rationing.parquet", b"not parquet")  # unreadable as the run wrote it
    assert main([str(sweep)]) == 0
    err = capsys.readouterr().err
    assert "seed=2: corrupt job, not collected: rationing.parquet cannot be read" in err
    assert pd.read_parquet(sweep / "runs.parquet")["seed"].tolist() == [0, 1]
    assert set(pd.read_parquet(sweep / "panel.parquet")["job"]) == set(
        pd.read_parquet(sweep / "runs.parquet")["job"]
    )
    assert pd.read_parquet(sweep / "rationing.parquet")["month"].tolist() == ["2025-09"]


def test_recollecting_without_recorded_runs_removes_the_rationing_table(tmp_path):
    sweep = make_sweep(tmp_path / "sw", seeds=(0,))
    job = make_run(sweep, 1, rationing=_away([("rd_subsidy", "2025-09", 2, 3e6)]))
    collect(sweep)
    assert (sweep / "rationing.parquet").is_file()
    shutil.rmtree(job)
    result = collect(sweep)
    assert result.rationing_path is None and not (sweep / "rationing.parquet").exists()


# ------------------------------------------------ the marker's values of the overrides

#: Overrides whose values in the config have every type a column can take, a group
#: choice (its node is a mapping: the text is the column), a deletion and a repeat.
TYPED = [
    "policy=none",
    "seed=7",
    "behavior.entry.but_for_share=1e-300",
    "world.name='001'",
    "run.flag=true",
    "run.nothing=null",
    "~world.extra",
    "seed=8",
]


def _typed_run(sweep: Path, seed: int) -> Path:
    from clustersim.results.run_folder import RunContent, write_run_folder

    config = {
        "seed": 8 + seed,
        "policy": {"regimes": {}},
        "behavior": {"entry": {"but_for_share": 1e-300}},
        "world": {"name": "001", "size": float("inf")},
        "run": {"flag": True, "nothing": None},
    }
    summary = {"seed": 8 + seed, "config_hash": f"h{seed}", "outcomes": {}, "caused": None}
    monthly = pd.DataFrame({"month": MONTHS, "firms": [seed, seed + 1, seed + 2]})
    folder = sweep / f"job{seed}"
    content = RunContent(
        marker={"config_hash": f"h{seed}", "seed": 8 + seed},
        config=config,
        overrides=[*TYPED, f"+run.job={seed}"],
        summary=summary,
        tables={"monthly.parquet": monthly},
    )
    return write_run_folder(folder, content)


def test_the_marker_holds_the_values_the_collector_would_read_back(tmp_path):
    from clustersim.results.overrides import override_values
    from clustersim.results.run_folder import StoredRun

    run = StoredRun(_typed_run(tmp_path, 0))
    stored = run.marker()["values"]
    read_back = override_values(run.overrides(), run.config())
    assert stored == read_back and repr(stored) == repr(dict(sorted(read_back.items())))
    assert stored["seed"] == 8 and stored["world.name"] == "001"  # typed as in the config
    assert stored["policy"] == "none" and stored["world.extra"] is None


def test_collecting_from_the_markers_gives_the_tables_of_reading_each_config(tmp_path):
    tables = {}
    for variant in ("markers", "configs"):
        sweep = tmp_path / variant
        sweep.mkdir()
        (sweep / "multirun.yaml").write_text("hydra: {}\n")
        for seed in range(3):
            job = _typed_run(sweep, seed)  # (run.job: not in the config, so its text)
            if variant == "configs":  # as a run folder written before markers held them
                marker = json.loads((job / "COMPLETE").read_text())
                del marker["values"]
                (job / "COMPLETE").write_text(json.dumps(marker))
        collect(sweep)
        tables[variant] = (sweep / "runs.parquet").read_bytes()
    assert tables["markers"] == tables["configs"]
    runs = pd.read_parquet(tmp_path / "markers" / "runs.parquet")
    assert runs["seed"].tolist() == [8, 9, 10] and runs["world.name"].tolist() == ["001"] * 3
    assert runs["run.job"].tolist() == ["0", "1", "2"] and runs["run.flag"].tolist() == [True] * 3


def test_a_marker_whose_values_do_not_match_its_overrides_is_not_used(tmp_path, monkeypatch):
    sweep = tmp_path / "sweep"
    sweep.mkdir()
    (sweep / "multirun.yaml").write_text("hydra: {}\n")
    job = _typed_run(sweep, 0)
    marker = json.loads((job / "COMPLETE").read_text())
    marker["values"] = {"seed": 99}  # keys other than the overrides'
    (job / "COMPLETE").write_text(json.dumps(marker))
    collect(sweep)
    runs = pd.read_parquet(sweep / "runs.parquet")
    assert runs["seed"].tolist() == [8] and runs["world.name"].tolist() == ["001"]
