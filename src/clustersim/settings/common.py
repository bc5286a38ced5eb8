"""Values given once per firm kind or per talent tier, and the check of a set of shares.

World and behaviour settings both use them (a kind's share of entrants, a kind's drift).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

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
    """The fields ``names`` of ``settings`` as one read-only array (``kept_array``)."""
    return kept_array(settings, "array", lambda: [getattr(settings, k) for k in names])


def kept_array(settings: object, key: str, values: Callable[[], Any]) -> np.ndarray:
    """``np.array(values(), dtype=float64)``, read-only, made at the first call and kept.

    The rules ask frozen settings for the same arrays every month (a kind's drift, a
    tier's base wage, the exit hazard's classes), some twenty times a month; the
    settings never change, so the array is kept on the object, outside its fields
    (equality, hashing and copies of the settings are as before).
    """
    store: dict[str, np.ndarray] | None = settings.__dict__.get("_kept_arrays")
    if store is None:
        store = {}
        object.__setattr__(settings, "_kept_arrays", store)
    kept = store.get(key)
    if kept is None:
        kept = np.array(values(), dtype=np.float64)
        kept.flags.writeable = False
        store[key] = kept
    return kept


def check_shares(path: str, values: np.ndarray, what: str) -> None:
    """``values`` (at config path ``path``) must be a distribution: >= 0, summing to 1."""
    if (values < 0).any():
        raise ConfigError(path, values.tolist(), f"{what} must not be negative")
    if not np.isclose(values.sum(), 1.0, atol=1e-6):
        raise ConfigError(
            path, values.tolist(), f"{what} must sum to 1 (they sum to {values.sum():.4g})"
        )
