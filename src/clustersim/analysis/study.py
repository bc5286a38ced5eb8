"""A sensitivity sweep's folder, analysed: indices per outcome, and discovered scenarios.

``analyse_sweep`` reads the design a sweep was made with (``sensitivity_design.json``)
and its collected runs, and returns the Sobol or Morris indices of each outcome with
their convergence check; ``discover_sweep`` finds the boxes of the parameter space where
a ``--where`` condition holds. Both compute everything before anything is written, so
bad input leaves the folder as it was. ``write_sensitivity`` and ``write_discovery``
write tidy Parquet tables and one figure per outcome into ``<sweep>/analysis/``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from clustersim.analysis.conditions import parse_condition
from clustersim.analysis.designs import SensitivityDesign, read_design
from clustersim.analysis.discovery import PrimResult, cart_boxes, peeling_figure, prim_boxes
from clustersim.analysis.errors import AnalysisError
from clustersim.analysis.indices import convergence, indices
from clustersim.analysis.narrative import outcome_label
from clustersim.analysis.outcomes import DEFAULT_OUTCOMES, outcome_names, outcome_table

#: Where the analysis writes, inside the sweep folder.
ANALYSIS_DIR = "analysis"


def load_runs(folder: Path) -> pd.DataFrame:
    """The sweep's runs.parquet, collected first if it is missing."""
    from clustersim.results.collector import collect
    from clustersim.results.discover import NotASweepError
    from clustersim.results.sweep_folder import RUNS_TABLE

    folder = Path(folder)
    path = folder / RUNS_TABLE
    if not path.is_file():
        try:
            result = collect(folder)
        except NotASweepError as err:
            raise AnalysisError(
                "sweep", str(folder), str(err).partition(": ")[2] or str(err)
            ) from None
        if not result.jobs:
            raise AnalysisError("sweep", str(folder), "has no finished run to analyse")
    return pd.read_parquet(path)


@dataclass
class SensitivityResult:
    """The indices of a sweep's outcomes.

    Attributes:
        design: the sweep's design.
        indices: tidy table, one row per outcome, index and parameter (``indices.COLUMNS``).
        convergence: per outcome, each S1/ST (or mu*) at N/2 and N.
        outcomes: the outcomes analysed, in order.
        skipped: outcomes not analysed and why (e.g. undefined in some runs).
        groups: what each group suffix stands for.

    """

    design: SensitivityDesign
    indices: pd.DataFrame
    convergence: pd.DataFrame
    outcomes: list[str]
    skipped: dict[str, str] = field(default_factory=dict)
    groups: dict[str, str] = field(default_factory=dict)


def _expand(
    requested: Sequence[str] | None,
    table: pd.DataFrame,
    design: SensitivityDesign,
    groups: dict[str, str],
) -> tuple[list[str], bool]:
    """The outcome columns asked for: names are taken as given, or per group, or per month."""
    available = set(outcome_names(table, design))
    explicit = requested is not None
    names = list(requested) if explicit else list(DEFAULT_OUTCOMES)
    out: list[str] = []
    for name in names:
        matches = [c for c in sorted(available) if _belongs(c, name, groups)]
        if matches:  # every group and report month of a plain name
            out.extend(matches)
        elif name in available:  # one column, e.g. caused_jobs@2027-12
            out.append(name)
        elif explicit:
            import difflib

            close = difflib.get_close_matches(name, sorted(available), n=3)
            hint = f" (did you mean {', '.join(close)}?)" if close else ""
            plain = sorted(c for c in available if "@" not in c)
            raise AnalysisError(
                "--outcome",
                name,
                f"names no outcome of this sweep{hint}; outcomes: {', '.join(plain)}",
            )
    return list(dict.fromkeys(out)), explicit


def _belongs(column: str, name: str, groups: dict[str, str]) -> bool:
    """Whether ``column`` is outcome ``name`` for some group and/or month."""
    base, _, month = column.partition("@")
    if not month:
        return False  # per-month columns are the ones analysed by default
    if base == name:
        return True
    return any(label and base == f"{name}_{label}" for label in groups)


