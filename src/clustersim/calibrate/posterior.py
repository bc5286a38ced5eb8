"""From the particles of a calibration to what a user takes away.

- ``summarise``: each parameter's prior range, posterior median and 90% interval, and
  whether the posterior piles against an edge of the prior (``pressed_edge``);
- ``draw``: equal-weight posterior draws (resampled by weight, seeded);
- ``predictive``: each target's observed value against the simulated statistics of the
  accepted particles, and whether the model reaches it;
- ``write_preset``: the calibrated behaviour preset (posterior medians) and one preset per
  posterior draw, each number commented with its provenance, so ``behavior=calibrated``
  and ``experiment=posterior_compare_plans`` compose like any other config.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from clustersim.calibrate.problem import Problem
from clustersim.calibrate.spec import Parameter

#: File name suffix of the per-draw behaviour presets (``calibrated_draw_00.yaml``, ...).
DRAW_SUFFIX = "_draw_"


def weighted_quantile(values: np.ndarray, weights: np.ndarray, q: Sequence[float]) -> np.ndarray:
    """Quantiles of weighted values (the weighted empirical distribution, interpolated)."""
    values, weights = np.asarray(values, float), np.asarray(weights, float)
    ok = np.isfinite(values) & (weights > 0)
    values, weights = values[ok], weights[ok]
    if not len(values):
        return np.full(len(q), math.nan)
    order = np.argsort(values, kind="stable")
    v, w = values[order], weights[order]
    cum = (np.cumsum(w) - 0.5 * w) / w.sum()
    return np.interp(q, cum, v)


def final_population(particles: pd.DataFrame) -> pd.DataFrame:
    """The accepted particles (the last generation, or the kept design points)."""
    return particles[particles["accepted"]].reset_index(drop=True)


#: The outer fraction of a prior range looked at for posterior mass piled at its edge.
EDGE = 0.1
#: The posterior share in that outer tenth above which the fit "presses against" the
#: edge: three times the prior's own share there, so a posterior that merely spreads
#: over the whole prior is not flagged.
EDGE_SHARE = 3 * EDGE


def pressed_edge(p: Parameter, values: np.ndarray, weights: np.ndarray) -> tuple[str, float]:
    """Which edge of its prior the posterior of ``p`` piles against ("low", "high" or "").

    A posterior with at least ``EDGE_SHARE`` of its weight in the outer ``EDGE`` of the
    prior range (on the prior's scale) says the targets ask for values the prior leaves
    out: the median is then set by the prior's bound as much as by the data. Returns
    the edge and the posterior's share beyond it.
    """
    w = np.asarray(weights, float)
    unit = np.array([p.to_unit(v) for v in np.asarray(values, float)])
    total = w.sum()
    if not len(unit) or total <= 0:
        return "", 0.0
    low, high = w[unit < EDGE].sum() / total, w[unit > 1 - EDGE].sum() / total
    if low >= EDGE_SHARE and low >= high:
        return "low", float(low)
    if high >= EDGE_SHARE:
        return "high", float(high)
    return "", float(max(low, high))


def summarise(problem: Problem, particles: pd.DataFrame) -> pd.DataFrame:
    """One row per parameter: prior range, posterior median and 90% interval, shrinkage.

    Also the prior's edge the posterior piles against, if any (``pressed_edge``).
    """
    post = final_population(particles)
    rows = []
    for p in problem.parameters:
        lo, med, hi = weighted_quantile(post[p.key], post["weight"], [0.05, 0.5, 0.95])
        edge, edge_share = pressed_edge(p, post[p.key], post["weight"])
        prior_lo, prior_hi = p.from_unit(0.05), p.from_unit(0.95)
        rows.append(
            {
                "parameter": p.key,
                "prior_low": p.low,
                "prior_high": p.high,
                "log": p.log,
                "median": med,
                "q05": lo,
                "q95": hi,
                # width of the 90% interval relative to the prior's, on the prior's scale
                "width_ratio": (p.to_unit(hi) - p.to_unit(lo))
                / (p.to_unit(prior_hi) - p.to_unit(prior_lo)),
                "pressed_edge": edge,
                "edge_share": edge_share,
            }
        )
    return pd.DataFrame(rows)


def draw(problem: Problem, particles: pd.DataFrame, n: int, seed: int) -> pd.DataFrame:
    """``n`` equal-weight posterior draws (resampled by weight with a seeded generator)."""
    post = final_population(particles)
    w = post["weight"].to_numpy(float)
    rng = np.random.default_rng(seed)
    pick = rng.choice(len(post), size=n, replace=True, p=w / w.sum())
    out = post.iloc[pick][[p.key for p in problem.parameters]].reset_index(drop=True)
    out.insert(0, "draw", range(n))
    return out


@dataclass(frozen=True)
class Verdict:
    """How the model does on one target."""

    reached: bool
    text: str


def predictive(problem: Problem, particles: pd.DataFrame) -> pd.DataFrame:
    """One row per target: observed, simulated median and 90% interval, z-score, verdict.

    Simulated values are the statistics of the accepted particles (weighted): the
    posterior predictive of each statistic, with the runs' own noise. A target is
    *reached* when its observed value lies within the simulated 90% interval or the
    simulated median is within two of its standard deviations; a target not reached is
    *out of reach* when no run of
    the whole calibration (every point of the prior tried) came within two standard
    deviations of it, else it is *missed at the fit* (other targets pull the fit away).
    """
    post = final_population(particles)
    rows = []
    for t in problem.targets.targets:
        col = f"stat:{t.name}"
        sim = post[col].to_numpy(float) if col in post else np.full(len(post), np.nan)
        lo, med, hi = weighted_quantile(sim, post["weight"].to_numpy(float), [0.05, 0.5, 0.95])
        every = particles[col].to_numpy(float) if col in particles else np.array([np.nan])
        every = every[np.isfinite(every)]
        z = (med - t.observed) / t.uncertainty if math.isfinite(med) else math.nan
        near = math.isfinite(lo) and (lo <= t.observed <= hi or abs(z) <= 2)
        if not len(every):
            verdict = Verdict(False, "no run gave a value")
        elif near:
            verdict = Verdict(True, "reached")
        elif np.any(np.abs(every - t.observed) <= 2 * t.uncertainty):
            verdict = Verdict(False, "missed at the fit: some runs reach it, the fit does not")
        else:
            side = (  # where the runs lie, seen from the observed value
                "below"
                if t.observed > every.max()
                else "above"
                if t.observed < every.min()
                else "apart from"
            )
            verdict = Verdict(False, f"out of reach: every run tried lies {side} it")
        rows.append(
            {
                "target": t.name,
                "use": t.use,
                "when": t.when,
                "observed": t.observed,
                "uncertainty": t.uncertainty,
                "median": med,
                "q05": lo,
                "q95": hi,
                "z": z,
                "reached": verdict.reached,
                "verdict": verdict.text,
                "tried_min": float(every.min()) if len(every) else math.nan,
                "tried_max": float(every.max()) if len(every) else math.nan,
            }
        )
    return pd.DataFrame(rows)


# --------------------------------------------------------------------- presets


def _number(value: float) -> str:
    return format(float(value), ".4g")


def _nested(pairs: Sequence[tuple[str, str, str]]) -> list[str]:
    """YAML lines for dotted keys under ``behavior.`` with a comment on each value."""
    lines: list[str] = []
    opened: list[str] = []
    for key, value, comment in sorted(pairs):
        parts = key.split(".")[1:]  # drop "behavior"
        common = 0
        while common < min(len(opened), len(parts) - 1) and opened[common] == parts[common]:
            common += 1
        opened = opened[:common]
        for depth in range(common, len(parts) - 1):
            lines.append("  " * depth + f"{parts[depth]}:")
            opened.append(parts[depth])
        lines.append("  " * (len(parts) - 1) + f"{parts[-1]}: {value}   # {comment}")
    return lines


def preset_text(
    problem: Problem, values: dict[str, float], comments: dict[str, str], header: Sequence[str]
) -> str:
    """A behaviour preset: ``default`` with the given values, each with its comment."""
    lines = [f"# {h}" if h else "#" for h in header]
    lines += [
        "defaults:",
        "  - default   # conf/behavior/default.yaml: every other value",
        "  - _self_",
        "",
    ]
    pairs = [(k, _number(v), comments[k]) for k, v in values.items()]
    lines += _nested(pairs)
    return "\n".join(lines) + "\n"


def shown(path: Path) -> str:
    """A config file's path as a reader finds it: relative to the repository if inside it."""
    from clustersim.paths import conf_dir

    try:
        return str(Path(path).resolve().relative_to(conf_dir().resolve().parent))
    except ValueError:
        return str(path)


def provenance(
    problem: Problem, particles: pd.DataFrame, n_runs: int, command: str | None = None
) -> list[str]:
    """Header lines saying where a preset's numbers come from (and the command that made it)."""
    spec = problem.spec
    gens = int(particles["generation"].max()) + 1
    kept = int(particles["accepted"].sum())
    how = (
        f"pyabc ABC-SMC, {gens} generation{'s' if gens != 1 else ''} of {spec.population} particles"
        if spec.method == "smc"
        else f"ABC rejection, {kept} of {spec.design_points} Sobol points kept"
    )
    return [
        f"Made by: {command or 'clustersim-calibrate ' + spec.name}",
        f"{shown(spec.path)} fitted to {shown(problem.targets.path)}",
        f"({len(problem.fit_targets)} fitting targets) by {how};",
        f"{n_runs} model runs, seed {spec.seed}, base overrides {' '.join(spec.overrides)};",
        f"results in {spec.folder}/ (posterior.parquet, parameters.csv, report.html).",
    ]


def write_presets(
    problem: Problem,
    particles: pd.DataFrame,
    draws: pd.DataFrame,
    folder: Path,
    n_runs: int,
    command: str | None = None,
) -> list[Path]:
    """Write ``<preset>.yaml`` (posterior medians) and one preset per draw into ``folder``.

    The preset's name is the calibration config's ``preset`` (``calibrated`` for the
    default world's calibration): a calibration of another world does not overwrite it.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    summary = summarise(problem, particles).set_index("parameter")
    head = provenance(problem, particles, n_runs, command)
    medians = {k: float(summary.at[k, "median"]) for k in summary.index}
    comments = {
        k: (
            f"posterior median; 90% interval {_number(summary.at[k, 'q05'])}"
            f"-{_number(summary.at[k, 'q95'])}; prior {_number(summary.at[k, 'prior_low'])}"
            f"-{_number(summary.at[k, 'prior_high'])}{' (log)' if summary.at[k, 'log'] else ''}"
            + (
                f"; pressed against the prior's {summary.at[k, 'pressed_edge']} bound"
                if summary.at[k, "pressed_edge"]
                else ""
            )
        )
        for k in summary.index
    }
    name = problem.spec.preset
    written = [folder / f"{name}.yaml"]
    text = preset_text(
        problem,
        medians,
        comments,
        [
            "Calibrated behaviour: conf/behavior/default.yaml with the posterior medians of the",
            "fitted parameters.",
            "",
            *head,
        ],
    )
    written[0].write_text(text)
    for old in folder.glob(f"{name}{DRAW_SUFFIX}[0-9]*.yaml"):
        old.unlink()
    for _, row in draws.iterrows():
        k = int(row["draw"])
        values = {p.key: float(row[p.key]) for p in problem.parameters}
        note = {key: f"posterior draw {k} of {len(draws)}" for key in values}
        path = folder / f"{name}{DRAW_SUFFIX}{k:02d}.yaml"
        path.write_text(
            preset_text(
                problem,
                values,
                note,
                [
                    f"Posterior draw {k} of {len(draws)} "
                    f"(resampled by weight, seed {problem.spec.seed}),",
                    "for experiment=posterior_compare_plans.",
                    "",
                    *head,
                ],
            )
        )
        written.append(path)
    return written
