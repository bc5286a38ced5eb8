"""Parks: the places (parks, building clusters, incubators) where FinTech firms locate."""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa
import numpy as np

from clustersim.agents.columns import Column, ColumnTable, face_properties
from clustersim.settings import World
from clustersim.vocabulary import FIRM_KINDS

if TYPE_CHECKING:
    from clustersim.model import ClusterModel


class ParkTable(ColumnTable):
    """State of all parks, one slot per park in the world's order.

    The per-park state variables are declared once in ``COLUMNS`` (as for firms and
    talent); those with an output name are also read-only attributes of the ``Park`` face.
    Besides the columns:

    Attributes:
        ids: park ids, as in ``conf/world``.
        names: display names.
        districts: the world's district names (``district`` indexes into them).
        affinity: (kinds x parks) fixed preference of each firm kind for each park.
        tags: the set of tags of each park (e.g. ``huangpu_core_zone``).

    """

    ID = "park"
    COLUMNS = (
        Column("district", np.int64, -1, "index into ``districts`` of the park's district"),
        Column(
            "capacity",
            np.float64,
            0.0,
            "workstations (people) the park can host; carrier subsidies add to it",
            out="capacity",
        ),
        Column(
            "base_rent",
            np.float64,
            0.0,
            "office rent at the start, RMB per m² per day",
            out="base_rent",
        ),
        Column(
            "rent",
            np.float64,
            0.0,
            "current rent, RMB per m² per day, responding to occupancy",
            out="rent",
        ),
        Column("amenity", np.float64, 0.0, "amenity and prestige index", out="amenity"),
        Column("compute", np.float64, 0.0, "compute capacity, PFLOPS", out="compute"),
        Column("lon", np.float64, 0.0, "longitude, for maps", out="lon"),
        Column("lat", np.float64, 0.0, "latitude, for maps", out="lat"),
        Column(
            "initial_share",
            np.float64,
            0.0,
            "share of the initial firms located here",
            out="initial_share",
        ),
    )

    district: np.ndarray
    capacity: np.ndarray
    base_rent: np.ndarray
    rent: np.ndarray
    amenity: np.ndarray
    compute: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    initial_share: np.ndarray

    def __init__(self, world: World) -> None:
        parks = list(world.parks.values())
        super().__init__(len(parks))
        self.ids: tuple[str, ...] = world.park_ids
        self.names = [p.name for p in parks]
        self.districts: tuple[str, ...] = world.districts
        self.district[:] = [world.districts.index(p.district) for p in parks]
        for name in ("capacity", "base_rent", "amenity", "compute", "lon", "lat", "initial_share"):
            getattr(self, name)[:] = [getattr(p, name) for p in parks]
        self.capacity *= world.scale
        self.rent[:] = self.base_rent
        self.affinity = np.zeros((len(FIRM_KINDS), len(parks)))
        for j, p in enumerate(parks):
            if p.kind_affinity is not None:
                self.affinity[:, j] = p.kind_affinity.array()
        self.tags: list[frozenset[str]] = [frozenset(p.tags) for p in parks]

    def __len__(self) -> int:
        return len(self.ids)

    def present(self) -> np.ndarray:
        """Every park (parks never close)."""
        return np.arange(self.n_slots)

    def index(self, park_id: str) -> int:
        """Position of a park id in every per-park array."""
        return self.ids.index(park_id)

    def with_tag(self, tag: str) -> np.ndarray:
        """Boolean mask of the parks that carry ``tag``."""
        return np.array([tag in t for t in self.tags])


@face_properties("parks", ParkTable.COLUMNS)
class Park(mesa.Agent):
    """A park as a Mesa agent: a face on one column of the ``ParkTable``.

    Attributes are read live from the model's tables: one per output column of
    ``ParkTable.COLUMNS`` (``capacity``, ``rent``, ``amenity``, ...), plus ``district``;
    ``firms`` and ``employees`` count what is located here now; ``rent`` and
    ``occupancy`` are this month's.
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