def analyse_sweep(
    folder: str | Path,
    outcomes: Sequence[str] | None = None,
    *,
    month: str | None = None,
    resamples: int = 1000,
    conf_level: float = 0.95,
    seed: int = 0,
) -> SensitivityResult:
    """Indices and convergence for each outcome of a sensitivity sweep (nothing written).

    ``outcomes``: names as in ``outcome_table`` (``caused_jobs``: every group and month;
    ``caused_jobs_huangpu_2024@2027-12``: one column). Default: ``DEFAULT_OUTCOMES`` at
    every report month, skipping those the sweep lacks (no counterfactual, say).
    """
    folder = Path(folder)
    design = read_design(folder)
    runs = load_runs(folder)
    table, groups = outcome_table(design, runs, month)
    return analyse_table(
        design, table, groups, outcomes, resamples=resamples, conf_level=conf_level, seed=seed
    )


def analyse_table(
    design: SensitivityDesign,
    table: pd.DataFrame,
    groups: dict[str, str] | None = None,
    outcomes: Sequence[str] | None = None,
    *,
    resamples: int = 1000,
    conf_level: float = 0.95,
    seed: int = 0,
) -> SensitivityResult:
    """``analyse_sweep`` on an outcome table already lined up with the design."""
    groups = groups or {"": "all runs"}
    names, explicit = _expand(outcomes, table, design, groups)
    if not names:
        raise AnalysisError(
            "--outcome",
            "(default outcomes)",
            "none of the default outcomes is in this sweep (run it with "
            "run.counterfactual=no_policy for caused "
            "figures), or name outcomes with --outcome",
        )
    parts, conv, skipped = [], [], {}
    for name in names:
        y = table[name].to_numpy(dtype=float)
        bad = int((~np.isfinite(y)).sum())
        if bad:
            reason = (
                f"undefined in {bad} of {y.size} design rows "
                "(e.g. nothing caused, so no cost per caused job)"
            )
            if explicit and name in (outcomes or ()):
                raise AnalysisError(
                    "--outcome", name, f"is {reason}; choose an outcome defined in every run"
                )
            skipped[name] = reason
            continue
        found = indices(design, y, name, resamples=resamples, conf_level=conf_level, seed=seed)
        parts.append(found)
        conv.append(
            convergence(
                design, y, name, resamples=resamples, conf_level=conf_level, seed=seed, full=found
            )
        )
    if not parts:
        raise AnalysisError(
            "--outcome",
            ", ".join(names),
            "no outcome is defined in every run: "
            + "; ".join(f"{k}: {v}" for k, v in skipped.items()),
        )
    return SensitivityResult(
        design,
        pd.concat(parts, ignore_index=True),
        pd.concat(conv, ignore_index=True),
        [n for n in names if n not in skipped],
        skipped,
        groups,
    )


# --------------------------------------------------------------------------- discovery


@dataclass
class DiscoveryResult:
    """Boxes of the parameter space where a condition holds.

    Attributes:
        condition: the ``--where`` text.
        table: the outcome table (parameters, outcomes) the condition was judged on,
            with a ``case`` column.
        prim: PRIM's peeling trajectory and chosen box.
        cart: the CART leaves as boxes (``discovery.cart_boxes``).
        groups: what each group suffix stands for.

    """

    condition: str
    table: pd.DataFrame
    prim: PrimResult
    cart: pd.DataFrame
    groups: dict[str, str] = field(default_factory=dict)


def discover_table(
    design: SensitivityDesign,
    table: pd.DataFrame,
    where: str,
    *,
    box: int | None = None,
    groups: dict[str, str] | None = None,
    **prim_options,
) -> DiscoveryResult:
    """PRIM and CART over the design's parameters for the rows meeting ``where``."""
    condition = parse_condition(where)
    cases = condition.evaluate(table)
    _, first = np.unique(design.unique_rows()[1], return_index=True)
    # one row per distinct design point: Morris trajectories may visit a point twice
    rows = table.iloc[np.sort(first)].reset_index(drop=True)
    x = rows[design.space.names]
    prim = prim_boxes(x, cases[np.sort(first)], box=box, condition=where, **prim_options)
    cart = cart_boxes(x, cases[np.sort(first)], condition=where)
    out = rows.copy()
    out["case"] = cases[np.sort(first)]
    return DiscoveryResult(where, out, prim, cart, groups or {})


