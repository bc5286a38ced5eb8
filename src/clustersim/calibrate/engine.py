"""Approximate Bayesian computation over the runs of a calibration.

Both methods draw parameter points from the prior (uniform, or log-uniform, over each
parameter's range; internally every parameter lives on [0, 1]), run the model there
(``runs.run_point``: cached, settings-named run folders), and keep the points whose
statistics lie close to the observed targets. The distance is the root mean square of
the fitting targets' standardised errors, ``(simulated - observed) / uncertainty``, so a
target counts in proportion to how precisely it is known.

- ``smc``: pyabc's ABC-SMC (Del Moral et al. 2012 as implemented by Klinger, Rickert and
  Hasenauer 2018, pyabc). Generation after generation the acceptance threshold falls to
  a quantile of the last generation's distances and new points are proposed around the
  accepted ones. Needs the ``calibrate`` extra (``pip install -e '.[calibrate]'``).
- ``rejection``: the fast mode, without the extra: a scrambled Sobol design over the
  prior, every point run once, the closest ``accept`` share kept.

Reproducible and resumable: the sampler below gives each worker process of each
generation its own seed derived from the calibration seed, so the same calibration
proposes the same points in the same order whatever the timing; pyabc stores each
finished generation in ``abc.db``; each generation is run by a fresh ``ABCSMC`` loaded
from that database. A calibration killed in generation t and started again reloads
generations < t, proposes generation t's points again, finds the runs already done in
their folders, and ends with the same posterior as a calibration run straight through.
"""

from __future__ import annotations

import hashlib
import math
import multiprocessing
import random
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from clustersim.calibrate.problem import Problem
from clustersim.calibrate.runs import run_point

#: Distance given to a point whose fitting statistics cannot be computed (a failed run,
#: no firm left): finite, so pyabc's quantiles stay defined, and never accepted.
UNREACHABLE = 1e6
#: The pyabc database inside a calibration folder.
DATABASE = "abc.db"


def distance(problem: Problem, simulated: dict[str, float]) -> float:
    """Root mean square of the fitting targets' standardised errors."""
    errors = []
    for t in problem.fit_targets:
        value = simulated.get(t.name, math.nan)
        if value is None or not math.isfinite(value):
            return UNREACHABLE
        errors.append(((value - t.observed) / t.uncertainty) ** 2)
    return math.sqrt(sum(errors) / len(errors))


def values_at(problem: Problem, unit: Sequence[float]) -> list[float]:
    """Parameter values at a point of the unit cube."""
    return [p.from_unit(float(u)) for p, u in zip(problem.parameters, unit, strict=True)]


# ---------------------------------------------------------------- parallel runs

_WORK: Callable[[Any], Any] | None = None  # what forked workers call (inherited by fork)


def _call(item: Any) -> Any:
    assert _WORK is not None
    return _WORK(item)


def parallel_map(func: Callable[[Any], Any], items: Sequence[Any], workers: int) -> list[Any]:
    """``[func(i) for i in items]`` on ``workers`` forked processes, results in input order."""
    global _WORK
    if workers <= 1 or len(items) <= 1:
        return [func(i) for i in items]
    _WORK = func
    try:
        ctx = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
            return list(pool.map(_call, items, chunksize=1))
    finally:
        _WORK = None


def derived_seed(*parts: Any) -> int:
    """A 32-bit seed from a calibration seed and labels (generation, worker, ...)."""
    text = ":".join(str(p) for p in parts)
    return int(hashlib.sha256(text.encode()).hexdigest()[:8], 16)


# ----------------------------------------------------------------- rejection


def rejection(problem: Problem, folder: Path, workers: int) -> pd.DataFrame:
    """ABC rejection on a Sobol design: the closest ``accept`` share of the points."""
    from scipy.stats import qmc

    spec = problem.spec
    engine = qmc.Sobol(len(problem.parameters), scramble=True, rng=np.random.default_rng(spec.seed))
    unit = engine.random_base2(int(math.log2(spec.design_points)))
    points = [values_at(problem, u) for u in unit]
    stats = parallel_map(lambda v: run_point(problem, folder, v), points, workers)
    table = _table(problem, points, stats)
    table["generation"] = 0
    keep = max(1, round(spec.accept * len(table)))
    order = np.argsort(table["distance"].to_numpy(), kind="stable")
    table["accepted"] = False
    table.loc[table.index[order[:keep]], "accepted"] = True
    table["weight"] = np.where(table["accepted"], 1.0 / keep, 0.0)
    return table


def _table(
    problem: Problem, points: Sequence[Sequence[float]], stats: Sequence[dict]
) -> pd.DataFrame:
    rows = []
    for values, s in zip(points, stats, strict=True):
        row = {p.key: v for p, v in zip(problem.parameters, values, strict=True)}
        row.update({f"stat:{k}": v for k, v in s.items()})
        row["distance"] = distance(problem, s)
        rows.append(row)
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------- SMC


