"""Parks: rents follow occupancy (ODD "Parks"). Carrier grants add capacity when granted."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from clustersim.incentives import Levers
    from clustersim.model import ClusterModel


def update_parks(model: ClusterModel, levers: Levers) -> None:
    """Move rents toward the occupancy target."""
    parks = model.parks
    r = model.behavior.rents
    occupancy = model.park_employees() / parks.capacity
    rent = parks.rent * np.exp(r.adjustment * (occupancy - r.target_occupancy))
    parks.rent = np.clip(rent, r.floor * parks.base_rent, r.ceiling * parks.base_rent)
