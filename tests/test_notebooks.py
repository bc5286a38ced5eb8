"""The teaching notebooks run end to end (they are stored without outputs).

A notebook that runs many models states how many in a cell tagged ``parameters``
(papermill's convention). Here each runs smaller: a cell setting ``SMALLER``'s values is
put right after that cell, as papermill injects parameters. Every cell of the notebook
still runs, on fewer seeds, trials or months; what a reader runs is the notebook as
stored, with its own values.
"""

from __future__ import annotations

import ast
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbformat.v4 import new_code_cell

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "experiments").glob("*.ipynb"))

#: Smaller values of each notebook's parameters for this test (the cell tagged ``parameters``
#: holds the reader's). The Shanghai world from 2025 instead of 2020: the plans' grants
#: and the report's months (2025-12, 2027-12) are all still there. Notebook 6 already runs
#: the fewest Morris trajectories and Sobol samples the analysis accepts: here on the toy
#: world's last year (Huangpu's plan still pays; caused jobs still differ between runs)
#: and with two assumptions kept for Sobol instead of three (16 x 4 runs, not 16 x 5).
SMALLER: dict[str, dict[str, object]] = {
    "03_comparing_the_plans": {"WORLD": ["world.start=2025-01", "world.scale=0.2"]},
    "04_path_dependence": {"SEEDS": range(4)},
    "05_assumptions_that_matter": {
        "SEEDS": (0,),
        "WORLD": ["world.start=2025-01", "world.scale=0.2"],
    },
    "06_which_assumptions_decide": {
        "WORLD": ["world.start=2027-01", "run.report_months=[2027-12]"],
        "KEEP": 2,
    },
    "07_better_mix": {"TRIALS": 4, "SEEDS": 1, "VALIDATION_SEEDS": 2},
}


def _parameters(nb: nbformat.NotebookNode) -> int | None:
    """Index of the cell tagged ``parameters``, if any (at most one)."""
    tagged = [i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) <= 1, tagged
    return tagged[0] if tagged else None


def test_there_are_notebooks_and_they_are_stored_without_outputs() -> None:
    assert len(NOTEBOOKS) >= 4
    for path in NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            if cell.cell_type == "code":
                assert not cell.outputs and cell.execution_count is None, path.name


def test_the_smaller_values_are_parameters_each_notebook_sets() -> None:
    """Each value this test changes is assigned in the notebook's ``parameters`` cell (a
    renamed parameter would otherwise leave the notebook running at full size)."""
    assert set(SMALLER) <= {p.stem for p in NOTEBOOKS}
    for path in NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        at = _parameters(nb)
        if path.stem not in SMALLER:
            assert at is None, f"{path.name} has parameters: give SMALLER its values"
            continue
        assert at is not None and nb.cells[at].cell_type == "code", path.name
        tree = ast.parse(nb.cells[at].source)
        assigns = [node for node in tree.body if isinstance(node, ast.Assign)]
        assigned = {t.id for node in assigns for t in node.targets if isinstance(t, ast.Name)}
        assert set(SMALLER[path.stem]) <= assigned, (path.name, assigned)
        later = "\n".join(c.source for c in nb.cells[at + 1 :] if c.cell_type == "code")
        for name in SMALLER[path.stem]:
            assert name in later, f"{path.name}: {name} is set but never used"


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
    at = _parameters(nb)
    if at is not None:  # as papermill injects parameters: a cell right after theirs
        values = "\n".join(f"{k} = {v!r}" for k, v in SMALLER[path.stem].items())
        nb.cells.insert(at + 1, new_code_cell(values, metadata={"tags": ["injected-parameters"]}))
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
