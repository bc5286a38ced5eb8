"""What a run may ask of this machine, and of the libraries that store it: checked up front.

A run lays out at its start every agent slot it will need: the initial firms and talent,
then every month's candidate entrants and arrivals (``ClusterModel._lay_out_slots``). So
its memory is known before it starts, from the world's size, inflows and months. This
module estimates it and refuses a run that would not fit, instead of letting it end in a
``MemoryError`` (or swap) hours later; it also bounds the horizon, which sets the run's
time, and the seed.

The figures were measured on this project's machines (2 cores, 24 GiB, 2026-11-30) by
``benchmarks/memory_bounds.py``: peak resident memory of a whole run, folder written,
fitted as base + per firm slot + per talent slot + per month over six worlds from the toy
to a 4x city and a 40-year run (within 5%). Each figure below is that fit rounded up by
about half, as a margin for what the fit misses (policies with many instruments, more
parks).
"""

from __future__ import annotations

from dataclasses import dataclass

from clustersim.config import ConfigError, Problems
from clustersim.settings.run import RunOptions
from clustersim.settings.world import World

#: Largest seed: collected sweep tables store it in a Parquet int64 column (numpy's
#: ``SeedSequence`` takes any whole number >= 0, so Parquet is the tighter limit).
MAX_SEED = 2**63 - 1

#: Longest horizon, months (a century). Assumption: the plans run 2020-2027 and Arthur's
#: lock-in shows within decades. Time grows with the months and the population they bring:
#: a century of the default world took 75 s of CPU here (111,316 firm and 534,861 talent
#: slots, 0.7 GiB peak; 2026-11-30), while ``world.end=9999-12`` would run for hours.
MAX_MONTHS = 1200

#: Memory one run may use, bytes: a third of this machine's 24 GiB, so that the two jobs
#: a 2-core sweep runs at once fit beside the launcher and the rest of the machine.
MEMORY_BUDGET = 8 * 2**30

#: Peak memory of a run (benchmarks/memory_bounds.py, rounded up; see the module doc):
#: measured 215 MiB base, 1,315 B per firm slot, 448 B per talent slot, 151 KiB a month.
BASE_BYTES = 320 * 2**20
FIRM_SLOT_BYTES = 2_000
TALENT_SLOT_BYTES = 700
MONTH_BYTES = 256 * 2**10

_GIB = 2**30


def check_seed(seed: object) -> int:
    """The seed as an int, or ``ConfigError``: a whole number in 0..``MAX_SEED``."""
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED:
        raise ConfigError(
            "seed",
            seed,
            f"must be a whole number from 0 to {MAX_SEED} (2**63 - 1, the largest a sweep's "
            "Parquet tables can store)",
        )
    return seed


@dataclass(frozen=True)
class RunSize:
    """How large a run is: months, agent slots and the models kept in memory at once.

    Attributes:
        months: months simulated.
        firm_slots, talent_slots: slots laid out for one model (expected counts: the
            inflows are Poisson draws around ``per_month * scale``).
        models: models held in memory at the end (2 with a counterfactual). Counting
            the second in full errs on the safe side: for the default world the measured
            peak rose from 288 to 309 MiB with ``run.counterfactual=no_policy`` (and to 313
            MiB with ``run.write_talent_snapshots=true``, within the margin).

    """

    months: int
    firm_slots: float
    talent_slots: float
    models: int

    @property
    def bytes(self) -> float:
        """Estimated peak memory of the run, bytes."""
        per_model = (
            self.firm_slots * FIRM_SLOT_BYTES
            + self.talent_slots * TALENT_SLOT_BYTES
            + self.months * MONTH_BYTES
        )
        return BASE_BYTES + self.models * per_model

    def describe(self) -> str:
        """The estimate in words, for error messages."""
        twice = ", twice over for the counterfactual" if self.models == 2 else ""
        return (
            f"the run would need about {self.bytes / _GIB:.3g} GiB ({self.firm_slots:.3g} "
            f"firm and {self.talent_slots:.3g} talent slots over {self.months} months{twice}); "
            f"a run may use at most {MEMORY_BUDGET / _GIB:.0f} GiB on this machine "
            "(clustersim.settings.limits)"
        )


def run_size(world: World, run: RunOptions) -> RunSize:
    """The size of a run of ``world`` with run options ``run``."""
    months = world.end_month - world.start_month + 1
    s = world.scale
    firm_slots = s * (world.initial.firms + world.firm_entrants.per_month * months)
    talent_slots = s * (world.initial.talent_agents + world.talent_arrivals.per_month * months)
    models = 1 if run.counterfactual == "off" else 2
    return RunSize(months, firm_slots, talent_slots, models)


def check_run_size(world: World, run: RunOptions) -> None:
    """The horizon must be at most ``MAX_MONTHS`` and the run must fit ``MEMORY_BUDGET``.

    A run too large for memory is blamed on ``world.scale`` when the world is scaled up,
    else on the largest of the initial population and the inflows, with the largest value
    of that setting that would fit.
    """
    problems = Problems()
    size = run_size(world, run)
    if size.months > MAX_MONTHS:
        last = world.start_month + (MAX_MONTHS - 1)
        problems.add(
            ConfigError(
                "world.end",
                world.end,
                f"the run would last {size.months} months; at most {MAX_MONTHS} (a century, "
                f"clustersim.settings.limits.MAX_MONTHS): must be <= {last}",
            )
        )
    elif size.bytes > MEMORY_BUDGET:  # (a horizon too long is the first thing to fix)
        problems.add(_too_large(world, size))
    problems.raise_any()


def _too_large(world: World, size: RunSize) -> ConfigError:
    """The error for a run over the memory budget, naming the setting that weighs most."""
    fixed = BASE_BYTES + size.models * size.months * MONTH_BYTES
    room = max(MEMORY_BUDGET - fixed, 0.0)
    months, s, m = size.months, world.scale, size.models
    # bytes each setting adds, at its current value
    parts = {
        "world.initial.firms": (world.initial.firms, s * world.initial.firms * FIRM_SLOT_BYTES),
        "world.initial.talent_agents": (
            world.initial.talent_agents,
            s * world.initial.talent_agents * TALENT_SLOT_BYTES,
        ),
        "world.firm_entrants.per_month": (
            world.firm_entrants.per_month,
            s * world.firm_entrants.per_month * months * FIRM_SLOT_BYTES,
        ),
        "world.talent_arrivals.per_month": (
            world.talent_arrivals.per_month,
            s * world.talent_arrivals.per_month * months * TALENT_SLOT_BYTES,
        ),
    }
    total = sum(b for _, b in parts.values()) * m
    if s > 1.0:
        field, value, largest = "world.scale", s, s * room / total
    else:
        field, (value, weight) = max(parts.items(), key=lambda kv: kv[1][1])
        largest = value * (room - (total - weight * m)) / (weight * m)
    if largest > 0:
        allowed = f"must be <= {largest:.3g} here"
    else:
        allowed = "lower it, and the other sizes of the world with it"
    return ConfigError(field, value, f"{size.describe()}: {allowed}")
