"""The calibration report: one self-contained HTML file and a Markdown twin.

It says, in this order: how well the fitted model reproduces each fitting target
(observed vs simulated, with intervals), how it does on the held-out validation targets,
which targets it cannot reach (said plainly, with the range every run tried), the
posterior of each parameter against its prior (table, marginals, pair plot), how the
fit converged, and where every target comes from. It reuses the comparison report's
document model and renderers (``clustersim.report``), so both reports look alike.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure as MplFigure

from clustersim.calibrate.posterior import final_population, predictive, shown, summarise
from clustersim.calibrate.problem import Problem
from clustersim.report.document import Bullets, Document, Figure, Paragraph, Section, Table
from clustersim.report.html import render_html
from clustersim.report.markdown import write_markdown
from clustersim.report.style import png


def _g(value: float) -> str:
    return "–" if value is None or not math.isfinite(float(value)) else format(float(value), ".4g")


def _fit_table(pred: pd.DataFrame, use: str) -> pd.DataFrame:
    rows = pred[pred["use"] == use]
    return pd.DataFrame(
        {
            "target": rows["target"],
            "when": rows["when"],
            "observed ± sd": [
                f"{_g(o)} ± {_g(u)}"
                for o, u in zip(rows["observed"], rows["uncertainty"], strict=True)
            ],
            "simulated median": rows["median"].map(_g),
            "simulated 90%": [
                f"{_g(a)} – {_g(b)}" for a, b in zip(rows["q05"], rows["q95"], strict=True)
            ],
            "z": rows["z"].map(lambda z: "–" if not math.isfinite(z) else f"{z:+.2f}"),
            "verdict": rows["verdict"],
        }
    )


def _target_figure(pred: pd.DataFrame) -> bytes:
    """Standardised errors: each target's simulated 90% interval in units of its sd."""
    n = len(pred)
    fig = MplFigure(figsize=(8, 0.42 * n + 1.2))
    ax = fig.add_subplot()
    y = np.arange(n)[::-1]
    for yi, (_, r) in zip(y, pred.iterrows(), strict=True):
        colour = "#1f77b4" if r["use"] == "fit" else "#9467bd"
        lo = (r["q05"] - r["observed"]) / r["uncertainty"]
        hi = (r["q95"] - r["observed"]) / r["uncertainty"]
        mid = r["z"]
        if all(math.isfinite(v) for v in (lo, hi, mid)):
            ax.plot([lo, hi], [yi, yi], color=colour, lw=3, solid_capstyle="butt")
            ax.plot([mid], [yi], "o", color="white", mec=colour, ms=6)
    ax.axvspan(-2, 2, color="#2ca02c", alpha=0.12, lw=0)
    ax.axvline(0, color="#2ca02c", lw=1)
    ax.set_yticks(y, [f"{t} ({u})" for t, u in zip(pred["target"], pred["use"], strict=True)])
    ax.set_xlabel("(simulated − observed) / uncertainty of the observation")
    lim = np.nanmax(
        np.abs(
            np.r_[pred["q05"] - pred["observed"], pred["q95"] - pred["observed"]]
            / np.r_[pred["uncertainty"], pred["uncertainty"]]
        )
    )
    lim = min(max(4.0, float(lim) * 1.05 if math.isfinite(lim) else 4.0), 30.0)
    ax.set_xlim(-lim, lim)
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    return png(fig)


def _marginals_figure(problem: Problem, particles: pd.DataFrame) -> bytes:
    post = final_population(particles)
    k = len(problem.parameters)
    cols = min(3, k)
    rows = math.ceil(k / cols)
    fig = MplFigure(figsize=(3.2 * cols, 2.4 * rows))
    for i, p in enumerate(problem.parameters):
        ax = fig.add_subplot(rows, cols, i + 1)
        u = np.array([p.to_unit(v) for v in post[p.key]])
        ax.hist(
            u,
            bins=20,
            range=(0, 1),
            weights=post["weight"],
            color="#1f77b4",
            alpha=0.8,
            density=True,
        )
        ax.axhline(1.0, color="grey", ls="--", lw=1)
        ticks = [0, 0.5, 1]
        ax.set_xticks(ticks, [_g(p.from_unit(t)) for t in ticks])
        ax.set_title(p.name + (" (log)" if p.log else ""), fontsize=9)
        ax.set_yticks([])
    fig.tight_layout()
    return png(fig)


