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

from clustersim.config import ConfigError, build, to_plain
from clustersim.months import Month
from clustersim.national import NationalFramework, load_national
from clustersim.policy.instruments import Regime
from clustersim.policy.parsing import parse_regimes
from clustersim.settings.behavior import Behavior
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
        plain: the whole config as plain containers.
        policy_choice: the ``policy`` option Hydra chose, when known.
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


def _policy_choice(cfg: Any) -> str | None:
    """The ``policy`` option Hydra chose (``all_three``), when the config or Hydra knows it."""
    from hydra.core.hydra_config import HydraConfig

    try:
        return str(cfg["hydra"]["runtime"]["choices"]["policy"])  # composed with its hydra node
    except (KeyError, TypeError):
        pass
    if HydraConfig.initialized():  # inside a clustersim-run job
        choice = HydraConfig.get().runtime.choices.get("policy")
        return None if choice is None else str(choice)
    return None


def load_scenario(cfg: Any) -> Scenario:
    """Check a composed config (DictConfig or mapping) and return the typed ``Scenario``."""
    data = to_plain(cfg)
    allowed = {"seed", "world", "behavior", "policy", "national", "run"}
    for key in data:
        if key not in allowed:
            raise ConfigError(key, data[key], f"unknown key; allowed: {', '.join(sorted(allowed))}")
    seed = data.get("seed")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ConfigError("seed", seed, "must be a whole number >= 0")
    world = build(World, data.get("world"), "world")
    behavior = build(Behavior, data.get("behavior"), "behavior")
    national = load_national(data.get("national"))
    run = build(RunOptions, data.get("run"), "run")
    for i, m in enumerate(run.report_months):
        month = Month.parse(m)
        if not world.start_month <= month <= world.end_month:
            raise ConfigError(
                f"run.report_months[{i}]",
                m,
                f"must lie within world.start..world.end ({world.start}..{world.end})",
            )
    policy = data.get("policy") or {}
    if not isinstance(policy, Mapping):
        raise ConfigError("policy", policy, "must be a mapping of regime name to instruments")
    regimes = parse_policy(policy, world)
    cf = run.counterfactual
    if cf not in ("off", "no_policy"):
        keys = [i.key for r in regimes for i in r.instruments]
        if cf not in keys:
            raise ConfigError(
                "run.counterfactual",
                cf,
                "must name an instrument of the scenario as <regime>.<instrument>; "
                f"available: {', '.join(sorted(keys)) or 'none (the scenario has no policy)'}",
            )
    return Scenario(
        seed=seed,
        world=world,
        behavior=behavior,
        policy=policy,
        run=run,
        plain=data,
        regimes=regimes,
        policy_choice=_policy_choice(cfg),
        national=national,
    )
