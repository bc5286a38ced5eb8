"""Bad input to ``clustersim-run``, run in this process: one line, exit status 2, nothing written.

Each case names the field, the value and what is allowed. ``clustersim.cli.run.main`` is
called as the console script calls it (``sys.argv``), from an empty folder, so that
anything written would show.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from clustersim.cli import run as cli


def run_main(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], cwd: Path, *args: str
) -> tuple[int, str]:
    """Exit status and standard error of ``clustersim-run <args>`` run from ``cwd``."""
    monkeypatch.chdir(cwd)
    monkeypatch.setattr(sys, "argv", ["clustersim-run", *args])
    with pytest.raises(SystemExit) as ended:
        cli.main()
    return int(ended.value.code or 0), capsys.readouterr().err


@pytest.mark.parametrize(
    ("override", "value"),
    [
        ("policy=[1]", "[1]"),  # a TypeError deep inside Hydra before
        ("policy=1", "1"),
        ("policy=null", "null"),
        ("policy={a:1}", "{a:1}"),
        ("world=[toy,1]", "[toy,1]"),
    ],
)
def test_a_config_group_given_no_option_name_is_one_line(
    monkeypatch, capsys, tmp_path, override, value
):
    group = override.split("=", 1)[0]
    code, err = run_main(monkeypatch, capsys, tmp_path, override, "world.scale=0.1")
    assert code == 2
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert err.startswith(f"clustersim-run: invalid config: {group} = '{value}': ")
    assert f"{group} is a config group" in err
    options = "arthur, shanghai, toy" if group == "world" else "all_three, huangpu_2024"
    assert f"its options: {options}" in err
    assert not any(tmp_path.iterdir())


def test_an_unknown_park_id_names_the_parks_of_the_world(monkeypatch, capsys, tmp_path):
    code, err = run_main(monkeypatch, capsys, tmp_path, "world=toy", "world.parks.nopark.x=1")
    assert code == 2
    assert err.strip() == (
        "clustersim-run: invalid config: world.parks.nopark.x = '1': unknown park id; the "
        "parks of this world are: lujiazui, zhangjiang_dih, bund_financial_cluster, elsewhere"
    )
    assert not any(tmp_path.iterdir())


def test_a_key_unknown_inside_a_park_names_the_keys_of_a_park(monkeypatch, capsys, tmp_path):
    code, err = run_main(monkeypatch, capsys, tmp_path, "world.parks.lujiazui.rent=1")
    assert code == 2
    assert "world.parks.lujiazui.rent = '1': unknown key; the keys of world.parks.lujiazui" in err
    assert "capacity" in err and "base_rent" in err


def test_a_sweep_into_an_unwritable_folder_says_only_our_line(monkeypatch, capsys, tmp_path):
    code, err = run_main(
        monkeypatch, capsys, tmp_path, "-m", "world=toy", "seed=0,1",
        "hydra.sweep.dir=/proc/forbidden/sweep",
    )  # fmt: skip
    assert code == 2
    assert err.strip().splitlines() == [
        "clustersim-run: cannot write /proc/forbidden: No such file or directory (runs write "
        "under paths.results; choose a folder you can write with hydra.run.dir=, "
        "hydra.sweep.dir= or paths.results=)"
    ]
    assert not any(tmp_path.iterdir())
