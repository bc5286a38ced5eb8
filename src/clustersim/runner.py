"""Run one scenario end to end: config -> world -> steps -> outcomes -> run folder.

``simulate`` runs the model (and, when asked, its counterfactual with the same seed and
random streams) and returns a ``RunResult``; ``write_run`` publishes the run folder
atomically. The command line (``clustersim.cli.run``) and the Python API both call them,
so both give the same numbers for the same config.
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import pandas as pd

from clustersim import __version__
from clustersim.config import ConfigError, config_hash
from clustersim.incentives import Incentives, NoIncentives
from clustersim.model import ClusterModel
from clustersim.months import month_range
from clustersim.results import run_folder as rf
from clustersim.results.shared_counterfactuals import (
    CounterfactualShelf,
    SharedCounterfactual,
    shelf_key,
)
from clustersim.results.summary import caused, headline, targets
from clustersim.settings import Scenario
from clustersim.streams import Streams


def check_output_folder(folder: Path, field: str) -> None:
    """A run may be written at ``folder``: checked before it runs, not after (``ConfigError``).

    ``folder`` must not hold a complete run (it is never overwritten) nor be a file, nor
    hold anything but an unfinished run's files (publishing the run replaces the folder:
    ``hydra.run.dir=~/Documents`` would delete the documents), and the nearest existing
    folder on its way must be writable (the run is staged beside it).
    ``field`` names the setting that chose the folder (``hydra.run.dir``).
    """
    import os

    folder = Path(folder)
    if rf.is_complete(folder):
        raise ConfigError(
            field,
            str(folder),
            "already holds a complete run, which is never overwritten: choose a new folder "
            "(or remove this one)",
        )
    if folder.exists() and not folder.is_dir():
        raise ConfigError(field, str(folder), "is a file, not a folder")
    others = rf.foreign_files(folder)  # a run replaces an unfinished run's folder only
    if others:
        listed = ", ".join(others[:3]) + (", ..." if len(others) > 3 else "")
        raise ConfigError(
            field,
            str(folder),
            f"holds files that are not a run's ({listed}), which writing the run would "
            "replace: choose a new or empty folder",
        )
    existing = folder.parent.resolve()
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
        raise ConfigError(
            field,
            str(folder),
            f"cannot be written ({existing} is not writable): choose a folder you can write",
        )


def build_incentives(scenario: Scenario, without: str | None = None) -> Incentives:
    """The incentives of the scenario's regimes (none: the base ``Incentives``).

    ``without`` names what a counterfactual drops: ``"no_policy"`` drops every regime,
    ``"<regime>"`` every instrument of one regime (the plan pays nothing; the other plans
    run as they do beside it), ``"<regime>.<instrument>"`` one instrument.
    """
    if not scenario.regimes or without == "no_policy":
        return NoIncentives()
    from clustersim.policy.engine import RegimeIncentives

    dropped = next((r for r in scenario.regimes if r.name == without), None)
    if dropped is not None:
        keys = frozenset(i.key for i in dropped.instruments)
        return RegimeIncentives(list(scenario.regimes), disabled=keys)
    return RegimeIncentives.from_scenario(scenario, without=without)


@dataclass
class RunResult:
    """Everything one run produced, in memory.

    The plan's tables (``ledger``, ``spending``, ``rationing``) are built from the
    incentives when first read: a calibration run reads only the monthly table and the
    firm snapshots, and building the other three cost about a tenth of its simulation.
    """

    scenario: Scenario
    model: ClusterModel
    monthly: pd.DataFrame
    firms_yearly: pd.DataFrame
    relocations: pd.DataFrame
    outcomes: dict[str, dict[str, float]]
    #: the incentives the run paid by (their ledger is the source of the plan's tables)
    incentives: Incentives
    #: the counterfactual run beside it, or one another job of the sweep ran (its files)
    counterfactual: RunResult | SharedCounterfactual | None = None
    caused: dict[str, dict[str, float]] | None = None
    seconds: dict[str, float] = field(default_factory=dict)

    @cached_property
    def ledger(self) -> pd.DataFrame | None:
        """Every grant paid, one row each; None without a plan."""
        return self.incentives.ledger_frame()

    @cached_property
    def spending(self) -> pd.DataFrame | None:
        """Spending per issuer, regime, instrument and year; None without a plan."""
        return self.incentives.spending_frame()

    @cached_property
    def rationing(self) -> pd.DataFrame | None:
        """Approved applications turned away for lack of budget, per instrument-month.

        (``RegimeIncentives.rationing_frame``); None without a plan, like the ledger.
        """
        return self.incentives.rationing_frame()

    def summary(self) -> dict[str, Any]:
        """The content of ``summary.json``."""
        s = self.scenario
        return {
            "seed": s.seed,
            "config_hash": config_hash(s.plain),
            "policy": s.policy_name,
            "world": s.world.name,
            "start": s.world.start,
            "end": s.world.end,
            "counterfactual": s.run.counterfactual,
            "outcomes": self.outcomes,
            "targets": targets(self.outcomes),
            "caused": self.caused,
        }


def simulate(
    scenario: Scenario,
    progress: bool = False,
    incentives: Incentives | None = None,
    shared: SharedCounterfactual | None = None,
) -> RunResult:
    """Run the scenario (and its counterfactual, if the scenario asks for one).

    ``shared``: the scenario's counterfactual as another job of the sweep already ran it
    (``clustersim.results.shared_counterfactuals``): only the scenario itself is run.

    A run and its counterfactual see the same random numbers (common random numbers,
    ``clustersim.streams``), so they are the same run until the first month in which
    what the counterfactual drops is in force (``Incentives.months_alike``): those
    months are simulated once, and the counterfactual starts as a copy of the run at
    the first month that differs (``_fork``); then each runs on to the end. Either way
    the counterfactual's outputs are those of a run of its own from the start.
    """
    incentives = incentives or build_incentives(scenario)
    cf = scenario.run.counterfactual
    if cf == "off" or shared is not None:
        t0 = time.perf_counter()
        model = ClusterModel(scenario, incentives)
        t1 = time.perf_counter()
        model.run(progress=progress)
        result = _result(scenario, model, incentives, t1 - t0, time.perf_counter() - t1)
        if shared is not None:
            result.counterfactual = shared
            result.caused = caused(result.outcomes, shared.outcomes)
        return result

    other_incentives = build_incentives(scenario, without=cf)
    calendar = month_range(scenario.world.start_month, scenario.world.end_month)
    alike = incentives.months_alike(other_incentives, calendar)
    # the run's months, then the counterfactual's own
    bar = _progress_bar(2 * len(calendar) - alike) if progress else None
    t0 = time.perf_counter()
    model = ClusterModel(scenario, incentives)
    t1 = time.perf_counter()
    while model.running and model.month_index < alike:
        model.step()
        _advance(bar, model)
    run_seconds = [time.perf_counter() - t1, 0.0]
    t2 = time.perf_counter()
    if alike == 0:  # different from the first month: built afresh
        other = ClusterModel(scenario, other_incentives)
    else:  # the months alike were simulated once: the run is copied
        other = _fork(model, other_incentives, Streams(scenario.seed))
    t3 = time.perf_counter()
    for i, m in enumerate((model, other)):
        start = time.perf_counter()
        while m.running:
            m.step()
            _advance(bar, m)
        run_seconds[i] += time.perf_counter() - start
    if bar is not None:
        bar.close()
    result = _result(scenario, model, incentives, t1 - t0, run_seconds[0])
    # the counterfactual's own: setting up its copy; the months it shares are the run's
    result.counterfactual = _result(scenario, other, other_incentives, t3 - t2, run_seconds[1])
    result.caused = caused(result.outcomes, result.counterfactual.outcomes)
    return result


def _fork(model: ClusterModel, incentives: Incentives, streams: Streams) -> ClusterModel:
    """A copy of ``model`` as it is now, that goes on with ``incentives`` and ``streams``.

    Every part of the model's state is copied (``copy.deepcopy``: the tables, the
    records so far, Mesa's own agents and schedule), except what the copy must not
    share or copy: ``incentives`` takes over the state of the model's incentives
    (``Incentives.take_over``) and replaces them, ``streams`` replaces the streams, and
    the scenario (read only, and large) is shared. The jurisdictions run the regimes of
    ``incentives`` (none when the copy goes on without plans).
    """
    incentives.take_over(model.incentives)
    scenario = model.cluster_scenario
    keep: list[Any] = [scenario, *vars(scenario).values()]
    memo: dict[int, Any] = {id(x): x for x in keep}
    memo[id(model.incentives)] = incentives
    memo[id(model.streams)] = streams
    # lists of nothing (a table's faces not looked at: one None per slot) are copied
    # whole: element by element, deepcopy spends most of the copy on them
    for part in vars(model).values():
        for value in getattr(part, "__dict__", {}).values():
            if type(value) is list and value.count(None) == len(value):
                memo[id(value)] = value.copy()
    forked = copy.deepcopy(model, memo)
    # the governments run the regimes of the copy's incentives (none without plans)
    regimes = incentives.regimes_by_issuer()
    for name, jurisdiction in forked.jurisdictions.items():
        jurisdiction.regimes = regimes.get(name, [])
    return forked


def _advance(bar: Any, model: ClusterModel) -> None:
    """One month more on the progress bar (if any)."""
    if bar is not None:
        bar.update(1)
        bar.set_description(str(model.month))


def _progress_bar(months: int) -> Any:
    from tqdm import tqdm

    return tqdm(total=months, unit="month", leave=False)


def _result(
    scenario: Scenario,
    model: ClusterModel,
    incentives: Incentives,
    setup_seconds: float,
    run_seconds: float,
) -> RunResult:
    """The tables and outcomes of a model run to its end."""
    monthly = model.monthly()
    relocations = model.relocation_table()
    outcomes = headline(monthly, model.parks.districts, scenario.run.report_months)
    return RunResult(
        scenario=scenario,
        model=model,
        monthly=monthly,
        firms_yearly=model.firms_yearly(),
        relocations=relocations,
        outcomes=outcomes,
        incentives=incentives,
        seconds={"setup": setup_seconds, "run": run_seconds},
    )


def _tables(result: RunResult, prefix: str = "") -> dict[str, pd.DataFrame]:
    """The run's tables by their file name in the run folder (``prefix``: a sub-folder)."""
    tables = {
        rf.MONTHLY: result.monthly,
        rf.FIRMS_YEARLY: result.firms_yearly,
        rf.RELOCATIONS: result.relocations,
        rf.LEDGER: result.ledger,
        rf.SPENDING: result.spending,
        rf.RATIONING: result.rationing,
    }
    if result.scenario.run.write_talent_snapshots:
        snaps = [s for s in result.model.talent_snapshots if len(s)]
        if snaps:
            tables[rf.TALENT_YEARLY] = pd.concat(snaps, ignore_index=True)
    return {f"{prefix}{name}": frame for name, frame in tables.items() if frame is not None}


