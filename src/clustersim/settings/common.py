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
        """The values in the order of ``FIRM_KINDS`` (read-only; made once, then shared)."""
        return _values(self, FIRM_KINDS)


@dataclass(frozen=True, kw_only=True)
class ByTier:
    """One number per talent tier."""

    top_scientist: float
    senior_core: float
    professional: float
    junior: float

    def array(self) -> np.ndarray:
        """The values in the order of ``TALENT_TIERS`` (read-only; made once, then shared)."""
        return _values(self, TALENT_TIERS)


def _values(settings: ByKind | ByTier, names: tuple[str, ...]) -> np.ndarray:
    """The fields ``names`` of frozen ``settings`` as a read-only array, made at the first call.

    The rules ask for these arrays every month (a kind's drift, a tier's base wage), some
    twenty times; the settings never change, so the array is kept on the object (outside
    its fields: equality, hashing and copies of the settings are as before).
    """
    values = settings.__dict__.get("_array")
    if values is None:
        values = np.array([getattr(settings, k) for k in names], dtype=np.float64)
        values.flags.writeable = False
        object.__setattr__(settings, "_array", values)
    return values


def check_shares(path: str, values: np.ndarray, what: str) -> None:
    """``values`` (at config path ``path``) must be a distribution: >= 0, summing to 1."""
    if (values < 0).any():
        raise ConfigError(path, values.tolist(), f"{what} must not be negative")
    if not np.isclose(values.sum(), 1.0, atol=1e-6):
        raise ConfigError(
            path, values.tolist(), f"{what} must sum to 1 (they sum to {values.sum():.4g})"
        )
