"""Report sections of a sensitivity sweep: which assumptions matter, and when the verdict changes.

A sweep made with a sensitivity design (``sensitivity_design.json``, see
``clustersim.analysis``) gets two more sections, written for a policy maker:

- **Which assumptions matter**: for the headline verdicts (caused jobs and firms, spending
  per caused job, by plan when the sweep compares plans), how much of their spread each
  assumption explains (Sobol) or how much it moves them (Morris), as sentences, a table
  with intervals and a figure; the ranges and their sources; outcomes whose indices had
  not settled (N/2 vs N) are named.
- **Under which assumptions does the verdict change**: PRIM boxes for the questions a
  reader asks of a plan ("spending per caused job above RMB 1 m", "no job caused"), and
  for every condition analysed with ``clustersim-analyze discover``, each as an if-then
  sentence with its density and coverage.
"""

from __future__ import annotations

import io
import math
from pathlib import Path

import numpy as np
import pandas as pd

from clustersim.analysis.designs import DESIGN_FILE, SensitivityDesign, read_design
from clustersim.analysis.discovery import MIN_RUNS
from clustersim.analysis.errors import AnalysisError
from clustersim.analysis.narrative import (
    box_sentence,
    condition_words,
    importance_sentence,
    outcome_label,
    parameter_label,
)
from clustersim.analysis.outcomes import outcome_table
from clustersim.analysis.study import (
    ANALYSIS_DIR,
    SensitivityResult,
    analyse_table,
    discover_table,
    index_figure,
    load_runs,
)
from clustersim.report.document import Bullets, Figure, Paragraph, Section, Table

#: The verdicts the sections speak of: caused jobs and firms, spending per caused job.
VERDICT_OUTCOMES = ("caused_jobs", "caused_firms", "cost_per_caused_job")
#: The default questions of scenario discovery, per plan: (condition template, threshold).
QUESTIONS = (
    ("{cost} > 1e6", "spending per caused job above RMB 1 m"),
    ("{jobs} <= 0", "no job caused"),
)
#: Bootstrap resamples for the report's intervals (fewer than the command's 1,000: the
#: report recomputes them each time; the intervals move in the second digit at most).
RESAMPLES = 500


def is_sensitivity_sweep(folder: str | Path) -> bool:
    """Whether the sweep was made with a sensitivity design."""
    return (Path(folder) / DESIGN_FILE).is_file()


def _png(fig) -> bytes:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, metadata={"Software": None})
    plt.close(fig)
    return buf.getvalue()


def _cell(value: float, low: float, high: float) -> str:
    """An index with its interval, two decimals throughout the column."""
    if not math.isfinite(value):
        return "–"
    text = f"{max(value, 0.0):.2f}"
    if math.isfinite(low) and math.isfinite(high):
        text += f" [{max(low, 0.0):.2f} – {max(high, 0.0):.2f}]"
    return text


def _ranges_table(design: SensitivityDesign) -> Table:
    rows = [
        {
            "assumption": parameter_label(p.path),
            "config key": p.path,
            "range": f"{p.low:g} – {p.high:g}"
            + (" (log scale)" if p.distribution == "loguniform" else ""),
            "where the range comes from": p.source,
        }
        for p in design.space.parameters
    ]
    return Table(
        "The assumptions varied and their ranges",
        pd.DataFrame(rows),
        "Every run drew each assumption from its range; 'assumption' marks a range no "
        "published figure pins down.",
    )


def _last_month(names: list[str]) -> str:
    months = sorted({n.partition("@")[2] for n in names if "@" in n})
    return months[-1] if months else ""


