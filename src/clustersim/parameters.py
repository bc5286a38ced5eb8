"""Mesa-style keyword parameters for the model, on the same config path as the command line.

Mesa's tools build a model from plain keyword arguments: ``mesa.batch_run`` calls
``model_cls(seed=..., **params)`` and SolaraViz's reset calls ``type(model)(**params)``.
This module turns such keywords into the Hydra overrides ``clustersim-run`` would be given,
composes them from the same ``conf/`` and checks the result, so that

    ClusterModel(world="toy", policy="huangpu_2024", seed=3,
                 **{"behavior.entry.but_for_share": 0.5})

is exactly the model of

    clustersim-run world=toy policy=huangpu_2024 seed=3 behavior.entry.but_for_share=0.5

Keywords:
    a config group (``world``, ``behavior``, ``policy``): the option to use (``world="toy"``);
    a dotted config key (``"behavior.entry.but_for_share"``), or the same with ``__`` for
        the dots so it can be written as a plain keyword (``behavior__entry__but_for_share``);
    ``overrides``: Hydra overrides as typed on the command line, applied first;
    ``seed`` or ``rng``: the seed (an integer; None keeps the config's seed);
    ``budget_scale``: multiplies the yearly budgets of every regime of the policy (written
        as ``policy.<regime>.budget_scale=...`` overrides, so the command line can repeat it).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from clustersim.composition import ComposeError, compose_checked
from clustersim.config import ConfigError

__all__ = [
    "BUDGET_SCALE",
    "ComposeError",
    "as_overrides",
    "compose_checked",
    "override_text",
    "scenario_from_parameters",
]

#: The one keyword that is not a config key: a multiplier on every regime's budgets.
BUDGET_SCALE = "budget_scale"

_PLAIN_VALUE = re.compile(r"^[\w.:/+-]+$")


def override_text(value: Any) -> str:
    """A value as a Hydra override spells it (``true``, ``0.5``, ``toy``, ``'a b'``, ``[1,2]``)."""
    if value is None:
        return "null"
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        return repr(float(value))
    if isinstance(value, list | tuple):
        return "[" + ",".join(override_text(v) for v in value) + "]"
    text = str(value)
    if _PLAIN_VALUE.match(text):
        return text
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def seed_of(seed: Any, rng: Any) -> int | None:
    """The integer seed Mesa's ``seed``/``rng`` arguments stand for (None: the config's).

    An integer is the seed. A numpy ``Generator`` or ``SeedSequence`` gives one by drawing
    from it, so a batch seeded by a generator is reproducible and every run still records
    the integer seed that reproduces it on the command line.
    """
    if seed is not None and rng is not None and seed != rng:
        raise ConfigError("seed", seed, f"give seed or rng, not both (rng = {rng!r})")
    value = seed if seed is not None else rng
    if value is None:
        return None
    if isinstance(value, np.random.SeedSequence):
        value = np.random.default_rng(value)
    if isinstance(value, np.random.Generator):
        return int(value.integers(0, 2**31 - 1))
    from clustersim.settings.limits import check_seed

    return check_seed(int(value) if isinstance(value, np.integer) else value)


def as_overrides(
    parameters: Mapping[str, Any], overrides: Sequence[str] = (), seed: int | None = None
) -> list[str]:
    """The command-line overrides for ``overrides`` plus keyword ``parameters`` and ``seed``.

    ``budget_scale`` is not expanded here (it needs the composed policy): see
    ``scenario_from_parameters``.
    """
    out = [str(o) for o in overrides]
    for key, value in parameters.items():
        if key == BUDGET_SCALE:
            continue
        out.append(f"{key.replace('__', '.')}={override_text(value)}")
    if seed is not None:
        out.append(f"seed={seed}")
    return out


def budget_overrides(policy: Mapping[str, Any], scale: Any) -> list[str]:
    """``policy.<regime>.budget_scale`` overrides that multiply every regime's budgets."""
    if isinstance(scale, bool) or not isinstance(scale, int | float | np.number):
        raise ConfigError(BUDGET_SCALE, scale, "must be a number >= 0")
    scale = float(scale)
    if not np.isfinite(scale) or scale < 0:
        raise ConfigError(BUDGET_SCALE, scale, "must be a finite number >= 0")
    if scale == 1.0:
        return []
    out = []
    for regime, spec in policy.items():
        current = spec.get("budget_scale", 1.0) if isinstance(spec, Mapping) else 1.0
        out.append(f"policy.{regime}.budget_scale={override_text(float(current) * scale)}")
    return out


def scenario_from_parameters(
    parameters: Mapping[str, Any],
    overrides: Sequence[str] = (),
    seed: Any = None,
    rng: Any = None,
) -> tuple[Any, list[str]]:
    """The checked scenario of Mesa-style keywords, and the overrides that make it.

    Raises ``ConfigError`` (field, value, what is allowed) for a bad value, and
    ``ComposeError`` for an override Hydra cannot apply (an unknown key or option).
    """
    from clustersim.settings import load_scenario

    lines = as_overrides(parameters, overrides, seed_of(seed, rng))
    cfg = compose_checked(lines)
    if BUDGET_SCALE in parameters:
        extra = budget_overrides(_plain_policy(cfg), parameters[BUDGET_SCALE])
        if extra:
            lines = lines + extra
            cfg = compose_checked(lines)
    return load_scenario(cfg), lines


def _plain_policy(cfg: Any) -> Mapping[str, Any]:
    from omegaconf import OmegaConf

    policy = OmegaConf.to_container(cfg.policy, resolve=True) if "policy" in cfg else {}
    return policy if isinstance(policy, Mapping) else {}


def model_arguments(
    scenario: Any,
    incentives: Any,
    overrides: Sequence[str],
    seed: Any,
    rng: Any,
    parameters: Mapping[str, Any],
) -> tuple[Any, Any, list[str]]:
    """What ``ClusterModel(**keywords)`` runs: the checked scenario, its incentives, overrides.

    ``scenario`` may be a Mesa ``Scenario`` (SolaraViz's reset passes one): its values are
    keywords like the others and its ``rng`` is the seed.
    """
    from mesa.experimental.scenarios import Scenario as MesaScenario

    from clustersim.runner import build_incentives

    params = dict(parameters)
    if scenario is not None:
        if not isinstance(scenario, MesaScenario):
            raise TypeError(
                f"scenario must be a clustersim Scenario or a Mesa Scenario, not {scenario!r}"
            )
        values = {k: v for k, v in vars(scenario).items() if not k.startswith("_")}
        scenario_rng = values.pop("rng", None)
        params = {**values, **params}
        if rng is None and seed is None:
            rng = scenario_rng
    checked, lines = scenario_from_parameters(params, overrides, seed, rng)
    if incentives is None:
        incentives = build_incentives(checked)
    return checked, incentives, lines
