"""Every config in conf/ composes into a valid scenario; bad values are rejected clearly."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from clustersim.config import ConfigError, config_hash
from clustersim.paths import conf_dir
from clustersim.settings import load_scenario
from tests.conftest import compose_cfg

CONF = conf_dir()


def _options(group: str) -> list[str]:
    return sorted(p.stem for p in (CONF / group).glob("*.yaml"))


@pytest.mark.parametrize("world", _options("world"))
def test_every_world_composes(world: str) -> None:
    s = load_scenario(compose_cfg(f"world={world}"))
    assert s.world.name == world


#: The posterior draws (calibrated_draw_NN) are alike: one stands for all here;
#: tests/test_calibrate_presets.py composes every one of them.
BEHAVIORS = [b for b in _options("behavior") if not b.startswith("calibrated_draw_")] + [
    b for b in _options("behavior") if b.startswith("calibrated_draw_")
][:1]


@pytest.mark.parametrize("behavior", BEHAVIORS)
def test_every_behavior_composes(behavior: str) -> None:
    load_scenario(compose_cfg(f"behavior={behavior}"))


@pytest.mark.parametrize("experiment", _options("experiment"))
def test_every_experiment_composes(experiment: str, tmp_path: Path) -> None:
    cfg = compose_cfg(f"experiment={experiment}")
    if "optimize" in cfg:  # a clustersim-optimize preset: its study checks against its runs
        from omegaconf import OmegaConf

        from clustersim.optimize import open_study
        from clustersim.optimize.spec import spec_from_mapping

        node = OmegaConf.to_container(cfg.optimize, resolve=True)
        open_study(spec_from_mapping({**node, "folder": str(tmp_path / "study")}))
        return
    load_scenario(cfg)


@pytest.mark.parametrize("preset", _options("preset"))
def test_every_preset_composes(preset: str) -> None:
    load_scenario(compose_cfg(f"preset={preset}"))


_NUMBER = re.compile(r"(?<![\w.])-?\d+(\.\d+)?([eE][-+]?\d+)?(?![\w.-])")


def _has_number(value: str) -> bool:
    """A YAML value that is, or contains, a number (quoted text and names do not count)."""
    return not value.startswith(("'", '"')) and bool(_NUMBER.search(value))


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _sourced(lines: list[str], i: int) -> bool:
    """Line i's number is explained: by its own comment or one right above it, an ancestor
    key's comment, or a comment line in an enclosing block that explains this key
    (``# key: ...``)."""
    if "#" in lines[i]:
        return True
    j = i - 1  # a comment line heading a run of sibling values explains them all
    while (
        j >= 0
        and _indent(lines[j]) == _indent(lines[i])
        and ":" in lines[j]
        and "#" not in lines[j]
    ):
        j -= 1
    if j >= 0 and lines[j].strip().startswith("#"):
        return True
    key = lines[i].split(":", 1)[0].strip().lstrip("- ")
    level = _indent(lines[i])
    for j in range(i - 1, -1, -1):
        line = lines[j]
        if not line.strip():
            continue
        if line.strip().startswith("#"):
            if line.strip().lstrip("# ").startswith(f"{key}:"):
                return True
            continue
        if _indent(line) < level:  # an ancestor key
            if "#" in line:
                return True
            level = _indent(line)
            if level == 0:
                return False
    return False


def test_every_number_in_conf_says_where_it_comes_from() -> None:
    """Every number is explained: a clause, a published figure, or an assumption."""
    missing = []
    for path in sorted(CONF.rglob("*.yaml")):
        if "hydra" in path.parts:
            continue
        lines = path.read_text(encoding="utf-8").splitlines()
        for i, line in enumerate(lines):
            body = line.split("#", 1)[0]
            if ":" not in body or body.strip().startswith("#"):
                continue
            value = body.split(":", 1)[1].strip()
            if _has_number(value) and not _sourced(lines, i):
                missing.append(f"{path.relative_to(CONF)}:{i + 1}: {line.strip()}")
    assert not missing, "numbers without a source or 'assumption' comment:\n" + "\n".join(missing)


BAD = [
    ("seed=-1", "seed"),
    ("world.scale=0", "world.scale"),
    ("world.people_per_talent_agent=-5", "world.people_per_talent_agent"),
    ("world.start=2020-13", "world.start"),
    ("world.end=2019-12", "world.end"),
    ("world.end=nonsense", "world.end"),
    ("world.initial.firms=-3", "world.initial.firms"),
    ("world.parks.lujiazui.capacity=0", "world.parks.lujiazui.capacity"),
    ("world.parks.lujiazui.district=atlantis", "world.parks.lujiazui.district"),
    ("world.firm_entrants.per_month=nan", "world.firm_entrants.per_month"),
    ("world.talent_arrivals.per_month=inf", "world.talent_arrivals.per_month"),
    ("behavior.entry.but_for_share=1.5", "behavior.entry.but_for_share"),
    ("behavior.entry.subsidy_scale=0", "behavior.entry.subsidy_scale"),
    ("behavior.growth.volatility=-0.1", "behavior.growth.volatility"),
    ("behavior.exit.kind_multiplier.leading=abc", "behavior.exit.kind_multiplier.leading"),
    (
        "behavior.exit.annual_hazard=[0.06,-0.04,0.03,0.025,0.02,0.015,0.01,0.007,0.004]",
        "behavior.exit.annual_hazard[1]",
    ),
    (
        "behavior.exit.annual_hazard=[1.5,0.04,0.03,0.025,0.02,0.015,0.01,0.007,0.004]",
        "behavior.exit.annual_hazard[0]",
    ),
    ("behavior.exit.size_classes=[0,10,5,20,50,100,250,500,1000]", "behavior.exit.size_classes[2]"),
    ("behavior.exit.size_classes=[0,5,10]", "behavior.exit.size_classes"),
    ("behavior.exit.age_classes=[1,2,3,5,10,20]", "behavior.exit.age_classes"),
    ("behavior.exit.wind_down.monthly_decline=1.0", "behavior.exit.wind_down.monthly_decline"),
    ("behavior.agglomeration.form=cubic", "behavior.agglomeration.form"),
    ("behavior.relocation.enabled=maybe", "behavior.relocation.enabled"),
    ("+behavior.entry.typo_weight=1", "behavior.entry.typo_weight"),
    ("+world.parks.lujiazui.colour=red", "world.parks.lujiazui.colour"),
    ("+extra=1", "extra"),
    ("run.report_months=[2030-12]", "run.report_months[0]"),
    ("run.counterfactual=sometimes", "run.counterfactual"),
]


@pytest.mark.parametrize(("override", "field"), BAD)
def test_bad_values_name_the_field_and_the_rule(override: str, field: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_scenario(compose_cfg("world=toy", override))
    assert err.value.field == field
    message = str(err.value)
    assert message.startswith(f"{field} = ") and ": " in message


def test_config_hash_tracks_every_setting() -> None:
    a = config_hash(compose_cfg("world=toy"))
    assert a == config_hash(compose_cfg("world=toy"))
    assert a != config_hash(compose_cfg("world=toy", "seed=1"))
    assert a != config_hash(compose_cfg("world=toy", "behavior.entry.but_for_share=0.5"))
    assert a == config_hash(compose_cfg("world=toy", "run.progress=false"))  # not an output


def test_conf_dir_is_the_repository_conf() -> None:
    assert (CONF / "config.yaml").is_file() and Path(__file__).resolve().parents[1] / "conf" == CONF