def _pairs_figure(problem: Problem, particles: pd.DataFrame) -> bytes:
    post = final_population(particles)
    params = problem.parameters
    k = len(params)
    fig = MplFigure(figsize=(1.7 * k + 0.5, 1.7 * k + 0.5))
    units = {p.key: np.array([p.to_unit(v) for v in post[p.key]]) for p in params}
    w = post["weight"].to_numpy(float)
    size = 6 + 40 * w / w.max() if len(w) and w.max() > 0 else 6
    for i, pi in enumerate(params):
        for j, pj in enumerate(params):
            ax = fig.add_subplot(k, k, i * k + j + 1)
            if i == j:
                ax.hist(units[pi.key], bins=15, range=(0, 1), weights=w, color="#1f77b4")
            else:
                ax.scatter(units[pj.key], units[pi.key], s=size, alpha=0.35, color="#1f77b4", lw=0)
                ax.set_ylim(0, 1)
            ax.set_xlim(0, 1)
            ax.set_xticks([])
            ax.set_yticks([])
            if i == k - 1:
                ax.set_xlabel(pj.name, fontsize=7)
            if j == 0:
                ax.set_ylabel(pi.name, fontsize=7)
    fig.tight_layout(pad=0.3)
    return png(fig)


def _pressed_text(pressed: pd.DataFrame) -> str:
    """Plain words for parameters whose posterior piles against an edge of the prior."""
    items = [
        f"{row.parameter} ({row.edge_share:.0%} of the posterior in the "
        f"{'lowest' if row.pressed_edge == 'low' else 'highest'} tenth of "
        f"{_g(row.prior_low)} – {_g(row.prior_high)}{' (log)' if row.log else ''}; "
        f"median {_g(row.median)})"
        for row in pressed.itertuples()
    ]
    return (
        "The fit presses against the edge of the prior for "
        + "; ".join(items)
        + ". The targets ask for values the prior leaves out, so these medians are set by "
        "the prior's bounds as much as by the data. Widen a range where its source allows, "
        "or read it as a limit of the model (a rule missing or mis-specified) rather than as "
        "an estimate."
    )


