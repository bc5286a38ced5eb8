"""The results contract: one override reading, safely written run folders, declared outcomes."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from clustersim.results import outcomes as oc
from clustersim.results import run_folder as rf
from clustersim.results.overrides import OverrideError, override_values, parse_override
from clustersim.results.summary import headline, summary_table, targets, with_regions


@pytest.mark.parametrize(
    ("text", "key", "value", "deleted"),
    [
        ("seed=3", "seed", "3", False),
        ("+behavior.entry.but_for_share=0.5", "behavior.entry.but_for_share", "0.5", False),
        ("++run.progress=false", "run.progress", "false", False),
        ("hydra/launcher=cores", "hydra/launcher", "cores", False),
        ("policy@pkg=none", "policy", "none", False),
        ("~run.counterfactual", "run.counterfactual", None, True),
        ("~run.counterfactual=off", "run.counterfactual", None, True),
        ("x=a=b", "x", "a=b", False),
    ],
)
def test_an_override_is_read_one_way(text, key, value, deleted):
    o = parse_override(text)
    assert (o.key, o.value, o.deleted, o.text) == (key, value, deleted, text)


@pytest.mark.parametrize("text", ["seed", "=3", "+=1"])
def test_a_malformed_override_is_named(text):
    with pytest.raises(OverrideError, match=repr(text).replace("+", r"\+")):
        parse_override(text)


def test_override_values_take_the_resolved_type_from_the_config():
    config = {"seed": 3, "policy": {"name": "x"}, "run": {"progress": False}}
    values = override_values(["seed=3", "policy=none", "run.progress=false", "~gone"], config)
    assert values == {"seed": 3, "policy": "none", "run.progress": False, "gone": None}
    assert override_values(["seed=3", "seed=4"]) == {"seed": "4"}  # the last one wins


def _content(**tables: pd.DataFrame) -> rf.RunContent:
    return rf.RunContent(
        marker={"config_hash": "h", "seed": 1, "version": "t"},
        config={"seed": 1},
        overrides=["seed=1"],
        summary={"seed": 1},
        tables=dict(tables),
    )


def test_writer_flushes_every_file_before_the_marker(tmp_path, monkeypatch):
    synced: list[str] = []
    real = os.fsync

    def spy(fd: int) -> None:
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))
        real(fd)

    monkeypatch.setattr(os, "fsync", spy)
    frame = pd.DataFrame({"month": ["2020-01"], "firms": [1]})
    rf.write_run_folder(
        tmp_path / "run", _content(**{rf.MONTHLY: frame, "counterfactual/x.parquet": frame})
    )
    names = [Path(p).name for p in synced]
    marker_at = names.index(rf.MARKER)
    for name in (rf.CONFIG, rf.OVERRIDES, rf.SUMMARY, rf.MONTHLY, "x.parquet"):
        assert names.index(name) < marker_at, name
    staging = [p for p in synced if rf.PARTIAL_INFIX in Path(p).name]
    assert staging and synced.index(staging[0]) < marker_at  # the folder itself, too
    assert synced[-1] == str(tmp_path)  # and the parent after the rename
    run = rf.StoredRun(tmp_path / "run")
    assert run.overrides() == ["seed=1"] and run.summary() == {"seed": 1}
    pd.testing.assert_frame_equal(run.table(rf.MONTHLY), frame)
    assert run.table(rf.LEDGER) is None


def test_a_file_changed_after_the_run_is_found(tmp_path):
    frame = pd.DataFrame({"month": ["2020-01"], "firms": [1]})
    folder = rf.write_run_folder(tmp_path / "run", _content(**{rf.MONTHLY: frame}))
    run = rf.StoredRun(folder)
    assert run.damage() is None and run.damage(check_content=True) is None
    data = (folder / rf.MONTHLY).read_bytes()
    (folder / rf.MONTHLY).write_bytes(data[:-7])
    assert "monthly.parquet holds" in run.damage()
    (folder / rf.MONTHLY).write_bytes(data[:-1] + bytes([data[-1] ^ 1]))
    assert run.damage() is None  # same size: only the content check sees it
    assert "monthly.parquet differs" in run.damage(check_content=True)
    (folder / rf.MONTHLY).unlink()
    assert run.damage() == "monthly.parquet is missing"
    (folder / rf.MARKER).write_text('{"config')
    assert "COMPLETE cannot be read" in run.damage()


def test_tables_written_at_once_hold_the_bytes_written_one_by_one(tmp_path):
    rng = np.random.default_rng(1)
    frames = {
        f"{prefix}{name}": pd.DataFrame(
            {"month": [f"2020-{m:02d}" for m in range(1, 13)] * 50, "x": rng.random(600)}
        )
        for prefix in ("", "counterfactual/")
        for name in (rf.MONTHLY, rf.LEDGER, rf.SPENDING)
    }
    folder = rf.write_run_folder(tmp_path / "run", _content(**frames))
    for name, frame in frames.items():
        alone = tmp_path / "alone.parquet"
        frame.to_parquet(alone, index=False, engine="pyarrow", compression="zstd")
        assert (folder / name).read_bytes() == alone.read_bytes(), name
    assert rf.StoredRun(folder).damage(check_content=True) is None


def test_staging_folders_of_killed_runs_are_cleaned_by_the_next_write(tmp_path):
    killed = tmp_path / ".2026-01-01_10-00-00_seed=1.partial-4242"  # a single run killed mid-write
    writing = tmp_path / ".2026-01-01_10-09-59_seed=2.partial-4343"  # another run, writing now
    for folder in (killed, writing):
        folder.mkdir()
        (folder / rf.CONFIG).write_text("seed: 1\n")
    hour_ago = os.path.getmtime(writing) - 3600
    os.utime(killed, (hour_ago, hour_ago))
    frame = pd.DataFrame({"month": ["2020-01"], "firms": [1]})
    rf.write_run_folder(tmp_path / "2026-01-01_10-10-00_seed=3", _content(**{rf.MONTHLY: frame}))
    assert not killed.exists()
    assert writing.exists()  # a recent one may belong to a run still writing: kept
    assert rf.is_complete(tmp_path / "2026-01-01_10-10-00_seed=3")


def test_a_failed_write_leaves_nothing_and_a_complete_folder_is_never_overwritten(tmp_path):
    bad = pd.DataFrame({"x": [object()]})  # Parquet cannot store it
    with pytest.raises(Exception):  # noqa: B017 - whatever pyarrow raises
        rf.write_run_folder(tmp_path / "run", _content(**{rf.MONTHLY: bad}))
    assert list(tmp_path.iterdir()) == []
    rf.write_run_folder(tmp_path / "run", _content())
    with pytest.raises(rf.RunFolderError, match="already complete"):
        rf.write_run_folder(tmp_path / "run", _content())


def test_the_writer_itself_never_replaces_what_a_run_did_not_write(tmp_path):
    """The last line behind the check before the run (``runner.check_output_folder``)."""
    notes = tmp_path / "mine"
    notes.mkdir()
    (notes / "notes.txt").write_text("my notes")
    with pytest.raises(rf.RunFolderError, match=r"holds files that are not a run's \(notes\.txt\)"):
        rf.write_run_folder(notes, _content())
    assert (notes / "notes.txt").read_text() == "my notes" and len(list(notes.iterdir())) == 1
    a_file = tmp_path / "a_file"
    a_file.write_text("x")
    with pytest.raises(rf.RunFolderError, match="is a file"):
        rf.write_run_folder(a_file, _content())
    assert a_file.read_text() == "x"
    unfinished = tmp_path / "unfinished"  # an earlier attempt's files (and a log): replaced
    unfinished.mkdir()
    (unfinished / rf.CONFIG).write_text("seed: 1\n")
    (unfinished / "run.log").write_text("")
    rf.write_run_folder(unfinished, _content())
    assert rf.is_complete(unfinished) and not (unfinished / "run.log").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_a_file_arriving_while_the_run_writes_is_kept_and_the_run_refused(tmp_path):
    final = tmp_path / "run"
    refused = pytest.raises(rf.RunFolderError, match=r"late\.txt")
    with refused, rf.atomic_run_folder(final, {"seed": 1}) as writer:
        writer.text(rf.CONFIG, "seed: 1\n")
        final.mkdir()
        (final / "late.txt").write_text("someone's")
    assert [p.name for p in final.iterdir()] == ["late.txt"]
    assert [p.name for p in tmp_path.iterdir()] == ["run"]  # no staging folder left


def test_stored_run_names_the_file_it_cannot_read(tmp_path):
    folder = rf.write_run_folder(tmp_path / "run", _content())
    (folder / rf.SUMMARY).write_text("{not json")
    with pytest.raises(rf.BadRunFolderError, match=r"summary\.json cannot be read"):
        rf.StoredRun(folder).summary()
    (folder / rf.OVERRIDES).write_text("seed: 1\n")
    with pytest.raises(rf.BadRunFolderError, match=r"overrides\.yaml must hold a list"):
        rf.StoredRun(folder).overrides()


def test_every_region_and_payer_has_its_outcomes_declared():
    for region in oc.REGION_NAMES:
        for what in ("firms", "employment"):
            assert oc.OUTCOMES[f"{what}_{region}"].region == region
    for name in oc.SPENDING:
        assert oc.OUTCOMES[name].scale == 1e-6 and oc.OUTCOMES[name].unit == "RMB million"
    assert oc.TARGETS == {
        "leading_firms": 20,
        "leading_application_institutions": 20,
        "innovative_projects": 50,
    }
    assert set(oc.COMPARED) <= set(oc.OUTCOMES) and set(oc.PRINTED) <= set(oc.OUTCOMES)


def test_summary_reads_the_declared_outcomes():
    months = ["2020-01", "2020-02"]
    monthly = pd.DataFrame({"month": months})
    for name in ("firms", "employment", "talent", "leading_firms", "spending_cumulative"):
        monthly[name] = [10.0, 30.0]
    for name in ("firms_pudong", "employment_pudong", "firms_xuhui", "employment_xuhui"):
        monthly[name] = [1.0, 2.0]
    for name in oc.SINCE_START:
        monthly[name] = [1.0, 1.0]
    out = headline(monthly, ["pudong", "xuhui"], ["2020-02"])
    row = out["2020-02"]
    assert row["firms"] == 30.0 and row["firms_rest_of_shanghai"] == 2.0
    assert row["entries_since_start"] == 2.0
    assert set(row) - {f"{c}_since_start" for c in oc.SINCE_START} <= set(oc.OUTCOMES)
    assert targets(out)["leading_firms"] == {"target": 20, "2020-02": 30.0}
    text = summary_table(out)
    assert "leading firms (target ~20)" in text and "firms in rest of Shanghai" in text
    spent = next(line for line in text.splitlines() if line.startswith("spending, all"))
    assert spent.split()[-1] == "0.0"  # RMB 30 shown in millions


def test_marker_is_json_without_clock_time(tmp_path):
    folder = rf.write_run_folder(tmp_path / "run", _content())
    marker = json.loads((folder / rf.MARKER).read_text())
    files = marker.pop(rf.MANIFEST)
    values = marker.pop(rf.VALUES)  # the overrides' values in the config, for the collector
    assert marker == {"config_hash": "h", "seed": 1, "version": "t"}
    assert values == {"seed": 1}
    assert set(files) == {rf.CONFIG, rf.OVERRIDES, rf.SUMMARY}
    assert files[rf.SUMMARY][0] == (folder / rf.SUMMARY).stat().st_size


@pytest.mark.parametrize(
    "overrides", [[], ["world=toy", "policy=huangpu_2024"], ["preset=arthur_lockin"]]
)
def test_config_yaml_has_the_bytes_of_pythons_safe_dump(overrides):
    import yaml

    from clustersim.config import to_plain
    from tests.conftest import compose_cfg

    data = to_plain(compose_cfg(*overrides))
    want = yaml.safe_dump(data, sort_keys=True, allow_unicode=True)  # what runs wrote before
    assert rf.dump_yaml(data, sort_keys=True) == want
    assert rf.config_yaml(data) == want  # section by section
    assert rf.config_yaml(data) == want  # from the kept sections
    texts = ["world.parks.lujiazui.name='陆家嘴 A/B'", "seed=3"]
    assert rf.dump_yaml(texts) == yaml.safe_dump(texts, allow_unicode=True)


SHARED = [1, 2]


@pytest.mark.parametrize(
    "data",
    [
        {
            "a": {1: "x", "1": "y"},
            "t": {True: 2, False: 0},
            "b": [1.0, 1, "1", True, "yes", "null", ""],
        },
        {"b": [1.0, 1, "1"], "a": {"z": [[], {}], "nan": float("nan"), "inf": float("-inf")}},
        {"c": {}, "d": [], "e": "x" * 300 + " y" * 100, "f": "ü\u4e2d\n", "g": None},
        {"x": SHARED, "y": SHARED},  # one list twice: an anchor and an alias
        {"x": {"k": SHARED}, "z": [SHARED]},
        {"x": (1, 2)},  # not plain data: dumped whole (and refused, as before)
        {},
    ],
)
def test_config_yaml_is_the_whole_dump_for_any_data(data):
    """Section by section, from kept sections or not, the text is the whole document's."""

    def text(dump):
        try:
            return dump()
        except Exception as err:  # the same refusal, if any
            return type(err)

    want = text(lambda: rf.dump_yaml(dict(data), sort_keys=True))
    rf._SECTION_TEXT.clear()
    assert text(lambda: rf.config_yaml(data)) == want
    assert text(lambda: rf.config_yaml(data)) == want
    mixed = {**data, "seed": 1}  # a kept section next to a new one
    assert text(lambda: rf.config_yaml(mixed)) == text(lambda: rf.dump_yaml(mixed, sort_keys=True))


