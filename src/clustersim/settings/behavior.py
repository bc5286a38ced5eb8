"""The behaviour settings (``conf/behavior/``): how firms and talent decide.

One dataclass per part of the model (entry, agglomeration, growth, hiring, innovation,
relocation, exit, talent, rents, the response to incentives), each field with the bounds
the model needs to stay finite and meaningful. The values, and where each comes from,
live in the YAML files.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal

import numpy as np

from clustersim.config import ConfigError, Problems, bound
from clustersim.settings.common import ByKind, ByTier, check_shares, kept_array
from clustersim.vocabulary import FIRM_KINDS


@dataclass(frozen=True, kw_only=True)
class Agglomeration:
    """Returns to locating near other FinTech firms (Arthur 1990's g(n))."""

    form: Literal["log", "linear", "bounded", "none"]
    strength: float = bound(ge=0)
    ceiling: float = bound(gt=0, doc="firms beyond which returns stop growing (form=bounded)")
    cross_kind_weight: float = bound(ge=0, le=1)


@dataclass(frozen=True, kw_only=True)
class Entry:
    """How a candidate firm chooses among parks and the outside option."""

    sequential: bool
    but_for_share: float = bound(ge=0, le=1)
    subsidy_weight: float = bound(ge=0)
    subsidy_scale: float = bound(
        ge=1, doc="RMB; at least one yuan (utility ~ log1p(subsidy/scale))"
    )
    rent_weight: float = bound(ge=0)
    amenity_weight: float = bound(ge=0)
    talent_weight: float = bound(ge=0)
    compute_weight: float = bound(ge=0)
    affinity_weight: float = bound(ge=0)
    noise_scale: float = bound(gt=0)
    initial_size_mean: ByKind


@dataclass(frozen=True, kw_only=True)
class Growth:
    """Firm growth: a yearly Laplace plan whose dispersion falls with size, plus thresholds."""

    enabled: bool
    drift: ByKind
    volatility: float = bound(
        ge=0,
        le=3,
        doc="yearly s.d. of log growth of a one-person firm; at most 3, five times the default"
        " and twice the widest prior of conf/calibration (measured s.d.s are 0.1-1, Amaral et"
        " al. 1997); beyond it rules.growth's cap on a firm's s.d. (1.2) binds for all firms",
    )
    size_elasticity: float = bound(ge=0, lt=1, doc="s.d. ~ people ** -size_elasticity")
    financing_drag: float = bound(ge=0)
    exit_size: float = bound(gt=0, doc="talent agents; a target below this exits")
    max_size: float = bound(
        gt=0,
        le=1e7,
        doc="talent agents; a reflecting ceiling. At most ten million agents, more than"
        " Shanghai's whole finance workforce; its square (the reflection) must stay finite",
    )

    def check(self, path: str) -> None:
        """A firm must be able to grow past the size at which it closes."""
        if self.max_size <= self.exit_size:
            raise ConfigError(
                f"{path}.max_size",
                self.max_size,
                f"must be > exit_size ({self.exit_size}), the size below which a firm closes",
            )


@dataclass(frozen=True, kw_only=True)
class Hiring:
    """Each kind's workforce mix by tier and the friction of filling vacancies."""

    tier_mix_leading: ByTier
    tier_mix_high_growth: ByTier
    tier_mix_fi_arm: ByTier
    tier_mix_rd_service: ByTier
    layoff_tolerance: float = bound(ge=0)

    def check(self, path: str) -> None:
        """Each kind's tier mix must be a distribution."""
        for kind in FIRM_KINDS:
            mix = getattr(self, f"tier_mix_{kind}").array()
            check_shares(f"{path}.tier_mix_{kind}", mix, "tier shares")

    def mix(self) -> np.ndarray:
        """Tier mix as a (kinds × tiers) array."""
        return np.stack([getattr(self, f"tier_mix_{k}").array() for k in FIRM_KINDS])


@dataclass(frozen=True, kw_only=True)
class Innovation:
    """R&D spending, the R&D stock, patents, certifications and pilot projects."""

    rd_intensity: ByKind
    rd_depreciation: float = bound(
        ge=0.01,
        le=1,
        doc="per year; at least 1% (estimates are 10-40%, Hall, Mairesse & Mohnen 2010): the"
        " initial R&D stock is the steady state spend / depreciation, infinite at 0",
    )
    rd_price_elasticity: float = bound(
        ge=0,
        le=10,
        doc="R&D spending ~ (1 - subsidy share) ** -this; at most 10, ten times the long-run"
        " estimate (Bloom, Griffith & Van Reenen 2002); far above it spending overflows",
    )
    patent_rate: float = bound(
        ge=0,
        le=10,
        doc="patents per month per sqrt(R&D stock in RMB m); at most 10 (1,000 times the"
        " default); far above it the monthly Poisson draw overflows",
    )
    high_tech_hazard: float = bound(ge=0, le=1)
    specialised_hazard: float = bound(ge=0, le=1)
    specialised_max_employees: float = bound(gt=0)
    pilot_rate: ByKind
    leading_firm_employees: float = bound(gt=0)
    leading_application_pilots: int = bound(
        ge=1, doc="pilot projects an FI arm needs to count as leading in application"
    )

    #: Largest R&D intensity (R&D spending / wage bill) a kind may have. Assumption: ten
    #: times the wage bill, far above any firm's (the plans' high-tech rule asks 3-5% of
    #: revenue); far above it the R&D stock and the patent draws overflow.
    MAX_RD_INTENSITY: ClassVar[float] = 10.0

    def check(self, path: str) -> None:
        """R&D intensities lie within [0, ``MAX_RD_INTENSITY``]; pilot rates are >= 0."""
        problems = Problems()
        for kind, value in zip(FIRM_KINDS, self.rd_intensity.array(), strict=True):
            if not 0.0 <= value <= self.MAX_RD_INTENSITY:
                problems.add(
                    ConfigError(
                        f"{path}.rd_intensity.{kind}",
                        float(value),
                        f"must be >= 0 and <= {self.MAX_RD_INTENSITY} (R&D spending as a share"
                        " of the wage bill)",
                    )
                )
        for kind, value in zip(FIRM_KINDS, self.pilot_rate.array(), strict=True):
            if value < 0:
                problems.add(ConfigError(f"{path}.pilot_rate.{kind}", float(value), "must be >= 0"))
        problems.raise_any()


@dataclass(frozen=True, kw_only=True)
class Relocation:
    """Incumbents reconsider their park now and then and move if it pays after costs."""

    enabled: bool
    review_rate: float = bound(ge=0, le=1, doc="per month")
    moving_cost: float = bound(ge=0, doc="utility units")


def _check_classes(path: str, bounds: tuple[float, ...], values: tuple[float, ...]) -> None:
    """Class lower bounds start at 0 and increase; one value per class."""
    if not bounds or bounds[0] != 0:
        raise ConfigError(path, list(bounds), "lower bounds of the classes must start at 0")
    for i in range(1, len(bounds)):
        if bounds[i] <= bounds[i - 1]:
            raise ConfigError(
                f"{path}[{i}]",
                bounds[i],
                f"classes must be in increasing order: must be > {bounds[i - 1]}, the class before",
            )
    if len(values) != len(bounds):
        raise ConfigError(
            path, list(values), f"one value per class: {len(bounds)} classes, {len(values)} values"
        )


@dataclass(frozen=True, kw_only=True)
class WindDown:
    """Large firms shrink for months before they close (they do not vanish in a month)."""

    min_employees: float = bound(
        ge=0, doc="people; a firm this large winds down instead of closing"
    )
    monthly_decline: float = bound(
        gt=0, lt=1, doc="share of its wanted size a winding-down firm sheds a month"
    )
    close_below: float = bound(
        gt=0, doc="people; a winding-down firm closes once smaller than this"
    )


@dataclass(frozen=True, kw_only=True)
class Exit:
    """Firm closure: a yearly hazard by size class times a multiplier by age class."""

    enabled: bool
    size_classes: tuple[float, ...] = bound(ge=0, doc="lower bounds, people; first is 0")
    annual_hazard: tuple[float, ...] = bound(
        ge=0, le=1, doc="yearly closure probability per size class"
    )
    age_classes: tuple[float, ...] = bound(ge=0, doc="lower bounds, years; first is 0")
    age_multiplier: tuple[float, ...] = bound(ge=0, doc="hazard multiplier per age class")
    kind_multiplier: ByKind
    financing_multiplier: float = bound(ge=0)
    wind_down: WindDown

    def check(self, path: str) -> None:
        """Size and age classes are ordered and have one value each."""
        _check_classes(f"{path}.size_classes", self.size_classes, self.annual_hazard)
        _check_classes(f"{path}.age_classes", self.age_classes, self.age_multiplier)
        if (self.kind_multiplier.array() < 0).any():
            raise ConfigError(
                f"{path}.kind_multiplier", self.kind_multiplier.array().tolist(), "must be >= 0"
            )

    def monthly_hazard(
        self, people: np.ndarray, age_years: np.ndarray, kind: np.ndarray, financing: np.ndarray
    ) -> np.ndarray:
        """Monthly closure probability of each firm (capped at 1)."""
        size_classes, annual_hazard, age_classes, age_multiplier = (
            kept_array(self, name, lambda name=name: getattr(self, name))
            for name in ("size_classes", "annual_hazard", "age_classes", "age_multiplier")
        )
        size_class = np.searchsorted(size_classes, people, side="right") - 1
        age_class = np.searchsorted(age_classes, age_years, side="right") - 1
        annual = (
            annual_hazard[np.maximum(size_class, 0)]
            * age_multiplier[np.maximum(age_class, 0)]
            * self.kind_multiplier.array()[kind]
            * (1.0 + self.financing_multiplier * financing)
        )
        return 1.0 - (1.0 - np.minimum(annual, 1.0)) ** (1.0 / 12.0)


@dataclass(frozen=True, kw_only=True)
class TalentBehavior:
    """How talent arrives, searches, is paid and leaves."""

    base_wage: ByTier
    agglomeration_wage_elasticity: float = bound(ge=0)
    outside_utility: ByTier
    wage_weight: float = bound(ge=0)
    incentive_weight: float = bound(ge=0)
    incentive_scale: float = bound(ge=1, doc="RMB; at least one yuan")
    job_weight: float = bound(ge=0)
    housing_weight: float = bound(ge=0)
    search_noise: float = bound(gt=0)
    on_the_job_search: float = bound(ge=0, le=1)
    leave_employed: float = bound(ge=0, le=1)
    leave_unemployed: float = bound(ge=0, le=1)
    residency_retention: float = bound(ge=0, le=1)


@dataclass(frozen=True, kw_only=True)
class Rents:
    """Park rents respond to occupancy."""

    adjustment: float = bound(ge=0, doc="per month, per unit of occupancy gap")
    target_occupancy: float = bound(gt=0, le=1)
    floor: float = bound(gt=0, doc="share of base rent")
    ceiling: float = bound(gt=0, doc="share of base rent")


@dataclass(frozen=True, kw_only=True)
class PolicyResponse:
    """How agents value and use incentives, and how often the events they reward occur."""

    horizon_years: float = bound(gt=0, doc="years of a recurring incentive a locating firm counts")
    profit_share: float = bound(ge=0, doc="taxable profit as a share of the wage bill")
    compute_share: float = bound(ge=0, le=1, doc="compute as a share of R&D spending")
    loan_rate: float = bound(ge=0, le=1, doc="monthly chance a constrained firm borrows")
    loan_cost: float = bound(ge=0, doc="interest and fees a year, share of the annual wage bill")
    financing_relief: float = bound(ge=0, doc="per unit of grant / annual wage bill")
    growth_per_grant: float = bound(ge=0, doc="monthly drift per unit of grant / annual wage bill")
    certification_response: float = bound(ge=0)
    pilot_response: float = bound(ge=0)
    response_scale: float = bound(ge=1, doc="RMB; at least one yuan")
    event_hosting_rate: float = bound(ge=0, le=1)
    standard_rate: float = bound(ge=0, le=1)
    quality_award_rate: float = bound(ge=0, le=1)
    project_selection_rate: float = bound(ge=0, le=1)
    major_project_rate: float = bound(ge=0, le=1, doc="monthly, per certified high-tech firm")
    ip_pilot_rate: float = bound(ge=0, le=1, doc="monthly, per firm with 2+ patents")
    municipal_programme_rate: float = bound(ge=0, le=1)
    district_programme_rate: float = bound(ge=0, le=1)
    exam_rate: float = bound(ge=0, le=1)
    growth_milestones: tuple[float, ...]
    workstation_cost: float = bound(
        ge=1, doc="RMB per workstation a carrier grant adds; at least one yuan"
    )


@dataclass(frozen=True, kw_only=True)
class Behavior:
    """All behavioural parameters: how agents decide. Each value's source is in its YAML."""

    entry: Entry
    agglomeration: Agglomeration
    growth: Growth
    hiring: Hiring
    innovation: Innovation
    relocation: Relocation
    exit: Exit
    talent: TalentBehavior
    rents: Rents
    policy_response: PolicyResponse
