"""A run is reported under the policy option its own config was composed with.

Plain data (``clustersim.config.to_plain``) carries the option (``policy=all_three``), so
scenarios built from it later (``clustersim.api.run_seeds``, a calibration's runs, a
design's points) are named by it, never by Hydra's global state, which may hold another
job's config. The option is not a setting: the config hash and ``config.yaml`` are what
they were, so run folders written before are still recognised as the same config.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator

import pytest
from hydra.core.hydra_config import HydraConfig
from hydra.core.singleton import Singleton

from clustersim.api import compose
from clustersim.config import config_hash, policy_choice, settings_of, to_plain
from clustersim.settings import load_scenario
from tests.conftest import compose_cfg


@pytest.fixture
def another_jobs_hydra_config() -> Iterator[None]:
    """Hydra's global config set to another job's (``policy=none``), as a finished
    ``clustersim-run`` in the same process leaves it; put back after."""
    state = Singleton.get_state()
    try:
        HydraConfig.instance().set_config(compose(["world=toy", "policy=none"]))
        yield
    finally:
        Singleton.set_state(state)


@pytest.mark.usefixtures("another_jobs_hydra_config")
def test_plain_data_keeps_the_policy_option_it_was_composed_with() -> None:
    plain = to_plain(compose(["world=toy", "policy=huangpu_2024"]))
    data = copy.deepcopy(plain)  # as run_seeds and the calibrations change a copy
    data["seed"] = 7
    scenario = load_scenario(data)
    assert scenario.policy_name == "huangpu_2024"
    assert policy_choice(plain) == "huangpu_2024"


@pytest.mark.usefixtures("another_jobs_hydra_config")
def test_data_that_names_no_option_is_named_by_its_regimes_not_by_hydras_state() -> None:
    data = settings_of(to_plain(compose(["world=toy", "policy=huangpu_2024"])))
    assert policy_choice(data) is None
    assert load_scenario(data).policy_name == "huangpu_2024"  # its one regime's name
    both = settings_of(to_plain(compose(["world=toy", "policy=[huangpu_2024,pudong_2027]"])))
    assert load_scenario(both).policy_name == "huangpu_2024+pudong_2027"


def test_a_jobs_config_takes_the_option_hydra_chose() -> None:
    """Hydra hands a job's task its config without Hydra's node: the task passes the
    choices (``cli.run.task``), and the option rides in the plain data."""
    job_cfg = compose_cfg("world=toy", "policy=pudong_2027")  # no hydra node
    assert policy_choice(to_plain(job_cfg)) is None
    plain = to_plain(job_cfg, choices={"policy": "pudong_2027", "world": "toy"})
    assert load_scenario(plain).policy_name == "pudong_2027"
    assert plain["hydra"] == {"runtime": {"choices": {"policy": "pudong_2027"}}}


@pytest.mark.parametrize("overrides", [["world=toy"], ["world=toy", "policy=none"]])
def test_the_option_is_not_a_setting(overrides: list[str]) -> None:
    """Same hash, same config.yaml content as the plain data without the option (the way
    run folders were written before it was kept)."""
    with_option = to_plain(compose(overrides))
    before = to_plain(compose_cfg(*overrides))  # no hydra node: what to_plain gave before
    assert "hydra" in with_option and "hydra" not in before
    assert config_hash(with_option) == config_hash(before) == config_hash(compose(overrides))
    scenario = load_scenario(with_option)
    assert scenario.plain == before and "hydra" not in scenario.plain
    assert settings_of(with_option) == before
