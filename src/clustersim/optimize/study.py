"""The study driver: search mixes with Optuna, resumably, in one or several processes.

A study folder holds::

    study.yaml          the study's settings (a rerun with other settings is refused)
    study.db            Optuna's study in SQLite: every trial, its parameters and values
    runs/<name>/        one run folder per (mix or reference, seed), named by its settings
    trials.parquet      one row per trial: the mix, caused outcomes, spending, feasibility
    pareto.parquet      the trials on the Pareto front (the best trial for one objective)
    validation*.parquet the best mixes against the plan as written on fresh seeds

**How trials are handed out.** Each worker asks Optuna for a trial (``study.ask``) and
suggests every parameter while holding the study's lock (a file lock), marks the trial
with its own name, evaluates it without the lock, and tells Optuna the result under the
lock again. A worker holds a lock file of its own for its whole life; the kernel drops it
when the worker dies, even by ``kill -9``. A trial still *running* whose worker's lock is
free was cut off: the next worker takes it over *as the same trial* (its parameters are
in the database) and finishes it, so no trial is lost or counted twice, and the runs it
had already finished are reused from their folders. A rerun asks only for the trials
still missing.

**Same study seed, same trials.** The sampler is made afresh for each trial with a seed
drawn from (study seed, trial number); with one worker, the sequence of trials depends
only on the study seed and the evaluations, also across an interruption.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import math
import multiprocessing
import os
import signal
import socket
import sys
import uuid
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from clustersim.optimize.errors import StudyConfigError
from clustersim.optimize.evaluate import Evaluator, Measures, ModelEvaluator, _locked
from clustersim.optimize.space import SearchSpace, build_space
from clustersim.optimize.spec import StudySpec

__all__ = [
    "STUDY_DB",
    "STUDY_NAME",
    "STUDY_YAML",
    "Study",
    "load_spec",
    "open_study",
    "run_search",
]

STUDY_YAML = "study.yaml"
STUDY_DB = "study.db"
#: The Optuna study's name inside ``study.db``.
STUDY_NAME = "optimize"
_ASK_LOCK = ".ask.lock"
_WORKERS = ".workers"


@dataclass
class Study:
    """A checked study: its settings, search space, month and evaluator.

    Attributes:
        spec: the settings.
        space: the plan's levers.
        month: the month outcomes are read at.
        evaluator: what runs a mix (the model, or a stand-in in tests).

    """

    spec: StudySpec
    space: SearchSpace
    month: str
    evaluator: Evaluator

    @property
    def folder(self) -> Path:
        """The study folder."""
        return Path(self.spec.folder)

    @property
    def storage_url(self) -> str:
        """Optuna's storage: SQLite inside the study folder."""
        return f"sqlite:///{(self.folder / STUDY_DB).resolve()}"


@functools.lru_cache(maxsize=8)
def _composed(overrides: tuple[str, ...]) -> tuple[dict[str, Any], str, str]:
    """(plain config, world start, world end) of the runs' base; checked; cached per process."""
    from hydra.errors import HydraException
    from omegaconf.errors import OmegaConfBaseException

    from clustersim.api import compose
    from clustersim.config import to_plain
    from clustersim.settings import load_scenario

    try:
        cfg = compose(list(overrides))
    except (HydraException, OmegaConfBaseException) as e:
        raise StudyConfigError("optimize.base", list(overrides), f"does not compose: {e}") from None
    scenario = load_scenario(cfg)  # ConfigError names a bad world/behaviour/policy value
    return to_plain(cfg), scenario.world.start, scenario.world.end


def open_study(spec: StudySpec, evaluator: Evaluator | None = None) -> Study:
    """Check the settings against the composed config; raise ``StudyConfigError`` or return.

    Nothing is written: the folder is created only by ``run_search``.
    """
    spec.check()
    plain, start, end = _composed(tuple(spec.base_overrides()))
    month = spec.month or end
    if not start <= month <= end:
        raise StudyConfigError(
            "optimize.month", month, f"must lie within {start}..{end} (the world)"
        )
    space = build_space(
        plain.get("policy") or {},
        spec.plan,
        instruments=spec.instruments,
        multiples=spec.multiples,
        min_multiple=spec.min_multiple,
        uncapped_max_multiple=spec.uncapped_max_multiple,
    )
    _check_folder(spec)
    if evaluator is None:
        evaluator = ModelEvaluator(
            Path(spec.folder), tuple(spec.base_overrides()), spec.plan, month
        )
    return Study(spec, space, month, evaluator)


def _check_folder(spec: StudySpec) -> None:
    path = Path(spec.folder) / STUDY_YAML
    if path.is_file():
        stored = yaml.safe_load(path.read_text())
        mine = _plain_yaml(spec.identity())
        if stored != mine:
            diff = sorted(k for k in set(stored) | set(mine) if stored.get(k) != mine.get(k))
            raise StudyConfigError(
                "optimize.folder",
                str(spec.folder),
                f"holds a study with other settings ({', '.join(diff)}); only trials and "
                "workers may change on a rerun: use another folder",
            )
    elif Path(spec.folder).exists() and any(Path(spec.folder).iterdir()):
        raise StudyConfigError(
            "optimize.folder", str(spec.folder), "exists and is not a study folder; use another"
        )