def test_headline_equals_the_months_of_the_table_with_regions():
    """``headline`` reads the outcomes without building ``with_regions``' table: the same numbers.

    Several districts per region, missing values, negative zeros and a repeated month:
    a headline that summed the regions in another order, skipped a district, counted a
    NaN or read another row than ``with_regions(...).set_index("month").at`` would differ.
    """
    rng = np.random.default_rng(7)
    districts = ["pudong", "huangpu", "xuhui", "jingan", "minhang"]
    months = ["2020-01", "2020-02", "2020-02", "2020-03"]
    monthly = pd.DataFrame({"month": months})
    for name in ("firms", "employment", "talent", "leading_firms"):
        monthly[name] = rng.random(len(months)) * 1e3
    for what in ("firms", "employment"):
        for d in districts[:-1]:  # one district has no column
            values = rng.random(len(months)) * 1e3 - 1e-3
            values[rng.random(len(months)) < 0.3] = np.nan
            monthly[f"{what}_{d}"] = values
    monthly["firms_huangpu"] = -0.0  # a region whose every value is a negative zero
    for name in oc.SINCE_START:
        monthly[name] = rng.random(len(months))
    out = headline(monthly, districts, ["2020-02", "2020-03", "2021-01"])
    table = with_regions(monthly, districts)
    first = table.drop_duplicates("month").set_index("month")
    cumulative = table[list(oc.SINCE_START)].cumsum()
    assert set(out) == {"2020-02", "2020-03"}  # a month not in the table is left out
    for m, row in out.items():
        i = months.index(m)
        for name, value in row.items():
            if name.endswith("_since_start"):
                expected = cumulative[name.removesuffix("_since_start")].iloc[i]
            else:
                expected = first.at[m, name]
            assert np.float64(value).tobytes() == np.float64(expected).tobytes(), (m, name)
