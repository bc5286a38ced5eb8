"""Sensitivity analysis core: spaces, designs, indices, conditions, scenario discovery.

The Ishigami test goes through the path a model sweep takes: a design written into a
sweep folder, a runs.parquet whose parameter columns hold the values the jobs were run
with, ``analyse_sweep`` lining runs up with design rows and computing the indices.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from clustersim.analysis.conditions import parse_condition
from clustersim.analysis.designs import DESIGN_FILE, read_design, sample, write_design
from clustersim.analysis.discovery import cart_boxes, prim_boxes
from clustersim.analysis.errors import AnalysisError
from clustersim.analysis.indices import convergence, indices
from clustersim.analysis.outcomes import outcome_table
from clustersim.analysis.space import ParameterSpace, check_against, load_space, space_from_dict
from clustersim.analysis.study import analyse_sweep, discover_sweep
from clustersim.config import to_plain
from tests.conftest import compose_cfg

PI = math.pi


def ishigami_space() -> ParameterSpace:
    entry = {"low": -PI, "high": PI, "source": "assumption: the Ishigami test function's domain"}
    return space_from_dict({"parameters": {"x1": entry, "x2": entry, "x3": entry}}, "ishigami")


def ishigami(x: np.ndarray, a: float = 7.0, b: float = 0.1) -> np.ndarray:
    return np.sin(x[:, 0]) + a * np.sin(x[:, 1]) ** 2 + b * x[:, 2] ** 4 * np.sin(x[:, 0])


def ishigami_truth(a: float = 7.0, b: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
    """Analytic first-order and total indices (Ishigami and Homma 1990; Sobol' 1999)."""
    v1 = 0.5 * (1 + b * PI**4 / 5) ** 2
    v2 = a**2 / 8
    v13 = b**2 * PI**8 * (1 / 18 - 1 / 50)
    var = v1 + v2 + v13
    s1 = np.array([v1, v2, 0.0]) / var
    st = np.array([v1 + v13, v2, v13]) / var
    return s1, st


def fake_sweep(folder, design, fn, groups=("none",), month="2027-12", drop=0):
    """A sweep folder as the sweeper and the collector leave it: design file + runs.parquet."""
    write_design(design, folder)
    (folder / "multirun.yaml").write_text("{}\n")
    uniq, _ = design.unique_rows()
    rows = []
    for policy in groups:
        for i, values in enumerate(uniq[: len(uniq) - drop]):
            row = {"job": f"policy={policy}/point={i:05d}", "seed": 0, "policy": policy}
            row.update(dict(zip(design.space.names, values, strict=True)))
            row[f"y@{month}"] = float(fn(values[None, :])[0]) * (2 if policy == "double" else 1)
            rows.append(row)
    pd.DataFrame(rows).to_parquet(folder / "runs.parquet", index=False)
    return folder


# --------------------------------------------------------------------------- spaces


def test_behaviour_space_is_sourced_and_accepted_by_the_model():
    space = load_space("behaviour")
    assert len(space) >= 6
    for p in space.parameters:
        assert p.source and (not p.source.lower().startswith("assumption") or ":" in p.source)
    check_against(space, to_plain(compose_cfg("world=toy")))


@pytest.mark.parametrize(
    ("entry", "field", "words"),
    [
        ({"low": 0.5, "high": 0.2, "source": "x"}, "parameters.p.low", "below high"),
        ({"low": 0.2, "high": 0.2, "source": "x"}, "parameters.p.low", "below high"),
        ({"low": 0.1, "high": 0.2}, "parameters.p.source", "missing"),
        ({"low": 0.1, "high": 0.2, "source": "assumption"}, "parameters.p.source", "reason"),
        (
            {"low": 0.1, "high": 0.2, "source": "x", "dist": "uniform"},
            "parameters.p.dist",
            "unknown key",
        ),
        (
            {"low": 0.1, "high": 0.2, "source": "x", "distribution": "normal"},
            "parameters.p.distribution",
            "one of",
        ),
        (
            {"low": -1, "high": 2, "source": "x", "distribution": "loguniform"},
            "parameters.p.low",
            "positive",
        ),
        ({"low": "a", "high": 2, "source": "x"}, "parameters.p.low", "number"),
    ],
)
def test_bad_range_names_field_value_and_rule(entry, field, words):
    with pytest.raises(AnalysisError) as err:
        space_from_dict({"parameters": {"p": entry}})
    assert err.value.field == field
    assert words in err.value.allowed


def test_unknown_parameter_and_range_the_model_refuses():
    plain = to_plain(compose_cfg("world=toy"))
    src = "assumption: test"
    unknown = space_from_dict(
        {"parameters": {"behavior.entry.but_for_shar": {"low": 0.1, "high": 0.5, "source": src}}}
    )
    with pytest.raises(AnalysisError, match="names no setting") as err:
        check_against(unknown, plain)
    assert err.value.value == "behavior.entry.but_for_shar"
    share = space_from_dict(
        {"parameters": {"behavior.entry.but_for_share": {"low": 0.1, "high": 1.2, "source": src}}}
    )
    with pytest.raises(AnalysisError) as err:
        check_against(share, plain)
    assert err.value.field == "parameters.behavior.entry.but_for_share.high"
    assert err.value.value == 1.2 and "<= 1" in err.value.allowed
    group = space_from_dict(
        {"parameters": {"behavior.entry": {"low": 0.1, "high": 0.5, "source": src}}}
    )
    with pytest.raises(AnalysisError, match="must name a number"):
        check_against(group, plain)


# --------------------------------------------------------------------------- designs


@pytest.mark.parametrize(("method", "n", "rows"), [("sobol", 16, 16 * 8), ("morris", 6, 6 * 4)])
def test_same_seed_same_design_bit_for_bit(method, n, rows):
    space = ishigami_space()
    a = sample(space, method, n, seed=3)
    b = sample(space, method, n, seed=3)
    c = sample(space, method, n, seed=4)
    assert a.values.shape == (rows, 3)
    assert a.values.tobytes() == b.values.tobytes()
    assert not np.array_equal(a.values, c.values)
    assert (a.values >= -PI).all() and (a.values <= PI).all()
    again = read_design_roundtrip(a)
    assert again.values.tobytes() == a.values.tobytes() and again.space == a.space


def read_design_roundtrip(design, tmp=None):
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as d:
        write_design(design, Path(d))
        return read_design(Path(d))


def test_design_values_are_the_texts_the_jobs_run_with():
    design = sample(load_space("behaviour"), "morris", 4, seed=0, digits=4)
    for row in range(design.rows):
        texts = design.texts(row)
        assert [float(t.split("=", 1)[1]) for t in texts] == design.values[row].tolist()


def test_bad_design_settings():
    space = ishigami_space()
    with pytest.raises(AnalysisError, match="power of two") as err:
        sample(space, "sobol", 48)
    assert err.value.field == "n" and err.value.value == 48
    with pytest.raises(AnalysisError, match="one of sobol, morris"):
        sample(space, "fast", 16)
    with pytest.raises(AnalysisError, match="levels"):
        sample(space, "morris", 10, levels=3)
    with pytest.raises(AnalysisError, match="accepts"):
        sample(space, "sobol", 16, levels=4)


# --------------------------------------------------------------------------- indices


def test_ishigami_indices_recovered_within_their_intervals_through_a_sweep_folder(tmp_path):
    design = sample(ishigami_space(), "sobol", 1024, seed=1, second_order=False)
    folder = fake_sweep(tmp_path / "sweep", design, ishigami)
    result = analyse_sweep(folder, ["y"], resamples=500)
    s1, st = ishigami_truth()
    table = result.indices.set_index(["index", "parameter"])
    for i, p in enumerate(["x1", "x2", "x3"]):
        for name, truth in (("S1", s1[i]), ("ST", st[i])):
            low, high = table.loc[(name, p), ["low", "high"]]
            assert low <= truth <= high, (name, p, truth, low, high)
            assert high - low < 0.25  # intervals narrow enough to mean something
    conv = result.convergence
    assert set(conv["index"]) == {"S1", "ST"} and conv["n_half"].eq(512).all()
    assert conv["converged"].all()


def test_a_broken_model_is_not_mistaken_for_ishigami(tmp_path):
    design = sample(ishigami_space(), "sobol", 256, seed=1, second_order=False)
    folder = fake_sweep(tmp_path / "sweep", design, lambda x: ishigami(x[:, [1, 0, 2]]))
    table = analyse_sweep(folder, ["y"], resamples=200).indices.set_index(["index", "parameter"])
    s1, _ = ishigami_truth()
    low, high = table.loc[("S1", "x1"), ["low", "high"]]
    assert not low <= s1[0] <= high


def test_same_seed_same_indices_bit_for_bit():
    design = sample(ishigami_space(), "sobol", 64, seed=5)
    y = ishigami(design.values)
    a = indices(design, y, "y", resamples=200, seed=2)
    b = indices(design, y, "y", resamples=200, seed=2)
    pd.testing.assert_frame_equal(a, b, check_exact=True)
    assert set(a["index"]) == {"S1", "ST", "S2"}


def test_morris_ranks_an_inert_parameter_last():
    design = sample(ishigami_space(), "morris", 20, seed=0)
    y = 5 * design.values[:, 0] + design.values[:, 1] ** 2  # x3 does nothing
    table = indices(design, y, "y", resamples=100).pivot(
        index="parameter", columns="index", values="value"
    )
    assert table.loc["x3", "mu_star"] == 0 and table.loc["x3", "sigma"] == 0
    assert table.loc["x1", "mu_star"] > table.loc["x2", "mu_star"] > 0
    assert table.loc["x1", "sigma"] == pytest.approx(0, abs=1e-9)  # linear: no spread
    conv = convergence(design, y, "y", resamples=100)
    assert set(conv["index"]) == {"mu_star"}


def test_too_few_runs_and_bad_outcomes():
    design = sample(ishigami_space(), "sobol", 8, seed=0)
    with pytest.raises(AnalysisError, match="too few base samples") as err:
        indices(design, ishigami(design.values))
    assert err.value.value == 8
    design = sample(ishigami_space(), "sobol", 16, seed=0)
    with pytest.raises(AnalysisError, match="one value per design row"):
        indices(design, np.ones(5))
    y = ishigami(design.values)
    y[3] = np.nan
    with pytest.raises(AnalysisError, match="1 of 128 values missing"):
        indices(design, y, "cost")


# --------------------------------------------------------------------------- sweeps


def test_a_sweep_not_made_with_a_design_is_refused(tmp_path):
    (tmp_path / "multirun.yaml").write_text("{}\n")
    with pytest.raises(AnalysisError, match="not made with a sensitivity design") as err:
        analyse_sweep(tmp_path)
    assert err.value.field == "sweep"
    assert list(p.name for p in tmp_path.iterdir()) == ["multirun.yaml"]


def test_runs_of_another_design_or_missing_points_are_refused(tmp_path):
    design = sample(ishigami_space(), "sobol", 16, seed=0, second_order=False)
    folder = fake_sweep(tmp_path / "a", design, ishigami, drop=3)
    with pytest.raises(AnalysisError, match="3 of 80 design points without a finished run"):
        analyse_sweep(folder, ["y"])
    other = sample(ishigami_space(), "sobol", 16, seed=9, second_order=False)
    folder = fake_sweep(tmp_path / "b", design, ishigami)
    write_design(other, folder)  # the folder now claims another design
    with pytest.raises(AnalysisError, match="match no row"):
        analyse_sweep(folder, ["y"])
    runs = pd.read_parquet(folder / "runs.parquet").drop(columns=["x2"])
    with pytest.raises(AnalysisError, match="not made with this design"):
        outcome_table(other, runs)


def test_unknown_outcome_is_named_with_the_ones_there_are(tmp_path):
    design = sample(ishigami_space(), "sobol", 16, seed=0, second_order=False)
    folder = fake_sweep(tmp_path / "s", design, ishigami)
    with pytest.raises(AnalysisError) as err:
        analyse_sweep(folder, ["caused_jobs"])
    assert err.value.field == "--outcome" and err.value.value == "caused_jobs"
    assert "outcomes: y" in err.value.allowed
    assert not (folder / "analysis").exists()


def test_groups_become_suffixes(tmp_path):
    design = sample(ishigami_space(), "sobol", 16, seed=0, second_order=False)
    folder = fake_sweep(tmp_path / "g", design, ishigami, groups=("none", "double"))
    result = analyse_sweep(folder, ["y"], resamples=50)
    assert sorted(result.outcomes) == ["y_double@2027-12", "y_none@2027-12"]
    a = result.indices[result.indices.outcome == "y_none@2027-12"]["value"].to_numpy()
    b = result.indices[result.indices.outcome == "y_double@2027-12"]["value"].to_numpy()
    np.testing.assert_allclose(a, b)  # doubling an outcome leaves variance shares unchanged


# --------------------------------------------------------------------------- conditions


def test_conditions_compare_columns_with_numbers_and_each_other():
    t = pd.DataFrame({"a": [1.0, 5.0, 9.0], "b": [2.0, 2.0, 20.0], "cost@2027-12": [1e5, 2e6, 3e6]})
    assert parse_condition("a > 4").evaluate(t).tolist() == [False, True, True]
    assert parse_condition("a > b").evaluate(t).tolist() == [False, True, False]
    assert parse_condition("a > 4 and not b > 10").evaluate(t).tolist() == [False, True, False]
    assert parse_condition("`cost@2027-12` > 1e6 or a < 2").evaluate(t).tolist() == [
        True,
        True,
        True,
    ]
    assert parse_condition("2 * a > b + 1").evaluate(t).tolist() == [False, True, False]
    assert parse_condition("1 < a <= 5").evaluate(t).tolist() == [False, True, False]


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("__import__('os').system('true') > 0", "may use"),
        ("a >", "can be read"),
        ("a + 1", "must be a comparison"),
        ("a in b", "comparisons may be"),
        ("cost@2027-12 > 1", "back-quotes"),
        ("", "must be a condition"),
    ],
)
def test_bad_conditions_say_what_is_allowed(text, words):
    with pytest.raises(AnalysisError, match=words) as err:
        parse_condition(text).evaluate(pd.DataFrame({"a": [1.0], "b": [2.0]}))
    assert err.value.field == "--where"


