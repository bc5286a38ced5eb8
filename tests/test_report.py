"""clustersim-report on small REAL sweeps of the toy world: the files, the numbers, bad input.

One sweep per session (3 policies x 3 seeds, each run with its no-policy counterfactual),
and a 1-seed sweep made of the seed-0 runs of that sweep (collected by the report itself).
"""

from __future__ import annotations

import base64
import contextlib
import io
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.image import imread
from scipy import stats

from clustersim.cli.report import main
from clustersim.report import fmt
from clustersim.report.common import OUTCOMES, SPENDING
from clustersim.report.load import ReportInputError, report_data
from clustersim.report.markdown import escape
from clustersim.report.publish import write_report
from clustersim.report.sections.additionality import gross_vs_caused
from clustersim.report.sections.costs import spending_per_caused
from clustersim.report.sections.differences import difference_table
from clustersim.report.sections.headline import headline_table
from clustersim.report.sections.instruments import spending_by_instrument
from clustersim.report.sections.relocation import net_relocation, relocated_vs_new
from clustersim.report.sections.spending import budget_runout, spending_over_time
from clustersim.report.sections.trajectories import plan_starts
from clustersim.report.stats import BOOTSTRAP_SEED
from tests.conftest import call_cli

POLICIES = ("none", "huangpu_2024", "all_three")
MONTHS = ("2025-12", "2027-12")


class _Page(HTMLParser):
    """Collects images, figure captions, and every table (its h3 title and cell texts)."""

    def __init__(self) -> None:
        super().__init__()
        self.images: list[dict[str, str]] = []
        self.tables: dict[str, list[list[str]]] = {}
        self.captions: list[str] = []
        self.links: list[str] = []
        self._stack: list[str] = []
        self._title = ""
        self._text: list[str] = []
        self._rows: list[list[str]] | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "img":
            self.images.append(a)
        if tag in ("link", "script") or (tag == "a" and not a.get("href", "#").startswith("#")):
            self.links.append(tag)
        if tag in ("h3", "td", "th", "figcaption"):
            self._text = []
        if tag == "table":
            self._rows = []
        if tag == "tr" and self._rows is not None:
            self._rows.append([])
        self._stack.append(tag)

    def handle_endtag(self, tag):
        text = "".join(self._text).strip()
        if tag == "h3":
            self._title = text
        elif tag in ("td", "th") and self._rows is not None:
            self._rows[-1].append(text)
        elif tag == "figcaption":
            self.captions.append(text)
        elif tag == "table" and self._rows is not None:
            self.tables[self._title] = self._rows
            self._rows = None
        if self._stack:
            self._stack.pop()

    def handle_data(self, data):
        self._text.append(data)


