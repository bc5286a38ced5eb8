"""A counterfactual that starts as a copy of its run, midway, is the run it would be alone.

``runner.simulate`` simulates the months a run and its counterfactual share once (until
what the counterfactual drops is first in force: ``Incentives.months_alike``) and then
copies the run (``runner._fork``). Whatever a copy gets wrong (a state left shared, a
view copied apart from its array, a grant engine that forgets a budget spent) shows as
a counterfactual that differs from the same counterfactual simulated from the start.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd
import pytest

import clustersim.runner as runner
from clustersim.incentives import Incentives, NoIncentives
from clustersim.model import ClusterModel
from clustersim.policy.engine import RegimeIncentives
from clustersim.streams import Streams
from tests.conftest import scenario

#: The toy world under Huangpu's plan, without its compute subsidy (in force from 2025-01).
TOY_CF = ("world=toy", "policy=huangpu_2024", "run.counterfactual=huangpu_2024.compute_subsidy")


@pytest.mark.parametrize(
    "overrides",
    [
        (*TOY_CF, "seed=3"),
        ("world=toy", "policy=all_three", "run.counterfactual=pudong_2027", "seed=1"),
        # no plan at all: copied when Huangpu's plan first is in force (2025-01)
        ("world=toy", "policy=huangpu_2024", "run.counterfactual=no_policy", "seed=2"),
    ],
)
def test_a_counterfactual_copied_midway_is_the_one_run_from_the_start(
    overrides: tuple[str, ...], monkeypatch: pytest.MonkeyPatch
) -> None:
    s = scenario(*overrides)
    forked = runner.simulate(s)
    with monkeypatch.context() as m:  # the counterfactual built at the start, run beside
        m.setattr(RegimeIncentives, "months_alike", lambda self, other, calendar: 0)
        alone = runner.simulate(s)
    assert forked.counterfactual is not None and alone.counterfactual is not None
    # the counterfactual differs from the run (what it drops matters) ...
    assert not forked.counterfactual.monthly.equals(forked.monthly)
    # ... and is the same whether it was copied midway or run from the start
    for mine, theirs in ((forked, alone), (forked.counterfactual, alone.counterfactual)):
        a, b = runner._tables(mine), runner._tables(theirs)
        assert a.keys() == b.keys()
        for name in a:
            pd.testing.assert_frame_equal(a[name], b[name], check_exact=True, obj=name)
    # (as text: a NaN outcome is equal to itself there)
    assert json.dumps(forked.caused, sort_keys=True) == json.dumps(alone.caused, sort_keys=True)
    # the governments of the copy run the counterfactual's regimes, as those built afresh
    for mine, theirs in ((forked, alone), (forked.counterfactual, alone.counterfactual)):
        assert {j: a.regimes for j, a in mine.model.jurisdictions.items()} == {
            j: a.regimes for j, a in theirs.model.jurisdictions.items()
        }


def test_the_months_alike_end_where_a_dropped_instrument_comes_into_force() -> None:
    s = scenario(*TOY_CF, "seed=3")
    run = runner.build_incentives(s)
    calendar = ClusterModel(s, run).calendar
    dropped = next(i for r in s.regimes for i in r.instruments if i.id == "compute_subsidy")
    without = runner.build_incentives(s, without="huangpu_2024.compute_subsidy")
    alike = run.months_alike(without, calendar)
    assert 0 < alike < len(calendar) and calendar[alike] == dropped.window.start
    # the whole plan: from the plan's first month; the same plan: the whole run
    first = min(i.window.start for i in run.instruments)
    plan = runner.build_incentives(s, "huangpu_2024")
    assert calendar[run.months_alike(plan, calendar)] == first
    assert run.months_alike(runner.build_incentives(s), calendar) == len(calendar)
    # no plan at all: until any instrument of the run is in force
    assert calendar[run.months_alike(NoIncentives(), calendar)] == first
    assert NoIncentives().months_alike(run, calendar) == 0


def test_incentives_that_cannot_tell_are_never_copied() -> None:
    class Custom(NoIncentives):
        pass

    with pytest.raises(NotImplementedError, match="Custom cannot take over"):
        Custom().take_over(NoIncentives())
    assert Incentives.months_alike(Custom(), NoIncentives(), []) == 0


#: What a copy does not copy: the scenario (read only: shared), and the incentives and
#: streams it is given.
_NOT_COPIED = (
    "model.cluster_scenario",
    "model.world",
    "model.behavior",
    "model.national",
    "model.incentives",
    "model.streams",
)


def _arrays(obj: Any, path: str, seen: set[int], out: dict[str, np.ndarray]) -> None:
    """Every numpy array reachable from ``obj`` through attributes and containers."""
    if id(obj) in seen:
        return
    seen.add(id(obj))
    if isinstance(obj, np.ndarray):
        out[path] = obj
    elif isinstance(obj, dict):
        for k, v in obj.items():
            _arrays(v, f"{path}[{k!r}]", seen, out)
    elif isinstance(obj, list | tuple):
        for i, v in enumerate(obj):
            _arrays(v, f"{path}[{i}]", seen, out)
    elif hasattr(obj, "__dict__") and type(obj).__module__.startswith("clustersim"):
        for k, v in vars(obj).items():
            _arrays(v, f"{path}.{k}", seen, out)


def test_a_copied_model_keeps_the_arrays_that_share_memory_shared() -> None:
    """A view (``FirmTable.alive`` of ``_alive``) stays a view of the copied array."""
    s = scenario(*TOY_CF, "seed=3")
    model = ClusterModel(s, runner.build_incentives(s))
    for _ in range(3):
        model.step()
    other = runner.build_incentives(s, without="huangpu_2024.compute_subsidy")
    copy = runner._fork(model, other, Streams(s.seed))
    before: dict[str, np.ndarray] = {}
    after: dict[str, np.ndarray] = {}
    _arrays(model, "model", set(), before)
    _arrays(copy, "model", set(), after)
    own = sorted(p for p in before if not p.startswith(_NOT_COPIED))
    assert own == sorted(p for p in after if not p.startswith(_NOT_COPIED))
    assert "model.firms.alive" in own
    big = [p for p in own if before[p].size > 1]
    for i, p in enumerate(big):
        for q in big[i + 1 :]:
            if np.may_share_memory(before[p], before[q]) and np.shares_memory(before[p], before[q]):
                assert np.shares_memory(after[p], after[q]), (p, q)
    for p in big:  # and nothing is shared with the run it was copied from
        assert not np.shares_memory(before[p], after[p]), p
    assert copy.incentives is other and copy.streams is not model.streams
    assert copy.cluster_scenario is model.cluster_scenario


def test_no_plan_carries_on_only_from_a_run_that_granted_nothing() -> None:
    """A run without plans copied from a run with plans: only while nothing was granted."""
    s = scenario(
        "world=toy",
        "policy=huangpu_2024",
        "seed=2",
        "world.end=2025-03",
        "run.report_months=[2025-03]",
    )
    granted = runner.simulate(s).incentives
    assert len(granted.ledger_frame()) > 0
    with pytest.raises(ValueError, match="granted already"):
        NoIncentives().take_over(granted)
    NoIncentives().take_over(runner.build_incentives(s))  # nothing granted yet: fine
