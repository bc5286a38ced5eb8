"""Reading the month's levers (``clustersim.incentives.Levers``) for a set of firms."""

from __future__ import annotations

import numpy as np


def for_firms(lever: np.ndarray | float, slots: np.ndarray) -> np.ndarray:
    """The value of ``lever`` for each firm of ``slots``.

    A lever is either one value per firm slot or a single value for every firm (no
    incentive acts on it): then an array of that value, of the lever's own type, as
    ``np.broadcast_to(lever, n_slots)[slots]`` gives, without its cost.
    """
    if np.ndim(lever) == 0:
        return np.full(len(slots), lever, dtype=np.asarray(lever).dtype)
    return np.asarray(lever)[slots]
