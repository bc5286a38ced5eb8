"""Sensitivity results in words a policy maker reads: which assumptions matter, and when.

Turns the tidy tables of ``indices`` and ``discovery`` into short sentences:

- ``importance_sentence``: "Caused jobs by 2027-12: the but-for share explains 46% of
  the spread on its own (58% with its interactions); the subsidy weight 20% (24%); the
  other four together less than 5%: any value in their ranges gives about the same
  answer."
- ``box_sentence``: "If the but-for share is above 0.40 and the subsidy weight below
  1.5, then spending per caused job is above RMB 1,000,000 in 87% of the runs (these
  runs hold 82% of all the runs where it is)."

Labels for parameters and outcomes come from ``PARAMETER_LABELS`` and ``outcome_label``;
anything unknown is shown by its config name.
"""

from __future__ import annotations

import ast
import re

import pandas as pd

#: Plain names of the behavioural parameters of ``conf/sensitivity/behaviour.yaml``.
PARAMETER_LABELS = {
    "behavior.entry.but_for_share": "the but-for share (location choices a subsidy can tip)",
    "behavior.entry.subsidy_weight": "the weight entrants give a subsidy",
    "behavior.agglomeration.strength": "the pull of like firms nearby (agglomeration)",
    "behavior.entry.talent_weight": "the pull of a district's FinTech talent pool",
    "behavior.growth.volatility": "the volatility of firm growth",
    "behavior.growth.size_elasticity": "how fast growth volatility falls with size",
    "behavior.exit.kind_multiplier.high_growth": "the closure risk of high-growth firms",
    "behavior.relocation.review_rate": "how often firms reconsider their location",
    "behavior.talent.incentive_weight": "the weight talent gives awards",
    "behavior.policy_response.horizon_years": "the years of support an entrant counts on",
}
_SHORT = {k: v.split(" (")[0] for k, v in PARAMETER_LABELS.items()}
_METRICS = {
    "caused_jobs": "caused jobs",
    "caused_firms": "caused firms",
    "caused_employment": "caused jobs",
    "cost_per_caused_job": "spending per caused job (RMB)",
    "cost_per_caused_firm": "spending per caused firm (RMB)",
    "employment": "employment",
    "firms": "firms",
    "leading_firms": "leading firms",
    "innovative_projects": "innovative projects",
    "spending": "spending (RMB)",
}
_AREAS = {
    "pudong": "Pudong",
    "huangpu": "Huangpu",
    "rest_of_shanghai": "the rest of Shanghai",
    "shanghai": "the municipality",
}
_PLANS = {
    "huangpu_2024": "Huangpu's plan",
    "pudong_2027": "Pudong's plan",
    "shanghai_2020": "the municipal plan",
    "all_three": "the three plans",
    "none": "no plan",
}
_WORDS = {
    ">": "above",
    ">=": "at least",
    "<": "below",
    "<=": "at most",
    "==": "equal to",
    "!=": "not equal to",
}


def parameter_label(path: str, short: bool = False) -> str:
    """A parameter's plain name (its config path if unknown)."""
    if short:
        return _SHORT.get(path, path.rsplit(".", 1)[-1].replace("_", " "))
    return PARAMETER_LABELS.get(path, path)


def outcome_label(name: str) -> str:
    """An outcome column in words.

    ``cost_per_caused_job_huangpu_huangpu_2024@2027-12`` reads "spending per caused job
    (RMB) in Huangpu under Huangpu's plan by 2027-12".
    """
    base, _, month = name.partition("@")
    plan = next((p for p in _PLANS if base.endswith(f"_{p}")), None)
    if plan:
        base = base[: -len(plan) - 1]
    area = next((a for a in sorted(_AREAS, key=len, reverse=True) if base.endswith(f"_{a}")), None)
    metric = base[: -len(area) - 1] if area and base[: -len(area) - 1] in _METRICS else base
    if metric == base:
        area = None
    words = _METRICS.get(metric, metric.replace("_", " "))
    if area:
        words += f" in {_AREAS[area]}"
    if plan:
        words += f" under {_PLANS[plan]}"
    if month:
        words += f" by {month}"
    return words


def _pct(x: float) -> str:
    return f"{max(0.0, x) * 100:.0f}%"