def test_condition_on_a_missing_column_lists_the_columns():
    t = pd.DataFrame({"caused_jobs": [1.0], "cost_per_caused_job": [2.0]})
    with pytest.raises(AnalysisError) as err:
        parse_condition("cost_per_caused_jobs > 1e6").evaluate(t)
    assert err.value.value == "cost_per_caused_jobs"
    assert "did you mean cost_per_caused_job" in err.value.allowed
    t2 = pd.DataFrame({"x": [1.0, np.nan]})
    with pytest.raises(AnalysisError, match="no value in 1 of 2 runs"):
        parse_condition("x > 0").evaluate(t2)


# --------------------------------------------------------------------------- discovery


def planted(n=600, seed=0, noise=0.0):
    rng = np.random.default_rng(seed)
    x = pd.DataFrame(rng.uniform(size=(n, 4)), columns=["a", "b", "c", "d"])
    cases = ((x.a > 0.5) & (x.a < 0.9) & (x.b > 0.1) & (x.b < 0.4)).to_numpy()
    flip = rng.uniform(size=n) < noise
    return x, cases ^ flip


@pytest.mark.slow  # EMA Workbench's PRIM, peeling and pasting: ~1 min on a loaded 2-core machine
def test_prim_finds_a_planted_box():
    x, cases = planted(noise=0.02)
    result = prim_boxes(x, cases)
    box = result.box
    assert box["coverage"] > 0.8 and box["density"] > 0.8
    limits = result.box_limits.set_index("parameter")
    assert set(limits.index) == {"a", "b"}
    assert limits.loc["a", "low"] == pytest.approx(0.5, abs=0.06)
    assert limits.loc["a", "high"] == pytest.approx(0.9, abs=0.06)
    assert limits.loc["b", "low"] == pytest.approx(0.1, abs=0.06)
    assert limits.loc["b", "high"] == pytest.approx(0.4, abs=0.06)
    first = prim_boxes(x, cases, box=0)
    assert first.box["coverage"] == 1 and first.box["restricted"] == 0 and first.box_limits.empty
    with pytest.raises(AnalysisError, match="peeling trajectory") as err:
        prim_boxes(x, cases, box=len(result.trajectory))
    assert err.value.field == "--box"