@pytest.fixture(scope="session")
def sweep(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("report") / "sweep"
    proc = call_cli(
        "-m",
        "world=toy",
        f"policy={','.join(POLICIES)}",
        "seed=0,1,2",
        "run.counterfactual=no_policy",
        "run.progress=false",
        f"hydra.sweep.dir={folder}",
        cwd=folder.parent,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert (folder / "runs.parquet").is_file()
    return folder


@pytest.fixture(scope="session")
def one_seed(sweep, tmp_path_factory) -> Path:
    """The seed-0 runs of the sweep, in a sweep folder of their own (not yet collected)."""
    folder = tmp_path_factory.mktemp("report1") / "sweep1"
    folder.mkdir()
    shutil.copy(sweep / "multirun.yaml", folder / "multirun.yaml")
    for job in sweep.iterdir():
        if job.is_dir() and "seed=0" in job.name:
            shutil.copytree(job, folder / job.name)
    return folder


@pytest.fixture(scope="session")
def report(sweep, tmp_path_factory) -> tuple[Path, Path]:
    out = tmp_path_factory.mktemp("out") / "report.html"
    return write_report(sweep, "none", out)


@pytest.fixture(scope="session")
def page(report) -> _Page:
    p = _Page()
    p.feed(report[0].read_text(encoding="utf-8"))
    p.close()
    return p


def _policy(job: str) -> str:
    return dict(part.split("=", 1) for part in job.split(","))["policy"]


def _direct(sweep: Path) -> pd.DataFrame:
    runs = pd.read_parquet(sweep / "runs.parquet")
    return runs.assign(variant=runs["job"].map(_policy))


# --------------------------------------------------------------------------- the files


def test_html_parses_is_self_contained_and_every_image_decodes(page, report):
    assert (
        len(page.images) >= 6
    )  # trajectories, differences, additionality, relocation, map, spending
    for img in page.images:
        src = img["src"]
        assert src.startswith("data:image/png;base64,"), src[:40]
        picture = imread(io.BytesIO(base64.b64decode(src.split(",", 1)[1])), format="png")
        assert picture.ndim == 3 and picture.shape[0] > 100 and picture.shape[1] > 100
        assert img.get("alt")
    assert page.links == []  # no stylesheet, script or link to fetch: opens offline
    assert len(page.captions) == len(page.images)
    assert all(c.startswith("Figure ") and len(c) > 40 for c in page.captions)
    html = report[0].read_text(encoding="utf-8")
    assert "@media print" in html


def test_markdown_twin_has_the_same_tables_and_figures(page, report):
    md = report[1].read_text(encoding="utf-8")
    titles = [t for t in page.tables if t.startswith("Table ")]
    assert len(titles) >= 9
    for title in titles:
        assert f"**{escape(title)}**" in md
    links = [
        line.split("](", 1)[1].rstrip(")") for line in md.splitlines() if line.startswith("![")
    ]
    assert len(links) == len(page.images)
    for link in links:
        picture = imread(report[1].parent / link)
        assert picture.shape[0] > 100


# --------------------------------------------------------------------------- the numbers


def test_headline_numbers_equal_those_of_the_collected_tables(sweep, page):
    runs = _direct(sweep)
    data = report_data(sweep, "none")
    assert data.variants == list(POLICIES)
    head = headline_table(data.runs, data.variants, data.months)
    table = page.tables["Table 1. Headline outcomes: mean [90% interval across seeds]"]
    header, rows = table[0], table[1:]
    assert header[:2] == ["outcome", "month"] and header[2:5] == list(POLICIES)
    labels = {**OUTCOMES, **SPENDING}
    checked = 0
    for outcome, label in labels.items():
        for month in MONTHS:
            row = next(r for r in rows if r[0] == label and r[1] == month)
            for i, policy in enumerate(POLICIES):
                values = runs.loc[runs["variant"] == policy, f"{outcome}@{month}"].to_numpy()
                assert len(values) == 3
                mean, low, high = values.mean(), *np.quantile(values, [0.05, 0.95])
                got = head[
                    (head["variant"] == policy)
                    & (head["outcome"] == outcome)
                    & (head["month"] == month)
                ].iloc[0]
                assert got["mean"] == pytest.approx(mean, rel=1e-12, abs=1e-9)
                assert (got["low"], got["high"]) == pytest.approx((low, high), rel=1e-12, abs=1e-9)
                scale = 1e-6 if outcome.startswith("spending") else 1.0
                cell = row[2 + i]
                assert cell.startswith(fmt.interval(mean, low, high, scale)), (cell, mean)
                checked += 1
    assert checked == len(labels) * len(MONTHS) * len(POLICIES)
    target_rows = [r for r in rows if r[0] in ("leading firms", "innovative projects")]
    assert {r[-1] for r in target_rows} == {"about 20", "about 50"}
    # a mark either way only when the whole interval clears (or misses) the target
    assert all(c.endswith(("✓", "✗", "≈")) for r in target_rows for c in r[2:5])


def test_differences_are_paired_by_seed_with_scipy_bootstrap(sweep, page):
    runs = _direct(sweep)
    data = report_data(sweep)
    diffs = difference_table(data.runs, data.variants, "none", data.months)
    for policy in ("huangpu_2024", "all_three"):
        for outcome in ("employment", "talent"):
            col = f"{outcome}@2027-12"
            a = runs[runs["variant"] == policy].set_index("seed")[col].sort_index()
            b = runs[runs["variant"] == "none"].set_index("seed")[col].sort_index()
            got = diffs[
                (diffs["variant"] == policy)
                & (diffs["outcome"] == outcome)
                & (diffs["month"] == "2027-12")
            ].iloc[0]
            assert got["diff"] == pytest.approx((a - b).mean())
            assert got["n"] == 3
            d = (a - b).to_numpy()
            if np.ptp(d) > 0:
                ref = stats.bootstrap(
                    (a.to_numpy(), b.to_numpy()),
                    lambda x, y, axis=-1: np.mean(x - y, axis=axis),
                    paired=True,
                    vectorized=True,
                    confidence_level=0.95,
                    method="percentile",
                    rng=np.random.default_rng(BOOTSTRAP_SEED),
                ).confidence_interval
                assert (got["low"], got["high"]) == pytest.approx((ref.low, ref.high))
            holds_zero = got["low"] <= 0 <= got["high"]
            assert (got["verdict"] == "indistinguishable") == (holds_zero and np.ptp(d) > 0)
    table = page.tables["Table 3. Differences from none, paired by seed"]
    verdicts = {r[-1] for r in table[1:]}
    # 3 seeds are fewer than FEW_PAIRS: no verdict may claim to be firm
    assert verdicts <= {
        "higher in these 3 seeds; too few for a firm verdict",
        "lower in these 3 seeds; too few for a firm verdict",
        "cannot be told from zero (3 seeds)",
        "zero in every seed",
    }
    assert verdicts & {
        "higher in these 3 seeds; too few for a firm verdict",
        "lower in these 3 seeds; too few for a firm verdict",
    }


def test_caused_figures_come_from_each_runs_counterfactual(sweep):
    runs = _direct(sweep)
    data = report_data(sweep)
    gross = gross_vs_caused(data.runs, data.supported, data.variants, data.months)
    for policy in POLICIES:
        got = gross[
            (gross["variant"] == policy)
            & (gross["measure"] == "employment")
            & (gross["month"] == "2027-12")
        ].iloc[0]
        want = runs.loc[runs["variant"] == policy, "caused_employment@2027-12"].mean()
        assert got["caused"] == pytest.approx(want)
    # supported firms: firms with a grant in the year-end snapshot, counted directly
    job = runs.loc[runs["variant"] == "all_three", "job"].iloc[0]
    snap = pd.read_parquet(sweep / job / "firms_yearly.parquet")
    snap = snap[(snap["month"] == "2027-12") & (snap["subsidies"] > 0)]
    mine = data.supported[(data.supported["job"] == job) & (data.supported["month"] == "2027-12")]
    assert mine["supported_firms"].iloc[0] == len(snap) > 0
    assert mine["supported_jobs"].iloc[0] == pytest.approx(snap["employees"].sum())
    assert gross.loc[gross["variant"] == "none", "caused"].abs().max() == 0  # nothing to cause


def test_relocations_balance_and_split_caused_jobs(sweep):
    data = report_data(sweep)
    net = net_relocation(data.relocations, data.runs, data.variants, "2027-12", True)
    for _, grp in net.groupby("variant"):
        assert grp["net"].sum() == pytest.approx(0, abs=1e-9)  # moves within the city
        assert grp["in"].sum() == pytest.approx(grp["out"].sum())
    split = relocated_vs_new(data.runs, data.relocations, data.variants, data.months)
    assert np.allclose(split["relocated"] + split["new"], split["caused"])
    assert (split.loc[split["area"] == "Shanghai", "relocated"] == 0).all()
    # flows counted directly from one run's relocations.parquet
    job = data.runs["job"].iloc[-1]
    moves = pd.read_parquet(sweep / job / "relocations.parquet")
    own = data.relocations[
        (data.relocations["job"] == job) & (data.relocations["scenario"] == "with")
    ]
    assert own["jobs"].sum() == pytest.approx(moves["employees"].sum())


def test_plan_starts_spending_and_budgets_from_the_runs(sweep, page):
    data = report_data(sweep)
    assert plan_starts(data.configs) == {
        "shanghai_2020": "2020-02",
        "huangpu_2024": "2025-01",
        "pudong_2027": "2025-07",
    }
    title = "Table 2. Plan start dates (earliest instrument window in the runs' config)"
    assert page.tables[title][1:] == [
        ["shanghai_2020", "2020-02"],
        ["huangpu_2024", "2025-01"],
        ["pudong_2027", "2025-07"],
    ]
    spend = spending_by_instrument(data.ledger, data.runs, data.variants, "2027-12")
    total = spend.groupby("variant")["spending"].sum()
    direct = data.runs.groupby("variant")["spending_cumulative@2027-12"].mean()
    for v in ("huangpu_2024", "all_three"):
        assert total[v] == pytest.approx(direct[v])  # the ledger adds up to the monthly table
    over = spending_over_time(
        data.ledger, data.runs, data.variants, sorted(data.panel["month"].unique())
    )
    last = over[over["month"] == "2027-12"].groupby("variant")["cumulative"].sum()
    assert last["all_three"] == pytest.approx(direct["all_three"])
    out = budget_runout(data.ledger, data.runs, data.configs, data.variants)
    assert not out.empty and (out["spent_share"] <= 1 + 1e-9).all()


def test_same_sweep_same_numbers(sweep):
    a, b = report_data(sweep), report_data(sweep)
    for f in (headline_table, gross_vs_caused):
        args = (a.runs, a.variants, a.months) if f is headline_table else None
        if args:
            pd.testing.assert_frame_equal(f(*args), f(b.runs, b.variants, b.months))
    pd.testing.assert_frame_equal(
        difference_table(a.runs, a.variants, "none", a.months),
        difference_table(b.runs, b.variants, "none", b.months),
    )
    pd.testing.assert_frame_equal(
        spending_per_caused(a.runs, a.variants, a.months),
        spending_per_caused(b.runs, b.variants, b.months),
    )


# --------------------------------------------------------------------------- bad input


@pytest.fixture(scope="session")
def one_seed_report(one_seed, tmp_path_factory) -> tuple[Path, str]:
    """``clustersim-report <one_seed> --out <a folder not yet made>``: the folder, stdout."""
    out = tmp_path_factory.mktemp("one_seed_report") / "new" / "reports"
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        assert main([str(one_seed), "--out", str(out)]) == 0
    return out, printed.getvalue()


def test_one_seed_per_variant_says_so_instead_of_failing(one_seed, one_seed_report):
    out = one_seed_report[0] / "report.html"
    assert (one_seed / "runs.parquet").is_file()  # the report collected the new sweep
    p = _Page()
    p.feed(out.read_text(encoding="utf-8"))
    assert "One seed only for none, huangpu_2024, all_three" in out.read_text(encoding="utf-8")
    head = p.tables["Table 1. Headline outcomes: mean [90% interval across seeds]"]
    assert all("[" not in cell for row in head[1:] for cell in row)
    diffs = p.tables["Table 3. Differences from none, paired by seed"]
    assert {r[-1] for r in diffs[1:]} == {"one seed: no interval"}
    assert len(p.images) >= 6


@pytest.mark.parametrize(
    ("make", "args", "expect"),
    [
        (lambda t: t / "missing", [], "no such folder"),
        (lambda t: _empty_sweep(t), [], "no finished run"),
        (lambda t: t, [], "not a sweep folder"),
        (None, ["--baseline", "pudong_2027"], "allowed: none, huangpu_2024, all_three"),
        (None, ["--out", "x.pdf"], "give a folder (created if missing) or a file name"),
    ],
)
def test_bad_input_is_one_clear_line_and_exit_2(make, args, expect, sweep, tmp_path, capsys):
    folder = make(tmp_path) if make else sweep
    if args[:1] == ["--out"]:
        args = ["--out", str(tmp_path / args[1])]
    assert main([str(folder), *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("clustersim-report: ") and expect in err
    assert "Traceback" not in err and err.count("\n") == 1


def test_out_is_a_folder_created_on_demand(one_seed, one_seed_report, tmp_path, capsys):
    out, printed = one_seed_report
    assert {p.name for p in out.iterdir()} == {"report.html", "report.md", "report_figures"}
    assert f"report: {out / 'report.html'}" in printed
    (tmp_path / "taken").write_text("a file")
    assert main([str(one_seed), "--out", str(tmp_path / "taken")]) == 2
    assert "is a file" in capsys.readouterr().err


def _empty_sweep(tmp: Path) -> Path:
    folder = tmp / "empty"
    (folder / "policy=none,seed=0").mkdir(parents=True)
    (folder / "multirun.yaml").write_text("hydra: {}\n")
    return folder


def test_console_script_bad_baseline_no_traceback(sweep):
    proc = subprocess.run(
        [sys.executable, "-m", "clustersim.cli.report", str(sweep), "--baseline", "nope"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert "--baseline 'nope' is not a variant of this sweep" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_load_sweep_raises_report_input_error(tmp_path):
    with pytest.raises(ReportInputError, match="no such folder"):
        report_data(tmp_path / "nope")


def _truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def test_unreadable_runs_are_named_and_the_report_is_built_from_the_rest(sweep, tmp_path, capsys):
    damaged = tmp_path / "damaged"
    shutil.copytree(sweep, damaged)
    jobs = sorted(p.name for p in damaged.iterdir() if p.is_dir() and "=" in p.name)
    hurt = {
        jobs[1]: "ledger.parquet",  # truncated: no footer
        jobs[3]: "firms_yearly.parquet",
        jobs[5]: "monthly.parquet",
        jobs[7]: "counterfactual/relocations.parquet",
    }
    for job, table in hurt.items():
        assert (damaged / job / table).is_file(), (job, table)
        _truncate(damaged / job / table)
    assert main([str(damaged), "--out", str(tmp_path / "out")]) == 0
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err + captured.out
    markdown = (tmp_path / "out" / "report.md").read_text(encoding="utf-8")
    for job, table in hurt.items():
        line = next(li for li in markdown.splitlines() if job in li)
        assert table.rsplit("/", 1)[-1] in line and "not collected" in line
        assert "cannot be read" in line or "the run wrote" in line
    runs = pd.read_parquet(damaged / "runs.parquet")
    assert set(runs["job"]) == set(jobs) - set(hurt)  # the rest is collected and reported
    headline = report_data(damaged, "none")
    assert set(headline.runs["job"]).isdisjoint(hurt)
