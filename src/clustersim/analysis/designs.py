"""Designs for sensitivity analysis: which parameter values to run, drawn by SALib.

Step one of SALib's three (sample, evaluate, analyse). A ``SensitivityDesign`` is the
matrix of parameter values to run (one row per model evaluation, one column per
parameter of the space) with everything needed to analyse it later and to check that a
sweep was made with it: the method, its size, its options and its seed.

- ``sobol``: Saltelli's extension of a scrambled Sobol sequence (``SALib.sample.sobol``);
  ``n`` base samples give ``n * (2D + 2)`` rows with second-order indices, ``n * (D + 2)``
  without. ``n`` must be a power of two (the sequence's balance).
- ``morris``: ``n`` Morris trajectories on a ``levels``-level grid, each ``D + 1`` rows
  that change one parameter at a time (``SALib.sample.morris``).

Values are rounded to ``digits`` significant digits, the values the sweep's jobs are run
with (a job's override text), so the analysis uses exactly the numbers the model saw. The
same space, method, size, options and seed give the same design, bit for bit.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from clustersim.analysis.errors import AnalysisError
from clustersim.analysis.space import ParameterSpace, space_from_dict

#: Design methods and the options each accepts (with defaults).
METHODS: dict[str, dict[str, Any]] = {
    "sobol": {"second_order": True},
    "morris": {"levels": 4},
}
#: File in a sweep folder that records the design the sweep was made with.
DESIGN_FILE = "sensitivity_design.json"


@dataclass(frozen=True)
class SensitivityDesign:
    """The runs a sensitivity analysis needs.

    Attributes:
        space: the parameters varied (the columns of ``values``).
        method: ``sobol`` or ``morris``.
        n: base samples (Sobol) or trajectories (Morris).
        seed: seed of the sample (scrambling or trajectory choice).
        options: method options (``second_order`` for Sobol, ``levels`` for Morris).
        digits: significant digits the values are rounded to.
        values: ``(rows, len(space))`` parameter values, one row per evaluation.

    """

    space: ParameterSpace
    method: str
    n: int
    seed: int
    options: dict[str, Any] = field(default_factory=dict)
    digits: int = 6
    values: np.ndarray = field(default_factory=lambda: np.empty((0, 0)))

    @property
    def rows(self) -> int:
        """Number of model evaluations the design asks for."""
        return int(self.values.shape[0])

    def texts(self, row: int) -> list[str]:
        """The overrides (``path=value``) of one row, as a sweep job is run with."""
        return [
            f"{p}={format_value(v, self.digits)}"
            for p, v in zip(self.space.names, self.values[row], strict=True)
        ]

    def unique_rows(self) -> tuple[np.ndarray, np.ndarray]:
        """The distinct rows (Morris trajectories may meet) and, per row, its distinct index."""
        uniq, first, inverse = np.unique(
            self.values, axis=0, return_index=True, return_inverse=True
        )
        order = np.argsort(first)  # distinct rows in order of first appearance
        rank = np.empty_like(order)
        rank[order] = np.arange(order.size)
        return uniq[order], rank[inverse.ravel()]

    def to_dict(self) -> dict[str, Any]:
        """The design as JSON-ready data (values written with ``repr``: exact floats)."""
        return {
            "kind": "clustersim sensitivity design",
            "method": self.method,
            "n": self.n,
            "seed": self.seed,
            "options": self.options,
            "digits": self.digits,
            "space": self.space.to_dict(),
            "values": [[float(v) for v in row] for row in self.values],
        }


def format_value(value: float, digits: int) -> str:
    """A design value as override text: ``digits`` significant digits, read back exactly."""
    return format(float(value), f".{digits}g")


def _round(values: np.ndarray, space: ParameterSpace, digits: int) -> np.ndarray:
    out = np.vectorize(lambda v: float(format_value(v, digits)))(values).astype(np.float64)
    lows = np.array([p.low for p in space.parameters])
    highs = np.array([p.high for p in space.parameters])
    return np.clip(out, lows, highs)  # rounding must not leave the range


def _check_options(method: str, options: dict[str, Any]) -> dict[str, Any]:
    if method not in METHODS:
        raise AnalysisError("method", method, f"must be one of {', '.join(METHODS)}")
    allowed = METHODS[method]
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        raise AnalysisError(
            f"options.{unknown[0]}",
            options[unknown[0]],
            f"{method} accepts {', '.join(allowed) or 'no options'}",
        )
    return {**allowed, **options}


def sample(
    space: ParameterSpace,
    method: str,
    n: int,
    seed: int = 0,
    digits: int = 6,
    **options: Any,
) -> SensitivityDesign:
    """Draw a design over ``space`` (``method`` = ``sobol`` or ``morris``); see the module doc."""
    opts = _check_options(method, options)
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise AnalysisError("n", n, "must be a whole number >= 1")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise AnalysisError("seed", seed, "must be a whole number >= 0")
    if not 3 <= digits <= 17:
        raise AnalysisError("digits", digits, "must be between 3 and 17")
    problem = space.problem
    if method == "sobol":
        from SALib.sample import sobol as sobol_sample

        if n & (n - 1):
            low = 2 ** int(math.log2(n))
            raise AnalysisError(
                "n", n, f"a Sobol design needs a power of two (e.g. {low} or {2 * low})"
            )
        if not isinstance(opts["second_order"], bool):
            raise AnalysisError(
                "options.second_order", opts["second_order"], "must be true or false"
            )
        values = sobol_sample.sample(problem, n, calc_second_order=opts["second_order"], seed=seed)
    else:
        from SALib.sample import morris as morris_sample

        levels = opts["levels"]
        if isinstance(levels, bool) or not isinstance(levels, int) or levels < 2 or levels % 2:
            raise AnalysisError(
                "options.levels", levels, "must be an even whole number >= 2 (4 is usual)"
            )
        if n < 2:
            raise AnalysisError(
                "n", n, "a Morris screen needs at least 2 trajectories (10-20 is usual)"
            )
        values = morris_sample.sample(problem, n, num_levels=levels, seed=seed)
    return SensitivityDesign(space, method, n, seed, opts, digits, _round(values, space, digits))


def design_from_dict(data: Any, where: str = DESIGN_FILE) -> SensitivityDesign:
    """Read a design written by ``SensitivityDesign.to_dict`` (``AnalysisError`` if not one)."""
    if not isinstance(data, dict) or data.get("kind") != "clustersim sensitivity design":
        raise AnalysisError(where, type(data).__name__, "is not a clustersim sensitivity design")
    space = space_from_dict(data["space"], str(data["space"].get("name", "space")))
    values = np.asarray(data["values"], dtype=np.float64)
    if values.ndim != 2 or values.shape[1] != len(space):
        raise AnalysisError(
            f"{where}: values", list(values.shape), f"must have {len(space)} columns"
        )
    return SensitivityDesign(
        space,
        str(data["method"]),
        int(data["n"]),
        int(data["seed"]),
        dict(data["options"]),
        int(data["digits"]),
        values,
    )


def write_design(design: SensitivityDesign, folder: Path) -> Path:
    """Write the design into a sweep folder (atomically) and return the file's path."""
    import os

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / DESIGN_FILE
    tmp = folder / f".{DESIGN_FILE}.tmp-{os.getpid()}"
    tmp.write_text(json.dumps(design.to_dict(), indent=1))
    os.replace(tmp, path)
    return path


def read_design(folder: Path) -> SensitivityDesign:
    """The design a sweep folder was made with; ``AnalysisError`` if it has none."""
    path = Path(folder) / DESIGN_FILE
    if not path.is_file():
        raise AnalysisError(
            "sweep",
            str(folder),
            f"was not made with a sensitivity design (no {DESIGN_FILE}); run one with "
            "clustersim-run -m experiment=sensitivity_sobol (or sensitivity_morris)",
        )
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as err:
        raise AnalysisError(
            str(path), "unreadable", f"must be the JSON the sweeper wrote ({err})"
        ) from None
    return design_from_dict(data, str(path))
