"""A study's report: what the plan's budget causes as written, and what a better mix causes.

One self-contained HTML file and its Markdown twin in the study folder, built with the
report package's document helpers (``clustersim.report.document``, ``html``,
``markdown``, ``fmt``), from the study's own tables: ``trials.parquet``,
``pareto.parquet`` and ``validation.parquet``. It opens with the answer in one sentence
("... as written causes X jobs; the best mix found causes Y [interval] by shifting money
from A to B"), then shows the front of caused against spent with the plan as written
marked, the mixes instrument by instrument, and the check on fresh seeds.
"""

from __future__ import annotations

import io
import math
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure as MplFigure

from clustersim.optimize.objectives import OBJECTIVES
from clustersim.optimize.results import FRONT_TABLE, TRIALS_TABLE, VALIDATION_TABLE
from clustersim.optimize.space import SearchSpace
from clustersim.optimize.spec import StudySpec
from clustersim.report.document import Bullets, Document, Figure, Paragraph, Section, Table
from clustersim.report.fmt import MISSING, interval, millions, num, signed, signed_interval
from clustersim.report.html import render_html
from clustersim.report.markdown import write_markdown

__all__ = ["REPORT_HTML", "REPORT_MD", "build_document", "write_report"]

REPORT_HTML = "report.html"
REPORT_MD = "report.md"
WRITTEN = "plan as written"
#: Colours: the plan as written, the front, other trials, the validated mixes.
COLOURS = {"written": "#d62728", "front": "#1f77b4", "trial": "#b0b0b0", "best": "#2ca02c"}


def _png(fig: MplFigure) -> bytes:
    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    return buf.getvalue()


def _label(name: str) -> str:
    return OBJECTIVES[name].label if name in OBJECTIVES else name


def _front_2d(frame: pd.DataFrame, up: str, down: str) -> pd.DataFrame:
    """Trials not dominated in (``up`` higher, ``down`` lower), sorted by ``down``."""
    v = frame[[up, down]].to_numpy() * np.array([1.0, -1.0])
    keep = [
        i for i in range(len(v)) if not np.any(np.all(v >= v[i], axis=1) & np.any(v > v[i], axis=1))
    ]
    return frame.iloc[keep].sort_values(down)


def front_figure(trials: pd.DataFrame, objective: str, best: list[int]) -> Figure:
    """Caused ``objective`` against yearly spending: every trial, the front, the written plan."""
    key = f"caused_{objective}"
    done = trials[(trials["state"] == "complete") & trials["feasible"]]
    fig = MplFigure(figsize=(8.2, 5.0))
    ax = fig.add_subplot()
    ax.scatter(
        done["spending_per_year"] / 1e6,
        done[key],
        s=14,
        color=COLOURS["trial"],
        label="a mix tried",
        zorder=1,
    )
    front = _front_2d(done, key, "spending_per_year")
    ax.plot(
        front["spending_per_year"] / 1e6,
        front[key],
        "-o",
        ms=5,
        color=COLOURS["front"],
        label="front: most caused for what is spent",
        zorder=2,
    )
    written = done[done["label"] == WRITTEN]
    if len(written):
        w = written.iloc[0]
        ax.scatter(
            [w["spending_per_year"] / 1e6],
            [w[key]],
            marker="*",
            s=260,
            color=COLOURS["written"],
            edgecolor="black",
            zorder=4,
            label="plan as written",
        )
    for n in best:
        row = done[done["trial"] == n]
        if len(row):
            r = row.iloc[0]
            ax.scatter(
                [r["spending_per_year"] / 1e6],
                [r[key]],
                s=120,
                facecolor="none",
                edgecolor=COLOURS["best"],
                linewidth=2,
                zorder=3,
            )
            ax.annotate(
                f"trial {n}",
                (r["spending_per_year"] / 1e6, r[key]),
                textcoords="offset points",
                xytext=(7, 5),
                fontsize=9,
                color=COLOURS["best"],
            )
    if best:
        ax.scatter(
            [],
            [],
            s=120,
            facecolor="none",
            edgecolor=COLOURS["best"],
            linewidth=2,
            label="best mixes (checked on fresh seeds)",
        )
    ax.set_xlabel("spending, RMB million a year (mean over the search seeds)")
    ax.set_ylabel(f"{_label(objective)} (mean over the search seeds)")
    ax.grid(alpha=0.3)
    ax.legend(loc="best", fontsize=9)
    ax.set_title(f"{_label(objective).capitalize()} against what the plan spends")
    return Figure(
        key=f"front-{objective}",
        title=f"{_label(objective).capitalize()} against spending, every mix tried",
        caption="Each dot is one mix, averaged over the search seeds; the blue line joins "
        "the mixes no other beats on both counts; the red star is the plan as written. "
        "Search estimates are optimistic for the winners (they were picked for being "
        "high): the table of fresh seeds below gives the honest comparison.",
        png=_png(fig),
    )


def _value_text(space: SearchSpace, inst: str, value: float) -> str:
    lever = space.lever(inst)
    if not math.isfinite(value):
        return MISSING
    return f"{100 * value:.1f}%" if lever.uses_rate else num(value)


