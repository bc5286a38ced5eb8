"""Firms: FinTech companies, arms of financial institutions and R&D/service institutions."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import mesa
import numpy as np
import pandas as pd

from clustersim.agents.columns import Column, ColumnTable, face_properties
from clustersim.vocabulary import FIRM_KINDS

if TYPE_CHECKING:
    from clustersim.model import ClusterModel


class FirmTable(ColumnTable):
    """State of every firm slot. A slot is a firm's stable id for the whole run.

    Slots are laid out in advance: the initial firms first, then every month's candidate
    entrants in arrival order. A candidate that chooses the outside option never becomes
    ``alive``. Because the number of candidates does not depend on the policy, a firm has
    the same slot, and draws the same shocks, in a run and in its counterfactual.

    The columns (``COLUMNS``, one array each) are the firm's state variables; those with
    an output name appear in the year-end snapshots and on the ``Firm`` face.

    Firms start and close only through ``start`` and ``close``, and their staff, wanted
    size and park change only through ``set_staff``, ``set_target`` and ``set_park``:
    ``alive``, ``staff``, ``target`` and ``park`` are read-only outside them, so that what
    a month asks for again and again is worked out once after each change: the slots of
    the operating firms (``live``, some twenty times a month), their kinds
    (``live_kind``) and parks (``live_park``), those of them older than a month
    (``established``), and their employment (``employees`` of ``live()`` or of
    ``established(t)``, some seven times a month).
    """

    ID = "firm_id"
    COLUMNS = (
        Column("alive", bool, False, "the firm operates in Shanghai now"),
        Column("entered", bool, False, "the firm has ever operated in Shanghai"),
        Column("kind", np.int64, 0, "kind of firm", out="kind", labels=FIRM_KINDS),
        Column(
            "park", np.int64, -1, "park it is located in", "park", labels="parks", district=True
        ),
        Column(
            "staff",
            np.int64,
            0,
            "cohorts (talent agents) employed now; shown as people in full-time"
            " equivalents, the last cohort working part-time (FirmTable.employees)",
            out="employees",
            people=True,
        ),
        Column(
            "target",
            np.float64,
            0.0,
            "the size the firm wants (a latent Gibrat process), people",
            out="target_employees",
            people=True,
        ),
        Column(
            "growth_plan",
            np.float64,
            0.0,
            "log growth of the target planned for the year plan_year (a Laplace draw each"
            " January or in the first month), spread evenly over its months",
        ),
        Column("plan_year", np.int64, -1, "calendar year of growth_plan (-1: none yet)"),
        Column(
            "winding_down",
            bool,
            False,
            "hit by closure but too large to vanish in a month: sheds staff monthly and"
            " closes once small (behavior.exit.wind_down)",
            out="winding_down",
        ),
        Column(
            "productivity", np.float64, 0.0, "firm-specific efficiency (log)", out="productivity"
        ),
        Column(
            "financing",
            np.float64,
            0.0,
            "financing constraint, 0 (none) .. 1 (fully constrained)",
            out="financing_constraint",
        ),
        Column(
            "sensitive",
            bool,
            False,
            "its location choices weigh expected subsidies (the but-for share)",
        ),
        Column(
            "rd_stock",
            np.float64,
            0.0,
            "knowledge stock from past R&D, RMB (depreciating)",
            out="rd_stock",
        ),
        Column("rd_spend", np.float64, 0.0, "R&D spending this month, RMB"),
        Column("wage_bill", np.float64, 0.0, "wages paid this month, RMB"),
        Column("patents", np.int64, 0, "patents granted so far", out="patents"),
        Column("high_tech", bool, False, "certified high-tech enterprise", out="high_tech"),
        Column(
            "specialised", bool, False, "certified 'specialised and innovative'", out="specialised"
        ),
        Column("pilots", np.int64, 0, "pilot/innovation projects so far", out="pilots"),
        Column(
            "born", np.int64, 0, "model month of entry (negative: older than the run)", out="born"
        ),
        Column("subsidies", np.float64, 0.0, "grants received so far, RMB", out="subsidies"),
        Column(
            "national_support",
            np.float64,
            0.0,
            "tax saved under national law so far (high-tech rate, R&D super-deduction), RMB;"
            " never a plan's grant (clustersim.national)",
            out="national_tax_saving",
        ),
        Column(
            "recent_grants",
            np.float64,
            0.0,
            "cash grants of recent months, RMB, fading by 1/12 a month (rules.support)",
        ),
    )

    alive: np.ndarray
    entered: np.ndarray
    kind: np.ndarray
    park: np.ndarray
    staff: np.ndarray
    target: np.ndarray
    growth_plan: np.ndarray
    plan_year: np.ndarray
    winding_down: np.ndarray
    productivity: np.ndarray
    financing: np.ndarray
    sensitive: np.ndarray
    rd_stock: np.ndarray
    rd_spend: np.ndarray
    wage_bill: np.ndarray
    patents: np.ndarray
    high_tech: np.ndarray
    specialised: np.ndarray
    pilots: np.ndarray
    born: np.ndarray
    subsidies: np.ndarray
    national_support: np.ndarray
    recent_grants: np.ndarray
    faces: list[Firm | None]

    #: Columns changed only through the table's own methods (read-only views outside).
    GUARDED = ("alive", "staff", "target", "park")

    def __init__(self, n_slots: int) -> None:
        """Empty slots for ``n_slots`` firms (initial firms and every month's candidates)."""
        super().__init__(n_slots)
        for name in self.GUARDED:  # the writable arrays, changed by the table's methods only
            setattr(self, f"_{name}", getattr(self, name))
        self._make_views()
        self._live: np.ndarray | None = None
        self._of_live: dict[Any, np.ndarray] = {}  # per set of operating firms
        # established(t) of each month asked, and their rows in live()
        self._established: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        self._people: dict[float, np.ndarray] = {}  # employees of live(), per cohort size

    def _make_views(self) -> None:
        for name in self.GUARDED:
            view = getattr(self, f"_{name}").view()
            view.flags.writeable = False
            setattr(self, name, view)

    def __getstate__(self) -> dict[str, Any]:
        """The table's state, for a copy or a pickle, without the read-only views.

        A copy (``copy.deepcopy``, pickle) copies each array on its own, so ``alive``
        would no longer be a view of ``_alive``; ``__setstate__`` makes it one again
        (and so for ``staff`` and ``target``).
        """
        state = self.__dict__.copy()
        for name in self.GUARDED:
            del state[name]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Restore the state and make the read-only views of the guarded columns again."""
        self.__dict__.update(state)
        self._make_views()

    def start(self, slots: np.ndarray) -> None:
        """The firms of ``slots`` start operating in Shanghai.

        Firms start in slot order (a month's entrants have the highest slots so far),
        so the operating firms are those before and then these: ``live()`` is extended
        instead of found again among all slots.
        """
        live = self._live
        self._alive[slots] = True
        self.entered[slots] = True
        self._of_live = {}
        self._established = {}
        self._people = {}
        if live is not None and _after(live, slots):
            self._live = _read_only(np.concatenate((live, slots)))
        else:
            self._live = None

    def close(self, slots: np.ndarray) -> None:
        """The firms of ``slots`` close (their staff are released by the caller).

        The operating firms' slots, kinds and employment are those kept less the rows of
        the closing firms (the others' do not change), instead of being worked out again.
        """
        live = self._live
        self._alive[slots] = False
        self._established = {}
        rows = _rows_in(live, slots) if live is not None else None
        if rows is None:
            self._live = None
            self._of_live = {}
            self._people = {}
            return
        keep = np.ones(len(live), dtype=bool)
        keep[rows] = False
        self._live = _read_only(live[keep])
        self._of_live = {k: _read_only(v[keep]) for k, v in self._of_live.items()}
        self._people = {w: _read_only(v[keep]) for w, v in self._people.items()}

    def set_staff(self, slots: np.ndarray | slice, cohorts: np.ndarray | int) -> None:
        """The firms of ``slots`` now employ ``cohorts`` talent agents each."""
        self._staff[slots] = cohorts
        self._sizes_changed(slots)

    def set_target(self, slots: np.ndarray | slice, size: np.ndarray | float) -> None:
        """The firms of ``slots`` now want ``size`` (people per cohort: ``target``)."""
        self._target[slots] = size
        self._sizes_changed(slots)

    def set_park(self, slots: np.ndarray, park: np.ndarray | int) -> None:
        """The firms of ``slots`` are now located in ``park``."""
        self._park[slots] = park
        if "park" in self._of_live and self._alive[slots].any():
            del self._of_live["park"]

    def _sizes_changed(self, slots: np.ndarray | slice) -> None:
        # the operating firms' employment changes if any of them changed (not if only
        # closed firms did: the staff of firms closing this month are set to 0)
        if self._people and self._alive[slots].any():
            self._people = {}

    def live(self) -> np.ndarray:
        """Slots of the firms operating now, in slot order (read-only: shared until a change)."""
        if self._live is None:
            self._live = self._alive.nonzero()[0]
            self._live.flags.writeable = False
        return self._live

    def live_kind(self) -> np.ndarray:
        """Kinds of the operating firms, as ``kind[live()]`` (read-only, shared until a change).

        A firm's kind is set when it starts and never changes, so this changes only when
        firms start or close.
        """
        kind = self._of_live.get("kind")
        if kind is None:
            kind = self._of_live["kind"] = self.kind[self.live()]
            kind.flags.writeable = False
        return kind

    def live_park(self) -> np.ndarray:
        """Parks of the operating firms, as ``park[live()]`` (read-only, shared until a change).

        Park employment, firm counts and the monthly record ask for it some six times a
        month; it changes only when firms start, close or move (``set_park``).
        """
        park = self._of_live.get("park")
        if park is None:
            park = self._of_live["park"] = self.park[self.live()]
            park.flags.writeable = False
        return park

    def established(self, month_index: int) -> np.ndarray:
        """Slots of the operating firms that started before model month ``month_index``.

        ``live()`` less the month's entrants, in slot order (read-only, shared until a
        change): the firms that grow, may move and may close this month.
        """
        kept = self._established.get(month_index)
        if kept is None:
            live = self.live()
            rows = (self.born[live] < month_index).nonzero()[0]  # their rows in live()
            kept = self._established[month_index] = (live[rows], rows)
            kept[0].flags.writeable = False
        return kept[0]

    def employees(self, people_per_agent: float, slots: np.ndarray | None = None) -> np.ndarray:
        """People employed, in full-time equivalents, of every slot (or of ``slots``).

        A talent agent stands for a cohort of ``people_per_agent`` people; a firm hires
        whole cohorts (as many as its wanted size needs, rounded up) and employs all of
        them but its last, which works as many people as the wanted size still asks for.
        So employment moves continuously with the wanted size instead of in blocks of a
        cohort, and never exceeds the people its cohorts hold: it lies between
        (staff - 1) and staff cohorts' worth of people.
        """
        live = self._live
        if slots is not None and slots is live:  # worked out once per change (read-only)
            people = self._people.get(people_per_agent)
            if people is None:
                people = self._people[people_per_agent] = self._employees(people_per_agent, live)
                people.flags.writeable = False
            return people
        for established, rows in self._established.values():
            if slots is established:  # their rows of the operating firms' employment
                return self.employees(people_per_agent, self.live())[rows]
        return self._employees(people_per_agent, slots)

    def _employees(self, people_per_agent: float, slots: np.ndarray | None) -> np.ndarray:
        staff = self.staff if slots is None else self.staff[slots]
        target = self.target if slots is None else self.target[slots]
        full = staff * people_per_agent
        # np.clip(target * w, full - w, full), without np.clip's slow argument handling,
        # in place: the same numbers with fewer temporary arrays
        within = target * people_per_agent
        np.maximum(within, full - people_per_agent, out=within)
        np.minimum(within, full, out=within)
        within[staff <= 0] = 0.0
        return within

    def output(self, column: Column, slots: np.ndarray, people_per_agent: float) -> np.ndarray:
        """Outputs as stored, except employees: full-time equivalents (``employees``)."""
        if column.name == "staff":
            return self.employees(people_per_agent, slots)
        return super().output(column, slots, people_per_agent)


@face_properties("firms", FirmTable.COLUMNS)
class Firm(mesa.Agent):
    """A firm as a Mesa agent: a face on one slot of the ``FirmTable``.

    Every attribute reads the table, so it is always current: one per output column of
    ``FirmTable.COLUMNS`` (``kind``, ``park``, ``employees``, ``patents``, ...), plus
    ``district``, ``certifications`` and ``age_months``; ``history()`` returns the firm's
    year-end snapshots so far.
    """

    def __init__(self, model: ClusterModel, slot: int) -> None:
        super().__init__(model)
        self.slot = slot

    @property
    def firm_id(self) -> int:
        """Stable id of the firm (its slot), the same in a run and its counterfactual."""
        return self.slot

    @property
    def district(self) -> str:
        """District of its park."""
        parks = self.model.parks
        return parks.districts[parks.district[self.model.firms.park[self.slot]]]

    @property
    def certifications(self) -> dict[str, bool]:
        """High-tech and specialised-and-innovative certifications."""
        f = self.model.firms
        return {
            "high_tech": bool(f.high_tech[self.slot]),
            "specialised": bool(f.specialised[self.slot]),
        }

    @property
    def age_months(self) -> int:
        """Months since entry."""
        return int(self.model.month_index - self.model.firms.born[self.slot])

    def history(self) -> pd.DataFrame:
        """Year-end snapshots of this firm so far (one row per year)."""
        return self.model.firm_history(self.slot)

    def __repr__(self) -> str:
        return (
            f"Firm(id={self.slot}, kind={self.kind!r}, park={self.park!r}, "
            f"employees={self.employees:.0f}, patents={self.patents})"
        )


def _read_only(a: np.ndarray) -> np.ndarray:
    a.flags.writeable = False
    return a


def _after(live: np.ndarray, slots: np.ndarray) -> bool:
    """True if ``slots`` (whole numbers) rise strictly and all come after ``live``'s."""
    slots = np.asarray(slots)
    if slots.dtype.kind not in "iu" or slots.ndim != 1:
        return False
    if len(slots) == 0:
        return True
    if len(live) and slots[0] <= live[-1]:
        return False
    return bool((slots[1:] > slots[:-1]).all())


def _rows_in(live: np.ndarray, slots: np.ndarray) -> np.ndarray | None:
    """The rows of ``slots`` in ``live`` (sorted), or None if one is not there."""
    slots = np.asarray(slots)
    if slots.dtype.kind not in "iu" or slots.ndim != 1:
        return None
    rows = np.searchsorted(live, slots)
    if len(rows) and (rows.max() >= len(live) or (live[rows] != slots).any()):
        return None
    return rows