def _plain_yaml(data: Any) -> Any:
    return yaml.safe_load(yaml.safe_dump(data, sort_keys=True))


# ------------------------------------------------------------------- budget


def resolve_budget(study: Study, log: Callable[[str], None] = print) -> float:
    """The searched instruments' yearly budget in RMB (``written``, ``spent`` or a number)."""
    b = study.spec.budget
    if b == "written":
        budget = study.space.written_budget
    elif b == "spent":
        measures = study.evaluator.evaluate_plan(study.spec.search_seeds, study.space.ids)
        budget = float(np.mean([m["budget_per_year"] for m in measures]))
        log(
            f"optimize: the plan as written spends {budget:,.0f} RMB a year on the searched "
            f"instruments (mean of {len(measures)} seeds); that is the budget"
        )
    else:
        budget = float(b)
    if not budget > 0:
        raise StudyConfigError("optimize.budget", b, f"comes to {budget:g} RMB; must be > 0")
    return budget


# ------------------------------------------------------------------- search


@dataclass
class _Context:
    """What every worker needs (picklable, for worker processes)."""

    spec: StudySpec
    space: SearchSpace
    budget: float
    evaluator: Evaluator
    url: str
    log: bool = True


def _quiet_optuna() -> None:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)


def storage(url: str) -> Any:
    """Optuna's RDB storage on the study's SQLite file, patient with concurrent workers.

    The file is in write-ahead-log mode with ``synchronous=NORMAL``: a commit survives the
    death of any process (``kill -9`` included) and costs no disk flush, which otherwise
    dominates (Optuna commits once per suggested parameter).
    """
    import optuna
    import sqlalchemy

    def _pragmas(connection: Any, _record: Any) -> None:
        cursor = connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    engine_listens = sqlalchemy.event.listen
    store = optuna.storages.RDBStorage(
        url,
        engine_kwargs={"connect_args": {"timeout": 300}},
    )
    engine_listens(store.engine, "connect", _pragmas)
    store.engine.dispose()  # connections opened while Optuna set up get the pragmas too
    return store


def make_sampler(spec: StudySpec, number: int) -> Any:
    """The sampler for trial ``number``: seeded from (study seed, number)."""
    import optuna

    seed = int(np.random.SeedSequence([spec.study_seed, number]).generate_state(1)[0])
    if spec.sampler == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    if spec.sampler == "nsga2":
        return optuna.samplers.NSGAIISampler(seed=seed)
    return optuna.samplers.TPESampler(seed=seed, constant_liar=spec.workers > 1)


