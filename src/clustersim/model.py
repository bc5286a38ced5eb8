"""The cluster model: the monthly schedule that ties agents, rules and incentives together.

One ``step`` is one month (ODD: Process overview and scheduling):

1. calendar: the incentives in force this month give their levers;
2. parks: capacity granted to carriers is added, rents follow occupancy;
3. entry: candidate firms choose a park or the outside option;
4. growth: operating firms update the size they want;
5. innovation: R&D, patents, certifications, pilot projects;
6. relocation: reviewing firms may move to another park;
7. exit: firms close; the staff of the firms that moved go with them, those of the
   firms that closed lose their jobs;
8. labour market: talent leaves, arrives, is laid off, searches and is hired;
9. grants: jurisdictions grant to eligible agents within caps and budgets, and the
   grants act on their recipients (financing, residency, housing, park capacity);
10. record: the month's outcomes; at each year end, a firm snapshot.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import mesa
import numpy as np
import pandas as pd

from clustersim.agents import Firm, FirmTable, Jurisdiction, Park, ParkTable, Talent, TalentTable
from clustersim.agents.columns import Snapshot
from clustersim.datacollector import MonthlyDataCollector
from clustersim.incentives import Events, Incentives, NoIncentives
from clustersim.metrics import MonthlyRecorder, new_tally
from clustersim.months import Month, month_range
from clustersim.national import apply_national
from clustersim.rules.entry import enter_firms
from clustersim.rules.exits import exit_firms
from clustersim.rules.growth import grow_firms
from clustersim.rules.initial import populate
from clustersim.rules.innovation import innovate
from clustersim.rules.labour import MarketState, run_labour_market, shedding_firms, wanted_staff
from clustersim.rules.relocation import relocate_firms
from clustersim.rules.rents import update_parks
from clustersim.rules.staff import StaffLookup, follow_firms
from clustersim.rules.support import apply_grants
from clustersim.settings import Scenario
from clustersim.streams import Streams
from clustersim.vocabulary import FIRM_KINDS, JURISDICTIONS, TALENT_TIERS


class ClusterModel(mesa.Model):
    """Shanghai's FinTech cluster, month by month, under a set of incentives.

    Attributes:
        cluster_scenario: the checked ``clustersim.settings.Scenario`` (world, behaviour,
            policy, seed). Not ``model.scenario``: Mesa 3.5 reserves that name for its
            own (experimental) ``mesa.experimental.scenarios.Scenario``.
        calendar: the simulated months, start to end.
        month_index: the month being simulated next (0 = the start month).
        parks, firms, talent: the agent tables (state in columns).
        incentives: the policy in force (``NoIncentives()``: no plan).
        streams: the named random streams, all derived from the seed; every draw of the
            model comes from them. Mesa's ``rng``/``random`` are seeded with the same seed
            (``Model(rng=seed)``) but no rule draws from them (``clustersim.streams``).

    """

    def __init__(
        self,
        scenario: Scenario | None = None,
        incentives: Incentives | None = None,
        *,
        overrides: Sequence[str] = (),
        seed: int | None = None,
        rng: Any = None,
        streams: Streams | None = None,
        **parameters: Any,
    ) -> None:
        """Build the model of a checked ``scenario``, or Mesa-style from keywords.

        ``ClusterModel(scenario, incentives)`` is the model of a scenario already checked.
        Without a scenario, the keywords are the command line's overrides
        (``ClusterModel(world="toy", seed=3)`` is ``clustersim-run world=toy seed=3``;
        see ``clustersim.parameters``), which is how ``mesa.batch_run`` and SolaraViz
        build it. ``model.overrides`` keeps the overrides that make the same run (empty
        when the model was given a Scenario). ``streams``: the random streams (by
        default the model's own, made from the scenario's seed).
        """
        if not isinstance(scenario, Scenario):
            from clustersim.parameters import model_arguments

            scenario, incentives, overrides = model_arguments(
                scenario, incentives, overrides, seed, rng, parameters
            )
        elif overrides or seed is not None or rng is not None or parameters:
            raise TypeError("give a checked Scenario or keyword parameters, not both")
        self.overrides: list[str] = list(overrides)
        super().__init__(rng=scenario.seed)
        self.cluster_scenario = scenario
        self.world = scenario.world
        self.behavior = scenario.behavior
        self.national = scenario.national  # national law, in force whatever the policy
        self.incentives = incentives if incentives is not None else NoIncentives()
        self.calendar: list[Month] = month_range(self.world.start_month, self.world.end_month)
        self.n_months = len(self.calendar)
        self.month_index = 0
        self.n_kinds, self.n_tiers = len(FIRM_KINDS), len(TALENT_TIERS)
        self.people_per_talent_agent = self.world.people_per_talent_agent
        if streams is not None and streams.seed != scenario.seed:
            raise ValueError(f"streams of seed {streams.seed} for a run of seed {scenario.seed}")
        self.streams = streams if streams is not None else Streams(scenario.seed)

        self._lay_out_slots()
        self.parks = ParkTable(self.world)
        self.firms = FirmTable(self.firm_slot_start[-1])
        self.talent = TalentTable(self.talent_slot_start[-1], self.firms.n_slots)
        self.tally = new_tally()
        populate(self)
        self.talent.recount()
        self.labour_market_state = MarketState.of(self)
        alive = np.count_nonzero(self.talent.alive)
        self.initial_people = float(alive * self.people_per_talent_agent)
        self.arrived_people = 0.0
        self.left_people = 0.0
        self._moves: list[tuple[np.ndarray, ...]] = []
        self._firm_snapshots: list[Snapshot] = []
        self._talent_snapshots: list[Snapshot] = []

        self.park_agents = [Park(self, p) for p in range(len(self.parks))]
        regimes_by_issuer = self.incentives.regimes_by_issuer()
        self.jurisdictions = {
            j: Jurisdiction(self, j, regimes_by_issuer.get(j, [])) for j in JURISDICTIONS
        }
        self.recorder = MonthlyRecorder(self)

    # ----------------------------------------------------------------- slots

    def _lay_out_slots(self) -> None:
        """Draw how many candidates arrive each month (policy-independent) and give slots.

        Firm slot ranges: initial firms, then month 0's candidates, month 1's, ... The
        same for talent. ``*_slot_start[t]`` is the first slot of month t's candidates.
        """
        w = self.world
        scale = w.scale
        self.n_initial_firms = round(w.initial.firms * scale)
        self.n_initial_talent = round(w.initial.talent_agents * scale)
        firm_counts = np.array(
            [
                self.streams.at("firm_inflow", t).poisson(w.firm_entrants.per_month * scale)
                for t in range(self.n_months)
            ]
        )
        talent_counts = np.array(
            [
                self.streams.at("talent_inflow", t).poisson(w.talent_arrivals.per_month * scale)
                for t in range(self.n_months)
            ]
        )
        self.firm_slot_start = self.n_initial_firms + np.r_[0, np.cumsum(firm_counts)]
        self.talent_slot_start = self.n_initial_talent + np.r_[0, np.cumsum(talent_counts)]

    def firm_candidates(self, t: int) -> np.ndarray:
        """Slots of month t's candidate firms."""
        return np.arange(self.firm_slot_start[t], self.firm_slot_start[t + 1])

    def talent_candidates(self, t: int) -> np.ndarray:
        """Slots of month t's candidate talent cohorts."""
        return np.arange(self.talent_slot_start[t], self.talent_slot_start[t + 1])

    def firm_slots_through(self, t: int) -> int:
        """Number of firm slots that exist by the end of month t's arrivals."""
        return int(self.firm_slot_start[t + 1])

    def talent_slots_through(self, t: int) -> int:
        """Number of talent slots that exist by the end of month t's arrivals."""
        return int(self.talent_slot_start[t + 1])

    # ----------------------------------------------------------------- faces

    @property
    def agents(self) -> mesa.agent.AgentSet:
        """Every agent (Mesa's set), with the firm and talent faces brought up to date."""
        self.sync_faces()
        return super().agents

    @property
    def agents_by_type(self) -> dict[type, mesa.agent.AgentSet]:
        """Mesa's agent sets by type, with the firm and talent faces brought up to date."""
        self.sync_faces()
        return super().agents_by_type

    @property
    def agent_types(self) -> list[type]:
        """The agent types registered with the model (faces brought up to date first)."""
        self.sync_faces()
        return super().agent_types

    def sync_faces(self) -> None:
        """Give each operating firm and each talent cohort in Shanghai its Mesa face.

        A face (``Firm``, ``Talent``) is a real ``mesa.Agent`` that reads its slot of the
        table. Faces are made when someone looks at the model's agents, not as agents come
        and go: the rules work on the tables, and registering or removing a Mesa agent costs
        3-5 µs, which done every month was 15% of a default run and 25% of a 10x one. The
        result is the same: at any moment you look, ``model.agents_by_type[Firm]`` holds
        exactly the operating firms. A face's ``unique_id`` is Mesa's registration counter
        and depends on when you looked; the stable ids are ``firm_id`` and ``talent_id``.
        """
        if not hasattr(self, "firms"):  # Mesa's own __init__, before the tables exist
            return
        self._sync(Firm, self.firms.faces, self.firms.alive)
        self._sync(Talent, self.talent.faces, self.talent.alive)

    def _sync(self, agent_type: type[Firm] | type[Talent], faces: list, alive: np.ndarray) -> None:
        has_face = np.fromiter((f is not None for f in faces), dtype=bool, count=len(faces))
        for s in (has_face & ~alive).nonzero()[0].tolist():
            faces[s].remove()
            faces[s] = None
        for s in (alive & ~has_face).nonzero()[0].tolist():
            faces[s] = agent_type(self, s)

    # ----------------------------------------------------------- aggregates

    def park_employees(self) -> np.ndarray:
        """People employed in each park now (full-time equivalents)."""
        f = self.firms
        live = f.live()
        people = f.employees(self.people_per_talent_agent, live)
        return np.bincount(f.live_park(), weights=people, minlength=len(self.parks))

    def staff_of(self, firm_slots: np.ndarray) -> np.ndarray:
        """Talent slots employed by any of ``firm_slots``, in slot order."""
        # one extra entry, never chosen, is where an employer of -1 (none) looks
        chosen = np.zeros(self.firms.n_slots + 1, dtype=bool)
        chosen[firm_slots] = True
        tal = self.talent
        return chosen[tal.employer[: tal.in_use]].nonzero()[0]

    def record_relocations(
        self, slots: np.ndarray, origin: np.ndarray, dest: np.ndarray, people: np.ndarray
    ) -> None:
        """Keep a row per move: which firm, when, from where to where, with how many people."""
        month = np.full(len(slots), self.month_index)
        self._moves.append((month, slots.copy(), origin.copy(), dest.copy(), people.astype(float)))

    # -------------------------------------------------------------- schedule

    @property
    def month(self) -> Month:
        """The month being simulated (or the last one, once the run is over)."""
        return self.calendar[min(self.month_index, self.n_months - 1)]

    def step(self) -> None:
        """Simulate one month (see the module docstring for the order)."""
        if self.month_index >= self.n_months:
            self.running = False
            return
        self.tally = new_tally()
        events = Events()
        levers = self.incentives.levers(self)
        # the same before and after rents move: firms and their staff are as they were
        park_people = self.park_employees()
        update_parks(self, levers, park_people)
        enter_firms(self, levers, events, park_people)
        grow_firms(self, levers)
        innovate(self, levers, events)
        moved = relocate_firms(self, levers, events)
        closed = exit_firms(self)
        # the firms are as the labour market will find them: what they want, who sheds
        # staff; one pass over the talent table finds the staff of those that moved,
        # closed or may shed staff (rules.staff.StaffLookup)
        want = wanted_staff(self)
        lookup = StaffLookup(self, moved, closed, shedding_firms(self, want))
        follow_firms(self, moved, closed, lookup)
        run_labour_market(self, levers, events, want, lookup)
        apply_grants(self, self.incentives.grant(self, events))
        apply_national(self)
        granted = self.incentives.spent_this_month()
        self.arrived_people += self.tally["arrivals"]
        self.left_people += self.tally["departures"]
        self.recorder.record(self, granted)
        month = self.calendar[self.month_index]
        if month.month == 12 or self.month_index == self.n_months - 1:
            w = self.people_per_talent_agent
            self._firm_snapshots.append(self.firms.snapshot_later(str(month), self.parks, w))
            self._talent_snapshots.append(self.talent.snapshot_later(str(month), self.parks, w))
        self.month_index += 1
        if self.month_index >= self.n_months:
            self.running = False

    def run(self, progress: bool = False) -> ClusterModel:
        """Run every remaining month; optionally with a progress bar on stderr."""
        if progress:
            from tqdm import tqdm

            with tqdm(total=self.n_months - self.month_index, unit="month", leave=False) as bar:
                while self.running:
                    self.step()
                    bar.update(1)
                    bar.set_description(str(self.month))
        else:
            while self.running:
                self.step()
        return self

    # ---------------------------------------------------------------- tables

    @property
    def firm_snapshots(self) -> list[pd.DataFrame]:
        """Year-end snapshots of the firm table so far, one table per year end."""
        return [s.frame() for s in self._firm_snapshots]

    @property
    def talent_snapshots(self) -> list[pd.DataFrame]:
        """Year-end snapshots of the talent table so far, one table per year end."""
        return [s.frame() for s in self._talent_snapshots]

    @property
    def datacollector(self) -> MonthlyDataCollector:
        """Mesa's DataCollector interface over the monthly outcomes (batch_run, plots)."""
        return MonthlyDataCollector(self)

    def monthly(self) -> pd.DataFrame:
        """The monthly outcomes recorded so far."""
        return self.recorder.frame(self.month_index)

    def firms_yearly(self) -> pd.DataFrame:
        """Year-end snapshots of every operating firm."""
        return Snapshot.concat(self._firm_snapshots)

    def relocation_table(self) -> pd.DataFrame:
        """Every move between parks so far: month, firm, kind, from and to (park, district)."""
        cols = ("month", "firm_id", "from", "to", "employees")
        moves = {
            c: np.concatenate([m[i] for m in self._moves]) if self._moves else np.empty(0, np.int64)
            for i, c in enumerate(cols)
        }
        parks = self.parks
        months = np.asarray([str(m) for m in self.calendar], dtype=object)
        district = parks.district
        return pd.DataFrame(
            {
                "month": months[moves["month"]],
                "firm_id": moves["firm_id"].astype(np.int64),
                "kind": pd.Categorical.from_codes(
                    self.firms.kind[moves["firm_id"].astype(np.int64)], FIRM_KINDS
                ),
                "from_park": pd.Categorical.from_codes(moves["from"].astype(np.int64), parks.ids),
                "to_park": pd.Categorical.from_codes(moves["to"].astype(np.int64), parks.ids),
                "from_district": pd.Categorical.from_codes(
                    district[moves["from"].astype(np.int64)], parks.districts
                ),
                "to_district": pd.Categorical.from_codes(
                    district[moves["to"].astype(np.int64)], parks.districts
                ),
                "employees": moves["employees"].astype(float),
            }
        )

    def firm_history(self, slot: int) -> pd.DataFrame:
        """One firm's year-end snapshots."""
        rows = [s[s["firm_id"] == slot] for s in self.firm_snapshots]
        return _concat(rows).reset_index(drop=True)

    def talent_history(self, slot: int) -> pd.DataFrame:
        """One talent agent's year-end snapshots."""
        rows = [s[s["talent_id"] == slot] for s in self.talent_snapshots]
        return _concat(rows).reset_index(drop=True)


def _concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    frames = [f for f in frames if len(f)]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
