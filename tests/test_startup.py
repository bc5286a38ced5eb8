"""The garbage collector is held off while a process starts, and on again for its runs.

Each case runs in a fresh interpreter: whether a process has frozen its start is
process-wide, and this test process may have run the model already.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import in_fresh_python

#: Runs ``clustersim-run`` in-process with the given overrides and records, at the start
#: of the model's run and after ``main`` returned, whether the collector was on and how
#: many objects were frozen.
RUN = (
    "import contextlib, gc, io, json, sys\n"
    "import clustersim.runner as runner\n"
    "import clustersim.cli.run as cli\n"
    "seen = {}\n"
    "start = gc.get_freeze_count()  # (the interpreter's own start freezes a few hundred)\n"
    "real = runner.simulate\n"
    "def simulate(*a, **k):\n"
    "    seen['during run'] = [gc.isenabled(), gc.get_freeze_count() > start + 10000]\n"
    "    return real(*a, **k)\n"
    "runner.simulate = simulate\n"
    "seen['before'] = [gc.isenabled(), gc.get_freeze_count() > start + 10000]\n"
    "sys.argv = ['clustersim-run', *ARGS]\n"
    "code = 0\n"
    "with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):\n"
    "    try:\n"
    "        cli.main()\n"
    "    except SystemExit as exit:\n"
    "        code = exit.code\n"
    "seen['after'] = [gc.isenabled(), gc.get_freeze_count() > start + 10000]\n"
    "seen['code'] = code\n"
    "print(json.dumps(seen))\n"
)


@pytest.mark.slow  # a fresh interpreter imports and runs clustersim-run (~2 CPU-s)
def test_a_run_freezes_its_start_and_collects_again(tmp_path: Path) -> None:
    args = ["world=toy", "run.progress=false", f"hydra.run.dir={tmp_path / 'run'}"]
    seen = in_fresh_python(RUN.replace("ARGS", repr(args)))
    assert seen["code"] == 0
    assert seen["before"] == [True, False]
    assert seen["during run"] == [True, True]  # on again, with the start frozen
    assert seen["after"] == [True, True]


@pytest.mark.slow  # a fresh interpreter imports and runs clustersim-run (~2 CPU-s)
def test_a_run_stopped_by_bad_input_leaves_the_collector_on(tmp_path: Path) -> None:
    args = ["world=toy", "world.scale=-1", f"hydra.run.dir={tmp_path / 'run'}"]
    seen = in_fresh_python(RUN.replace("ARGS", repr(args)))
    assert seen["code"] == 2 and "during run" not in seen
    assert seen["after"] == [True, False]


def test_a_collector_turned_off_by_the_caller_stays_off() -> None:
    seen = in_fresh_python(
        "import gc, json\n"
        "from clustersim.startup import collector_paused, freeze_long_lived\n"
        "gc.disable()\n"
        "with collector_paused():\n"
        "    freeze_long_lived()\n"
        "    inside = gc.isenabled()\n"
        "print(json.dumps([inside, gc.isenabled()]))\n"
    )
    assert seen == [False, False]


def test_the_pause_ends_with_its_block_when_nothing_ran() -> None:
    seen = in_fresh_python(
        "import gc, json\n"
        "from clustersim.startup import collector_paused\n"
        "with collector_paused():\n"
        "    inside = gc.isenabled()\n"
        "    with collector_paused():\n"
        "        nested = gc.isenabled()\n"
        "    still = gc.isenabled()\n"
        "print(json.dumps([inside, nested, still, gc.isenabled()]))\n"
    )
    assert seen == [False, False, False, True]
