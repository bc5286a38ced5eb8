"""What a mix is judged by: outcomes it causes, against what it spends.

*Caused* is measured as the run with the mix minus the run with the same seed without
the jurisdiction's plan (common random numbers: every rule draws from streams seeded by
the seed, not by the policy, so the two runs differ only by the plan). Each is read at
one month (the study's ``month``, by default the world's last month) and averaged over
the study's seeds.

*Spending* is what the plan's instruments granted per year, averaged over the years in
which any of them was in force up to that month; the budget constraint compares the
largest single year with the study's budget.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["OBJECTIVES", "SPENDING", "Objective"]


@dataclass(frozen=True)
class Objective:
    """An outcome a study can maximise, as caused by the plan.

    Attributes:
        name: the name a user types (``jobs``).
        metric: the headline outcome it reads (``employment``, in ``summary.json``).
        label: how tables and figures call it.
        unit: what one unit is.

    """

    name: str
    metric: str
    label: str
    unit: str


#: The outcomes a study may maximise (a user picks one or two).
OBJECTIVES: dict[str, Objective] = {
    o.name: o
    for o in (
        Objective("jobs", "employment", "caused jobs", "people employed in Shanghai's FinTech"),
        Objective("firms", "firms", "caused firms", "FinTech firms in Shanghai"),
        Objective("leading_firms", "leading_firms", "caused leading firms", "leading firms"),
        Objective(
            "innovative_projects",
            "innovative_projects",
            "caused innovative projects",
            "innovative projects",
        ),
    )
}

#: The name of the spending objective (minimised) in multi-objective studies.
SPENDING = "spending"
