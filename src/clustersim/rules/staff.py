"""Staff follow their firms: to a new park when it moves, out of a job when it closes.

Relocation (``rules.relocation``) and exit (``rules.exits``) change firms only; this rule
then updates their staff. Nothing changes who works where between the two, so the staff
of both the firms that moved and those that closed are found in one pass over the
talent table. Those of a firm that moved and then closed go with it and then lose their
jobs, as if each step had updated them on its own: their last park is the new one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from clustersim.model import ClusterModel


def follow_firms(model: ClusterModel, moved: np.ndarray, closed: np.ndarray) -> None:
    """The staff of the ``moved`` firms work in their new park; those of ``closed`` are released.

    ``moved``: slots of the firms that changed park this month (already in their new
    park); ``closed``: slots of the firms that closed this month.
    """
    if len(moved) == 0 and len(closed) == 0:
        return
    tal = model.talent
    staff = model.staff_of(np.concatenate([moved, closed]))
    employer = tal.employer[staff]
    if len(moved):
        was_moved = np.zeros(model.firms.n_slots, dtype=bool)
        was_moved[moved] = True
        moving = staff[was_moved[employer]]
        tal.park[moving] = model.firms.park[tal.employer[moving]]
        tal.last_park[moving] = tal.park[moving]
    if len(closed):
        was_closed = np.zeros(model.firms.n_slots, dtype=bool)
        was_closed[closed] = True
        laid_off = staff[was_closed[employer]]
        tal.release(laid_off)
        model.tally["exit_jobs"] += len(laid_off) * model.people_per_talent_agent
