"""Parks: rents follow occupancy (ODD "Parks"). Carrier grants add capacity when granted."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from clustersim.incentives import Levers
    from clustersim.model import ClusterModel


def update_parks(
    model: ClusterModel, levers: Levers, park_people: np.ndarray | None = None
) -> None:
    """Move rents toward the occupancy target.

    ``park_people``: the people employed in each park now, when the caller has them.
    """
    parks = model.parks
    r = model.behavior.rents
    if park_people is None:
        park_people = model.park_employees()
    occupancy = park_people / parks.capacity
    rent = parks.rent * np.exp(r.adjustment * (occupancy - r.target_occupancy))
    parks.rent = np.clip(rent, r.floor * parks.base_rent, r.ceiling * parks.base_rent)