def importance_sentence(indices: pd.DataFrame, outcome: str, negligible: float = 0.05) -> str:
    """One outcome's Sobol (or Morris) indices as a sentence, most important first."""
    rows = indices[indices["outcome"] == outcome]
    head = outcome_label(outcome)
    head = head[0].upper() + head[1:]
    if rows["note"].astype(bool).any():
        return f"{head}: {rows['note'].iloc[0]}."
    if (rows["method"] == "morris").any():
        mu = rows[rows["index"] == "mu_star"].sort_values("value", ascending=False)
        top = mu.iloc[0]["value"] or 1.0
        parts = [
            f"{parameter_label(r.parameter, True)} ({r.value / top:.0%} of the largest)"
            for r in mu.itertuples()
            if r.value >= 0.1 * top
        ]
        rest = len(mu) - len(parts)
        text = f"{head}: ranked by mean effect, {', '.join(parts)}"
        if rest:
            text += f"; the other {rest} move it by less than a tenth as much"
        return text + "."
    s1 = rows[rows["index"] == "S1"].set_index("parameter")["value"]
    st = rows[rows["index"] == "ST"].set_index("parameter")
    order = st.sort_values("value", ascending=False)
    big = [p for p in order.index if order.at[p, "value"] >= negligible]
    small = [p for p in order.index if p not in big]
    parts = []
    for i, p in enumerate(big):
        alone, total = _pct(s1.get(p, 0.0)), _pct(order.at[p, "value"])
        if i == 0:
            parts.append(
                f"{parameter_label(p, True)} explains {alone} of its spread on its own "
                f"({total} with its interactions)"
            )
        else:
            parts.append(f"{parameter_label(p, True)} {alone} ({total})")
    text = f"{head}: " + ("; ".join(parts) if parts else "no assumption stands out")
    if small:
        total_small = order.loc[small, "value"].clip(lower=0).sum()
        who = "the other one" if len(small) == 1 else f"the other {len(small)} together"
        text += (
            f"; {who} less than {_pct(max(total_small, negligible))}: any value in "
            f"{'its range' if len(small) == 1 else 'their ranges'} gives about the same answer"
        )
    return text + "."


def _number(value: float) -> str:
    a = abs(value)
    if a >= 1e4:
        return f"{value:,.0f}"
    if a >= 100:
        return f"{value:.0f}"
    return f"{value:.3g}"


def condition_words(condition: str) -> str:
    """A ``--where`` condition in words, when it is one comparison; else the text itself."""
    text = re.sub(
        r"`([^`]+)`", lambda m: m.group(1).replace("@", "__AT__").replace("-", "__D__"), condition
    )
    try:
        tree = ast.parse(text, mode="eval").body
    except SyntaxError:
        return condition
    ops = {ast.Gt: ">", ast.GtE: ">=", ast.Lt: "<", ast.LtE: "<=", ast.Eq: "==", ast.NotEq: "!="}

    def side(node: ast.AST) -> str | None:
        if isinstance(node, ast.Name):
            name = node.id.replace("__AT__", "@").replace("__D__", "-")
            return outcome_label(name).replace(" (RMB)", "")
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
            return _number(float(node.value))
        return None

    if isinstance(tree, ast.Compare) and len(tree.ops) == 1 and type(tree.ops[0]) in ops:
        left, right = side(tree.left), side(tree.comparators[0])
        if left and right:
            name = getattr(tree.left, "id", "").replace("__AT__", "@").replace("__D__", "-")
            if "(RMB)" in outcome_label(name) and isinstance(tree.comparators[0], ast.Constant):
                right = f"RMB {right}"
            return f"{left} is {_WORDS[ops[type(tree.ops[0])]]} {right}"
    return f"`{condition}`"


def box_sentence(
    box_limits: pd.DataFrame, ranges: pd.DataFrame, coverage: float, density: float, condition: str
) -> str:
    """A PRIM box as an if-then sentence with its density and coverage."""
    full = ranges.set_index("parameter")
    clauses = []
    for r in box_limits.itertuples():
        lo_cut = r.low > full.at[r.parameter, "low"]
        hi_cut = r.high < full.at[r.parameter, "high"]
        name = parameter_label(r.parameter, True)
        if lo_cut and hi_cut:
            clauses.append(f"{name} is between {_number(r.low)} and {_number(r.high)}")
        elif lo_cut:
            clauses.append(f"{name} is above {_number(r.low)}")
        elif hi_cut:
            clauses.append(f"{name} is below {_number(r.high)}")
    if not clauses:
        return (
            f"No range of the assumptions stands out: {condition_words(condition)} in "
            f"{_pct(density)} of all runs, whatever the assumptions."
        )
    cond = (
        ", and ".join(clauses)
        if len(clauses) < 3
        else ", ".join(clauses[:-1]) + ", and " + clauses[-1]
    )
    return (
        f"If {cond}, then {condition_words(condition)} in {_pct(density)} of the runs "
        f"(these runs hold {_pct(coverage)} of all the runs where it is so)."
    )