def run_search(study: Study, budget: float, log: Callable[[str], None] = print) -> None:
    """Create or resume the Optuna study and evaluate trials until it holds ``trials``."""
    import optuna

    _quiet_optuna()
    spec = study.spec
    folder = study.folder
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / STUDY_YAML
    if not path.is_file():
        tmp = path.with_suffix(".tmp")
        tmp.write_text(yaml.safe_dump(_plain_yaml(spec.identity()), sort_keys=True))
        os.replace(tmp, path)
    _clear_dead_partials(folder / "runs")
    with _locked(folder / _ASK_LOCK):
        created = optuna.create_study(
            storage=storage(study.storage_url),
            study_name=STUDY_NAME,
            directions=spec.directions,
            load_if_exists=True,
        )
        attrs = created.user_attrs
        if "budget" not in attrs:
            created.set_user_attr("budget", budget)
            created.set_user_attr("value_names", spec.value_names)
            created.set_user_attr("plan", spec.plan)
            created.set_user_attr("month", study.month)
            created.enqueue_trial(
                study.space.written_params(), user_attrs={"label": "plan as written"}
            )
        elif not math.isclose(attrs["budget"], budget, rel_tol=1e-9):
            raise StudyConfigError(
                "optimize.budget",
                budget,
                f"the study in {folder} was searched with a budget of {attrs['budget']:,.0f} RMB",
            )
    ctx = _Context(spec, study.space, budget, study.evaluator, study.storage_url)
    if spec.workers == 1:
        _worker(ctx, child=False)
        return
    mp = multiprocessing.get_context("spawn")
    procs = [
        mp.Process(target=_worker, args=(ctx, True), name=f"optimize-{i}")
        for i in range(spec.workers)
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    failed = [p.name for p in procs if p.exitcode != 0]
    if failed:
        raise RuntimeError(
            f"optimize: worker(s) {', '.join(failed)} failed (see above); "
            "rerun the same command to resume"
        )


def _die_with_parent() -> None:
    """Ask Linux to kill this worker when the driver dies (so no orphan keeps working)."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


@contextmanager
def _worker_lock(folder: Path) -> Iterator[str]:
    """A name for this worker and its lock file, held while the worker lives."""
    import fcntl

    token = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    path = folder / _WORKERS / f"{token}.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield token
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
            with contextlib.suppress(OSError):
                path.unlink()


def _owner_alive(folder: Path, owner: str | None) -> bool:
    """True if the worker ``owner`` still holds its lock file."""
    import fcntl

    if not owner:
        return False
    path = folder / _WORKERS / f"{owner}.lock"
    if not path.is_file():
        return False
    with open(path) as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(handle, fcntl.LOCK_UN)
    with contextlib.suppress(OSError):
        path.unlink()
    return False


def _worker(ctx: _Context, child: bool) -> None:
    """Take trials (resuming cut-off ones first) until the study holds enough."""
    import optuna
    from optuna.trial import TrialState

    if child:
        _die_with_parent()
    _quiet_optuna()
    folder = Path(ctx.spec.folder)
    store = storage(ctx.url)
    with _worker_lock(folder) as token:
        while True:
            with _locked(folder / _ASK_LOCK):
                trials = optuna.load_study(study_name=STUDY_NAME, storage=store).get_trials(
                    deepcopy=False
                )
                study = optuna.load_study(
                    study_name=STUDY_NAME,
                    storage=store,
                    sampler=make_sampler(ctx.spec, len(trials)),
                )
                trial = None
                for t in trials:
                    if t.state == TrialState.RUNNING and not _owner_alive(
                        folder, t.user_attrs.get("owner")
                    ):  # cut off: finish it as itself, with the sampler it was asked with
                        study = optuna.load_study(
                            study_name=STUDY_NAME,
                            storage=store,
                            sampler=make_sampler(ctx.spec, t.number),
                        )
                        trial = optuna.trial.Trial(study, t._trial_id)
                        trial.set_user_attr("resumed", True)
                        break
                if trial is None:
                    active = sum(
                        t.state in (TrialState.COMPLETE, TrialState.RUNNING) for t in trials
                    )
                    if active >= ctx.spec.trials:
                        return
                    trial = study.ask()
                trial.set_user_attr("owner", token)
                mix = ctx.space.suggest(trial)
            try:
                measures = ctx.evaluator.evaluate(mix, ctx.space, ctx.budget, ctx.spec.search_seeds)
            except BaseException:
                with _locked(folder / _ASK_LOCK):
                    study.tell(trial.number, state=TrialState.FAIL)
                raise
            values = _values(ctx.spec, measures)
            excess = max(m["budget_max_year"] for m in measures) - ctx.budget
            with _locked(folder / _ASK_LOCK):
                trial.set_user_attr("mix", mix.digest(ctx.space, ctx.budget))
                trial.set_user_attr("measures", _jsonable(measures))
                trial.set_user_attr("budget_excess", float(excess))
                # feasible when <= 0: TPE and NSGA-II rank infeasible trials last
                trial.set_constraint("budget_excess", float(excess))
                study.tell(trial.number, values)
                n_done = sum(
                    t.state == TrialState.COMPLETE
                    for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
                )
            if ctx.log:
                shown = ", ".join(
                    f"{n} {v:,.1f}" for n, v in zip(ctx.spec.value_names, values, strict=True)
                )
                print(
                    f"optimize: trial {trial.number} ({n_done}/{ctx.spec.trials} done): {shown}",
                    flush=True,
                )


def _values(spec: StudySpec, measures: list[Measures]) -> list[float]:
    return [float(np.mean([m[name] for m in measures])) for name in spec.value_names]


def _jsonable(measures: list[Measures]) -> list[dict[str, Any]]:
    return [
        {k: (float(v) if isinstance(v, (int, float, np.floating)) else v) for k, v in m.items()}
        for m in measures
    ]


def _clear_dead_partials(runs: Path) -> None:
    """Remove staging folders of runs whose process is gone (never a live worker's)."""
    import shutil

    if not runs.is_dir():
        return
    for p in runs.iterdir():
        if not (p.name.startswith(".") and ".partial-" in p.name and p.is_dir()):
            continue
        pid = p.name.rsplit("-", 1)[-1]
        alive = False
        if pid.isdigit():
            try:
                os.kill(int(pid), 0)
                alive = True
            except ProcessLookupError:
                alive = False
            except PermissionError:
                alive = True
        if not alive:
            shutil.rmtree(p, ignore_errors=True)


def load_spec(folder: str | Path) -> StudySpec:
    """The settings of the study in ``folder`` (from its ``study.yaml``)."""
    from clustersim.optimize.spec import spec_from_mapping

    path = Path(folder) / STUDY_YAML
    if not path.is_file():
        raise FileNotFoundError(f"{folder}: not a study folder (no {STUDY_YAML})")
    data = yaml.safe_load(path.read_text())
    return spec_from_mapping({**data, "folder": str(folder)})