def discover_sweep(
    folder: str | Path,
    where: str,
    *,
    box: int | None = None,
    month: str | None = None,
    **prim_options,
) -> DiscoveryResult:
    """Scenario discovery on a sensitivity sweep (nothing written)."""
    folder = Path(folder)
    design = read_design(folder)
    runs = load_runs(folder)
    table, groups = outcome_table(design, runs, month)
    return discover_table(design, table, where, box=box, groups=groups, **prim_options)


# --------------------------------------------------------------------------- writing


def _atomic_parquet(frame: pd.DataFrame, path: Path) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    frame.to_parquet(tmp, index=False)
    os.replace(tmp, path)


def _atomic_figure(fig, path: Path) -> None:
    import matplotlib.pyplot as plt

    tmp = path.with_name(f".{path.stem}.tmp-{os.getpid()}{path.suffix}")
    fig.savefig(tmp, dpi=110)
    plt.close(fig)
    os.replace(tmp, path)


def _slug(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "_-." else "_" for ch in name.replace("@", "_at_"))


def _short_name(parameter: str) -> str:
    """The last two parts of a dotted config key (``growth.volatility``), for axis labels."""
    return ".".join(parameter.rsplit(".", 2)[-2:]) if "." in parameter else parameter


def _label_points(ax, points: list[tuple[float, float, int]]) -> None:
    """Write each point's rank beside it; labels that would overlap become one ("5, 6, 9").

    Parameters with alike effects (often the unimportant ones, all near the origin) would
    otherwise print their numbers on top of each other. The labels are placed in rank
    order, each at its point; while two labels overlap on the page, the later one joins
    the earlier one's label. Call after the layout is final (positions are on the page).
    """
    groups = [((x, y), [r]) for x, y, r in sorted(points, key=lambda p: p[2])]
    groups = [g for g in groups if np.isfinite(g[0][0]) and np.isfinite(g[0][1])]
    renderer = ax.figure.canvas.get_renderer()
    while True:
        texts = [
            ax.annotate(
                ", ".join(map(str, ranks)),
                xy,
                fontsize=8,
                xytext=(4, 3),
                textcoords="offset points",
            )
            for xy, ranks in groups
        ]
        boxes = [t.get_window_extent(renderer) for t in texts]
        clash = next(
            (
                (i, j)
                for i in range(len(boxes))
                for j in range(i + 1, len(boxes))
                if boxes[i].overlaps(boxes[j])
            ),
            None,
        )
        if clash is None:
            return
        for t in texts:
            t.remove()
        i, j = clash
        groups[i][1].extend(groups.pop(j)[1])


