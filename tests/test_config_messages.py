"""Error messages about config values stay short and say where a misplaced group belongs."""

from __future__ import annotations

import pytest

from clustersim.config import SHOWN_CHARS, ConfigError, shown
from clustersim.settings import load_scenario
from tests.conftest import compose_cfg


def test_a_group_of_settings_is_named_by_its_keys_not_pasted_whole() -> None:
    group = {f"key{i}": i for i in range(20)}
    text = shown(group)
    assert text.startswith("{key0, key1") and "(20 keys)" in text
    assert len(str(ConfigError("optimize", group, "unknown key"))) < 120


def test_a_long_value_is_cut() -> None:
    assert len(shown("x" * 500)) == SHOWN_CHARS
    assert shown(0.25) == "0.25"


def test_an_optimisation_preset_given_to_a_run_says_which_tool_runs_it() -> None:
    with pytest.raises(ConfigError) as err:
        load_scenario(compose_cfg("experiment=optimize_huangpu"))
    message = str(err.value)
    assert "optimize = {plan," in message
    assert "clustersim-optimize" in message
    assert "'folder'" not in message  # the group is not pasted whole
