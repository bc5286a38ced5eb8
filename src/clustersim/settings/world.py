"""The world's settings (``conf/world/``): where and when, and who is there at the start.

Parks and districts, the months simulated, the initial population and the monthly inflow
of candidate firms and talent, and how many people one talent agent stands for. Each
field carries the bounds the model needs; ``World.check`` checks the relations between
fields. What a run of this size costs (memory, time) is checked by
``clustersim.settings.limits``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from clustersim.config import ConfigError, Problems, bound
from clustersim.months import Month, MonthError
from clustersim.settings.common import ByKind, check_shares
from clustersim.vocabulary import FIRM_KINDS, TALENT_TIERS


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
        check_shares(f"{path}.kind_shares", self.kind_shares.array(), "kind shares")


@dataclass(frozen=True, kw_only=True)
class Inflow:
    """Potential newcomers per month: candidates that consider Shanghai."""

    per_month: float = bound(gt=0, doc="mean of the monthly Poisson count")
    shares: tuple[float, ...]

    def check(self, path: str) -> None:
        """Shares (by kind or tier) must be a distribution."""
        check_shares(f"{path}.shares", np.asarray(self.shares, dtype=float), "shares")


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
    people_per_talent_agent: float = bound(
        ge=1, doc="people one talent agent stands for (an agent is at least one person)"
    )
    districts: tuple[str, ...]
    parks: dict[str, ParkSpec]
    initial: InitialPopulation
    firm_entrants: FirmInflow
    talent_arrivals: Inflow

    def check(self, path: str) -> None:
        """Months, parks, districts, shares; at this scale, some agents and room for them.

        Months exist and are ordered; parks name known districts; shares add up; the scaled
        world keeps at least one agent and its parks can seat its initial staff. Every
        problem is reported (``ConfigErrors`` when there are several).
        """
        problems = Problems()
        start = end = None
        try:
            start = Month.parse(self.start)
        except MonthError as e:
            problems.add(ConfigError(f"{path}.start", self.start, str(e)))
        try:
            end = Month.parse(self.end)
        except MonthError as e:
            problems.add(ConfigError(f"{path}.end", self.end, str(e)))
        if start is not None and end is not None and end < start:
            problems.add(
                ConfigError(f"{path}.end", self.end, f"must not be before start ({self.start})")
            )
        if not self.parks:
            problems.add(ConfigError(f"{path}.parks", {}, "at least one park is required"))
        for pid, park in self.parks.items():
            if park.district not in self.districts:
                problems.add(
                    ConfigError(
                        f"{path}.parks.{pid}.district",
                        park.district,
                        f"unknown district; allowed: {', '.join(self.districts)}",
                    )
                )
        if self.parks:
            shares = np.array([p.initial_share for p in self.parks.values()])
            with problems.check():
                check_shares(f"{path}.parks.*.initial_share", shares, "initial shares of parks")
        if len(self.firm_entrants.shares) != len(FIRM_KINDS):
            problems.add(
                ConfigError(
                    f"{path}.firm_entrants.shares",
                    list(self.firm_entrants.shares),
                    f"one share per firm kind ({', '.join(FIRM_KINDS)})",
                )
            )
        if len(self.talent_arrivals.shares) != len(TALENT_TIERS):
            problems.add(
                ConfigError(
                    f"{path}.talent_arrivals.shares",
                    list(self.talent_arrivals.shares),
                    f"one share per talent tier ({', '.join(TALENT_TIERS)})",
                )
            )
        with problems.check():
            self._check_scaled_population(path)
        problems.raise_any()

    def _check_scaled_population(self, path: str) -> None:
        """At this scale: one talent agent (and firm) at least, and seats for the staff.

        The scaled world keeps one talent agent (and one firm, if it starts with firms), and
        its parks can seat the people employed at the start. ``world.scale=1e-9`` would
        otherwise run an empty city and report zeros.
        """
        init = self.initial
        need = [init.talent_agents] + ([init.firms] if init.firms > 0 else [])
        smallest = 1.0 / min(need)
        if self.scale < smallest:
            raise ConfigError(
                f"{path}.scale",
                self.scale,
                f"too small: the scaled world would have {init.talent_agents * self.scale:.3g} "
                f"talent agents and {init.firms * self.scale:.3g} firms; must be >= "
                f"{smallest:.3g} (one agent of each) for this world",
            )
        if init.firms > 0 and self.parks:
            employed = (
                round(init.talent_agents * self.scale)
                * (1.0 - init.unemployment_rate)
                * self.people_per_talent_agent
            )
            seats = sum(p.capacity for p in self.parks.values()) * self.scale
            if seats < employed:
                raise ConfigError(
                    f"{path}.parks.*.capacity",
                    seats,
                    f"the parks seat {seats:.4g} people but the initial population employs "
                    f"{employed:.4g} (world.initial.talent_agents x (1 - unemployment_rate) x "
                    "people_per_talent_agent): raise capacities or lower the population",
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