def _seeded_sampler(seed: int, workers: int):
    """A pyabc sampler whose proposals depend only on the seed, not on timing."""
    from pyabc.sampler import Sampler, SingleCoreSampler

    class SeededSampler(Sampler):
        """Static scheduling: worker w of a call draws with seed (seed, t, kind, w).

        Each worker samples until its share of the accepted particles is reached; the
        samples are joined in worker order, so the population is the same on every run.
        """

        def sample_until_n_accepted(
            self, n, simulate_one, t, *, max_eval=np.inf, all_accepted=False, ana_vars=None
        ):
            kind = "prior" if all_accepted else "generation"
            w = max(1, min(workers, n))
            shares = [n // w + (1 if i < n % w else 0) for i in range(w)]
            factory = self.sample_factory

            def one(i: int):
                s = derived_seed(seed, t, kind, i)
                random.seed(s)
                np.random.seed(s)
                single = SingleCoreSampler()
                single.sample_factory = factory
                sample = single.sample_until_n_accepted(
                    shares[i], simulate_one, t, max_eval=max_eval
                )
                return sample, single.nr_evaluations_

            results = parallel_map(one, list(range(w)), w)
            sample = self._create_empty_sample()
            evaluations = 0
            for part, count in results:
                sample += part
                evaluations += count
            self.nr_evaluations_ = evaluations
            if sample.n_accepted < n:
                sample.ok = False
            return sample

    return SeededSampler()


def smc(
    problem: Problem, folder: Path, workers: int, progress: Callable[[str], None] = print
) -> pd.DataFrame:
    """ABC-SMC with pyabc; every particle of every generation, with its weight."""
    try:
        import pyabc
    except ImportError:
        raise RuntimeError(
            "method smc needs pyabc: pip install -e '.[calibrate]' (or use method=rejection, "
            "the fast mode)"
        ) from None
    import logging

    logging.getLogger("ABC").setLevel(logging.WARNING)
    spec = problem.spec
    names = [f"u{i}" for i in range(len(problem.parameters))]
    prior = pyabc.Distribution(**{n: pyabc.RV("uniform", 0.0, 1.0) for n in names})

    def model(pars: dict[str, float]) -> dict[str, float]:
        values = values_at(problem, [pars[n] for n in names])
        return run_point(problem, folder, values)

    def dist(x: dict, x0: dict) -> float:
        return distance(problem, x)

    observed = {t.name: t.observed for t in problem.targets.targets}
    Path(folder).mkdir(parents=True, exist_ok=True)
    db = f"sqlite:///{(Path(folder) / DATABASE).resolve()}"
    done = _generations_done(folder)
    while done < spec.generations:
        abc = pyabc.ABCSMC(
            model,
            prior,
            dist,
            population_size=spec.population,
            sampler=_seeded_sampler(spec.seed, workers),
            eps=pyabc.QuantileEpsilon(alpha=0.5),
        )
        abc.transitions = [pyabc.MultivariateNormalTransition()]  # as the default, stated
        if done == 0 and not (Path(folder) / DATABASE).exists():
            abc.new(db, observed)
        else:
            abc.load(db, 1)
        np.random.seed(derived_seed(spec.seed, "main", done))
        abc.run(max_nr_populations=1)
        done = _generations_done(folder)
        progress(f"calibrate: generation {done}/{spec.generations} done")
    return smc_particles(problem, folder)


def _generations_done(folder: Path) -> int:
    path = Path(folder) / DATABASE
    if not path.exists():
        return 0
    import pyabc

    history = pyabc.History(f"sqlite:///{path.resolve()}", create=False)
    history.id = 1
    return int(history.max_t + 1)


def smc_particles(problem: Problem, folder: Path) -> pd.DataFrame:
    """Every particle of the generations in the folder's database (the last one accepted)."""
    import pyabc

    names = [f"u{i}" for i in range(len(problem.parameters))]
    history = pyabc.History(f"sqlite:///{(Path(folder) / DATABASE).resolve()}", create=False)
    history.id = 1
    rows = []
    for t in range(history.max_t + 1):
        for particle in history.get_population(t=t).particles:
            values = values_at(problem, [particle.parameter[n] for n in names])
            row: dict[str, Any] = {
                p.key: v for p, v in zip(problem.parameters, values, strict=True)
            }
            stats = {k: float(v) for k, v in particle.sum_stat.items()}
            row.update({f"stat:{k}": stats.get(k, math.nan) for k in problem.targets.names})
            row["distance"] = distance(problem, stats)
            row["weight"] = float(particle.weight)
            row["generation"] = t
            row["accepted"] = t == history.max_t
            rows.append(row)
    return pd.DataFrame(rows)
