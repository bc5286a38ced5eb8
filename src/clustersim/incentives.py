"""What the model asks of a policy, and what it tells it: levers in, events out.

Each month the model asks its ``Incentives`` for ``Levers``: the expected subsidy a new
firm of each kind would get at each park, the expected award a talent of each tier would
get at each park, and the multipliers that grants put on growth, R&D, certification,
pilots and leaving. Agents decide with those levers. At the end of the month the model
hands over the ``Events`` of the month (entries, patents, certifications, hires, ...) and
the incentives grant to eligible agents, within caps and budgets.

The base class is the world without plans: every lever neutral, nothing granted.
The plans' regimes (``clustersim.policy.engine``) subclass it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from clustersim.model import ClusterModel


@dataclass
class Levers:
    """Expected incentives and their multipliers for this month.

    Attributes:
        firm_offer: (kinds x parks) expected RMB value to a firm locating at each park.
        talent_offer: (tiers x parks) expected RMB award to a talent working at each park.
        rd_share: share of R&D spending the firm expects to get back (per firm slot or scalar).
        growth_bonus: addition to monthly growth drift (per firm slot or scalar).
        high_tech_multiplier: multiplies the chance of seeking high-tech certification.
        specialised_multiplier: same for the 专精特新 label.
        pilot_multiplier: multiplies the rate of pilot projects.
        financing_relief: reduces the financing constraint (per firm slot or scalar).
        leave_multiplier: multiplies talent's hazard of leaving (per talent slot or scalar).

    """

    firm_offer: np.ndarray
    talent_offer: np.ndarray
    rd_share: np.ndarray | float = 0.0
    growth_bonus: np.ndarray | float = 0.0
    high_tech_multiplier: np.ndarray | float = 1.0
    specialised_multiplier: np.ndarray | float = 1.0
    pilot_multiplier: np.ndarray | float = 1.0
    financing_relief: np.ndarray | float = 0.0
    leave_multiplier: np.ndarray | float = 1.0


@dataclass
class Events:
    """What happened this month that an instrument may reward. Arrays hold agent slots."""

    entries: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    relocations_in: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    patents: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    patent_counts: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    high_tech_new: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    specialised_new: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    pilots_new: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    hires: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    arrivals: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))


class Incentives:
    """No policy: neutral levers, no grants. Subclasses encode regimes."""

    def levers(self, model: ClusterModel) -> Levers:
        """This month's levers (called once at the start of the month)."""
        return Levers(
            firm_offer=np.zeros((model.n_kinds, len(model.parks))),
            talent_offer=np.zeros((model.n_tiers, len(model.parks))),
        )

    def grant(self, model: ClusterModel, events: Events) -> float:
        """Grant to this month's eligible agents; return the RMB granted (none here)."""
        return 0.0

    def spent_by(self, jurisdiction: str) -> float:
        """RMB granted so far by a jurisdiction."""
        return 0.0

    def spent_this_month(self) -> dict[str, float]:
        """RMB granted this month, by jurisdiction."""
        return {}

    def ledger_frame(self) -> pd.DataFrame | None:
        """Every grant made (None: no plan, no ledger)."""
        return None

    def spending_frame(self) -> pd.DataFrame | None:
        """RMB granted by jurisdiction x instrument x year (None: no plan)."""
        return None