def mixes_table(trials: pd.DataFrame, space: SearchSpace, best: list[int]) -> Table:
    """Instrument by instrument: as written, and each best mix (amount or rate, yearly line)."""
    rows = []
    for lv in space.levers:
        i = lv.instrument
        col = f"{i}.{'rate' if lv.uses_rate else 'amount'}"
        row = {
            "instrument": i,
            "clause": lv.clause,
            "cap (RMB)": num(lv.cap) if lv.cap is not None else "none stated",
            "as written": f"{_value_text(space, i, lv.written)}; {millions(lv.written_line)} m/yr",
        }
        for n in best:
            r = trials[trials["trial"] == n].iloc[0]
            if not bool(r[f"{i}.in_force"]):
                row[f"trial {n}"] = "not in force"
            else:
                row[f"trial {n}"] = (
                    f"{_value_text(space, i, r[col])} "
                    f"(×{r[f'{i}.multiple']:.2f}); {millions(r[f'{i}.line'])} m/yr"
                )
        rows.append(row)
    return Table(
        title="The mixes, instrument by instrument",
        frame=pd.DataFrame(rows),
        caption="Amount per grant (or rate of the eligible spending), its multiple of the "
        "written value, and the yearly budget line in RMB million. No amount exceeds its "
        "clause's cap; the lines of every mix add up to the study's budget.",
    )


def validation_table(validation: pd.DataFrame) -> Table:
    """Each best mix against the plan as written on fresh seeds, with paired intervals."""
    rows = []
    for _, r in validation.iterrows():
        scale = 1e-6 if r["measure"] == "spending_per_year" else 1.0
        name = (
            "spending (RMB m a year)"
            if r["measure"] == "spending_per_year"
            else _label(r["measure"].removeprefix("caused_"))
        )
        rows.append(
            {
                "mix": r["mix_label"],
                "outcome": name,
                "the mix": interval(r["mean"], r["low"], r["high"], scale),
                "as written": num(r["written_mean"] * scale),
                "difference (paired)": signed_interval(
                    r["difference"], r["difference_low"], r["difference_high"], scale
                ),
                "seeds": f"{int(r['first_seed'])}..{int(r['last_seed'])}",
            }
        )
    return Table(
        title="The best mixes against the plan as written, on fresh seeds",
        frame=pd.DataFrame(rows),
        caption="Means with 95% intervals over seeds the search never saw; the difference "
        "is paired seed by seed (same shocks), so its interval is narrower than the two "
        "means' intervals suggest.",
    )


def _shift(trials: pd.DataFrame, space: SearchSpace, n: int) -> tuple[list[str], list[str]]:
    """Instruments losing and gaining most budget in trial ``n`` against the written lines."""
    r = trials[trials["trial"] == n].iloc[0]
    delta = {
        lv.instrument: float(r[f"{lv.instrument}.line"]) - lv.written_line for lv in space.levers
    }
    losers = sorted((d, i) for i, d in delta.items() if d < 0)[:3]
    gainers = sorted(((d, i) for i, d in delta.items() if d > 0), reverse=True)[:3]
    off = {lv.instrument for lv in space.levers if not bool(r[f"{lv.instrument}.in_force"])}
    lose = [f"{i} ({signed(d / 1e6)} m{', off' if i in off else ''})" for d, i in losers]
    gain = [f"{i} ({signed(d / 1e6)} m)" for d, i in gainers]
    return lose, gain


def headline(
    spec: StudySpec,
    space: SearchSpace,
    trials: pd.DataFrame,
    validation: pd.DataFrame | None,
    month: str,
    budget: float,
) -> Paragraph:
    """The answer in one paragraph."""
    objective = spec.objectives[0]
    key = f"caused_{objective}"
    label = _label(objective)
    who = (
        f"{space.issuer.capitalize()}'s budget as written (RMB {millions(budget)} m a year "
        f"for {len(space.levers)} instruments)"
    )
    if validation is not None and len(validation):
        v = validation[validation["measure"] == key].sort_values("difference", ascending=False)
        top = v.iloc[0]
        n = int(top["trial"])
        losers, gainers = _shift(trials, space, n)
        diff = signed_interval(top["difference"], top["difference_low"], top["difference_high"])
        text = (
            f"{who} causes {num(top['written_mean'])} {label.removeprefix('caused ')} by "
            f"{month} (mean of {int(top['seeds'])} fresh seeds); the best mix found (trial "
            f"{n}) causes {interval(top['mean'], top['low'], top['high'])}, a paired "
            f"difference of {diff}"
        )
        spent = validation[
            (validation["measure"] == "spending_per_year") & (validation["trial"] == n)
        ]
        if len(spent):
            sp = spent.iloc[0]
            text += (
                f", while spending RMB {millions(sp['mean'])} m a year against "
                f"{millions(sp['written_mean'])} m as written"
            )
        if losers or gainers:
            text += (
                f", by shifting money from {', '.join(losers) or 'no instrument'} to "
                f"{', '.join(gainers) or 'no instrument'}"
            )
        text += "."
        if top["difference_low"] <= 0:
            text += (
                " The interval includes zero: on fresh seeds this mix is not clearly "
                "better than the plan as written."
            )
        return Paragraph(text, "note")
    done = trials[(trials["state"] == "complete") & trials["feasible"]]
    written = done[done["label"] == WRITTEN]
    best = done.sort_values(key, ascending=False).iloc[0]
    base = num(written.iloc[0][key]) if len(written) else MISSING
    return Paragraph(
        f"{who} causes {base} {label.removeprefix('caused ')} by {month} on the search seeds; "
        f"the best mix found (trial {int(best['trial'])}) causes {num(best[key])} there. "
        "Not checked on fresh seeds (validation_seeds = 0): the search's own estimate of its "
        "winner is optimistic.",
        "warning",
    )