def which_assumptions_matter(
    design: SensitivityDesign, table: pd.DataFrame, groups: dict[str, str]
) -> tuple[Section, SensitivityResult | None]:
    """Section "Which assumptions matter" (and the indices it was made from)."""
    sec = Section("assumptions_matter", "8. Which assumptions matter")
    method = "Sobol" if design.method == "sobol" else "Morris"
    sec.add(
        Paragraph(
            f"The plans' verdicts rest on behavioural assumptions no one can observe directly. "
            f"This sweep ran the model {design.rows:,} times over the ranges below "
            f"({method} design, seed {design.seed}), so that the spread of each verdict can be "
            "traced back to the assumptions that cause it."
            + (
                " The share of a verdict's spread an assumption explains on its own is its "
                "first-order index; with its interactions, its total index. An assumption "
                "whose total index is near zero does not matter: any value in its range gives "
                "about the same verdict."
                if design.method == "sobol"
                else " A Morris screen ranks assumptions by how much moving each across its "
                "range moves the verdict (mu*); it does not split the spread into shares."
            )
        ),
        _ranges_table(design),
    )
    names = [f"{v}{'_' + g if g else ''}" for v in VERDICT_OUTCOMES for g in groups]
    wanted = [n for n in names if any(c.startswith(f"{n}@") for c in table.columns)]
    if not wanted:
        sec.add(
            Paragraph(
                "The runs have no caused figures (the sweep ran without a counterfactual), so "
                "the verdicts cannot be traced to assumptions; rerun the design with "
                "run.counterfactual=no_policy.",
                "warning",
            )
        )
        return sec, None
    try:
        result = analyse_table(design, table, groups, wanted, resamples=RESAMPLES)
    except AnalysisError as err:
        sec.add(Paragraph(f"No indices could be computed for the verdicts: {err}.", "warning"))
        return sec, None
    last = _last_month(result.outcomes)
    verdicts = [o for o in result.outcomes if o.endswith(f"@{last}")]
    sec.add(Bullets([importance_sentence(result.indices, o) for o in verdicts]))
    key = "ST" if design.method == "sobol" else "mu_star"
    rows = result.indices[
        (result.indices["index"] == key) & result.indices["outcome"].isin(verdicts)
    ]
    frame = pd.DataFrame({"assumption": [parameter_label(p, True) for p in design.space.names]})
    for o in verdicts:
        sub = rows[rows.outcome == o].set_index("parameter").reindex(design.space.names)
        if design.method == "sobol":
            frame[outcome_label(o)] = [_cell(r.value, r.low, r.high) for r in sub.itertuples()]
        else:
            top = float(np.nanmax(sub["value"])) or 1.0
            frame[outcome_label(o)] = [f"{v / top:.2f}" for v in sub["value"]]
    caption = (
        "Total Sobol index [95% bootstrap interval]: the share of each verdict's spread across "
        "runs that involves the assumption. Shares of different verdicts are comparable; they "
        "need not add up to 1 (interactions are counted for each assumption involved)."
        if design.method == "sobol"
        else "Morris mu*, relative to the largest in each column (1.00 = the assumption that "
        "moves this verdict most)."
    )
    sec.add(Table(f"How much each assumption moves the verdicts ({method})", frame, caption))
    if verdicts:
        first = verdicts[0]
        sec.add(
            Figure(
                "sensitivity_indices",
                f"{outcome_label(first)[0].upper()}{outcome_label(first)[1:]}: {method} indices",
                (
                    "Bars further right matter more; a total bar well beyond the first-order "
                    "one means the assumption acts through interactions with others."
                    if design.method == "sobol"
                    else "Points further right move the verdict more; points higher up have "
                    "effects that depend on the other assumptions (interactions or curvature)."
                ),
                _png(index_figure(result, first)),
            )
        )
    unsettled = sorted(
        set(result.convergence.loc[~result.convergence["converged"], "outcome"]) & set(verdicts)
    )
    if unsettled:
        sec.add(
            Paragraph(
                "Not settled: with half the runs, the indices of "
                + ", ".join(outcome_label(o) for o in unsettled)
                + " differed from those above by more than their intervals; read them as a "
                "rough ranking, or rerun with a larger design.",
                "warning",
            )
        )
    for name, why in result.skipped.items():
        if name.endswith(f"@{last}"):
            sec.add(Paragraph(f"{outcome_label(name)}: not analysed, {why}.", "note"))
    return sec, result


def _questions(groups: dict[str, str]) -> list[tuple[str, str]]:
    out = []
    for g in groups:
        suffix = f"_{g}" if g else ""
        for template, _ in QUESTIONS:
            out.append(
                (
                    template.format(
                        cost=f"cost_per_caused_job{suffix}", jobs=f"caused_jobs{suffix}"
                    ),
                    g,
                )
            )
    return out


