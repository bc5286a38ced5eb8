"""What a run's outcomes are called, in what unit, for which area, against which target.

One declaration per outcome, read by the run summary (``summary.json`` and the printed
table), the sweep collector (``<name>@<YYYY-MM>`` columns), the report and the notebooks,
so a label or a target is changed in one place.
"""

from __future__ import annotations

from dataclasses import dataclass

from clustersim.vocabulary import JURISDICTIONS


@dataclass(frozen=True)
class Region:
    """An area the plans compete over (``metrics.region_of`` maps districts to it).

    Attributes:
        name: the suffix of its columns (``firms_pudong``).
        label: how a table names it.

    """

    name: str
    label: str


#: Pudong, Huangpu and the rest of Shanghai, in the order tables list them.
REGIONS: tuple[Region, ...] = (
    Region("pudong", "Pudong"),
    Region("huangpu", "Huangpu"),
    Region("rest_of_shanghai", "rest of Shanghai"),
)
REGION_NAMES: tuple[str, ...] = tuple(r.name for r in REGIONS)
#: Region labels by name.
REGION_LABELS: dict[str, str] = {r.name: r.label for r in REGIONS}


@dataclass(frozen=True)
class Jurisdiction:
    """A government that pays grants (or ``all`` of them together).

    Attributes:
        name: as in the config and the ledger (``shanghai``, ``pudong``, ``huangpu``).
        label: in running text ("spending by the municipality").
        title: in a table column ("municipal (Shanghai)").
        area: the region whose jobs and firms its spending is set against; None for
            Shanghai as a whole.

    """

    name: str
    label: str
    title: str
    area: str | None


#: The jurisdictions that run regimes, then ``all`` of them together.
PAYERS: dict[str, Jurisdiction] = {
    j.name: j
    for j in (
        Jurisdiction("shanghai", "the municipality", "municipal (Shanghai)", None),
        Jurisdiction("pudong", "Pudong", "Pudong", "pudong"),
        Jurisdiction("huangpu", "Huangpu", "Huangpu", "huangpu"),
        Jurisdiction("all", "all jurisdictions", "all jurisdictions", None),
    )
}
assert set(PAYERS) == {*JURISDICTIONS, "all"}, "a jurisdiction of the vocabulary lacks a label"


@dataclass(frozen=True)
class Outcome:
    """One headline outcome of a run, measured at the report months.

    Attributes:
        name: its key in ``summary.json`` and the monthly table (``leading_firms``).
        label: how a table names it, unit included where it is not the thing counted.
        unit: the axis unit of a figure, after ``scale``.
        scale: factor from the stored value to the unit shown (RMB -> RMB million: 1e-6).
        region: the region it counts (None: Shanghai as a whole).
        target: the municipal plan's yardstick, if it sets one.
        title: a figure's title (default: the label).

    """

    name: str
    label: str
    unit: str
    scale: float = 1.0
    region: str | None = None
    target: float | None = None
    title: str | None = None

    @property
    def heading(self) -> str:
        """The title of a figure of this outcome."""
        return self.title or self.label


#: The municipal plan's yardsticks (003_7fb046b7cde93cc0.txt, 三、发展目标): about 20 leading
#: FinTech firms, about 20 financial markets and headquarters institutions whose technology
#: application leads internationally, and about 50 innovative projects.
_LEADING_TARGET = 20
_APPLICATION_TARGET = 20
_PROJECTS_TARGET = 50
#: RMB are shown in millions.
_MILLION = 1e-6

