"""Counterfactuals a sweep has already run, shared with the jobs that need the same one.

A sensitivity design varies parameters one or a few at a time. Some of them only shape
how agents respond to an incentive (how much a subsidy weighs, how many years of it a
firm counts): in a run without any incentive they change nothing, so every design
point that differs from another only in such parameters has the same no-plan
counterfactual, to the bit. In the Sobol design of ``experiment=sensitivity_sobol``
6 of every 14 runs differ from an earlier one only in three such parameters, and a Morris
trajectory of ``experiment=sensitivity_morris`` moves four of its ten parameters.

So a sweep job whose counterfactual is ``no_policy`` looks for it first on the sweep's
shelf (``<sweep>/.counterfactuals/<key>.json``): the key is the fingerprint of everything
the no-plan run reads (the config without the policy and without the parameters of
``INERT_WITHOUT_INCENTIVES``, the seed, the code version). When another job already ran
it, this job runs only its own plan, copies that job's ``counterfactual/`` tables byte
for byte and takes its outcomes from the shelf; the run folder it writes is the one it
would have written by running the counterfactual itself (``tests/test_shared_counterfactuals.py``
checks both, and that every parameter declared inert is). Otherwise it runs both and
puts its counterfactual on the shelf once its own folder is complete.

Anything missing or damaged (the earlier job's folder deleted, a file truncated, a shelf
entry unreadable) means the counterfactual is simply run again. Single runs do not
share: there is nothing to share with.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from clustersim import __version__
from clustersim.config import config_hash, settings_of
from clustersim.results import run_folder as rf

if TYPE_CHECKING:
    from clustersim.settings import Scenario

__all__ = [
    "INERT_WITHOUT_INCENTIVES",
    "SHELF",
    "CounterfactualShelf",
    "SharedCounterfactual",
    "sharing_order",
    "shelf_key",
]

#: The sweep's sub-folder holding the shelf (bookkeeping: collectors skip dot-folders).
SHELF = ".counterfactuals"

#: Parameters a run without any incentive does not depend on, each with why. The model
#: reads them only as a weight or a scale of an offer (``x * log1p(offer / scale)``,
#: which is 0.0 when nothing is offered) or of the plans' expected value, so in a
#: no-plan run they change no number. ``but_for_share`` also decides which firms are
#: marked sensitive, with one draw per firm whatever its value: the mark matters only
#: where a subsidy is offered, and is not written to any table.
#: ``tests/test_shared_counterfactuals.py`` runs a no-plan world with every one of them
#: changed and checks that every table is the same, to the bit.
INERT_WITHOUT_INCENTIVES: dict[str, str] = {
    "behavior.entry.but_for_share": "marks the firms whose location choice weighs a subsidy",
    "behavior.entry.subsidy_weight": "weight of a firm's expected subsidy in its park choice",
    "behavior.entry.subsidy_scale": "scale of a firm's expected subsidy in its park choice",
    "behavior.talent.incentive_weight": "weight of a talent award in a person's choice",
    "behavior.talent.incentive_scale": "scale of a talent award in a person's choice",
    "behavior.policy_response.horizon_years": "years of a recurring incentive a firm counts",
    "behavior.policy_response.response_scale": "scale of a reward in the certification response",
}


def shelf_key(scenario: Scenario) -> str | None:
    """The fingerprint of the scenario's no-plan counterfactual, or None if it has none.

    Only a ``no_policy`` counterfactual is shared: one that keeps some instruments in
    force depends on every parameter.
    """
    if scenario.run.counterfactual != "no_policy":
        return None
    data = {k: v for k, v in settings_of(scenario.plain).items() if k != "policy"}
    for dotted in INERT_WITHOUT_INCENTIVES:
        _drop(data, dotted.split("."))
    return config_hash({"config": data, "seed": scenario.seed, "version": __version__})


def sharing_order(jobs: Sequence[Sequence[str]]) -> list[int]:
    """An order of a sweep's jobs in which those that can share a counterfactual come last.

    ``jobs``: each job's overrides (``key=value``). Jobs whose overrides differ only in
    ``INERT_WITHOUT_INCENTIVES`` may share their no-plan counterfactual; the first of each
    such group keeps its place among the firsts, the others follow, in their own order.
    Launched in this order, a job that can share finds its counterfactual already on the
    shelf instead of running it beside the job that puts it there (2 workers running a
    Sobol design in its own order ran 5 of 24 shareable counterfactuals again).
    """
    seen: set[tuple[str, ...]] = set()
    first: list[int] = []
    later: list[int] = []
    for i, overrides in enumerate(jobs):
        group = tuple(
            sorted(o for o in overrides if o.partition("=")[0] not in INERT_WITHOUT_INCENTIVES)
        )
        (later if group in seen else first).append(i)
        seen.add(group)
    return first + later


def _drop(data: dict[str, Any], path: list[str]) -> None:
    """Remove ``path`` from nested mappings, copying each mapping on the way (no mutation)."""
    head, rest = path[0], path[1:]
    if head not in data:
        return
    if not rest:
        del data[head]
    elif isinstance(data[head], Mapping):
        data[head] = dict(data[head])
        _drop(data[head], rest)


@dataclass(frozen=True)
class SharedCounterfactual:
    """A counterfactual another job of the sweep ran: its outcomes and its tables' files.

    Attributes:
        outcomes: its headline outcomes at the report months (as ``RunResult.outcomes``).
        files: file name under ``counterfactual/`` -> that file in the other job's folder.
        source: the other job's folder.

    """

    outcomes: dict[str, dict[str, float]]
    files: dict[str, Path]
    source: Path


class CounterfactualShelf:
    """The shelf of one sweep folder: find a counterfactual by key, or put one there."""

    def __init__(self, sweep_dir: Path) -> None:
        self.sweep_dir = Path(sweep_dir)
        self.folder = self.sweep_dir / SHELF

    def _entry(self, key: str) -> Path:
        return self.folder / f"{key}.json"

    def find(self, key: str) -> SharedCounterfactual | None:
        """The counterfactual shelved under ``key``, if its job folder is still intact."""
        try:
            entry = json.loads(self._entry(key).read_text())
            source = self.sweep_dir / entry["run"]
            outcomes = entry["outcomes"]
            names = entry["files"]
        except (OSError, ValueError, KeyError, TypeError):
            return None
        stored = rf.StoredRun(source)
        if not rf.is_complete(source) or stored.damage() is not None:
            return None
        prefix = f"{rf.COUNTERFACTUAL}/"
        files = {name: source / f"{prefix}{name}" for name in names}
        if not all(p.is_file() for p in files.values()):
            return None
        return SharedCounterfactual(outcomes=outcomes, files=files, source=source)

    def put(self, key: str, run: Path, outcomes: Mapping[str, Mapping[str, float]]) -> None:
        """Shelve the counterfactual of the complete run folder ``run`` under ``key``.

        Written atomically (a temporary file renamed): a reader sees a whole entry or none.
        Two jobs putting the same key at once write the same content; the last rename wins.
        The shelf only saves work: a run folder outside the sweep, or an entry that cannot
        be written (a full disk), leaves it as it was, and the job stays complete.
        """
        folder = Path(run) / rf.COUNTERFACTUAL
        names = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
        tmp = self.folder / f".{key}.{os.getpid()}.tmp"
        try:
            where = Path(run).resolve().relative_to(self.sweep_dir.resolve()).as_posix()
            if not names:
                return
            entry = {"run": where, "outcomes": outcomes, "files": names}
            self.folder.mkdir(parents=True, exist_ok=True)
            tmp.write_text(json.dumps(entry, sort_keys=True))
            os.replace(tmp, self._entry(key))
        except (OSError, ValueError):
            tmp.unlink(missing_ok=True)
