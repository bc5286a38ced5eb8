"""The report's budget run-out months come from the turn-aways the runs recorded.

One small REAL sweep of the toy world under Huangpu's plan, with 3% of its budgets (they
bind) and with all of them (they do not), two seeds each; copies of it without the
record play sweeps written before runs recorded turn-aways.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from clustersim.months import Month
from clustersim.report.document import Document
from clustersim.report.load import report_data
from clustersim.report.markdown import render_markdown
from clustersim.report.publish import write_report
from clustersim.report.sections.spending import budget_runout, spending_section
from clustersim.report.style import variant_colours
from tests.conftest import call_cli

TIGHT = "huangpu_2024 (policy.huangpu_2024.budget_scale=0.03)"
FULL = "huangpu_2024 (policy.huangpu_2024.budget_scale=1)"


@pytest.fixture(scope="module")
def sweep(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("rationing") / "sweep"
    proc = call_cli(
        "-m",
        "world=toy",
        "policy=huangpu_2024",
        "policy.huangpu_2024.budget_scale=0.03,1",
        "seed=0,1",
        "run.progress=false",
        f"hydra.sweep.dir={folder}",
        cwd=folder.parent,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert (folder / "rationing.parquet").is_file()
    return folder


def _copy(sweep: Path, to: Path, drop: list[str] | None = None) -> Path:
    """The sweep without the runs' rationing.parquet (``drop``: of these jobs; None: all)."""
    shutil.copytree(sweep, to, ignore=shutil.ignore_patterns("report*"))
    for job in (p for p in to.iterdir() if (p / "COMPLETE").is_file()):
        if drop is None or job.name in drop:
            (job / "rationing.parquet").unlink()
    if drop is None:
        (to / "rationing.parquet").unlink()
    return to


def _first_months(table: pd.DataFrame) -> pd.DataFrame:
    """Directly from a collected rationing table: each run's first turn-away per year."""
    table = table.assign(key=table["regime"] + "." + table["instrument"])
    return table.groupby(["job", "key", "year"], as_index=False)["month"].min()


def _section_6(data) -> str:
    """Section 6 of the report on ``data``, as Markdown (without the rest of the report)."""
    colours = variant_colours(data.variants)
    months = sorted(data.panel["month"].unique())
    doc = Document("t", [], [spending_section(data, colours, months)])
    return render_markdown(doc, "figures")[0]


def _runout(data) -> pd.DataFrame:
    return budget_runout(
        data.ledger, data.runs, data.configs, data.variants, data.rationing, data.rationing_jobs
    )


def test_run_out_month_is_the_first_recorded_turn_away(sweep):
    data = report_data(sweep, baseline=FULL)
    assert data.rationing_jobs == frozenset(data.runs["job"])  # every run recorded
    collected = pd.read_parquet(sweep / "rationing.parquet")
    jobs = data.runs.set_index("job")["variant"]
    assert set(collected["job"].map(jobs)) == {TIGHT}  # full budgets never bound
    first = _first_months(collected).assign(variant=lambda f: f["job"].map(jobs))
    out = _runout(data)
    assert (out["estimated"] == 0).all()
    ran = out[out["ran_out"] > 0]
    assert len(ran) >= 5 and set(ran["variant"]) == {TIGHT}
    for row in out.itertuples():
        mine = first[
            (first["variant"] == row.variant)
            & (first["key"] == row.instrument)
            & (first["year"] == row.year)
        ]
        months = sorted(Month.parse(m) for m in mine["month"])
        assert row.ran_out == len(months)
        assert row.month == (str(months[(len(months) - 1) // 2]) if months else "")
    # every recorded instrument-year is in the table, as run out
    listed = set(zip(ran["instrument"], ran["year"], strict=True))
    assert listed == set(zip(first["key"], first["year"], strict=True))


def test_the_report_states_the_recorded_months_as_facts(sweep, tmp_path):
    html, md = write_report(sweep, FULL, tmp_path / "report.html")
    text = md.read_text(encoding="utf-8")
    section = text[text.index("## 6.") : text.index("## 7.")]
    assert "not an estimate" in section and "estimated" not in section
    out = _runout(report_data(sweep, baseline=FULL))
    for row in out[out["ran_out"] > 0].itertuples():
        assert f"{row.month} ({row.ran_out}/{row.n})" in section
    assert "turned away that year" in section
    assert "not an estimate" in html.read_text(encoding="utf-8")


def test_a_sweep_without_the_record_falls_back_to_the_estimate_and_says_so(sweep, tmp_path):
    old = _copy(sweep, tmp_path / "old")
    data = report_data(old, baseline=FULL)
    assert data.rationing_jobs == frozenset() and data.rationing.empty
    out = _runout(data)
    assert (out["estimated"] == out["n"]).all() and out["turned_away"].isna().all()
    legacy = budget_runout(data.ledger, data.runs, data.configs, data.variants)
    pd.testing.assert_frame_equal(out, legacy)  # exactly the estimate of before
    section = _section_6(data)
    assert "months below are estimates from the ledger" in section
    assert "not an estimate" not in section
    if (out["ran_out"] > 0).any():
        assert "ran out (estimated): median month (runs)" in section


def test_runs_without_the_record_are_estimated_the_others_exact(sweep, tmp_path):
    data = report_data(sweep, baseline=FULL)
    tight = sorted(data.runs.loc[data.runs["variant"] == TIGHT, "job"])
    mixed = _copy(sweep, tmp_path / "mixed", drop=[tight[0]])
    partial = report_data(mixed, baseline=FULL)
    assert partial.notes == []  # the collected tables still hold every run
    assert partial.rationing_jobs == frozenset(data.runs["job"]) - {tight[0]}
    assert tight[0] not in set(partial.rationing["job"])
    out = _runout(partial)
    assert (out.loc[out["variant"] == TIGHT, "estimated"] == 1).all()
    assert (out.loc[out["variant"] == FULL, "estimated"] == 0).all()
    section = _section_6(partial)
    assert f"1 of the {len(partial.runs)} runs with budget lines have no record" in section
    assert "1 estimated)" in section


def test_a_stale_collection_without_the_rationing_table_is_collected_again(sweep, tmp_path):
    stale = tmp_path / "stale"
    shutil.copytree(sweep, stale, ignore=shutil.ignore_patterns("report*"))
    (stale / "rationing.parquet").unlink()  # as if collected by a collector of before
    data = report_data(stale, baseline=FULL)
    assert any("rationing.parquet" in note for note in data.notes)
    assert (stale / "rationing.parquet").read_bytes() == (sweep / "rationing.parquet").read_bytes()
    assert data.rationing_jobs == frozenset(data.runs["job"])
