"""Staff follow their firms: to a new park when it moves, out of a job when it closes.

Relocation (``rules.relocation``) and exit (``rules.exits``) change firms only; this rule
then updates their staff. Nothing changes who works where between the two, so the staff
of both the firms that moved and those that closed are found in one pass over the
talent table (a ``StaffLookup``). Those of a firm that moved and then closed go with it
and then lose their jobs, as if each step had updated them on its own: their last park is
the new one.

The same pass also finds the staff of the firms that may lay off staff in this month's
labour market (``rules.labour.shedding_firms``): between here and the layoffs, people
only leave jobs (they leave Shanghai; no one is hired), so those firms' staff then are
these, less the ones who have left since.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from clustersim.model import ClusterModel


class StaffLookup:
    """The staff of a set of firms, found in one pass over the talent table.

    Attributes:
        chosen: mask over firm slots, plus one last entry (never set) where an employer
            of -1 (none) looks: the firms looked up.
        staff: talent slots employed by any of them at the lookup, in slot order.
        hires: the talent table's count of hiring rounds at the lookup; while it is
            unchanged, no one has joined any firm since.

    """

    def __init__(self, model: ClusterModel, *firm_sets: np.ndarray) -> None:
        """Look up the staff of the firms of every one of ``firm_sets`` (slots)."""
        tal = model.talent
        self.chosen = np.zeros(model.firms.n_slots + 1, dtype=bool)
        for firms in firm_sets:
            self.chosen[firms] = True
        self.staff = self.chosen.take(tal.employer[: tal.in_use]).nonzero()[0]
        self.hires = tal.hires

    def staff_of(self, model: ClusterModel, firms: np.ndarray) -> np.ndarray:
        """Talent slots employed by any of ``firms`` now, in slot order (``staff_of``).

        Read from the lookup when it covers ``firms`` and no one was hired since: those
        of its staff still employed by one of them. Otherwise a new pass over the table.
        """
        tal = model.talent
        if tal.hires != self.hires or not self.chosen[firms].all():
            return model.staff_of(firms)
        chosen = np.zeros(len(self.chosen), dtype=bool)
        chosen[firms] = True
        return self.staff[chosen.take(tal.employer.take(self.staff))]


def follow_firms(
    model: ClusterModel, moved: np.ndarray, closed: np.ndarray, lookup: StaffLookup | None = None
) -> None:
    """The staff of the ``moved`` firms work in their new park; those of ``closed`` are released.

    ``moved``: slots of the firms that changed park this month (already in their new
    park); ``closed``: slots of the firms that closed this month. ``lookup``: a lookup
    of (at least) their staff made after the moves and closures, when the caller has one.
    """
    if len(moved) == 0 and len(closed) == 0:
        return
    tal = model.talent
    # their staff alone (the lookup also holds those of the firms that may shed staff)
    firms = np.concatenate([moved, closed])
    staff = model.staff_of(firms) if lookup is None else lookup.staff_of(model, firms)
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
