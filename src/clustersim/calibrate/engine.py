"""Approximate Bayesian computation over the runs of a calibration.

Both methods draw parameter points from the prior (uniform, or log-uniform, over each
parameter's range; internally every parameter lives on [0, 1]), run the model there
(``launch.Launch``: batches of runs through Hydra's configured launcher, each run a
settings-named folder found again on resume), and keep the points whose
statistics lie close to the observed targets. The distance is the root mean square of
the fitting targets' standardised errors, ``(simulated - observed) / uncertainty``, so a
target counts in proportion to how precisely it is known.

- ``smc``: pyabc's ABC-SMC (Del Moral et al. 2012 as implemented by Klinger, Rickert and
  Hasenauer 2018, pyabc). Generation after generation the acceptance threshold falls to
  a quantile of the last generation's distances and new points are proposed around the
  accepted ones. Needs the ``calibrate`` extra (``pip install -e '.[calibrate]'``).
- ``rejection``: the fast mode, without the extra: a scrambled Sobol design over the
  prior, every point run once, the closest ``accept`` share kept.

Reproducible and resumable: the sampler below proposes candidate i of generation t
from a random state seeded by (calibration seed, t, i), runs the candidates in batches
through the launcher and keeps the first ``population`` accepted in index order, so the
same calibration gives the same particles whatever the launcher, the number of workers,
the batch sizes or the timing; pyabc stores each finished generation in ``abc.db``; each
generation is run by a fresh ``ABCSMC`` loaded from that database. A calibration killed
in generation t and started again reloads generations < t, proposes generation t's
points again, finds the runs already done in their folders (they are not launched), and
ends with the same posterior, to the bit, as a calibration run straight through.
"""

from __future__ import annotations

import hashlib
import math
import random
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from clustersim.calibrate.launch import Launch
from clustersim.calibrate.problem import Problem

#: Distance given to a point whose fitting statistics cannot be computed (a failed run,
#: no firm left): finite, so pyabc's quantiles stay defined, and never accepted.
UNREACHABLE = 1e6
#: The pyabc database inside a calibration folder.
DATABASE = "abc.db"
#: Acceptance rate assumed for the first generation (its threshold is the median distance
#: of the prior sample, so about half the proposals pass); later generations start from
#: the rate of the one before, then from the rate of their own rounds.
FIRST_RATE = 0.5
#: A generation's first round proposes this share of what the last generation's rate
#: predicts (rates change between generations; a run proposed beyond the n-th acceptance
#: is wasted, a round too few costs only its tail); later rounds, sized by the rate of
#: this generation's own rounds, propose what it predicts. Assumption: on the toy world,
#: 1.1 throughout proposed a quarter of the runs beyond the last acceptance; a
#: simulation of the rounds (100 particles, rates 0.5 to 0.2 drifting +-25% between
#: generations) gives 4% with 0.8 then 1.0, and 2.5 rounds a generation.
FIRST_ROUND = 0.8
#: Fewest candidates per round, and the lowest rate a round is sized for (assumption:
#: a round of a few runs keeps two cores busy; 2% keeps one round under 50 x the need).
MIN_BATCH = 4
MIN_RATE = 0.02


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


# ------------------------------------------------------------------ seeds


def derived_seed(*parts: Any) -> int:
    """A 32-bit seed from a calibration seed and labels (generation, worker, ...)."""
    text = ":".join(str(p) for p in parts)
    return int(hashlib.sha256(text.encode()).hexdigest()[:8], 16)


# ----------------------------------------------------------------- rejection


def rejection(problem: Problem, folder: Path, launch: Launch | None = None) -> pd.DataFrame:
    """ABC rejection on a Sobol design: the closest ``accept`` share of the points.

    The whole design is one batch of runs for the launcher.
    """
    from scipy.stats import qmc

    spec = problem.spec
    launch = launch or Launch(problem, folder)
    engine = qmc.Sobol(len(problem.parameters), scramble=True, rng=np.random.default_rng(spec.seed))
    unit = engine.random_base2(int(math.log2(spec.design_points)))
    points = [values_at(problem, u) for u in unit]
    stats = launch.run(points)
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


def _batch_size(need: int, rate: float, share: float = 1.0) -> int:
    """Candidates to propose for ``need`` more acceptances at acceptance rate ``rate``."""
    return max(MIN_BATCH, math.ceil(need * share / max(rate, MIN_RATE)))


class _Points:
    """The model pyabc calls: records the points proposed, or answers from their runs.

    While ``recording``, a call notes the point and answers nothing (the particle is
    rejected and thrown away); ``evaluate`` then runs the noted points as one batch, and
    later calls with the same point answer with its statistics.
    """

    def __init__(self, problem: Problem, launch: Launch) -> None:
        self.problem = problem
        self.launch = launch
        self.recording = False
        self.noted: list[list[float]] = []
        self.known: dict[tuple[str, ...], dict[str, float]] = {}

    def __call__(self, values: list[float]) -> dict[str, float]:
        if self.recording:
            self.noted.append(values)
            return {}
        key = tuple(self.problem.values_text(values))
        if key not in self.known:
            raise RuntimeError(f"calibration: point {key} was proposed but not run")
        return self.known[key]

    def evaluate(self) -> None:
        """Run the noted points (one batch) and keep their statistics."""
        texts = [tuple(self.problem.values_text(v)) for v in self.noted]
        stats = self.launch.run(self.noted)
        self.known = dict(zip(texts, stats, strict=True))
        self.noted = []


