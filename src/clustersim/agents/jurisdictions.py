"""Jurisdictions: the municipality and the districts that run subsidy regimes."""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa

if TYPE_CHECKING:
    from clustersim.model import ClusterModel


class Jurisdiction(mesa.Agent):
    """A government that runs regimes and grants within caps and budgets.

    Attributes:
        name: shanghai, pudong or huangpu.
        regimes: names of the regimes it runs in this scenario (none before the plans).

    """

    def __init__(self, model: ClusterModel, name: str, regimes: list[str]) -> None:
        super().__init__(model)
        self.name = name
        self.regimes = regimes

    @property
    def spent(self) -> float:
        """Total granted so far, RMB."""
        return float(self.model.incentives.spent_by(self.name))

    def __repr__(self) -> str:
        return f"Jurisdiction({self.name!r}, regimes={self.regimes}, spent={self.spent:,.0f})"