_CITY = (
    Outcome("firms", "firms", "firms"),
    Outcome("employment", "employment (people)", "people"),
    Outcome("talent", "talent in Shanghai (people)", "people"),
    Outcome("unemployed", "talent without a job (people)", "people"),
    Outcome("leading_firms", "leading firms", "firms", target=_LEADING_TARGET),
    Outcome(
        "leading_application_institutions",
        "institutions leading in application",
        "institutions",
        target=_APPLICATION_TARGET,
    ),
    Outcome("innovative_projects", "innovative projects", "projects", target=_PROJECTS_TARGET),
    Outcome("patents", "patents since start", "patents"),
    Outcome("high_tech_firms", "high-tech firms", "firms"),
    Outcome("specialised_firms", "specialised firms", "firms"),
    Outcome(
        "spending_cumulative",
        "spending, all jurisdictions (RMB m)",
        "RMB million",
        scale=_MILLION,
        title="spending since 2020, all jurisdictions",
    ),
    Outcome(
        "national_tax_expenditure_cumulative",
        "national tax expenditure, not a plan's (RMB m)",
        "RMB million",
        scale=_MILLION,
        title="national tax expenditure since 2020 (national law, not a plan)",
    ),
)
_BY_REGION = tuple(
    Outcome(f"firms_{r.name}", f"firms in {r.label}", "firms", region=r.name) for r in REGIONS
) + tuple(
    Outcome(f"employment_{r.name}", f"employment in {r.label} (people)", "people", region=r.name)
    for r in REGIONS
)
_BY_PAYER = tuple(
    Outcome(
        f"spending_{j}_cumulative",
        f"spending by {PAYERS[j].label} (RMB m)",
        "RMB million",
        scale=_MILLION,
        region=PAYERS[j].area,
    )
    for j in JURISDICTIONS
)

#: Every headline outcome by name, in the order a summary lists them.
OUTCOMES: dict[str, Outcome] = {o.name: o for o in (*_CITY, *_BY_REGION, *_BY_PAYER)}
#: Outcomes with a target of the municipal plan: {name: target}.
TARGETS: dict[str, float] = {o.name: o.target for o in OUTCOMES.values() if o.target is not None}
#: The outcomes a comparison of variants shows (headline table, differences, trajectories).
COMPARED: tuple[str, ...] = (
    "firms",
    "employment",
    "talent",
    "leading_firms",
    "leading_application_institutions",
    "innovative_projects",
)
#: Outcomes of national law (``clustersim.national``): reported, never a plan's caused effect.
NATIONAL: tuple[str, ...] = ("national_tax_expenditure", "national_tax_expenditure_cumulative")
#: Cumulative spending by paying jurisdiction, then by all of them.
SPENDING: tuple[str, ...] = (*(o.name for o in _BY_PAYER), "spending_cumulative")
#: Counts summed since the start of a run (``<name>_since_start`` in ``summary.json``).
SINCE_START: tuple[str, ...] = ("entries", "exits", "relocations", "relocation_jobs")
#: What the printed summary of a run shows, in order.
PRINTED: tuple[str, ...] = (
    "firms",
    "employment",
    "talent",
    "leading_firms",
    "leading_application_institutions",
    "innovative_projects",
    "patents",
    *(f"firms_{r.name}" for r in REGIONS),
    *(f"employment_{r.name}" for r in REGIONS),
    "spending_cumulative",
    "national_tax_expenditure_cumulative",
)


def label(name: str) -> str:
    """The table label of an outcome (its name when it is not a headline outcome).

    A caused outcome (``caused_<name>``, the run minus its counterfactual) is labelled
    "caused <label>".
    """
    if name.startswith("caused_") and name.removeprefix("caused_") in OUTCOMES:
        return "caused " + OUTCOMES[name.removeprefix("caused_")].label
    o = OUTCOMES.get(name)
    return o.label if o is not None else name


def scale(name: str) -> float:
    """Factor from an outcome's stored value to the unit its label names (RMB -> RMB m)."""
    o = OUTCOMES.get(name.removeprefix("caused_"))
    return o.scale if o is not None else 1.0


__all__ = [
    "COMPARED",
    "NATIONAL",
    "OUTCOMES",
    "PAYERS",
    "PRINTED",
    "REGIONS",
    "REGION_LABELS",
    "REGION_NAMES",
    "SINCE_START",
    "SPENDING",
    "TARGETS",
    "Jurisdiction",
    "Outcome",
    "Region",
    "label",
    "scale",
]
