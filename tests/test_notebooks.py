"""The teaching notebooks run end to end (they are stored without outputs)."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "experiments").glob("*.ipynb"))


def test_there_are_notebooks_and_they_are_stored_without_outputs() -> None:
    assert len(NOTEBOOKS) >= 4
    for path in NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            if cell.cell_type == "code":
                assert not cell.outputs and cell.execution_count is None, path.name


#: Output types a reader sees as a result: a figure, a table, or a value.
RICH = ("image/png", "image/svg+xml", "text/html")


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_every_cell_quietly_and_leaves_nothing_behind(
    path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scratch = tmp_path / "tmp"  # the kernel's temporary folder
    scratch.mkdir()
    monkeypatch.setenv("TMPDIR", str(scratch))
    work = tmp_path / "work"
    work.mkdir()
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(work)}}
    )
    client.execute()  # raises CellExecutionError, naming the cell, if any cell fails
    code = [c for c in nb.cells if c.cell_type == "code"]
    # every code cell ran, once, in order (a cell skipped or a restarted kernel shows here)
    assert [c.execution_count for c in code] == list(range(1, len(code) + 1)), path.name
    outputs = [o for c in code for o in c.outputs]
    # the notebook shows what it teaches: at least one figure or table
    shown = [o for o in outputs if o.output_type in ("display_data", "execute_result")]
    assert any(kind in o.get("data", {}) for o in shown for kind in RICH), path.name
    # nothing on stderr: no swallowed failure, no warning (e.g. tqdm's "IProgress not
    # found" when ipywidgets is missing)
    stderr = [
        f"cell {i}: {o.text.strip()[:300]}"
        for i, c in enumerate(code)
        for o in c.outputs
        if o.output_type == "stream" and o.name == "stderr"
    ]
    assert not stderr, stderr
    assert not list(scratch.iterdir())  # a notebook's scratch folders go when its kernel stops