def _launched_sampler(seed: int, points: _Points, rate: float):
    """A pyabc sampler that runs its proposals in batches through the launcher.

    Candidate i of generation t is proposed by pyabc's own ``simulate_one`` with the
    random state seeded by (seed, t, kind, i). A round proposes a batch of candidates
    (only noting the points), runs them through the launcher, then has pyabc evaluate
    the same candidates again from the same seeds (the model now answers from the runs)
    in index order, up to the n-th acceptance. The population is therefore the first n
    accepted candidates in index order: the same whatever the batch sizes, the launcher,
    the number of workers or an interruption. Candidates run beyond the n-th acceptance
    of the last round are not counted (their runs stay in the folder).
    """
    from pyabc.sampler import Sampler

    class LaunchedSampler(Sampler):
        def sample_until_n_accepted(
            self, n, simulate_one, t, *, max_eval=np.inf, all_accepted=False, ana_vars=None
        ):
            kind = "prior" if all_accepted else "generation"
            sample = self._create_empty_sample()
            accepted = evaluated = start = 0
            guess = 1.0 if all_accepted else rate
            while accepted < n and evaluated < max_eval:
                need = n - accepted
                share = FIRST_ROUND if start == 0 else 1.0
                size = need if all_accepted else _batch_size(need, guess, share)
                if math.isfinite(max_eval):
                    size = min(size, int(max_eval) - evaluated)
                batch = range(start, start + size)
                points.recording = True
                try:
                    for i in batch:
                        _reseed(seed, t, kind, i)
                        simulate_one()
                finally:
                    points.recording = False
                points.evaluate()
                for i in batch:
                    _reseed(seed, t, kind, i)
                    particle = simulate_one()
                    sample.append(particle)
                    evaluated += 1
                    if particle.accepted:
                        accepted += 1
                        if accepted == n:
                            break
                start += size
                guess = accepted / evaluated if accepted else guess / 4
            self.nr_evaluations_ = evaluated
            if sample.n_accepted < n:
                sample.ok = False
            return sample

    return LaunchedSampler()


def _reseed(seed: int, t: int, kind: str, i: int) -> None:
    s = derived_seed(seed, t, kind, i)
    random.seed(s)
    np.random.seed(s)


def smc(
    problem: Problem,
    folder: Path,
    launch: Launch | None = None,
    progress: Callable[[str], None] = print,
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
    launch = launch or Launch(problem, folder)
    names = [f"u{i}" for i in range(len(problem.parameters))]
    prior = pyabc.Distribution(**{n: pyabc.RV("uniform", 0.0, 1.0) for n in names})
    points = _Points(problem, launch)

    def model(pars: dict[str, float]) -> dict[str, float]:
        return points(values_at(problem, [pars[n] for n in names]))

    def dist(x: dict, x0: dict) -> float:
        return distance(problem, x)

    observed = {t.name: t.observed for t in problem.targets.targets}
    Path(folder).mkdir(parents=True, exist_ok=True)
    db = f"sqlite:///{(Path(folder) / DATABASE).resolve()}"
    done, evaluations, rate = _history(folder)
    while done < spec.generations and (spec.max_runs is None or evaluations < spec.max_runs):
        abc = pyabc.ABCSMC(
            model,
            prior,
            dist,
            population_size=spec.population,
            sampler=_launched_sampler(spec.seed, points, rate),
            eps=pyabc.QuantileEpsilon(alpha=0.5),
        )
        abc.transitions = [pyabc.MultivariateNormalTransition()]  # as the default, stated
        if done == 0 and not (Path(folder) / DATABASE).exists():
            abc.new(db, observed)
        else:
            abc.load(db, 1)
        np.random.seed(derived_seed(spec.seed, "main", done))
        abc.run(max_nr_populations=1)
        done, evaluations, rate = _history(folder)
        progress(
            f"calibrate: generation {done}/{spec.generations} done "
            f"({evaluations} runs counted, acceptance rate {rate:.2f})"
        )
    return smc_particles(problem, folder)


def _history(folder: Path) -> tuple[int, int, float]:
    """Generations finished, runs they counted, and the last one's acceptance rate."""
    path = Path(folder) / DATABASE
    if not path.exists():
        return 0, 0, FIRST_RATE
    import pyabc

    history = pyabc.History(f"sqlite:///{path.resolve()}", create=False)
    history.id = 1
    done = int(history.max_t + 1)
    if done == 0:
        return 0, 0, FIRST_RATE
    table = history.get_all_populations()
    last = table[table["t"] == history.max_t].iloc[0]
    rate = float(last["particles"]) / max(float(last["samples"]), 1.0)
    return done, int(table["samples"].sum()), rate


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
