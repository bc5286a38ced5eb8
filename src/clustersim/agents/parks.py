"""Parks: the places (parks, building clusters, incubators) where FinTech firms locate."""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa
import numpy as np

from clustersim.settings import World
from clustersim.vocabulary import FIRM_KINDS

if TYPE_CHECKING:
    from clustersim.model import ClusterModel


class ParkTable:
    """State of all parks, one array entry per park in the world's order.

    Attributes:
        ids: park ids, as in ``conf/world``.
        names: display names.
        district: index into ``districts`` of each park's district.
        districts: the world's district names.
        capacity: workstations (people) the park can host; carrier subsidies add to it.
        base_rent: office rent at the start, RMB per m² per day.
        rent: current rent, responding to occupancy.
        amenity: amenity and prestige index.
        compute: compute capacity, PFLOPS.
        lon, lat: coordinates, for maps.
        affinity: (kinds x parks) fixed preference of each firm kind for each park.
        tags: the set of tags of each park (e.g. ``huangpu_core_zone``).

    """

    def __init__(self, world: World) -> None:
        parks = list(world.parks.values())
        self.ids: tuple[str, ...] = world.park_ids
        self.names = [p.name for p in parks]
        self.districts: tuple[str, ...] = world.districts
        self.district = np.array([world.districts.index(p.district) for p in parks], np.int64)
        self.capacity = np.array([p.capacity for p in parks]) * world.scale
        self.base_rent = np.array([p.base_rent for p in parks], dtype=np.float64)
        self.rent = self.base_rent.copy()
        self.amenity = np.array([p.amenity for p in parks], dtype=np.float64)
        self.compute = np.array([p.compute for p in parks], dtype=np.float64)
        self.lon = np.array([p.lon for p in parks], dtype=np.float64)
        self.lat = np.array([p.lat for p in parks], dtype=np.float64)
        self.initial_share = np.array([p.initial_share for p in parks], dtype=np.float64)
        self.affinity = np.zeros((len(FIRM_KINDS), len(parks)))
        for j, p in enumerate(parks):
            if p.kind_affinity is not None:
                self.affinity[:, j] = p.kind_affinity.array()
        self.tags: list[frozenset[str]] = [frozenset(p.tags) for p in parks]

    def __len__(self) -> int:
        return len(self.ids)

    def index(self, park_id: str) -> int:
        """Position of a park id in every per-park array."""
        return self.ids.index(park_id)

    def with_tag(self, tag: str) -> np.ndarray:
        """Boolean mask of the parks that carry ``tag``."""
        return np.array([tag in t for t in self.tags])


class Park(mesa.Agent):
    """A park as a Mesa agent: a face on one column of the ``ParkTable``.

    Attributes are read live from the model's tables: ``firms`` and ``employees`` count
    what is located here now; ``rent`` and ``occupancy`` are this month's.
    """

    def __init__(self, model: ClusterModel, slot: int) -> None:
        super().__init__(model)
        self.slot = slot

    @property
    def park_id(self) -> str:
        """The park's id in ``conf/world``."""
        return self.model.parks.ids[self.slot]

    @property
    def name(self) -> str:
        """Display name."""
        return self.model.parks.names[self.slot]

    @property
    def district(self) -> str:
        """The district the park lies in."""
        return self.model.parks.districts[self.model.parks.district[self.slot]]

    @property
    def capacity(self) -> float:
        """Workstations (people) the park can host."""
        return float(self.model.parks.capacity[self.slot])

    @property
    def rent(self) -> float:
        """Current rent, RMB per m² per day."""
        return float(self.model.parks.rent[self.slot])

    @property
    def firms(self) -> int:
        """Firms located here now."""
        f = self.model.firms
        return int(np.count_nonzero(f.alive & (f.park == self.slot)))

    @property
    def employees(self) -> float:
        """People employed here now."""
        return float(self.model.park_employees()[self.slot])

    @property
    def occupancy(self) -> float:
        """Employees as a share of capacity."""
        return self.employees / self.capacity

    def __repr__(self) -> str:
        return f"Park({self.park_id!r}, firms={self.firms}, employees={self.employees:.0f})"
