"""Values given once per firm kind or per talent tier, and the check of a set of shares.

World and behaviour settings both use them (a kind's share of entrants, a kind's drift).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from clustersim.config import ConfigError
from clustersim.vocabulary import FIRM_KINDS, TALENT_TIERS


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


def check_shares(path: str, values: np.ndarray, what: str) -> None:
    """``values`` (at config path ``path``) must be a distribution: >= 0, summing to 1."""
    if (values < 0).any():
        raise ConfigError(path, values.tolist(), f"{what} must not be negative")
    if not np.isclose(values.sum(), 1.0, atol=1e-6):
        raise ConfigError(
            path, values.tolist(), f"{what} must sum to 1 (they sum to {values.sum():.4g})"
        )