def build_document(spec: StudySpec) -> Document:
    """The report of the study in ``spec.folder`` as a renderer-neutral document."""
    from clustersim.optimize.study import open_study

    folder = Path(spec.folder)
    trials = pd.read_parquet(folder / TRIALS_TABLE)
    front = pd.read_parquet(folder / FRONT_TABLE)
    vpath = folder / VALIDATION_TABLE
    validation = pd.read_parquet(vpath) if vpath.is_file() else None
    study = open_study(spec)
    space, month = study.space, study.month
    budget = float(trials["budget"].iloc[0])
    best = (
        [int(t) for t in validation["trial"].drop_duplicates()]
        if validation is not None and len(validation)
        else [int(t) for t in front["trial"].head(spec.validate_best)]
    )
    done = trials[trials["state"] == "complete"]
    facts = [
        ("plan", f"{spec.plan} ({space.issuer})"),
        ("runs", " ".join(spec.base_overrides()) or "default config"),
        (
            "instruments searched",
            f"{len(space.levers)} (kept as written: "
            f"{', '.join(i for i, _ in space.kept) or 'none'})",
        ),
        ("yearly budget", f"RMB {millions(budget)} m ({spec.budget})"),
        ("objectives", ", ".join(spec.value_names)),
        (
            "trials",
            f"{len(done)} complete of {len(trials)}; sampler {spec.sampler}, "
            f"study seed {spec.study_seed}",
        ),
        (
            "seeds",
            f"search {spec.search_seeds[0]}..{spec.search_seeds[-1]}; outcomes read at {month}",
        ),
        ("study folder", str(folder)),
    ]
    answer = Section("answer", "1. The answer").add(
        headline(spec, space, trials, validation, month, budget),
        Paragraph(
            "Caused means: the run with the plan minus the run of the same seed without it "
            "(same random shocks), averaged over seeds. A mix chooses, for each instrument, "
            "whether it is in force, its amount or rate as a multiple of the written one "
            "(never above the clause's cap) and its share of the yearly budget."
        ),
    )
    sections = [answer]
    trade = Section("front", "2. What the money can buy").add(
        front_figure(trials, spec.objectives[0], best)
    )
    if len(spec.objectives) == 2:
        trade.add(front_figure(trials, spec.objectives[1], best))
    sections.append(trade)
    sections.append(Section("mixes", "3. The mixes").add(mixes_table(trials, space, best)))
    if validation is not None and len(validation):
        sections.append(
            Section("fresh", "4. Checked on fresh seeds").add(validation_table(validation))
        )
    sections.append(
        Section("reading", "5. How to read this").add(
            Bullets(
                [
                    "The yearly budget lines of a mix add up to the study's budget, and the "
                    "grant engine never pays beyond a line: every trial keeps within the "
                    "budget in every year (trials.parquet, column feasible).",
                    "Amounts the plan's text leaves to an assessment are assumptions "
                    "of conf/policy; a multiple is relative to those written values, bounded "
                    "by the text's caps and floors.",
                    "The search estimates come from the search seeds and favour the winners; "
                    "the comparison on fresh seeds is the one to quote.",
                    "Every run of the study is a run folder under runs/ with its "
                    "overrides.yaml: any mix can be rerun with clustersim-run and those "
                    "overrides.",
                ]
            )
        )
    )
    return Document(f"A better mix for {spec.plan}", facts, sections)


def write_report(spec: StudySpec, doc: Document | None = None) -> tuple[Path, Path]:
    """Write ``report.html`` and ``report.md`` (with its figures) into the study folder.

    ``doc`` is ``build_document(spec)`` if the caller has built it already (a notebook
    that showed it): the same files, without drawing the figures a second time.
    """
    if doc is None:
        doc = build_document(spec)
    folder = Path(spec.folder)
    html_path = folder / REPORT_HTML
    tmp = html_path.with_name(f".{REPORT_HTML}.tmp")
    tmp.write_text(
        render_html(doc).replace("Made by clustersim-report.", "Made by clustersim-optimize."),
        encoding="utf-8",
    )
    tmp.replace(html_path)
    md_path = write_markdown(doc, folder / REPORT_MD)
    return html_path, md_path
