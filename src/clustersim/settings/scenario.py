"""A whole scenario, checked in one place: ``load_scenario`` (config -> ``Scenario``).

Every entry point passes through ``load_scenario``: ``clustersim-run`` (single runs, and
every job of a sweep before the first one starts, ``clustersim.sweep.preflight``), the
Python API (``clustersim.api``), the model's keyword constructor and the app
(``clustersim.parameters``). It checks each part against its schema (``world``,
``behavior``, ``run``, ``national`` and the policy, parsed once against the world's
parks, districts and tags), then what relates the parts (report months within the world's
months, a counterfactual that names something in force in the scenario) and what the run
would cost (``clustersim.settings.limits``: a seed numpy and Parquet can hold, a horizon
and a population that fit this machine). All problems found are reported together, in
one ``ConfigError`` (``ConfigErrors`` when there are several), before anything runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from clustersim.config import ConfigError, Problems, build, policy_choice, settings_of, to_plain
from clustersim.months import Month
from clustersim.national import NationalFramework, load_national
from clustersim.policy.instruments import Regime
from clustersim.policy.parsing import parse_regimes
from clustersim.settings.behavior import Behavior
from clustersim.settings.limits import check_run_size, check_seed
from clustersim.settings.run import RunOptions
from clustersim.settings.world import World
from clustersim.vocabulary import PLAN_TAGS, SHANGHAI_DISTRICTS


@dataclass(frozen=True, kw_only=True)
class Scenario:
    """One fully checked scenario: the seed, the world, the behaviour, the policy, the run.

    Attributes:
        seed: the run's seed; every random stream derives from it.
        world, behavior, run: the typed, checked parts of the config.
        regimes: the policy's regimes, parsed and checked once against the world.
        policy: the policy as configured (plain mappings; what ``config.yaml`` records).
        plain: the whole config as plain containers (its settings: what ``config.yaml``
            records and the config hash covers).
        policy_choice: the ``policy`` option the config was composed with, when it says
            (``clustersim.config.to_plain`` keeps it in plain data).
        national: national law in force whatever the policy (``clustersim.national``);
            None only for scenarios built by hand without it.

    """

    seed: int
    world: World
    behavior: Behavior
    policy: Mapping[str, Any]
    run: RunOptions
    plain: Mapping[str, Any]
    regimes: tuple[Regime, ...] = ()
    policy_choice: str | None = None
    national: NationalFramework | None = None

    @property
    def instrument_keys(self) -> tuple[str, ...]:
        """``regime.instrument`` of every instrument of the scenario's regimes."""
        return tuple(i.key for r in self.regimes for i in r.instruments)

    @property
    def policy_name(self) -> str:
        """The policy as chosen (``policy=all_three``), else the regimes joined by '+'."""
        if self.policy_choice:
            return self.policy_choice
        return "+".join(self.policy) if self.policy else "none"


def parse_policy(policy: Mapping[str, Any], world: World) -> tuple[Regime, ...]:
    """Parse the regimes against the world's parks, districts and tags (``PolicyConfigError``).

    Eligibility may name any park of the world, and any district or tag the world or the
    plans know (an instrument for a place the world lacks simply pays no one).
    """
    tags = sorted(set(world.tags) | set(PLAN_TAGS))
    districts = sorted(set(world.districts) | set(SHANGHAI_DISTRICTS))
    return tuple(parse_regimes(policy, world.park_ids, districts, tags))


#: The top-level keys of a scenario's config (Hydra's own node and ``paths`` are left out
#: before the check, ``clustersim.config.NOT_SETTINGS``).
TOP_LEVEL = ("seed", "world", "behavior", "policy", "national", "run")
#: Config groups of other tools that a user may compose into a run by mistake, and which
#: tool runs them.
STUDY_KEYS = {
    "optimize": "an optimisation study: run it with clustersim-optimize, e.g. "
    "clustersim-optimize experiment=optimize_huangpu",
}


