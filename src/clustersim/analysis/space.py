"""The parameter space of a sensitivity study: which assumptions vary, over which ranges.

A study varies a few config values (``behavior.entry.but_for_share``, an instrument's
``approval_probability``...) over ranges declared in a file of ``conf/sensitivity/``::

Parameters
----------
      behavior.entry.but_for_share:
        low: 0.02
        high: 0.70
        distribution: uniform            # uniform, loguniform or triangular (then: mode)
        source: "Bartik (2018): 2-25% tipped; Slattery (2020): ~68%"

Every range must say where it comes from: a published figure or plan clause, or
``assumption: <one-line reason>``. ``ParameterSpace.problem`` is the same space as a
SALib problem dict. ``check_against`` tests the space against a composed config: every
parameter must name a number there, and both ends of its range must be values the model
accepts (checked by the model's own settings schema, so a share above 1 is refused with
the schema's words).

"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from clustersim.analysis.errors import AnalysisError

#: Distributions a range may carry, and SALib's name for each.
DISTRIBUTIONS = {"uniform": "unif", "loguniform": "logunif", "triangular": "triang"}
#: Keys a parameter entry may hold.
PARAMETER_KEYS = ("low", "high", "distribution", "mode", "source")


@dataclass(frozen=True)
class Parameter:
    """One assumption varied by a study.

    Attributes:
        path: the dotted config key it sets, e.g. ``behavior.entry.but_for_share``.
        low, high: the range of values (both ends possible values of the model).
        distribution: how values are spread over the range: ``uniform``, ``loguniform``
            (uniform in log(value); the range must be positive) or ``triangular``.
        mode: the most likely value of a triangular distribution (within the range).
        source: where the range comes from, or ``assumption: <reason>``.

    """

    path: str
    low: float
    high: float
    distribution: str = "uniform"
    mode: float | None = None
    source: str = ""

    @property
    def salib_bounds(self) -> list[float]:
        """The range as SALib wants it (triangular: start, end, peak as a fraction)."""
        if self.distribution == "triangular":
            assert self.mode is not None
            return [self.low, self.high, (self.mode - self.low) / (self.high - self.low)]
        return [self.low, self.high]


def _number(field: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise AnalysisError(field, value, "must be a number")
    if not math.isfinite(value):
        raise AnalysisError(field, value, "must be a finite number")
    return float(value)


def parse_parameter(path: str, entry: Any, where: str = "parameters") -> Parameter:
    """Check one entry of a space file and return it as a ``Parameter``."""
    field = f"{where}.{path}"
    if not isinstance(entry, Mapping):
        raise AnalysisError(
            field, entry, f"must be a mapping with keys {', '.join(PARAMETER_KEYS)}"
        )
    unknown = sorted(set(entry) - set(PARAMETER_KEYS))
    if unknown:
        raise AnalysisError(
            f"{field}.{unknown[0]}",
            entry[unknown[0]],
            f"unknown key; allowed: {', '.join(PARAMETER_KEYS)}",
        )
    for key in ("low", "high", "source"):
        if key not in entry:
            raise AnalysisError(
                f"{field}.{key}", None, "missing: every parameter needs low, high and source"
            )
    low, high = _number(f"{field}.low", entry["low"]), _number(f"{field}.high", entry["high"])
    if not low < high:
        raise AnalysisError(f"{field}.low", low, f"must be below high ({high})")
    dist = entry.get("distribution", "uniform")
    if dist not in DISTRIBUTIONS:
        raise AnalysisError(
            f"{field}.distribution", dist, f"must be one of {', '.join(DISTRIBUTIONS)}"
        )
    if dist == "loguniform" and low <= 0:
        raise AnalysisError(f"{field}.low", low, "a loguniform range must be positive")
    mode = entry.get("mode")
    if dist == "triangular":
        mode = _number(f"{field}.mode", mode)
        if not low <= mode <= high:
            raise AnalysisError(f"{field}.mode", mode, f"must lie within low..high ({low}..{high})")
    elif mode is not None:
        raise AnalysisError(f"{field}.mode", mode, "only a triangular distribution has a mode")
    source = entry["source"]
    if not isinstance(source, str) or not source.strip():
        raise AnalysisError(
            f"{field}.source",
            source,
            "must say where the range comes from, or 'assumption: <reason>'",
        )
    if source.strip().lower().rstrip(":") == "assumption":
        raise AnalysisError(
            f"{field}.source", source, "an assumption needs a reason: 'assumption: <reason>'"
        )
    return Parameter(path, low, high, dist, mode, source.strip())


@dataclass(frozen=True)
class ParameterSpace:
    """The assumptions a study varies, in a fixed order (the columns of its design).

    Attributes:
        parameters: the varied parameters, in the order of the file.
        name: the space's name (its file's stem, e.g. ``behaviour``).

    """

    parameters: tuple[Parameter, ...]
    name: str = "space"

    def __post_init__(self) -> None:
        if not self.parameters:
            raise AnalysisError("parameters", [], "a study needs at least one parameter")
        paths = [p.path for p in self.parameters]
        twice = sorted({p for p in paths if paths.count(p) > 1})
        if twice:
            raise AnalysisError("parameters", twice, "each parameter may be listed once")

    @property
    def names(self) -> list[str]:
        """The parameters' config paths, in design-column order."""
        return [p.path for p in self.parameters]

    def __len__(self) -> int:
        return len(self.parameters)

    @property
    def problem(self) -> dict[str, Any]:
        """The space as a SALib problem dict (names, bounds, distributions)."""
        return {
            "num_vars": len(self.parameters),
            "names": self.names,
            "bounds": [p.salib_bounds for p in self.parameters],
            "dists": [DISTRIBUTIONS[p.distribution] for p in self.parameters],
        }

    def to_dict(self) -> dict[str, Any]:
        """The space as plain data, as a space file holds it (plus its name)."""
        out: dict[str, Any] = {"name": self.name, "parameters": {}}
        for p in self.parameters:
            entry: dict[str, Any] = {"low": p.low, "high": p.high, "distribution": p.distribution}
            if p.mode is not None:
                entry["mode"] = p.mode
            entry["source"] = p.source
            out["parameters"][p.path] = entry
        return out

    def subset(self, paths: Sequence[str]) -> ParameterSpace:
        """The space restricted to ``paths`` (in the given order), e.g. after a Morris screen."""
        by_path = {p.path: p for p in self.parameters}
        for path in paths:
            if path not in by_path:
                raise AnalysisError(
                    "parameters", path, f"not in the space; known: {', '.join(self.names)}"
                )
        return ParameterSpace(tuple(by_path[p] for p in paths), self.name)


