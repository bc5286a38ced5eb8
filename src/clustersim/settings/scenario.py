"""The typed schema of a scenario: world, behaviour, run options.

Each dataclass mirrors one part of ``conf/``; its fields are the model's parameters, with
the constraints the model needs (sizes and rates positive, shares within [0, 1], ...).
The values themselves, and where each comes from, live in the YAML files.
``load_scenario`` turns a composed config into a ``Scenario`` or raises ``ConfigError``;
it parses the policy once (``policy.parsing.parse_regimes``, against the world's parks,
districts and tags) and the scenario keeps the typed regimes (``Scenario.regimes``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from clustersim.config import ConfigError, bound, build, to_plain
from clustersim.months import Month, MonthError
from clustersim.national import NationalFramework, load_national
from clustersim.policy.instruments import Regime
from clustersim.policy.parsing import parse_regimes
from clustersim.vocabulary import FIRM_KINDS, PLAN_TAGS, SHANGHAI_DISTRICTS, TALENT_TIERS


@dataclass(frozen=True, kw_only=True)
class ByKind:
    """One number per firm kind."""

    leading: float
    high_growth: float
    fi_arm: float
    rd_service: float

    def array(self) -> np.ndarray:
        """The values in the order of ``FIRM_KINDS``."""
        return np.array([getattr(self, k) for k in FIRM_KINDS], dtype=np.float64)


@dataclass(frozen=True, kw_only=True)
class ByTier:
    """One number per talent tier."""

    top_scientist: float
    senior_core: float
    professional: float
    junior: float

    def array(self) -> np.ndarray:
        """The values in the order of ``TALENT_TIERS``."""
        return np.array([getattr(self, t) for t in TALENT_TIERS], dtype=np.float64)


def _check_shares(path: str, values: np.ndarray, what: str) -> None:
    if (values < 0).any():
        raise ConfigError(path, values.tolist(), f"{what} must not be negative")
    if not np.isclose(values.sum(), 1.0, atol=1e-6):
        raise ConfigError(
            path, values.tolist(), f"{what} must sum to 1 (they sum to {values.sum():.4g})"
        )


# --------------------------------------------------------------------------- world


@dataclass(frozen=True, kw_only=True)
class ParkSpec:
    """A park, building cluster or incubator that hosts FinTech firms ("carrier")."""

    name: str
    district: str
    capacity: float = bound(gt=0, doc="workstations (people) the park can host")
    base_rent: float = bound(gt=0, doc="office rent, RMB per m² per day")
    amenity: float = bound(ge=0, doc="index of amenity and prestige, 0..1 typical")
    compute: float = bound(ge=0, doc="compute capacity available to tenants, PFLOPS")
    lon: float = bound(ge=-180, le=180)
    lat: float = bound(ge=-90, le=90)
    initial_share: float = bound(ge=0, le=1, doc="share of the initial firms located here")
    tags: tuple[str, ...] = ()
    kind_affinity: ByKind | None = None


@dataclass(frozen=True, kw_only=True)
class InitialPopulation:
    """The cluster at the start month."""

    firms: int = bound(ge=0, doc="0 starts from an empty map, as Arthur's process does")
    kind_shares: ByKind
    talent_agents: int = bound(gt=0)
    unemployment_rate: float = bound(ge=0, lt=1)
    size_tail: float = bound(gt=0, doc="Pareto exponent of initial firm sizes")
    high_tech_share: float = bound(ge=0, le=1)
    specialised_share: float = bound(ge=0, le=1)
    residency_share: float = bound(ge=0, le=1)

    def check(self, path: str) -> None:
        """Kind shares must be a distribution."""
        _check_shares(f"{path}.kind_shares", self.kind_shares.array(), "kind shares")


@dataclass(frozen=True, kw_only=True)
class Inflow:
    """Potential newcomers per month: candidates that consider Shanghai."""

    per_month: float = bound(gt=0, doc="mean of the monthly Poisson count")
    shares: tuple[float, ...]

    def check(self, path: str) -> None:
        """Shares (by kind or tier) must be a distribution."""
        _check_shares(f"{path}.shares", np.asarray(self.shares, dtype=float), "shares")


@dataclass(frozen=True, kw_only=True)
class FirmInflow(Inflow):
    """Candidate firms per month, and how attractive staying away is for each kind.

    The outside option (Hong Kong, Shenzhen, Singapore, not expanding at all) is part of
    the world the city competes in, so its utility lives with the world, not the behaviour.
    """

    outside_utility: ByKind


@dataclass(frozen=True, kw_only=True)
class World:
    """Where and when: parks, districts, the initial population, the inflow of newcomers."""

    name: str
    start: str
    end: str
    scale: float = bound(gt=0, doc="multiplies population, inflows and park capacities")
    people_per_talent_agent: float = bound(gt=0, doc="people one talent agent stands for")
    districts: tuple[str, ...]
    parks: dict[str, ParkSpec]
    initial: InitialPopulation
    firm_entrants: FirmInflow
    talent_arrivals: Inflow

    def check(self, path: str) -> None:
        """Months exist and are ordered; parks name known districts; shares add up."""
        try:
            start = Month.parse(self.start)
        except MonthError as e:
            raise ConfigError(f"{path}.start", self.start, str(e)) from None
        try:
            end = Month.parse(self.end)
        except MonthError as e:
            raise ConfigError(f"{path}.end", self.end, str(e)) from None
        if end < start:
            raise ConfigError(f"{path}.end", self.end, f"must not be before start ({self.start})")
        if not self.parks:
            raise ConfigError(f"{path}.parks", {}, "at least one park is required")
        for pid, park in self.parks.items():
            if park.district not in self.districts:
                raise ConfigError(
                    f"{path}.parks.{pid}.district",
                    park.district,
                    f"unknown district; allowed: {', '.join(self.districts)}",
                )
        shares = np.array([p.initial_share for p in self.parks.values()])
        _check_shares(f"{path}.parks.*.initial_share", shares, "initial shares of parks")
        if len(self.firm_entrants.shares) != len(FIRM_KINDS):
            raise ConfigError(
                f"{path}.firm_entrants.shares",
                list(self.firm_entrants.shares),
                f"one share per firm kind ({', '.join(FIRM_KINDS)})",
            )
        if len(self.talent_arrivals.shares) != len(TALENT_TIERS):
            raise ConfigError(
                f"{path}.talent_arrivals.shares",
                list(self.talent_arrivals.shares),
                f"one share per talent tier ({', '.join(TALENT_TIERS)})",
            )

    @property
    def start_month(self) -> Month:
        """The first simulated month."""
        return Month.parse(self.start)

    @property
    def end_month(self) -> Month:
        """The last simulated month (included)."""
        return Month.parse(self.end)

    @property
    def park_ids(self) -> tuple[str, ...]:
        """Park ids in config order (the order of every per-park array)."""
        return tuple(self.parks)

    @property
    def tags(self) -> tuple[str, ...]:
        """Every park tag used in this world."""
        return tuple(sorted({t for p in self.parks.values() for t in p.tags}))


# ----------------------------------------------------------------------- behaviour


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
    subsidy_scale: float = bound(gt=0, doc="RMB")
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
    volatility: float = bound(ge=0, doc="yearly s.d. of log growth of a one-person firm")
    size_elasticity: float = bound(ge=0, lt=1, doc="s.d. ~ people ** -size_elasticity")
    financing_drag: float = bound(ge=0)
    exit_size: float = bound(gt=0, doc="talent agents; a target below this exits")
    max_size: float = bound(gt=0, doc="talent agents; a reflecting ceiling")


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
            _check_shares(f"{path}.tier_mix_{kind}", mix, "tier shares")

    def mix(self) -> np.ndarray:
        """Tier mix as a (kinds × tiers) array."""
        return np.stack([getattr(self, f"tier_mix_{k}").array() for k in FIRM_KINDS])


@dataclass(frozen=True, kw_only=True)
class Innovation:
    """R&D spending, the R&D stock, patents, certifications and pilot projects."""

    rd_intensity: ByKind
    rd_depreciation: float = bound(ge=0, le=1, doc="per year")
    rd_price_elasticity: float = bound(ge=0, doc="R&D spending ~ (1 - subsidy share) ** -this")
    patent_rate: float = bound(ge=0, doc="patents per month per sqrt(R&D stock in RMB m)")
    high_tech_hazard: float = bound(ge=0, le=1)
    specialised_hazard: float = bound(ge=0, le=1)
    specialised_max_employees: float = bound(gt=0)
    pilot_rate: ByKind
    leading_firm_employees: float = bound(gt=0)
    leading_application_pilots: int = bound(
        ge=1, doc="pilot projects an FI arm needs to count as leading in application"
    )


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
        size_class = np.searchsorted(np.asarray(self.size_classes), people, side="right") - 1
        age_class = np.searchsorted(np.asarray(self.age_classes), age_years, side="right") - 1
        annual = (
            np.asarray(self.annual_hazard)[np.maximum(size_class, 0)]
            * np.asarray(self.age_multiplier)[np.maximum(age_class, 0)]
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
    incentive_scale: float = bound(gt=0, doc="RMB")
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
    response_scale: float = bound(gt=0, doc="RMB")
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
    workstation_cost: float = bound(gt=0, doc="RMB per workstation a carrier grant adds")


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


# ------------------------------------------------------------------------ run


@dataclass(frozen=True, kw_only=True)
class RunOptions:
    """How a run is carried out and what it writes (not part of the model)."""

    progress: bool
    counterfactual: str
    write_talent_snapshots: bool
    report_months: tuple[str, ...]

    def check(self, path: str) -> None:
        """Report months must be real months; the counterfactual must be a known kind."""
        cf = self.counterfactual
        if cf not in ("off", "no_policy") and cf.count(".") != 1:
            raise ConfigError(
                f"{path}.counterfactual",
                cf,
                "must be off, no_policy, or <regime>.<instrument> (the run without it)",
            )
        for i, m in enumerate(self.report_months):
            try:
                Month.parse(m)
            except MonthError as e:
                raise ConfigError(f"{path}.report_months[{i}]", m, str(e)) from None


@dataclass(frozen=True, kw_only=True)
class Scenario:
    """One fully checked scenario: the seed, the world, the behaviour, the policy, the run.

    Attributes:
        seed: the run's seed; every random stream derives from it.
        world, behavior, run: the typed, checked parts of the config.
        regimes: the policy's regimes, parsed and checked once against the world.
        policy: the policy as configured (plain mappings; what ``config.yaml`` records).
        plain: the whole config as plain containers.
        policy_choice: the ``policy`` option Hydra chose, when known.
        national: national law in force whatever the policy (``clustersim.national``);
            None only for scenarios built by hand without it.

    """

    seed: int
    world: World
    behavior: Behavior
    policy: Mapping[str, Any]
    run: RunOptions
    plain: Mapping[str, Any]
    regimes: tuple[Regime, ...] = ()
    policy_choice: str | None = None
    national: NationalFramework | None = None

    @property
    def instrument_keys(self) -> tuple[str, ...]:
        """``regime.instrument`` of every instrument of the scenario's regimes."""
        return tuple(i.key for r in self.regimes for i in r.instruments)

    @property
    def policy_name(self) -> str:
        """The policy as chosen (``policy=all_three``), else the regimes joined by '+'."""
        if self.policy_choice:
            return self.policy_choice
        return "+".join(self.policy) if self.policy else "none"


