"""``plain_container`` gives what ``OmegaConf.to_container(node, resolve=True)`` gives.

A run's config hash, its ``config.yaml`` and its scenario are made from this plain data,
so it must equal OmegaConf's to the type of every value, on every config the project
ships and on what users can write (interpolations, missing values, ``None``, enums,
structured nodes); an interpolation that does not resolve raises OmegaConf's own error.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

import pytest
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import InterpolationResolutionError

from clustersim.config import plain_container, to_plain
from clustersim.paths import conf_dir
from tests.conftest import compose_cfg

CONF = conf_dir()


def _same(node: object) -> None:
    fast = plain_container(node)  # type: ignore[arg-type]
    slow = OmegaConf.to_container(node, resolve=True)  # type: ignore[call-overload]
    assert repr(fast) == repr(slow)  # (repr: 1, 1.0, True and "1" differ)
    assert fast == slow


def _options(group: str) -> list[str]:
    return [f"{group}={p.stem}" for p in sorted((CONF / group).glob("*.yaml"))]


@pytest.mark.parametrize(
    "override",
    [None, *_options("policy"), *_options("world"), *_options("preset"), "behavior=calibrated"],
)
def test_every_shipped_config_converts_as_omegaconf_converts_it(override: str | None) -> None:
    cfg = compose_cfg(*([override] if override else []))
    for key in cfg:
        node = cfg._get_node(key)
        if OmegaConf.is_config(node):
            _same(node)


class Colour(Enum):
    RED = 1


@dataclass
class Inner:
    size: int = 3
    names: list[str] = field(default_factory=lambda: ["a", "b"])


@dataclass
class Outer:
    inner: Inner = field(default_factory=Inner)
    colour: Colour = Colour.RED
    maybe: Inner | None = None


def test_what_users_can_write_converts_as_omegaconf_converts_it() -> None:
    cfg = OmegaConf.create(
        {
            "a": {"x": 1, "y": 1.0, "z": True, "s": "1", "n": None, "m": "???"},
            "ref": "${a.x}",
            "text": "size ${a.x}",
            "node_ref": "${a}",
            "lists": [[1, 2], {"k": "${a.y}"}, None, "???"],
            "none_dict": None,
            "missing_dict": "???",
            "structured": Outer(),
            "keys": {1: "int key", "one": "str key"},
        }
    )
    cfg.none_node = DictConfig(None)
    _same(cfg)
    for key in cfg:
        node = cfg._get_node(key)
        if OmegaConf.is_config(node):
            _same(node)


def test_a_broken_interpolation_raises_omegaconfs_error() -> None:
    cfg = OmegaConf.create({"a": {"b": "${nowhere.at_all}"}})
    with pytest.raises(InterpolationResolutionError):
        plain_container(cfg.a)


def test_to_plain_keeps_the_settings_and_the_policy_option() -> None:
    from clustersim.api import compose

    cfg = compose(["policy=all_three", "seed=3"])  # with Hydra's node, as a run has it
    data = to_plain(cfg)
    assert data["hydra"] == {"runtime": {"choices": {"policy": "all_three"}}}
    assert data["seed"] == 3 and "paths" not in data
    slow = OmegaConf.to_container(cfg, resolve=True)
    slow = {k: v for k, v in slow.items() if k not in ("hydra", "paths")}
    assert repr({k: v for k, v in data.items() if k != "hydra"}) == repr(slow)