def index_figure(result: SensitivityResult, outcome: str):
    """One outcome's indices: S1 and ST bars with their intervals, or a Morris screen.

    The Morris figure has two panels. On the left, mu* ranked from the largest down, with
    its bootstrap interval, each bar named ``rank. parameter``. On the right, mu* against
    sigma, each point marked by the same rank number only: with ten or more parameters
    the full names would print over each other wherever effects are alike (the usual case
    for the parameters that matter least), and a number stays readable at any spacing.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = result.indices[result.indices["outcome"] == outcome]
    params = result.design.space.names
    label = outcome_label(outcome)
    method = "Sobol" if result.design.method == "sobol" else "Morris"
    title = f"{label[:1].upper()}{label[1:]}: {method} indices, N={result.design.n}"
    if result.design.method == "sobol":
        fig, ax = plt.subplots(figsize=(7.0, 0.45 * len(params) + 1.6))
        ypos = np.arange(len(params))
        for k, (name, colour, dy) in enumerate((("S1", "#4C72B0", -0.18), ("ST", "#DD8452", 0.18))):
            sub = rows[rows["index"] == name].set_index("parameter").reindex(params)
            v = sub["value"].to_numpy()
            err = np.vstack([v - sub["low"].to_numpy(), sub["high"].to_numpy() - v])
            ax.barh(
                ypos + dy,
                v,
                height=0.34,
                color=colour,
                xerr=np.clip(err, 0, None),
                capsize=2,
                label=("first-order S1 (alone)", "total ST (with interactions)")[k],
            )
        ax.set_yticks(ypos, [_short_name(p) for p in params])
        ax.axvline(0, color="black", linewidth=0.6)
        ax.set_xlabel("share of the outcome's variance (95% bootstrap interval)")
        ax.legend(fontsize=8, loc="lower right")
        ax.set_title(f"{title}\n({outcome})", fontsize=10)
    else:
        mu = rows[rows["index"] == "mu_star"].set_index("parameter").reindex(params)
        sig = rows[rows["index"] == "sigma"].set_index("parameter").reindex(params)
        # rank by mu*, largest first; parameters without a value (all-NaN outcome) go last
        order = sorted(
            params, key=lambda p: -mu.at[p, "value"] if np.isfinite(mu.at[p, "value"]) else np.inf
        )
        rank = {p: i + 1 for i, p in enumerate(order)}
        fig, (bars, scatter) = plt.subplots(
            1,
            2,
            figsize=(11.0, 0.42 * len(params) + 2.0),
            gridspec_kw={"width_ratios": [1.15, 1.0]},
        )
        ypos = np.arange(len(order))[::-1]  # rank 1 at the top
        v = mu.loc[order, "value"].to_numpy(dtype=float)
        err = np.vstack([v - mu.loc[order, "low"].to_numpy(), mu.loc[order, "high"].to_numpy() - v])
        bars.barh(
            ypos,
            v,
            height=0.6,
            color="#4C72B0",
            xerr=np.nan_to_num(np.clip(err, 0, None)),
            capsize=2,
        )
        bars.set_yticks(ypos, [f"{rank[p]}. {_short_name(p)}" for p in order], fontsize=8)
        bars.set_xlabel("mu*: mean absolute effect of moving the parameter (95% interval)")
        bars.set_xlim(left=0)
        scatter.scatter(mu["value"], sig["value"], color="#4C72B0", s=22)
        top = np.nanmax(
            np.r_[mu["value"].to_numpy(dtype=float), sig["value"].to_numpy(dtype=float), 0.0]
        )
        if top > 0:
            scatter.plot([0, top], [0, top], color="grey", linewidth=0.6, linestyle="--")
            scatter.annotate(
                "sigma = mu*", (top, top), fontsize=7, color="grey", ha="right", va="bottom"
            )
        scatter.set_xlim(left=0)
        scatter.set_ylim(bottom=0)
        scatter.set_xlabel("mu* (numbers: the ranks on the left)")
        scatter.set_ylabel("sigma: spread of effects (interactions, non-linearity)")
        fig.suptitle(f"{title} ({outcome})", fontsize=10)
        fig.tight_layout()
        _label_points(scatter, [(mu.at[p, "value"], sig.at[p, "value"], rank[p]) for p in params])
        return fig
    fig.tight_layout()
    return fig


def write_sensitivity(result: SensitivityResult, folder: str | Path) -> list[Path]:
    """Write indices.parquet, convergence.parquet and one figure per outcome; return the paths."""
    out = Path(folder) / ANALYSIS_DIR
    figures = out / "figures"
    figures.mkdir(parents=True, exist_ok=True)
    written = [
        out / f"{result.design.method}_indices.parquet",
        out / f"{result.design.method}_convergence.parquet",
    ]
    _atomic_parquet(result.indices, written[0])
    _atomic_parquet(result.convergence, written[1])
    for name in result.outcomes:
        path = figures / f"{result.design.method}_{_slug(name)}.png"
        _atomic_figure(index_figure(result, name), path)
        written.append(path)
    return written


def write_discovery(
    result: DiscoveryResult, folder: str | Path, name: str = "discovery"
) -> list[Path]:
    """Write the PRIM trajectory and boxes, the CART boxes and the peeling figure."""
    out = Path(folder) / ANALYSIS_DIR
    (out / "figures").mkdir(parents=True, exist_ok=True)
    traj = result.prim.trajectory.assign(
        condition=result.condition, chosen=lambda t: t["step"] == result.prim.chosen
    )
    paths = [
        out / f"{name}_prim_trajectory.parquet",
        out / f"{name}_prim_boxes.parquet",
        out / f"{name}_cart_boxes.parquet",
        out / "figures" / f"{name}_peeling.png",
    ]
    _atomic_parquet(traj, paths[0])
    _atomic_parquet(result.prim.limits.assign(condition=result.condition), paths[1])
    _atomic_parquet(result.cart.assign(condition=result.condition), paths[2])
    _atomic_figure(peeling_figure(result.prim, result.condition), paths[3])
    return paths
