"""Wages: what a job of each tier pays at each park this month (ODD submodel "Wages")."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from clustersim.model import ClusterModel

#: Employment (people) at which a park pays exactly the base wage; wages rise with
#: local employment around it. Assumption: the size of a mid-sized named park.
REFERENCE_EMPLOYMENT = 10_000.0


def park_wages(model: ClusterModel, employees: np.ndarray) -> np.ndarray:
    """(tiers x parks) monthly wage, RMB: base wage times an agglomeration premium.

    The premium is (local employment / reference) ** elasticity, the urban-economics
    agglomeration wage elasticity (Combes, Duranton & Gobillon 2008 find ~0.03).
    """
    t = model.behavior.talent
    premium = (
        (employees + 1000.0) / (REFERENCE_EMPLOYMENT + 1000.0)
    ) ** t.agglomeration_wage_elasticity
    return t.base_wage.array()[:, None] * premium[None, :]
