"""The typed schema of a scenario (world, behaviour, run) and the one place it is checked.

Each dataclass mirrors one part of ``conf/``; its fields are the model's parameters, with
the constraints the model needs (sizes and rates positive, shares within [0, 1], ...).
The values themselves, and where each comes from, live in the YAML files.

- ``world``: parks, districts, months, the initial population and inflows (``World``);
- ``behavior``: how agents decide (``Behavior`` and its parts);
- ``run``: how a run is carried out (``RunOptions``);
- ``limits``: what a run may cost on this machine (seed range, horizon, memory);
- ``scenario``: ``load_scenario`` (config -> checked ``Scenario`` or ``ConfigError``).

Everything is importable from here (``from clustersim.settings import World``).
"""

from clustersim.settings.behavior import (
    Agglomeration,
    Behavior,
    Entry,
    Exit,
    Growth,
    Hiring,
    Innovation,
    PolicyResponse,
    Relocation,
    Rents,
    TalentBehavior,
    WindDown,
)
from clustersim.settings.common import ByKind, ByTier, check_shares
from clustersim.settings.run import RunOptions
from clustersim.settings.scenario import Scenario, load_scenario, parse_policy
from clustersim.settings.world import FirmInflow, Inflow, InitialPopulation, ParkSpec, World

__all__ = [
    "Agglomeration",
    "Behavior",
    "ByKind",
    "ByTier",
    "Entry",
    "Exit",
    "FirmInflow",
    "Growth",
    "Hiring",
    "Inflow",
    "InitialPopulation",
    "Innovation",
    "ParkSpec",
    "PolicyResponse",
    "Relocation",
    "Rents",
    "RunOptions",
    "Scenario",
    "TalentBehavior",
    "WindDown",
    "World",
    "check_shares",
    "load_scenario",
    "parse_policy",
]
