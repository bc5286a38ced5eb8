"""The model description (docs/ODD.md) names only code and config that exist.

Every code span of the ODD that names a module, a function, a class, a method or a
constant (``rules.entry.enter_firms``, ``ClusterModel.step``, ``MAX_PASSES``) must resolve
to an object of the package; every span that names a parameter (``world.scale``,
``policy_response.horizon_years``) must be a field of the scenario's schema, and every
test file it cites must exist. A rename that forgets the ODD fails here.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
import re
import typing
from pathlib import Path
from typing import Any

import pytest

from clustersim import settings
from clustersim.national import NationalFramework

ODD = Path(__file__).resolve().parents[1] / "docs" / "ODD.md"
SPANS = re.findall(r"`([^`\n]+)`", ODD.read_text(encoding="utf-8"))
#: Where a class or function named without its module lives.
HOMES = (
    "clustersim.model",
    "clustersim.incentives",
    "clustersim.agents",
    "clustersim.policy.engine",
    "clustersim.policy.grants",
    "clustersim.metrics",
    "clustersim.results.summary",
)


def _resolve(dotted: str) -> Any:
    """The object ``dotted`` names under ``clustersim`` (or a HOMES module); else raise."""
    if dotted.startswith("test_") and dotted.endswith(".py"):
        if (Path(__file__).parent / dotted).is_file():
            return dotted
        raise LookupError(dotted)
    if dotted.startswith("model."):  # an attribute of a model (Mesa's or ours)
        if hasattr(_toy_model(), dotted.removeprefix("model.")):
            return dotted
        raise LookupError(dotted)
    parts = dotted.removeprefix("clustersim.").split(".")
    candidates = [("clustersim", parts)] + [(home, parts) for home in HOMES]
    for base, rest in candidates:
        for cut in range(len(rest), -1, -1):
            name = ".".join([base, *rest[:cut]]) if cut else base
            try:
                obj = importlib.import_module(name)
            except ImportError:
                continue
            try:
                for attr in rest[cut:]:
                    obj = getattr(obj, attr)
            except AttributeError:
                break
            return obj
    raise LookupError(dotted)


@functools.cache
def _toy_model() -> Any:
    from clustersim.model import ClusterModel
    from tests.conftest import scenario

    return ClusterModel(scenario("world=toy"))


def _fields(tp: Any, prefix: str = "") -> set[str]:
    """Every dotted field path of a schema dataclass (and every field name alone)."""
    out: set[str] = set()
    hints = typing.get_type_hints(tp)
    for f in dataclasses.fields(tp):
        path = f"{prefix}{f.name}"
        out |= {path, f.name}
        inner = [a for a in typing.get_args(hints[f.name]) if dataclasses.is_dataclass(a)]
        inner += [hints[f.name]] if dataclasses.is_dataclass(hints[f.name]) else []
        for sub in inner:
            out |= _fields(sub, f"{path}.")
            out |= {p.split(".", 1)[1] for p in _fields(sub, f"{path}.") if "." in p}
    return out


PARAMETERS = (
    {f"world.{p}" for p in _fields(settings.World)}
    | {f"behavior.{p}" for p in _fields(settings.Behavior)}
    | {f"run.{p}" for p in _fields(settings.RunOptions)}
    | {f"national.{p}" for p in _fields(NationalFramework)}
    | _fields(settings.Behavior)
    | _fields(settings.World)
    | _fields(settings.RunOptions)
    | _fields(NationalFramework)
)
#: Instrument fields a plan's YAML sets (ODD section "Incentives").
PLAN_FIELDS = {"payout.gives", "payout.amount", "payout.rate"}
CODE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")


def _code_spans() -> list[str]:
    spans = []
    for span in SPANS:
        if not CODE.match(span):
            continue  # formulas, paths, overrides
        if span in PARAMETERS or span in PLAN_FIELDS:
            continue
        if "." in span or span.isupper() or span[0].isupper():
            spans.append(span)
    return sorted(set(spans))


def test_the_odd_names_code_at_all() -> None:
    spans = _code_spans()
    assert "rules.entry.enter_firms" in spans and "ClusterModel.step" in spans


@pytest.mark.parametrize("span", _code_spans())
def test_every_name_the_odd_gives_exists(span: str) -> None:
    try:
        _resolve(span)
    except LookupError:
        pytest.fail(f"docs/ODD.md names `{span}`, which is neither code nor a parameter")
