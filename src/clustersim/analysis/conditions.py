"""Conditions on outcomes, as typed after ``--where``: which runs are "cases of interest".

A condition compares outcome columns with numbers or with each other::

    cost_per_caused_job_huangpu_2024 > 1e6
    caused_jobs_pudong_2027 > caused_jobs_huangpu_2024
    caused_jobs > 0 and cost_per_caused_job < 5e5
    not (leading_firms >= 20)
    `caused_employment@2027-12` > 2 * `caused_employment@2025-12`

Allowed: column names (in back-quotes when they hold characters such as ``@`` or ``-``),
numbers (``1e6``, ``0.4``), ``+ - * /``, comparisons (``> >= < <= == !=``, chained as in
``0.2 < x < 0.4``), ``and``, ``or``, ``not`` and parentheses. Nothing else is evaluated:
the text is parsed with Python's ``ast`` and only these node types are accepted.
"""

from __future__ import annotations

import ast
import difflib
import operator
import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from clustersim.analysis.errors import AnalysisError

_COMPARE: dict[type, Callable] = {
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
}
_ARITH: dict[type, Callable] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
}
_QUOTED = re.compile(r"`([^`]+)`")


@dataclass(frozen=True)
class Condition:
    """A parsed ``--where`` condition.

    Attributes:
        text: the condition as typed.
        columns: the columns it reads, in order of appearance.

    """

    text: str
    columns: tuple[str, ...]
    _tree: ast.Expression
    _names: dict[str, str]

    def evaluate(self, table: pd.DataFrame, field: str = "--where") -> np.ndarray:
        """One boolean per row of ``table``: whether the row meets the condition.

        Raises ``AnalysisError`` for a column the table lacks, or one with missing values
        in rows the condition must judge.
        """
        for col in self.columns:
            if col not in table.columns:
                close = difflib.get_close_matches(col, [str(c) for c in table.columns], n=3)
                hint = f"; did you mean {', '.join(close)}?" if close else ""
                listed = ", ".join(sorted(str(c) for c in table.columns if c not in ("job",)))
                raise AnalysisError(field, col, f"names no column{hint} Columns: {listed}")
            values = pd.to_numeric(table[col], errors="coerce")
            missing = int(values.isna().sum())
            if missing:
                raise AnalysisError(
                    field,
                    col,
                    f"has no value in {missing} of {len(table)} runs; a condition needs it "
                    "in every run",
                )
        result = self._eval(self._tree.body, table)
        if not isinstance(result, np.ndarray) or result.dtype != bool:
            raise AnalysisError(
                field, self.text, "must be a comparison (e.g. x > 1e6), not a number"
            )
        return result

    def _eval(self, node: ast.AST, table: pd.DataFrame):
        if isinstance(node, ast.BoolOp):
            parts = [self._boolean(self._eval(v, table)) for v in node.values]
            fn = np.logical_and if isinstance(node.op, ast.And) else np.logical_or
            out = parts[0]
            for p in parts[1:]:
                out = fn(out, p)
            return out
        if isinstance(node, ast.UnaryOp):
            value = self._eval(node.operand, table)
            if isinstance(node.op, ast.Not):
                return ~self._boolean(value)
            return -value if isinstance(node.op, ast.USub) else value
        if isinstance(node, ast.Compare):
            left = self._eval(node.left, table)
            out = None
            for op, comp in zip(node.ops, node.comparators, strict=True):
                right = self._eval(comp, table)
                part = np.asarray(_COMPARE[type(op)](left, right), dtype=bool)
                part = np.broadcast_to(part, (len(table),)).copy()
                out = part if out is None else out & part
                left = right
            return out
        if isinstance(node, ast.BinOp):
            return _ARITH[type(node.op)](
                self._eval(node.left, table), self._eval(node.right, table)
            )
        if isinstance(node, ast.Constant):
            return float(node.value)
        name = _dotted(node)
        assert name is not None
        return pd.to_numeric(table[self._names.get(name, name)], errors="coerce").to_numpy(
            dtype=float
        )

    def _boolean(self, value) -> np.ndarray:
        if not isinstance(value, np.ndarray) or value.dtype != bool:
            raise AnalysisError("--where", self.text, "and/or/not join comparisons, not numbers")
        return value


def _dotted(node: ast.AST) -> str | None:
    """``a.b.c`` for a Name or a chain of attributes, else None."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value)
        return None if base is None else f"{base}.{node.attr}"
    return None


def _check(node: ast.AST, text: str, names: list[str]) -> None:
    """Refuse every node type but the few a condition may use; collect the names read."""
    allowed = "column names, numbers, + - * /, comparisons, and/or/not, parentheses"
    if isinstance(node, ast.Expression):
        _check(node.body, text, names)
    elif isinstance(node, ast.BoolOp):
        for v in node.values:
            _check(v, text, names)
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.Not, ast.USub, ast.UAdd)):
        _check(node.operand, text, names)
    elif isinstance(node, ast.Compare):
        bad = [op for op in node.ops if type(op) not in _COMPARE]
        if bad:
            raise AnalysisError(
                "--where", text, f"comparisons may be > >= < <= == != only ({allowed})"
            )
        _check(node.left, text, names)
        for c in node.comparators:
            _check(c, text, names)
    elif isinstance(node, ast.BinOp) and type(node.op) in _ARITH:
        _check(node.left, text, names)
        _check(node.right, text, names)
    elif (
        isinstance(node, ast.Constant)
        and isinstance(node.value, (int, float))
        and not isinstance(node.value, bool)
    ):
        pass
    elif (name := _dotted(node)) is not None:
        names.append(name)
    else:
        raise AnalysisError("--where", text, f"may use {allowed}; found {ast.unparse(node)!r}")


def parse_condition(text: str) -> Condition:
    """Parse a ``--where`` condition, or raise ``AnalysisError`` saying what is allowed."""
    if not isinstance(text, str) or not text.strip():
        raise AnalysisError("--where", text, "must be a condition such as 'caused_jobs > 1000'")
    quoted: dict[str, str] = {}

    def placeholder(match: re.Match) -> str:
        key = f"__col{len(quoted)}__"
        quoted[key] = match.group(1)
        return key

    source = _QUOTED.sub(placeholder, text.strip())
    if "@" in source or "`" in source:
        raise AnalysisError(
            "--where",
            text,
            "put a column name holding @ or - in back-quotes: `caused_employment@2027-12` > 0",
        )
    try:
        tree = ast.parse(source, mode="eval")
    except SyntaxError:
        hint = ""
        if "@" in source or re.search(r"[A-Za-z_]\d*-\d", source):
            hint = " (put a column name holding @ or - in back-quotes: `caused_employment@2027-12`)"
        raise AnalysisError("--where", text, f"is not a condition that can be read{hint}") from None
    found: list[str] = []
    _check(tree, text, found)
    if not isinstance(tree.body, (ast.Compare, ast.BoolOp)) and not (
        isinstance(tree.body, ast.UnaryOp) and isinstance(tree.body.op, ast.Not)
    ):
        raise AnalysisError("--where", text, "must be a comparison such as 'caused_jobs > 1000'")
    columns = tuple(dict.fromkeys(quoted.get(n, n) for n in found))
    return Condition(text, columns, tree, quoted)
