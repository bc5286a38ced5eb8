"""Skip-before-launch: complete jobs are found from their recipe, without composing them."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from hydra import compose, initialize_config_dir

from clustersim.paths import conf_dir
from clustersim.results.recipe import recipe_of, sources_digest
from clustersim.results.sweep_folder import (
    failure_path,
    job_name,
    read_statuses,
    write_json_atomic,
)
from clustersim.sweep.skip import CompleteJobs, skip_complete


def hydra_cfg(*overrides: str):
    with initialize_config_dir(config_dir=str(conf_dir()), version_base="1.3"):
        return compose("config", overrides=list(overrides), return_hydra_config=True)


def finish(sweep: Path, job: list[str], recipe: str | None) -> Path:
    """A complete job folder whose marker holds ``recipe`` (what a run writes)."""
    folder = sweep / job_name(job)
    folder.mkdir(parents=True)
    marker = {"config_hash": "x", "seed": 0, "version": "test"}
    if recipe is not None:
        marker["recipe"] = recipe
    (folder / "COMPLETE").write_text(json.dumps(marker))
    return folder


def test_the_recipe_a_job_writes_is_the_one_the_sweeper_computes(tmp_path):
    master = hydra_cfg(f"hydra.sweep.dir={tmp_path}", "world=toy")
    done = ["world=toy", "policy=none", "seed=1", "world.parks.lujiazui.name='A/B'"]
    other = ["world=toy", "policy=none", "seed=2", "world.parks.lujiazui.name='A/B'"]
    # the recipe the job itself writes into its marker (cli.run.execute: HydraConfig's node)
    finish(tmp_path, done, recipe_of(hydra_cfg(*done).hydra))
    write_json_atomic(failure_path(tmp_path, job_name(done)), {"error": "an old attempt"})
    assert skip_complete(CompleteJobs(master), [done, other]) == [other]
    assert read_statuses(tmp_path) == {job_name(done): "skipped"}
    assert not failure_path(tmp_path, job_name(done)).exists()  # no stale failure record


def test_any_doubt_launches_the_job(tmp_path):
    master = hydra_cfg(f"hydra.sweep.dir={tmp_path}")
    old = ["seed=1"]  # written before recipes existed
    changed = ["seed=2"]  # the settings (or the config files) changed since it ran
    finish(tmp_path, old, None)
    finish(tmp_path, changed, recipe_of(hydra_cfg("seed=2", "world=toy").hydra))
    jobs = [old, changed]
    assert skip_complete(CompleteJobs(master), jobs) == jobs
    assert read_statuses(tmp_path) == {}
    # a user's own job folder names: the sweeper cannot know where a job writes
    custom = hydra_cfg(f"hydra.sweep.dir={tmp_path}", "hydra.sweep.subdir=${hydra.job.num}")
    same = ["seed=3"]
    finish(tmp_path, same, recipe_of(hydra_cfg(*same).hydra))
    assert skip_complete(CompleteJobs(custom), [same]) == [same]
    assert skip_complete(CompleteJobs(master), [same]) == []


def test_a_sweeper_naming_its_own_job_folders_is_followed(tmp_path):
    master = hydra_cfg(f"hydra.sweep.dir={tmp_path}")
    job = ["seed=4", "hydra.sweep.subdir='policy=none,point=00003'"]
    folder = tmp_path / "policy=none,point=00003"
    folder.mkdir()
    marker = {"recipe": recipe_of(hydra_cfg("seed=4").hydra)}
    (folder / "COMPLETE").write_text(json.dumps(marker))
    assert skip_complete(CompleteJobs(master), [job]) == []


def test_the_config_files_are_part_of_the_recipe(tmp_path):
    conf = tmp_path / "conf"
    conf.mkdir()
    (conf / "config.yaml").write_text("seed: 0\n")
    sources = [{"schema": "file", "path": str(conf)}, {"schema": "structured", "path": ""}]
    before = sources_digest(sources)
    (conf / "config.yaml").write_text("seed: 1\n")
    assert sources_digest(sources) not in (None, before)
    (conf / "config.yaml").write_text("seed: ${oc.env:SEED}\n")
    assert sources_digest(sources) is None  # read from the environment: no shortcut


def test_the_digest_kept_in_a_process_follows_edits_of_the_files(tmp_path):
    conf = tmp_path / "conf"
    conf.mkdir()
    (conf / "config.yaml").write_text("seed: 0\n")
    settled = time.time() - 60  # the files as a sweep finds them: edited a while ago
    os.utime(conf / "config.yaml", (settled, settled))
    sources = [{"schema": "file", "path": str(conf)}]
    first = sources_digest(sources)
    assert sources_digest(sources) == first  # (kept)
    (conf / "config.yaml").write_text("seed: 1\n")  # the same size, a new time
    second = sources_digest(sources)
    assert second not in (None, first)
    (conf / "config.yaml").write_text("seed: 0\n")  # back within the clock's granularity
    assert sources_digest(sources) == first
    (conf / "extra.yaml").write_text("x: 1\n")
    assert sources_digest(sources) not in (None, first, second)