def _saved_conditions(folder: Path) -> list[str]:
    found = []
    for path in sorted((folder / ANALYSIS_DIR).glob("*_prim_trajectory.parquet")):
        try:
            cond = pd.read_parquet(path, columns=["condition"])["condition"]
        except (OSError, ValueError, KeyError):
            continue
        if len(cond):
            found.append(str(cond.iloc[0]))
    return found


def when_the_verdict_changes(
    folder: Path, design: SensitivityDesign, table: pd.DataFrame, groups: dict[str, str]
) -> Section:
    """Section "Under which assumptions does the verdict change"."""
    sec = Section("verdict_changes", "9. Under which assumptions does the verdict change")
    sec.add(
        Paragraph(
            "For each question below, the runs where the answer is yes were searched for a "
            "simple region of the assumptions where they concentrate (PRIM, Friedman and "
            "Fisher 1999). Read each sentence as: inside this region the answer is yes in "
            "the first share of the runs; the region holds the second share of all the runs "
            "where the answer is yes. A question the runs answer the same way everywhere has "
            "no region to show."
        )
    )
    conditions = [c for c, _ in _questions(groups)] + _saved_conditions(folder)
    sentences, same = [], []
    first_fig = None
    for where in dict.fromkeys(conditions):
        try:
            found = discover_table(design, table, where)
        except AnalysisError as err:
            if "run meets it" in err.allowed:
                share = "no run" if err.allowed.startswith("no") else "every run"
                same.append(f"{condition_words(where)}: {share}, whatever the assumptions")
            elif "too few" in err.allowed:
                same.append(f"{condition_words(where)}: too few runs to search ({err.value})")
            continue
        box = found.prim.box
        sentences.append(
            box_sentence(
                found.prim.box_limits,
                found.prim.ranges,
                float(box["coverage"]),
                float(box["density"]),
                where,
            )
        )
        if first_fig is None and not found.prim.box_limits.empty:
            from clustersim.analysis.discovery import peeling_figure

            first_fig = Figure(
                "sensitivity_peeling",
                f"Trading coverage for density: {condition_words(where)}",
                "Each dot is a box on PRIM's peeling trajectory; the circled one is described "
                "above. Boxes to the upper left are purer but hold fewer of the cases.",
                _png(peeling_figure(found.prim, where)),
            )
    if sentences:
        sec.add(Bullets(sentences))
    if same:
        sec.add(
            Paragraph(
                "Questions with the same answer in every region of the assumptions, "
                "or too few runs to tell:",
                "note",
            ),
            Bullets(same),
        )
    if first_fig is not None:
        sec.add(first_fig)
    if len(table) < MIN_RUNS:
        sec.add(
            Paragraph(
                f"The design has fewer than {MIN_RUNS} distinct runs: no region can be searched.",
                "warning",
            )
        )
    sec.add(
        Paragraph(
            'Other questions: clustersim-analyze discover <sweep> --where "<condition>" '
            '(e.g. "caused_jobs_pudong_2027 > caused_jobs_huangpu_2024"); its result '
            "appears here the next time the report is built.",
            "note",
        )
    )
    return sec


def sensitivity_sections(folder: str | Path) -> list[Section]:
    """Both sections for a sensitivity sweep (an empty list for any other sweep).

    They read the sweep's runs as collected (``runs.parquet``), one row per design point
    and crossed setting, not the report's view of them by variant.
    """
    folder = Path(folder)
    if not is_sensitivity_sweep(folder):
        return []
    try:
        design = read_design(folder)
        table, groups = outcome_table(design, load_runs(folder))
    except AnalysisError as err:
        sec = Section("assumptions_matter", "8. Which assumptions matter")
        sec.add(
            Paragraph(f"The sensitivity design of this sweep cannot be analysed: {err}.", "warning")
        )
        return [sec]
    matter, _ = which_assumptions_matter(design, table, groups)
    return [matter, when_the_verdict_changes(folder, design, table, groups)]