def build_report(problem: Problem, particles: pd.DataFrame, n_runs: int, failed: int) -> Document:
    """The calibration report as a document."""
    spec = problem.spec
    pred = predictive(problem, particles)
    summary = summarise(problem, particles)
    post = final_population(particles)
    gens = int(particles["generation"].max()) + 1
    facts = [
        ("calibration", f"{shown(spec.path)}: {spec.description}".strip()),
        (
            "targets",
            f"{shown(problem.targets.path)}: {len(problem.fit_targets)} fitting, "
            f"{len(problem.targets.used_for('validate'))} held out",
        ),
        ("runs", f"every run: {' '.join(spec.overrides)}, {problem.start}..{problem.end}"),
        (
            "method",
            "pyabc ABC-SMC"
            if spec.method == "smc"
            else "ABC rejection on a Sobol design (fast mode)",
        ),
        ("model runs", f"{n_runs} ({failed} failed)"),
        (
            "posterior",
            f"{len(post)} particles"
            + (
                f" after {gens} generation{'s' if gens != 1 else ''}"
                if spec.method == "smc"
                else ""
            ),
        ),
        ("seed", str(spec.seed)),
    ]
    sections = []
    fit = Section("fit", "1. Fitting targets: observed vs simulated")
    fit.add(
        Paragraph(
            "Simulated values are the statistics of the accepted runs (the posterior "
            "predictive, including each run's own chance variation). z is the simulated "
            "median minus the observed value, in standard deviations of the observation. A "
            "target counts as reached when the observed value lies within the simulated 90% "
            "interval or the simulated median within two of its standard deviations."
        ),
        Table("Fitting targets", _fit_table(pred, "fit")),
        Figure(
            "targets",
            "Every target, standardised",
            "Bars: simulated 90% interval, circle: median, in standard deviations of the "
            "observation; green band: within two standard deviations. Blue: fitting "
            "targets; purple: held out.",
            _target_figure(pred),
        ),
    )
    sections.append(fit)
    val = Section("validation", "2. Held-out targets (validation)")
    if len(pred[pred["use"] == "validate"]):
        val.add(
            Paragraph("These figures were not used in the fit: they test it."),
            Table("Held-out targets", _fit_table(pred, "validate")),
        )
    else:
        val.add(Paragraph("The targets file holds no held-out target.", "warning"))
    sections.append(val)
    reach = Section("reach", "3. Targets the model does not reach")
    missed = pred[~pred["reached"]]
    if len(missed):
        reach.add(
            Paragraph(
                f"{len(missed)} of {len(pred)} targets are not reached. 'Out of reach' means "
                "that no run of this calibration, anywhere in the prior, came within two "
                "standard deviations: the model as built cannot produce that figure with "
                "these parameters. 'Missed at the fit' means some runs reach it but the "
                "fitted parameters trade it off against other targets.",
                "warning",
            ),
            Bullets(
                [
                    f"{r.target} ({r.use}, {r.when}): observed {_g(r.observed)}; fitted runs "
                    f"{_g(r.q05)}–{_g(r.q95)}; all runs tried {_g(r.tried_min)}–{_g(r.tried_max)}: "
                    f"{r.verdict}."
                    for r in missed.itertuples()
                ]
            ),
        )
    else:
        reach.add(Paragraph("Every target is reached."))
    sections.append(reach)
    par = Section("posterior", "4. Posterior of the parameters")
    table = pd.DataFrame(
        {
            "parameter": summary["parameter"],
            "prior": [
                f"{_g(a)} – {_g(b)}{' (log)' if lg else ''}"
                for a, b, lg in zip(
                    summary["prior_low"], summary["prior_high"], summary["log"], strict=True
                )
            ],
            "posterior median": summary["median"].map(_g),
            "90% interval": [
                f"{_g(a)} – {_g(b)}" for a, b in zip(summary["q05"], summary["q95"], strict=True)
            ],
            "width / prior width": summary["width_ratio"].map(lambda v: f"{v:.2f}"),
            "prior source": [p.source for p in problem.parameters],
        }
    )
    narrow = summary[summary["width_ratio"] > 0.8]["parameter"].tolist()
    par.add(
        Table(
            "Prior and posterior",
            table,
            "Width / prior width: the posterior 90% interval over the prior's, on the "
            "prior's scale; near 1 means the targets say little about the parameter.",
        ),
        Figure(
            "marginals",
            "Posterior marginals",
            "Weighted histograms on each prior range (dashed: the uniform prior).",
            _marginals_figure(problem, particles),
        ),
        Figure(
            "pairs",
            "Pairs of parameters",
            "Accepted particles on the unit square of each pair of prior ranges; "
            "point size: weight. Ridges show parameters that trade off.",
            _pairs_figure(problem, particles),
        ),
    )
    if narrow:
        par.add(Paragraph("The targets barely constrain: " + ", ".join(narrow) + ".", "note"))
    pressed = summary[summary["pressed_edge"] != ""]
    if len(pressed):
        par.add(Paragraph(_pressed_text(pressed), "warning"))
    sections.append(par)
    conv = Section("convergence", "5. Convergence")
    by_gen = particles.groupby("generation").agg(
        particles=("distance", "size"),
        median_distance=("distance", "median"),
        max_distance=("distance", "max"),
    )
    conv.add(
        Table(
            "Distance of the particles by generation",
            by_gen.reset_index()
            .assign(
                median_distance=lambda d: d["median_distance"].map(_g),
                max_distance=lambda d: d["max_distance"].map(_g),
            )
            .astype(str),
            "Distance: root mean square of the fitting targets' standardised errors. In "
            "rejection mode the one generation holds every design point.",
        )
    )
    sections.append(conv)
    src = Section("sources", "6. Where the targets come from")
    src.add(
        Bullets(
            [
                f"{t.name} ({t.use}): {t.source}" + (f" Note: {t.note}" if t.note else "")
                for t in problem.targets.targets
            ]
        )
    )
    sections.append(src)
    use = Section("use", "7. Using the result")
    use.add(
        Bullets(
            [
                f"behavior={spec.preset}: the posterior medians "
                f"(conf/behavior/{spec.preset}.yaml), e.g. clustersim-run "
                f"{' '.join(spec.overrides)} behavior={spec.preset}",
                "experiment=posterior_compare_plans: the regimes compared across posterior "
                "draws x seeds, so the comparison report's intervals include parameter "
                "uncertainty"
                + (
                    ""
                    if spec.preset == "calibrated"
                    else f" (these draws: behavior='glob({spec.preset}_draw_*)')"
                ),
                f"{spec.folder}/posterior.parquet: the posterior draws; particles.parquet: "
                "every particle with its statistics and weight",
            ]
        )
    )
    sections.append(use)
    return Document(f"Calibration report: {spec.name}", facts, sections)


def write_calibration_report(doc: Document, folder: Path) -> tuple[Path, Path]:
    """Write ``report.html`` and ``report.md`` (figures in ``report_figures/``) into ``folder``."""
    folder = Path(folder)
    html = folder / "report.html"
    html.write_text(
        render_html(doc).replace("Made by clustersim-report.", "Made by clustersim-calibrate."),
        encoding="utf-8",
    )
    md = write_markdown(doc, folder / "report.md")
    return html, md