def load_scenario(cfg: Any) -> Scenario:
    """Check a composed config (DictConfig or mapping) and return the typed ``Scenario``.

    Raises ``ConfigError`` for one bad value and ``ConfigErrors`` naming every bad value
    when there are several: each part is checked on its own, then what relates them (the
    report months and the counterfactual against the world and the policy) and the run's
    size (``clustersim.settings.limits``) once the parts they need are valid.
    """
    data = to_plain(cfg)
    choice = policy_choice(data)
    data = settings_of(data)
    problems = Problems()
    for key in data:
        if key not in TOP_LEVEL:
            allowed = f"unknown key; allowed: {', '.join(sorted(TOP_LEVEL))}"
            if key in STUDY_KEYS:
                allowed += f" ({STUDY_KEYS[key]})"
            problems.add(ConfigError(key, data[key], allowed))
    seed = world = behavior = national = run = None
    regimes: tuple[Regime, ...] = ()
    with problems.check():
        seed = check_seed(data.get("seed"))
    with problems.check():
        world = build(World, data.get("world"), "world")
    with problems.check():
        behavior = build(Behavior, data.get("behavior"), "behavior")
    with problems.check():
        national = load_national(data.get("national"))
    with problems.check():
        run = build(RunOptions, data.get("run"), "run")
    policy = data.get("policy") or {}
    if not isinstance(policy, Mapping):
        problems.add(
            ConfigError("policy", policy, "must be a mapping of regime name to instruments")
        )
    elif world is not None:
        with problems.check():
            regimes = parse_policy(policy, world)
    if world is not None and run is not None:
        with problems.check():
            _check_report_months(run, world)
        with problems.check():
            check_run_size(world, run)
        if isinstance(policy, Mapping) and not any(
            p.field.startswith("policy") for p in problems.found
        ):
            with problems.check():
                _check_counterfactual(run.counterfactual, regimes, world)
    problems.raise_any()
    assert seed is not None and world is not None and behavior is not None and run is not None
    return Scenario(
        seed=seed,
        world=world,
        behavior=behavior,
        policy=policy,
        run=run,
        plain=data,
        regimes=regimes,
        policy_choice=choice,
        national=national,
    )


def _check_report_months(run: RunOptions, world: World) -> None:
    """Every report month must lie within the world's months."""
    problems = Problems()
    for i, m in enumerate(run.report_months):
        if not world.start_month <= Month.parse(m) <= world.end_month:
            problems.add(
                ConfigError(
                    f"run.report_months[{i}]",
                    m,
                    f"must lie within world.start..world.end ({world.start}..{world.end})",
                )
            )
    problems.raise_any()


def _check_counterfactual(cf: str, regimes: tuple[Regime, ...], world: World) -> None:
    """A counterfactual must drop something the scenario has, in force within its months.

    ``no_policy`` is always accepted (see below); ``<regime>`` needs that regime in the
    scenario with an instrument switched on and in force within the world's months;
    ``<regime>.<instrument>`` needs that instrument in the regime, switched on, and its
    window overlapping the world's months. Otherwise the counterfactual would be the run
    itself, and every caused outcome a meaningless 0.
    """
    field = "run.counterfactual"
    if cf in ("off", "no_policy"):
        # no_policy is meaningful for every scenario: under policy=none it is the run
        # itself and every caused outcome is 0, which is the right answer for the
        # baseline of a sweep that crosses policies with one counterfactual
        return
    if not regimes:
        raise ConfigError(
            field,
            cf,
            "the scenario has no policy (policy=none), so there is no regime or instrument "
            "to drop: must be off or no_policy",
        )
    regime_name, _, instrument_id = cf.partition(".")
    by_name = {r.name: r for r in regimes}
    if regime_name not in by_name:
        raise ConfigError(
            field,
            cf,
            f"{regime_name!r} is not a regime of this scenario; regimes: "
            f"{', '.join(by_name)} (or off, no_policy)",
        )
    regime = by_name[regime_name]
    if not instrument_id:  # the whole plan
        if not any(_in_force(inst, world) for inst in regime.instruments if inst.enabled):
            raise ConfigError(
                field,
                cf,
                f"no instrument of {regime_name} is switched on and in force within the "
                f"run's months {world.start}..{world.end}: the counterfactual would be the "
                "run itself",
            )
        return
    ids = [i.id for i in regime.instruments]
    if instrument_id not in ids:
        raise ConfigError(
            field,
            cf,
            f"{regime_name} has no instrument {instrument_id!r}; its instruments: "
            f"{', '.join(sorted(ids))}",
        )
    inst = regime.instrument(instrument_id)
    if not inst.enabled:
        raise ConfigError(
            field,
            cf,
            f"the instrument is switched off in this scenario "
            f"(policy.{cf}.enabled=false): the counterfactual would be the run itself",
        )
    if not _in_force(inst, world):
        raise ConfigError(
            field,
            cf,
            f"the instrument is in force {inst.window}, never within the run's "
            f"months {world.start}..{world.end}: the counterfactual would be the run itself",
        )


def _in_force(inst: Any, world: World) -> bool:
    """The instrument's window overlaps the world's months."""
    return not (inst.window.end < world.start_month or inst.window.start > world.end_month)
