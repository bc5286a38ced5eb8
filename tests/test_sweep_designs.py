"""QMC designs: reproducible, within their ranges, crossed with grids, clear errors."""

from __future__ import annotations

import numpy as np
import pytest
from hydra.core.override_parser.overrides_parser import OverridesParser

from clustersim.sweep.designs import (
    DesignError,
    Dimension,
    count_jobs,
    design_points,
    plan_jobs,
    unit_sample,
)


def parse(*texts: str):
    return OverridesParser.create().parse_overrides(list(texts))


@pytest.mark.parametrize("method", ["sobol", "lhs", "halton"])
def test_same_seed_same_design_other_seed_other_design(method):
    a = unit_sample(method, 16, 3, seed=7)
    b = unit_sample(method, 16, 3, seed=7)
    c = unit_sample(method, 16, 3, seed=8)
    assert a.shape == (16, 3)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)
    assert ((a >= 0) & (a < 1)).all()


def test_latin_hypercube_puts_one_point_in_each_stratum():
    u = unit_sample("lhs", 10, 2, seed=0)
    for j in range(2):
        assert sorted(np.floor(u[:, j] * 10).astype(int).tolist()) == list(range(10))


def test_values_stay_in_range_log_and_integer():
    dims = [
        Dimension("a", 0.02, 0.7),
        Dimension("b", 0.1, 2.0, log=True),
        Dimension("c", 1, 4, integer=True),
    ]
    points = design_points(dims, method="sobol", samples=64, seed=0, digits=4)
    values = np.array([[float(o.split("=")[1]) for o in p] for p in points])
    assert (values[:, 0] >= 0.02).all() and (values[:, 0] <= 0.7).all()
    assert (values[:, 1] >= 0.1).all() and (values[:, 1] <= 2.0).all()
    # log-uniform: about half the points below the geometric mean sqrt(0.2) ~ 0.447
    assert 24 <= (values[:, 1] < np.sqrt(0.2)).sum() <= 40
    assert set(values[:, 2]) == {1, 2, 3, 4}
    assert all(len(o.split("=")[1].replace(".", "").lstrip("0")) <= 4 for p in points for o in p)


def test_plan_crosses_grid_with_the_same_points():
    jobs, dims = plan_jobs(
        parse(
            "behavior.entry.but_for_share=interval(0.02,0.7)", "policy=none,all_three", "world=toy"
        ),
        method="lhs",
        samples=5,
        seed=1,
    )
    assert [d.key for d in dims] == ["behavior.entry.but_for_share"]
    assert len(jobs) == 10
    none = [j[2] for j in jobs if "policy=none" in j]
    both = [j[2] for j in jobs if "policy=all_three" in j]
    assert none == both and len(set(none)) == 5
    assert all("world=toy" in j for j in jobs)
    overrides = parse("a=interval(0,1)", "policy=none,all_three", "seed=range(0,3)")
    assert count_jobs(overrides, 8) == 48


@pytest.mark.parametrize(
    ("texts", "kwargs", "message"),
    [
        (("a=interval(0,1)",), {"samples": 10}, "samples = 10: a Sobol design keeps its balance"),
        (("a=interval(1,0)",), {}, "a = interval(1.0, 0.0): the lower end must be below"),
        (("a=tag(log,interval(0,1))",), {}, "a log range must be positive"),
        (("a=tag(cube,interval(0,1))",), {}, "unknown tag(s) ['cube']"),
        (("policy=none,all_three",), {}, "needs at least one parameter given as interval"),
        (("a=interval(0,1)",), {"method": "random"}, "method = 'random': must be one of"),
        (("a=interval(0,1)",), {"digits": 1}, "digits = 1: must be between 2 and 17"),
        (("a=interval(0,1e-9)",), {"digits": 2, "samples": 1024}, "round to the same values"),
    ],
)
def test_bad_designs_are_clear_errors(texts, kwargs, message):
    settings = {"method": "sobol", "samples": 8, "seed": 0, **kwargs}
    with pytest.raises(DesignError) as err:
        plan_jobs(parse(*texts), **settings)
    assert message in str(err.value)


def test_covering_subset_uses_every_setting_once():
    from clustersim.sweep.designs import covering_subset

    grid = [[f"policy={p}", f"seed={s}"] for p in "abcde" for s in range(20)]
    subset = covering_subset(grid)
    assert len(subset) == 24
    used = {o for job in subset for o in job}
    assert used == {o for job in grid for o in job}
    design = [["policy=a", f"x={i / 10}"] for i in range(8)]
    assert covering_subset(design, ignore_keys=["x"]) == [design[0]]
