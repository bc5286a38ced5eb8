"""``clustersim-optimize`` as a user runs it: a preset, overrides, the report, bad input."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from clustersim.cli.optimize import compose_study, main
from clustersim.optimize.spec import spec_from_mapping

TINY = [
    "experiment=optimize_huangpu",
    "world=toy",
    "optimize.instruments=[enterprise_landing_award,talent_introduction]",
    "optimize.trials=2",
    "optimize.seeds=1",
    "optimize.workers=1",
    "optimize.validation_seeds=2",
    "optimize.validate_best=1",
]


def test_the_preset_composes_to_the_huangpu_study():
    spec = spec_from_mapping(compose_study(["experiment=optimize_huangpu"]))
    assert spec.plan == "huangpu_2024"
    assert (spec.trials, spec.seeds, spec.budget) == (200, 4, "written")
    assert str(spec.folder) == "results/optimize/huangpu"


@pytest.fixture(scope="module")
def cli_study(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli") / "study"
    assert main([*TINY, f"optimize.folder={folder}"]) == 0
    return folder


def test_the_command_writes_tables_and_a_report(cli_study, capsys):
    trials = pd.read_parquet(cli_study / "trials.parquet")
    assert list(trials["trial"]) == [0, 1]
    assert (cli_study / "pareto.parquet").is_file()
    validation = pd.read_parquet(cli_study / "validation.parquet")
    assert set(validation["first_seed"]) == {1000}
    html = (cli_study / "report.html").read_text()
    md = (cli_study / "report.md").read_text()
    # the answer in one sentence, the front with the plan marked, the mixes
    sentence = re.search(r"Huangpu's budget as written \(.*?\) causes .*? jobs by 2027-12", md)
    assert sentence, md[:2000]
    assert "plan as written" in html and "data:image/png;base64," in html
    assert "The mixes, instrument by instrument" in md
    assert "enterprise_landing_award" in md and "talent_introduction" in md
    # the report can be rebuilt from the folder alone
    (cli_study / "report.html").unlink()
    assert main(["--report-only", str(cli_study)]) == 0
    assert (cli_study / "report.html").is_file()


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ("optimize.objectives=[jobs,profit]", "optimize.objectives[1] = 'profit'"),
        ("optimize.budget=0", "optimize.budget = 0"),
        ("optimize.seeds=0", "optimize.seeds = 0"),
        ("optimize.colour=red", "optimize.colour = 'red'"),
        ("optimize.instruments=[pudong_thing]", "optimize.instruments[0] = 'pudong_thing'"),
        (
            "optimize.multiples={talent_introduction:[0.5,5]}",
            "optimize.multiples.talent_introduction = [0.5, 5]",
        ),
    ],
)
def test_bad_input_is_one_line_exit_2_and_nothing_written(tmp_path, capsys, override, field):
    folder = tmp_path / "study"
    status = main([*TINY, f"optimize.folder={folder}", override])
    err = capsys.readouterr().err.strip()
    assert status == 2
    assert err.startswith(f"clustersim-optimize: {field}"), err
    assert len(err.splitlines()) == 1
    assert not folder.exists()
