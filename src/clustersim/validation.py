"""Stylised facts of firm dynamics, measured on a run: what docs/validation.md reports.

Each function takes a run's tables (the year-end firm snapshots, the monthly outcomes)
or a model, and returns the figure a stylised fact is judged by: the exit rate by size
and age class, the share of surviving firms whose head count did not change in a year,
whether a Laplace fits yearly growth rates better than a Normal, how growth dispersion
falls with size, the Hill exponent of the size distribution's tail, the largest one-month
fall of a district's employment, and how large firms close. The tests (tests/test_life_cycle.py)
and the script that regenerates docs/validation.md (scripts/validation.py) use the same
functions, so the documented figures and the tested properties cannot drift apart.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from clustersim.model import ClusterModel

#: Size classes (people, lower bounds) and age classes (years) the exit tables use.
SIZE_CLASSES = (0, 5, 10, 20, 50, 100, 250, 500)
AGE_CLASSES = (0, 1, 3, 5, 10)


def year_pairs(firms_yearly: pd.DataFrame) -> list[tuple[str, str]]:
    """Consecutive year-end snapshot months (``2020-12``, ``2021-12``), in order."""
    months = sorted(m for m in firms_yearly["month"].unique() if str(m).endswith("-12"))
    return list(itertools.pairwise(months))


def yearly_growth(firms_yearly: pd.DataFrame) -> pd.DataFrame:
    """One row per firm and year it survived: size at the start (people) and log growth.

    Growth is the log change of its employees from one year end to the next; firms with
    no staff at either end are left out (their log growth is undefined).
    """
    rows = []
    for a, b in year_pairs(firms_yearly):
        s0 = firms_yearly[firms_yearly["month"] == a].set_index("firm_id")["employees"]
        s1 = firms_yearly[firms_yearly["month"] == b].set_index("firm_id")["employees"]
        both = s0.index.intersection(s1.index)
        e0, e1 = s0[both].to_numpy(float), s1[both].to_numpy(float)
        ok = (e0 > 0) & (e1 > 0)
        rows.append(pd.DataFrame({"year": b, "size": e0[ok], "growth": np.log(e1[ok] / e0[ok])}))
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame()


def zero_growth_share(growth: pd.DataFrame) -> float:
    """Share of surviving firm-years whose head count did not change at all."""
    return float(np.mean(growth["growth"].to_numpy() == 0.0))


@dataclass(frozen=True)
class FitComparison:
    """Log-likelihoods of a Laplace and a Normal fitted by maximum likelihood."""

    n: int
    laplace: float
    normal: float

    @property
    def laplace_better(self) -> bool:
        """True if the Laplace fits better (higher log-likelihood, same number of parameters)."""
        return self.laplace > self.normal


def laplace_vs_normal(g: np.ndarray) -> FitComparison:
    """Fit both two-parameter distributions to ``g`` by maximum likelihood and compare.

    Normal: mean and s.d.; Laplace: median and mean absolute deviation from it.
    """
    g = np.asarray(g, dtype=float)
    n = len(g)
    sd = g.std()
    normal = -0.5 * n * (np.log(2 * np.pi * sd**2) + 1.0)
    b = np.mean(np.abs(g - np.median(g)))
    laplace = -n * (np.log(2 * b) + 1.0)
    return FitComparison(n=n, laplace=float(laplace), normal=float(normal))


def dispersion_slope(growth: pd.DataFrame, bins: int = 8) -> tuple[float, pd.DataFrame]:
    """How growth dispersion scales with size: slope of log s.d. on log size, and the table.

    Firms are binned by size quantiles; a slope of -beta means s.d. ~ size ** -beta.
    """
    size, g = growth["size"].to_numpy(), growth["growth"].to_numpy()
    edges = np.unique(np.quantile(size, np.linspace(0, 1, bins + 1)))
    which = np.clip(np.searchsorted(edges, size, side="right") - 1, 0, len(edges) - 2)
    table = (
        pd.DataFrame({"bin": which, "size": size, "growth": g})
        .groupby("bin")
        .agg(size=("size", "median"), sd=("growth", "std"), n=("growth", "size"))
    )
    table = table[(table["n"] >= 10) & (table["sd"] > 0)]
    slope = float(np.polyfit(np.log(table["size"]), np.log(table["sd"]), 1)[0])
    return slope, table.reset_index(drop=True)


def hill(sizes: np.ndarray, top: float = 0.1) -> float:
    """Hill estimator of the tail exponent over the largest ``top`` share of sizes."""
    s = np.sort(np.asarray(sizes, dtype=float))[::-1]
    s = s[s > 0]
    k = max(10, int(len(s) * top))
    return float(1.0 / np.mean(np.log(s[:k] / s[k])))


def _classes(values: np.ndarray, bounds: tuple[float, ...]) -> np.ndarray:
    return np.searchsorted(np.asarray(bounds, dtype=float), values, side="right") - 1


def exit_rates(firms_yearly: pd.DataFrame, model_month_of_year_end: dict[str, int]) -> pd.DataFrame:
    """Yearly exit rates by size class and by age class, over every year of a run.

    A firm in one year-end snapshot and not in the next has closed (relocation keeps its
    id). ``model_month_of_year_end`` maps a snapshot month to its model month index, to
    compute ages from ``born``. Returns rows (by, class_lower_bound, firms, exits, rate).
    """
    rows = []
    for a, b in year_pairs(firms_yearly):
        s0 = firms_yearly[firms_yearly["month"] == a]
        alive_next = set(firms_yearly.loc[firms_yearly["month"] == b, "firm_id"].tolist())
        closed = ~s0["firm_id"].isin(alive_next).to_numpy()
        age = (model_month_of_year_end[a] - s0["born"].to_numpy()) / 12.0
        size = s0["employees"].to_numpy(float)
        for by, values, bounds in (("size", size, SIZE_CLASSES), ("age", age, AGE_CLASSES)):
            cls = _classes(values, bounds)
            for i, lower in enumerate(bounds):
                sel = cls == i
                rows.append((by, lower, int(sel.sum()), int(closed[sel].sum())))
    table = pd.DataFrame(rows, columns=["by", "class", "firms", "exits"])
    table = table.groupby(["by", "class"], as_index=False).sum()
    table["rate"] = table["exits"] / table["firms"].where(table["firms"] > 0)
    return table


def falls_with(table: pd.DataFrame, by: str, min_firms: int = 30, noise_z: float = 0.0) -> bool:
    """True if the exit rate by ``by`` never rises from one class to the next.

    Classes with fewer than ``min_firms`` firm-years are pooled into the class below
    (their rates are noise). With ``noise_z > 0`` a rise counts only when it exceeds
    ``noise_z`` standard errors of the difference of the two rates (binomial): one seed's
    adjacent classes with ~100 closures each differ by chance by about half a point, which
    says nothing about the hazard. ``noise_z=0`` asks for a strict fall.
    """
    t = table[table["by"] == by].sort_values("class")
    firms, exits = [], []
    for f, e in zip(t["firms"], t["exits"], strict=True):
        if firms and f < min_firms:
            firms[-1] += f
            exits[-1] += e
        else:
            firms.append(f)
            exits.append(e)
    n = np.maximum(np.array(firms, dtype=float), 1.0)
    rates = np.array(exits, dtype=float) / n
    variance = rates * (1.0 - rates) / n
    allowed = noise_z * np.sqrt(variance[:-1] + variance[1:])
    return bool(np.all(np.diff(rates) <= allowed + 1e-12))


def largest_district_fall(monthly: pd.DataFrame, districts: list[str], min_jobs: float) -> dict:
    """Largest one-month fall of employment (share) in each district with >= ``min_jobs``.

    A district counts if its employment is at least ``min_jobs`` in every month of the run.
    """
    out = {}
    for d in districts:
        emp = monthly[f"employment_{d}"].to_numpy(float)
        if len(emp) < 2 or emp.min() < min_jobs:
            continue
        falls = 1.0 - emp[1:] / emp[:-1]
        out[d] = float(max(falls.max(), 0.0))
    return out


@dataclass(frozen=True)
class LargeClosure:
    """A firm that closed after having had at least ``threshold`` people."""

    firm_id: int
    month: int
    peak_people: float
    people_before: float
    months_declining: int


def watch_large_closures(model: ClusterModel, threshold: float = 500.0) -> list[LargeClosure]:
    """Run ``model`` to the end, month by month, and report how its large firms closed.

    For every firm that closes having once employed ``threshold`` people or more: its peak,
    its head count in the month before closing and how many months its head count fell
    in a row before it closed. A firm that vanishes overnight shows people_before near its
    peak and 0 months of decline.
    """
    f = model.firms
    w = model.people_per_talent_agent
    peak = np.zeros(f.n_slots)
    last = np.zeros(f.n_slots)
    run = np.zeros(f.n_slots, dtype=np.int64)
    was_alive = f.alive.copy()
    out: list[LargeClosure] = []
    while model.running:
        model.step()
        people = f.employees(w)
        gone = np.flatnonzero(was_alive & ~f.alive)
        for s in gone[peak[gone] >= threshold].tolist():
            out.append(LargeClosure(s, model.month_index - 1, peak[s], last[s], int(run[s])))
        alive = f.alive
        run = np.where(alive & (people < last), run + 1, np.where(alive, 0, run))
        peak = np.where(alive, np.maximum(peak, people), peak)
        last = np.where(alive, people, last)
        was_alive = alive.copy()
    return out
