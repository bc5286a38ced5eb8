"""Job folder names: safe for any override value, reversible or hashed, stable across reruns."""

from __future__ import annotations

import pytest

from clustersim.results.names import (
    MAX_FOLDER_BYTES,
    is_hashed,
    job_folder,
    run_suffix,
    unescape,
)

VALUES = [
    "policy=none,seed=3",
    "world.parks.lujiazui.name=A/B",
    "world.parks.lujiazui.name=a b\tc\nd",
    "world.parks.lujiazui.name=张江 科学城",
    "world.parks.lujiazui.name=<script>alert(1)</script>",
    "x='quoted',y=\"double\",z=${oc.env:HOME}",
    "x=50%,y=%2F",
    ".hidden=1",
    "x=" + "é" * 150,
    "x=" + "a" * 400,
]


@pytest.mark.parametrize("name", VALUES)
def test_a_job_folder_is_one_safe_file_name(name):
    folder = job_folder(name)
    assert folder and len(folder.encode()) <= MAX_FOLDER_BYTES
    assert "/" not in folder and "\\" not in folder and "\0" not in folder
    assert folder.isascii() and folder.isprintable() and " " not in folder
    assert not folder.startswith(".")  # hidden names are the sweep's bookkeeping
    assert job_folder(name) == folder  # the same every time: a rerun finds it
    if is_hashed(folder):
        assert len(name) > MAX_FOLDER_BYTES // 3
    else:
        assert unescape(folder) == name  # the mapping back to the settings


def test_ordinary_names_are_unchanged():
    for name in ("policy=none,seed=3", "behavior.entry.but_for_share=0.25,+x=-1e-3,~y"):
        assert job_folder(name) == name


def test_long_names_that_share_a_beginning_get_different_folders():
    a, b = "x=" + "a" * 400 + "1", "x=" + "a" * 400 + "2"
    assert job_folder(a) != job_folder(b)
    assert is_hashed(job_folder(a)) and not is_hashed(job_folder("x=1"))


def test_an_escape_is_never_cut_in_two():
    for n in range(180, 200):
        folder = job_folder("x=" + "a" * n + "/" * 50)
        head = folder[: folder.rindex("~h")]
        assert "%" not in head[-2:]


def test_a_single_runs_folder_is_its_time_stamp_then_its_safe_settings():
    from hydra import compose, initialize_config_dir
    from omegaconf import OmegaConf

    from clustersim.paths import conf_dir

    with initialize_config_dir(config_dir=str(conf_dir()), version_base="1.3"):
        cfg = compose("config", return_hydra_config=True)
    # (a name with an interpolation would be resolved as a config value: not a folder's)
    for name in ["", *(v for v in VALUES if "${" not in v)]:
        assert run_suffix(name) == ("" if not name else f"_{job_folder(name)}")
        cfg.hydra.job.override_dirname = name
        folder = OmegaConf.select(cfg, "hydra.run.dir").rsplit("/", 1)[-1]
        stamp, rest = folder[:19], folder[19:]  # %Y-%m-%d_%H-%M-%S
        assert stamp[4] == "-" and stamp[10] == "_" and rest == run_suffix(name), folder
        assert not folder.endswith("_")  # no dangling separator when nothing was overridden