def space_from_dict(data: Any, name: str = "space", where: str = "") -> ParameterSpace:
    """Check a space given as plain data (``{"parameters": {...}}``) and return it."""
    prefix = f"{where}: " if where else ""
    if not isinstance(data, Mapping) or not isinstance(data.get("parameters"), Mapping):
        raise AnalysisError(f"{prefix}parameters", data, "must map config paths to ranges")
    unknown = sorted(set(data) - {"parameters", "name", "description"})
    if unknown:
        raise AnalysisError(
            f"{prefix}{unknown[0]}",
            data[unknown[0]],
            "unknown key; allowed: parameters, description",
        )
    try:
        params = tuple(parse_parameter(str(k), v) for k, v in data["parameters"].items())
        return ParameterSpace(params, str(data.get("name", name)))
    except AnalysisError as err:
        if not prefix:
            raise
        raise AnalysisError(f"{prefix}{err.field}", err.value, err.allowed) from None


def load_space(source: str | Path) -> ParameterSpace:
    """Read a space file: a path, or a name in ``conf/sensitivity/`` (``behaviour``)."""
    from clustersim.paths import conf_dir

    path = Path(source)
    if not path.suffix and not path.exists():
        path = conf_dir() / "sensitivity" / f"{source}.yaml"
    if not path.is_file():
        known = sorted(p.stem for p in (conf_dir() / "sensitivity").glob("*.yaml"))
        raise AnalysisError(
            "space", str(source), f"no such file; spaces in conf/sensitivity: {', '.join(known)}"
        )
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as err:
        raise AnalysisError("space", str(path), f"is not valid YAML: {err}") from None
    return space_from_dict(data, name=path.stem, where=str(path))


def set_path(data: dict[str, Any], path: str, value: float) -> None:
    """Set the value at a dotted path of plain nested config data (the path must exist)."""
    node = data
    parts = path.split(".")
    for part in parts[:-1]:
        node = node[part]
    node[parts[-1]] = value


def get_path(data: Mapping[str, Any], path: str) -> Any:
    """The value at a dotted path of plain nested config data (``KeyError`` if absent)."""
    node: Any = data
    for part in path.split("."):
        if not isinstance(node, Mapping) or part not in node:
            raise KeyError(path)
        node = node[part]
    return node


def check_against(space: ParameterSpace, plain: Mapping[str, Any]) -> None:
    """Raise ``AnalysisError`` unless every parameter can take both ends of its range.

    ``plain`` is a composed config as plain data (``clustersim.config.to_plain``). Each
    parameter must name a number in it; the config with the parameter set to its low end,
    and again to its high end, must pass the model's own checks (``load_scenario``).
    """
    import copy

    from clustersim.config import ConfigError
    from clustersim.settings import load_scenario

    for p in space.parameters:
        try:
            current = get_path(plain, p.path)
        except KeyError:
            raise AnalysisError(
                f"parameters.{p.path}",
                p.path,
                "names no setting of the composed config (check the spelling, and that the "
                "chosen policy has this instrument)",
            ) from None
        if isinstance(current, bool) or not isinstance(current, (int, float)):
            raise AnalysisError(
                f"parameters.{p.path}",
                current,
                "must name a number in the config, not a group or text",
            )
        for end, value in (("low", p.low), ("high", p.high)):
            data = copy.deepcopy(dict(plain))
            set_path(data, p.path, value)
            try:
                load_scenario(data)
            except ConfigError as err:
                raise AnalysisError(
                    f"parameters.{p.path}.{end}",
                    value,
                    f"outside what the model accepts ({err.field}: {err.allowed})",
                ) from None
