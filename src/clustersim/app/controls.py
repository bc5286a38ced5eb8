"""The app's controls, as SolaraViz model parameters, read from the same configs as the CLI.

Each control is a keyword of the model's Mesa-style constructor (``clustersim.parameters``),
so SolaraViz's reset builds ``LiveModel(**values)`` and the state on screen is the run of
``clustersim-run`` with the overrides the app shows. Controls offer only valid values: the
regimes and worlds that exist in ``conf/``, sliders within each parameter's bounds.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from clustersim.paths import conf_dir

#: Worlds a classroom switches between (others can be chosen with a command-line override).
WORLDS = ("toy", "shanghai")

#: Behavioural parameters on sliders: (config key, label, upper bound of the slider).
BEHAVIOUR_SLIDERS: tuple[tuple[str, str, float], ...] = (
    ("behavior.agglomeration.strength", "Agglomeration strength (utility per log firms)", 2.0),
    ("behavior.relocation.moving_cost", "Moving cost (utility)", 10.0),
    ("behavior.talent.incentive_weight", "Weight talent gives to awards", 2.0),
)
BUT_FOR = "behavior.entry.but_for_share"
COUNTERFACTUAL = "run.counterfactual"


def policy_options() -> list[str]:
    """Every policy in ``conf/policy``: none, each plan, all three, and the variants."""
    names = sorted(p.stem for p in (conf_dir() / "policy").glob("*.yaml"))
    first = [n for n in ("none", "all_three") if n in names]
    return first + [n for n in names if n not in first]


def _get(cfg: Any, dotted: str) -> Any:
    node = cfg
    for part in dotted.split("."):
        node = node[part]
    return node


def model_params(overrides: Sequence[str] = ()) -> dict[str, Any]:
    """SolaraViz's ``model_params``: the controls, starting at the config of ``overrides``."""
    from clustersim.parameters import compose_checked

    cfg = compose_checked(list(overrides))
    choices = cfg.hydra.runtime.choices
    policy, world = str(choices["policy"]), str(choices["world"])
    worlds = list(WORLDS) + ([world] if world not in WORLDS else [])
    policies = policy_options()
    cf = str(cfg.run.counterfactual)
    params: dict[str, Any] = {
        "overrides": list(overrides),
        "policy": {"type": "Select", "value": policy, "values": policies, "label": "Policy"},
        "world": {"type": "Select", "value": world, "values": worlds, "label": "World"},
        "seed": {
            "type": "SliderInt",
            "value": int(cfg.seed),
            "min": 0,
            "max": max(99, int(cfg.seed)),
            "step": 1,
            "label": "Seed",
        },
        BUT_FOR: {
            "type": "SliderFloat",
            "value": float(_get(cfg, BUT_FOR)),
            "min": 0.0,
            "max": 1.0,
            "step": 0.05,
            "label": "But-for share (choices incentives may tip)",
        },
        "budget_scale": {
            "type": "SliderFloat",
            "value": 1.0,
            "min": 0.0,
            "max": 3.0,
            "step": 0.1,
            "label": "Budget scale (x every regime's budgets)",
        },
    }
    for key, label, top in BEHAVIOUR_SLIDERS:
        value = float(_get(cfg, key))
        params[key] = {
            "type": "SliderFloat",
            "value": value,
            "min": 0.0,
            "max": max(top, value),
            "step": top / 40,
            "label": label,
        }
    params[COUNTERFACTUAL] = {
        "type": "Select",
        "value": cf if cf in ("off", "no_policy") else "off",
        "values": ["off", "no_policy"],
        "label": "Overlay the run without the plan",
    }
    return params


def initial_values(params: dict[str, Any]) -> dict[str, Any]:
    """The keyword values the controls start at (what SolaraViz's first reset passes)."""
    return {k: v["value"] if isinstance(v, dict) and "type" in v else v for k, v in params.items()}


def command_line(model: Any) -> str:
    """The ``clustersim-run`` command that simulates the model on screen."""
    return " ".join(["clustersim-run", *model.overrides])
