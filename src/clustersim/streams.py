"""Named random streams, one per process and month, all derived from the run's seed.

Every rule draws from its own stream, seeded by (seed, stream, month), and draws arrays
indexed by agent slots whose number does not depend on the policy. So a run and its
counterfactual (the same seed without a regime) see the same shocks for the same agents:
common random numbers, the policy being the only difference between the two.
"""

from __future__ import annotations

import numpy as np

#: Stream names and their fixed ids. Append new streams at the end; never renumber.
STREAM_IDS: dict[str, int] = {
    name: i
    for i, name in enumerate(
        (
            "setup",
            "firm_inflow",
            "entry",
            "growth",
            "innovation",
            "relocation",
            "exit",
            "talent_inflow",
            "arrival",
            "leaving",
            "search",
            "grants",
        )
    )
}


class Streams:
    """Hands out the generator of a named stream for a given month."""

    def __init__(self, seed: int) -> None:
        self.seed = int(seed)

    def at(self, name: str, month_index: int) -> np.random.Generator:
        """The generator of stream ``name`` at model month ``month_index`` (0 = start)."""
        return np.random.default_rng([self.seed, STREAM_IDS[name], int(month_index) + 1])
