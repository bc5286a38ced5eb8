"""Values outside their domain are refused before anything runs, all of them at once.

Issue 12: each input below used to write a run folder (or fail late with a traceback).
``load_scenario`` is the one check every entry point passes through (the command line,
its sweeps, the API, the app), so these tests call it on a composed config with one value
changed; the command line's own wording is tested in test_cli_run.py.
"""

from __future__ import annotations

import copy
import shutil
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from clustersim import api
from clustersim.composition import ComposeError, schema_keys, unknown_key
from clustersim.config import ConfigError, ConfigErrors, to_plain
from clustersim.runner import simulate
from clustersim.settings import load_scenario
from clustersim.settings.limits import BASE_BYTES, MAX_MONTHS, MAX_SEED, MEMORY_BUDGET, run_size
from tests.conftest import compose_cfg


@cache
def _plain(*overrides: str) -> dict[str, Any]:
    return to_plain(compose_cfg(*overrides))


def _with(base: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """A copy of ``base`` with dotted keys (``world__scale``, as ``world.scale``) changed."""
    cfg = copy.deepcopy(base)
    for dotted, value in changes.items():
        node = cfg
        *parents, last = dotted.split("__")
        for key in parents:
            node = node[key]
        node[last] = value
    return cfg


def _error(cfg: dict[str, Any]) -> ConfigError:
    with pytest.raises(ConfigError) as err:
        load_scenario(cfg)
    return err.value


HAZARDS = [0.06, 0.04, 0.03, 0.025, 0.02, 0.015, 0.01, 0.007, 0.004]

OUT_OF_DOMAIN = [
    # probabilities within [0, 1]
    ("behavior__exit__annual_hazard", [2.0, *HAZARDS[1:]], "behavior.exit.annual_hazard[0]"),
    ("behavior__relocation__review_rate", 1.5, "behavior.relocation.review_rate"),
    ("behavior__talent__leave_unemployed", -0.1, "behavior.talent.leave_unemployed"),
    # scales and weights with sane lower bounds
    ("world__scale", 1e-9, "world.scale"),
    ("world__people_per_talent_agent", 1e-300, "world.people_per_talent_agent"),
    ("behavior__entry__subsidy_scale", 1e-300, "behavior.entry.subsidy_scale"),
    ("behavior__talent__incentive_scale", 1e-300, "behavior.talent.incentive_scale"),
    (
        "behavior__policy_response__response_scale",
        1e-300,
        "behavior.policy_response.response_scale",
    ),
    ("behavior__innovation__rd_depreciation", 0.0, "behavior.innovation.rd_depreciation"),
    # bounds that keep the model finite
    ("behavior__growth__volatility", 1e300, "behavior.growth.volatility"),
    ("behavior__growth__max_size", 1e308, "behavior.growth.max_size"),
    ("behavior__growth__max_size", 0.4, "behavior.growth.max_size"),  # below exit_size
    ("behavior__innovation__patent_rate", 1e300, "behavior.innovation.patent_rate"),
    ("behavior__innovation__rd_price_elasticity", 1e300, "behavior.innovation.rd_price_elasticity"),
    (
        "behavior__innovation__rd_intensity__leading",
        1e300,
        "behavior.innovation.rd_intensity.leading",
    ),
    # what fits this machine
    ("world__scale", 1e12, "world.scale"),
    ("world__initial__firms", 10**8, "world.initial.firms"),
    ("world__firm_entrants__per_month", 1e9, "world.firm_entrants.per_month"),
    ("world__end", "9999-12", "world.end"),
    # seeds numpy and Parquet can hold
    ("seed", 99999999999999999999, "seed"),
    ("seed", MAX_SEED + 1, "seed"),
    ("seed", -1, "seed"),
    # the summary needs a month
    ("run__report_months", [], "run.report_months"),
]


@pytest.mark.parametrize(("key", "value", "field"), OUT_OF_DOMAIN)
def test_a_value_out_of_its_domain_is_named_with_what_is_allowed(
    key: str, value: Any, field: str
) -> None:
    err = _error(_with(_plain(), **{key: value}))
    assert err.field == field, str(err)
    assert not isinstance(err, ConfigErrors), str(err)  # only this value is wrong
    text = str(err)
    assert text.startswith(f"{field} = ") and "\n" not in text
    assert "must" in err.allowed or "lower it" in err.allowed, text


def test_the_edges_of_the_domains_are_accepted() -> None:
    base = _plain()
    load_scenario(_with(base, seed=MAX_SEED))
    load_scenario(_with(base, world__scale=10.0))  # the 10x city of benchmarks/run_bench.py
    load_scenario(_with(base, world__end="2119-12"))  # a century from 2020-01
    load_scenario(_with(base, behavior__growth__volatility=3.0))


def test_the_model_stays_finite_at_the_edges_of_the_domains() -> None:
    """Every upper bound at once, on the toy world: a run ends with finite outcomes."""
    cfg = _with(
        _plain("world=toy"),
        seed=MAX_SEED,
        world__people_per_talent_agent=1.0,
        behavior__entry__subsidy_scale=1.0,
        behavior__talent__incentive_scale=1.0,
        behavior__policy_response__response_scale=1.0,
        behavior__growth__volatility=3.0,
        behavior__growth__max_size=1e7,
        behavior__innovation__rd_depreciation=0.01,
        behavior__innovation__rd_price_elasticity=10.0,
        behavior__innovation__patent_rate=10.0,
        behavior__innovation__rd_intensity__leading=10.0,
    )
    result = simulate(load_scenario(cfg))
    numbers = result.monthly.select_dtypes("number").to_numpy()
    assert np.isfinite(numbers).all()


def test_several_bad_values_are_all_named_in_one_error() -> None:
    cfg = _with(
        _plain(),
        seed=-3,
        world__scale=1e-9,
        behavior__growth__volatility=1e300,
        behavior__exit__annual_hazard=[2.0, *HAZARDS[1:]],
        run__report_months=[],
    )
    err = _error(cfg)
    assert isinstance(err, ConfigErrors)
    fields = [p.field for p in err.problems()]
    assert fields == [
        "seed",
        "world.scale",
        "behavior.growth.volatility",
        "behavior.exit.annual_hazard[0]",
        "run.report_months",
    ]
    lines = str(err).splitlines()
    assert lines[0] == "5 settings are invalid:" and len(lines) == 6
    assert err.field == "seed"  # the first, for code that reads one


def test_a_counterfactual_must_drop_something_the_scenario_has_in_force() -> None:
    cf = "huangpu_2024.enterprise_landing_award"
    none = _error(_with(_plain("policy=none"), run__counterfactual=cf))
    assert none.field == "run.counterfactual" and "no policy" in none.allowed
    # a sweep crossing policy=none with the plans under one counterfactual: the baseline's
    # counterfactual is the run itself, and it causes nothing
    load_scenario(_with(_plain("policy=none"), run__counterfactual="no_policy"))
    other = _error(_with(_plain("policy=pudong_2027"), run__counterfactual=cf))
    assert "'huangpu_2024' is not a regime" in other.allowed and "pudong_2027" in other.allowed
    typo = _error(_with(_plain("policy=huangpu_2024"), run__counterfactual="huangpu_2024.nope"))
    assert "enterprise_landing_award" in typo.allowed  # lists the regime's instruments
    load_scenario(_with(_plain("policy=huangpu_2024"), run__counterfactual=cf))


def test_a_counterfactual_of_an_instrument_never_in_force_is_refused() -> None:
    scenario = load_scenario(_plain())
    world_start = scenario.world.start_month
    late = next(
        i for r in scenario.regimes for i in r.instruments if i.window.start > world_start + 1
    )
    before = late.window.start + (-1)
    cfg = _with(_plain(), run__counterfactual=late.key, world__end=str(before))
    cfg["run"]["report_months"] = [str(before)]
    err = _error(cfg)
    assert err.field == "run.counterfactual" and "never within the run's months" in err.allowed
    off = _with(_plain(), run__counterfactual=late.key)
    off["policy"][late.regime][late.id]["enabled"] = False
    assert "switched off" in _error(off).allowed


def test_the_memory_estimate_grows_with_the_world_and_the_counterfactual() -> None:
    base = load_scenario(_plain())
    size = run_size(base.world, base.run)
    assert size.bytes < MEMORY_BUDGET / 10  # the default world is far from the limit
    big = load_scenario(_with(_plain(), world__scale=10.0))
    assert run_size(big.world, big.run).bytes - BASE_BYTES > 5 * (size.bytes - BASE_BYTES)
    cf = load_scenario(_with(_plain(), run__counterfactual="no_policy"))
    assert run_size(cf.world, cf.run).models == 2
    assert run_size(cf.world, cf.run).bytes - BASE_BYTES == 2 * (size.bytes - BASE_BYTES)
    err = _error(_with(_plain(), world__scale=1e12))
    largest = float(err.allowed.rsplit("<= ", 1)[1].split()[0])
    load_scenario(_with(_plain(), world__scale=largest * 0.99))  # the bound it names fits
    assert "GiB" in err.allowed


def test_the_horizon_error_names_the_last_month_allowed() -> None:
    err = _error(_with(_plain(), world__end="9999-12"))
    assert err.field == "world.end" and f"at most {MAX_MONTHS}" in err.allowed
    assert err.allowed.endswith("must be <= 2119-12")


# ---------------------------------------------------------------- composing conf/


def test_an_unknown_key_lists_the_keys_of_its_node() -> None:
    with pytest.raises(ComposeError) as err:
        api.compose(["world=toy", "behavior.entry.nokey=3"])
    assert err.value.field == "behavior.entry.nokey"
    assert "but_for_share" in err.value.allowed and "\n" not in str(err.value)


def test_an_unknown_option_lists_the_options() -> None:
    with pytest.raises(ComposeError) as err:
        api.compose(["world=atlantis"])
    assert err.value.field == "world" and err.value.value == "atlantis"
    assert "shanghai" in err.value.allowed and "toy" in err.value.allowed


def test_bad_override_syntax_is_named() -> None:
    with pytest.raises(ComposeError) as err:
        api.compose(["seed=[1,2"])
    assert err.value.field == "seed" and "not a valid override" in err.value.allowed


def test_an_unknown_part_of_a_key_is_found_where_it_starts() -> None:
    assert unknown_key("foo.bar").startswith("unknown key; the keys of the top level are: seed")
    assert "the keys of world.initial are: firms" in unknown_key("world.initial.typo")
    assert "--cfg job" in unknown_key("policy.huangpu_2024.nope")  # free-form: not listed


def test_schema_keys_follow_the_settings() -> None:
    assert schema_keys("") == ["seed", "world", "behavior", "policy", "national", "run"]
    assert "capacity" in (schema_keys("world.parks.lujiazui") or [])
    assert "wind_down" in (schema_keys("behavior.exit") or [])
    assert schema_keys("policy.huangpu_2024") is None  # free-form, checked by policy.parsing


def test_a_broken_yaml_file_is_named_with_its_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    conf = tmp_path / "conf"
    shutil.copytree(Path(__file__).resolve().parents[1] / "conf", conf)
    (conf / "experiment" / "mine.yaml").write_text(
        "# @package _global_\nworld:\n  scale: [1, 2\nseed: 3\n"
    )
    monkeypatch.setenv("CLUSTERSIM_CONF", str(conf))
    with pytest.raises(ComposeError) as err:
        api.compose(["experiment=mine"])
    assert "mine.yaml, line 4" in str(err.value) and "not valid YAML" in str(err.value)
    assert "\n" not in str(err.value)


def test_a_run_folder_is_checked_before_the_run(tmp_path: Path) -> None:
    from clustersim.runner import check_output_folder

    check_output_folder(tmp_path / "new" / "run", "folder")  # not there yet: fine
    (tmp_path / "unfinished").mkdir()
    (tmp_path / "unfinished" / "monthly.parquet").write_bytes(b"")
    check_output_folder(tmp_path / "unfinished", "folder")  # an unfinished run is replaced
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.md").write_text("mine")
    with pytest.raises(ConfigError, match=r"not a run's \(notes.md\)"):
        check_output_folder(tmp_path / "mine", "folder")
    (tmp_path / "unfinished" / "COMPLETE").write_text("{}")
    with pytest.raises(ConfigError, match="already holds a complete run"):
        check_output_folder(tmp_path / "unfinished", "folder")
    (tmp_path / "file").write_text("")
    with pytest.raises(ConfigError, match="is a file"):
        check_output_folder(tmp_path / "file", "folder")