def test_cart_finds_the_planted_box_as_a_dense_leaf():
    x, cases = planted()
    boxes = cart_boxes(x, cases)
    best = boxes[boxes.leaf == boxes.leaf.iloc[0]]
    assert best["density"].iloc[0] > 0.8 and best["coverage"].iloc[0] > 0.8
    assert set(best["parameter"]) == {"a", "b"}


def test_discovery_refuses_conditions_no_run_or_every_run_meets():
    x, cases = planted()
    with pytest.raises(AnalysisError, match="no run meets it"):
        prim_boxes(x, np.zeros(len(x), bool), condition="y > 1e9")
    with pytest.raises(AnalysisError, match="too few distinct runs"):
        prim_boxes(x.iloc[:10], cases[:10])


def test_discover_sweep_end_to_end(tmp_path):
    design = sample(ishigami_space(), "sobol", 64, seed=0, second_order=False)
    folder = fake_sweep(tmp_path / "d", design, ishigami)
    result = discover_sweep(folder, "y > 8")
    assert 0 < result.table["case"].sum() < len(result.table)
    assert result.prim.box["density"] > result.table["case"].mean()
    with pytest.raises(AnalysisError, match="names no column"):
        discover_sweep(folder, "z > 8")
    assert json.loads((folder / DESIGN_FILE).read_text())["method"] == "sobol"