def write_run(
    result: RunResult, folder: Path, overrides: list[str], recipe: str | None = None
) -> Path:
    """Publish the run folder at ``folder``: complete, or not there at all.

    ``recipe`` (``clustersim.results.recipe``) goes into the marker when known, so that a
    rerun of the sweep can skip the run without composing its config.
    """
    s = result.scenario
    tables = _tables(result)
    copies: dict[str, Path] = {}
    if isinstance(result.counterfactual, SharedCounterfactual):
        prefix = f"{rf.COUNTERFACTUAL}/"
        copies = {f"{prefix}{name}": path for name, path in result.counterfactual.files.items()}
    elif result.counterfactual is not None:
        tables.update(_tables(result.counterfactual, f"{rf.COUNTERFACTUAL}/"))
    marker = {"config_hash": config_hash(s.plain), "seed": s.seed, "version": __version__}
    if recipe is not None:
        marker["recipe"] = recipe
    content = rf.RunContent(
        marker=marker,
        config=s.plain,
        overrides=list(overrides),
        summary=result.summary(),
        tables=tables,
        copies=copies,
    )
    return rf.write_run_folder(Path(folder), content)


def run_into(
    scenario: Scenario,
    folder: Path,
    overrides: list[str],
    recipe: str | None = None,
    shelf: CounterfactualShelf | None = None,
    progress: bool = False,
) -> RunResult:
    """Simulate the scenario and publish its run folder at ``folder``.

    ``shelf``: the sweep's shelf of counterfactuals (a sweep job passes it). A no-plan
    counterfactual another job already ran is taken from it instead of being run again;
    one this job runs is put there once its folder is complete
    (``clustersim.results.shared_counterfactuals``). The folder is the same either way.
    """
    key = shelf_key(scenario) if shelf is not None else None
    shared = shelf.find(key) if shelf is not None and key is not None else None
    cpu = time.process_time()
    result = simulate(scenario, progress=progress, shared=shared)
    result.seconds["cpu"] = time.process_time() - cpu  # the model's, both runs (benchmarks/)
    write_run(result, folder, overrides, recipe)
    if shelf is not None and key is not None and isinstance(result.counterfactual, RunResult):
        shelf.put(key, Path(folder), result.counterfactual.outcomes)
    return result