def parse_policy(policy: Mapping[str, Any], world: World) -> tuple[Regime, ...]:
    """Parse the regimes against the world's parks, districts and tags (``PolicyConfigError``).

    Eligibility may name any park of the world, and any district or tag the world or the
    plans know (an instrument for a place the world lacks simply pays no one).
    """
    tags = sorted(set(world.tags) | set(PLAN_TAGS))
    districts = sorted(set(world.districts) | set(SHANGHAI_DISTRICTS))
    return tuple(parse_regimes(policy, world.park_ids, districts, tags))


def _policy_choice(cfg: Any) -> str | None:
    """The ``policy`` option Hydra chose (``all_three``), when the config or Hydra knows it."""
    from hydra.core.hydra_config import HydraConfig

    try:
        return str(cfg["hydra"]["runtime"]["choices"]["policy"])  # composed with its hydra node
    except (KeyError, TypeError):
        pass
    if HydraConfig.initialized():  # inside a clustersim-run job
        choice = HydraConfig.get().runtime.choices.get("policy")
        return None if choice is None else str(choice)
    return None


def load_scenario(cfg: Any) -> Scenario:
    """Check a composed config (DictConfig or mapping) and return the typed ``Scenario``."""
    data = to_plain(cfg)
    allowed = {"seed", "world", "behavior", "policy", "national", "run"}
    for key in data:
        if key not in allowed:
            raise ConfigError(key, data[key], f"unknown key; allowed: {', '.join(sorted(allowed))}")
    seed = data.get("seed")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ConfigError("seed", seed, "must be a whole number >= 0")
    world = build(World, data.get("world"), "world")
    behavior = build(Behavior, data.get("behavior"), "behavior")
    national = load_national(data.get("national"))
    run = build(RunOptions, data.get("run"), "run")
    for i, m in enumerate(run.report_months):
        month = Month.parse(m)
        if not world.start_month <= month <= world.end_month:
            raise ConfigError(
                f"run.report_months[{i}]",
                m,
                f"must lie within world.start..world.end ({world.start}..{world.end})",
            )
    policy = data.get("policy") or {}
    if not isinstance(policy, Mapping):
        raise ConfigError("policy", policy, "must be a mapping of regime name to instruments")
    regimes = parse_policy(policy, world)
    cf = run.counterfactual
    if cf not in ("off", "no_policy"):
        keys = [i.key for r in regimes for i in r.instruments]
        if cf not in keys:
            raise ConfigError(
                "run.counterfactual",
                cf,
                "must name an instrument of the scenario as <regime>.<instrument>; "
                f"available: {', '.join(sorted(keys)) or 'none (the scenario has no policy)'}",
            )
    return Scenario(
        seed=seed,
        world=world,
        behavior=behavior,
        policy=policy,
        run=run,
        plain=data,
        regimes=regimes,
        policy_choice=_policy_choice(cfg),
        national=national,
    )