# --------------------------------------------------------------------------- figures


def test_morris_figure_labels_never_print_over_each_other(tmp_path):
    """Ten parameters, six of them with alike small effects (a cluster near the origin, as
    in a real screen): every rank is written once, and no two labels overlap on the page."""
    import matplotlib

    matplotlib.use("Agg")
    from clustersim.analysis.study import index_figure

    entry = {"low": 0.0, "high": 1.0, "source": "assumption: a test space"}
    names = [f"block.param_{k}" for k in range(10)]
    space = space_from_dict({"parameters": {n: entry for n in names}}, "ten")
    design = sample(space, "morris", 10, seed=0)
    weights = np.array([9.0, 5.0, 5.05, 2.0, 0.1, 0.11, 0.1, 0.12, 0.1, 0.11])
    folder = fake_sweep(tmp_path / "m", design, lambda x: x @ weights + 0.3 * x[:, 0] * x[:, 1])
    result = analyse_sweep(folder, ["y@2027-12"], resamples=50)
    fig = index_figure(result, "y@2027-12")
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    bars, scatter = fig.axes
    labels = [t for t in scatter.texts if t.get_text() != "sigma = mu*"]
    ranks = sorted(int(r) for t in labels for r in t.get_text().split(", "))
    assert ranks == list(range(1, 11))
    boxes = [t.get_window_extent(renderer) for t in labels]
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            assert not a.overlaps(b), [t.get_text() for t in labels]
    ticks = [t.get_text() for t in bars.get_yticklabels()]
    assert ticks[-1].startswith("1. param_0") or ticks[0].startswith("1. ")
    import matplotlib.pyplot as plt

    plt.close(fig)
