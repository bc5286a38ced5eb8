"""The calibration config: which parameters to fit, their priors, and how to run the fit.

A calibration config (``conf/calibration/<name>.yaml``) names a targets file, the Hydra
overrides every run starts from (the world, the policy), the parameters to fit with a
prior range and the source of that range, and the inference settings. ``parse_spec``
checks the file alone; ``check_parameters`` checks each parameter against the model's
config schema (``clustersim.settings``): the key must exist, be a number, and the prior
range must lie inside what the schema accepts (e.g. a share within [0, 1]).
"""

from __future__ import annotations

import dataclasses
import math
import re
import types
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, get_args, get_origin

from clustersim.calibrate.targets import _number, read_yaml_mapping
from clustersim.config import ConfigError

#: Inference methods: pyabc's ABC-SMC (the ``calibrate`` extra), or ABC rejection on a
#: scrambled Sobol design (the fast mode, no extra needed).
METHODS = ("smc", "rejection")
_KEYS = (
    "description",
    "targets",
    "overrides",
    "parameters",
    "method",
    "population",
    "generations",
    "max_runs",
    "design_points",
    "accept",
    "seed",
    "runs_per_point",
    "folder",
    "preset",
)
_PARAM_KEYS = ("low", "high", "log", "source")


@dataclass(frozen=True)
class Parameter:
    """One parameter to fit: a config key and its prior (uniform, or log-uniform)."""

    key: str
    low: float
    high: float
    log: bool
    source: str
    integer: bool = False

    def to_unit(self, value: float) -> float:
        """Position of ``value`` in the prior range, 0..1."""
        if self.log:
            return (math.log(value) - math.log(self.low)) / (
                math.log(self.high) - math.log(self.low)
            )
        return (value - self.low) / (self.high - self.low)

    def from_unit(self, u: float) -> float:
        """The value at position ``u`` (0..1) of the prior range."""
        if self.log:
            return math.exp(math.log(self.low) + u * (math.log(self.high) - math.log(self.low)))
        return self.low + u * (self.high - self.low)

    @property
    def name(self) -> str:
        """A short column name: the key's last two parts (``growth.volatility``)."""
        return ".".join(self.key.split(".")[-2:])


@dataclass(frozen=True)
class CalibrationSpec:
    """A checked calibration config."""

    name: str
    path: Path
    targets: str
    overrides: tuple[str, ...]
    parameters: tuple[Parameter, ...]
    method: str
    population: int
    generations: int
    design_points: int
    accept: float
    seed: int
    runs_per_point: int
    folder: str
    description: str = ""
    #: ABC-SMC stops starting generations once its generations counted this many runs
    #: (None: no limit, ``generations`` decides).
    max_runs: int | None = None
    #: Name of the behaviour preset it writes (``conf/behavior/<preset>.yaml``, and the
    #: draws ``<preset>_draw_NN.yaml``).
    preset: str = "calibrated"


def _whole(path: str, value: Any, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ConfigError(path, value, f"must be a whole number from {low} to {high}")
    return value


def parse_spec(data: Mapping[str, Any], path: Path, name: str | None = None) -> CalibrationSpec:
    """A ``CalibrationSpec`` from a calibration config's content (schema not yet checked)."""
    for key in data:
        if key not in _KEYS:
            raise ConfigError(key, data[key], "unknown key; allowed: " + ", ".join(_KEYS))
    targets = data.get("targets")
    if not isinstance(targets, str) or not targets:
        raise ConfigError(
            "targets", targets, "must name a targets file in conf/targets/ (e.g. shanghai)"
        )
    overrides = data.get("overrides", [])
    if not isinstance(overrides, list) or not all(
        isinstance(o, str) and "=" in o for o in overrides
    ):
        raise ConfigError("overrides", overrides, "must be a list of Hydra overrides key=value")
    params = data.get("parameters")
    if not isinstance(params, Mapping) or not params:
        raise ConfigError(
            "parameters", params, "must be a non-empty mapping of config key to prior"
        )
    parsed = tuple(_parameter(str(k), v) for k, v in params.items())
    for p in parsed:
        if any(o.split("=", 1)[0].lstrip("+~") == p.key for o in overrides):
            raise ConfigError(
                f"parameters.{p.key}",
                p.key,
                "is also fixed in overrides; fit it or fix it, not both",
            )
    method = data.get("method", "smc")
    if method not in METHODS:
        raise ConfigError(
            "method", method, "must be smc (pyabc ABC-SMC) or rejection (QMC fast mode)"
        )
    population = _whole("population", data.get("population", 100), 4, 100_000)
    generations = _whole("generations", data.get("generations", 5), 1, 100)
    max_runs = data.get("max_runs")
    if max_runs is not None:
        max_runs = _whole("max_runs", max_runs, 1, 100_000_000)
    design_points = _whole("design_points", data.get("design_points", 1024), 16, 1_000_000)
    if design_points & (design_points - 1):
        raise ConfigError(
            "design_points", design_points, "must be a power of two (a balanced Sobol design)"
        )
    accept = _number("accept", data.get("accept", 0.1))
    if not 0 < accept < 1:
        raise ConfigError("accept", accept, "must be between 0 and 1 (share of design points kept)")
    seed = _whole("seed", data.get("seed", 0), 0, 2**31 - 1)
    runs = _whole("runs_per_point", data.get("runs_per_point", 1), 1, 100)
    folder = data.get("folder", f"results/calibration/{name or Path(path).stem}")
    if not isinstance(folder, str) or not folder:
        raise ConfigError("folder", folder, "must be a folder path")
    preset = data.get("preset", f"calibrated_{name or Path(path).stem}")
    if not isinstance(preset, str) or not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", preset):
        raise ConfigError(
            "preset", preset, "must be a preset name: a letter, then letters, digits or _"
        )
    if preset == "default":
        raise ConfigError("preset", preset, "would overwrite conf/behavior/default.yaml")
    return CalibrationSpec(
        name=name or Path(path).stem,
        path=Path(path),
        targets=targets,
        overrides=tuple(overrides),
        parameters=parsed,
        method=method,
        population=population,
        generations=generations,
        max_runs=max_runs,
        design_points=design_points,
        accept=accept,
        seed=seed,
        runs_per_point=runs,
        folder=folder,
        description=str(data.get("description", "")).strip(),
        preset=preset,
    )


def _parameter(key: str, data: Any) -> Parameter:
    path = f"parameters.{key}"
    if not isinstance(data, Mapping):
        raise ConfigError(path, data, "must be a mapping with low, high, log and source")
    for k in data:
        if k not in _PARAM_KEYS:
            raise ConfigError(
                f"{path}.{k}", data[k], "unknown key; allowed: " + ", ".join(_PARAM_KEYS)
            )
    low = _number(f"{path}.low", data.get("low"))
    high = _number(f"{path}.high", data.get("high"))
    if not low < high:
        raise ConfigError(f"{path}.low", low, f"must be below high ({high})")
    log = data.get("log", False)
    if not isinstance(log, bool):
        raise ConfigError(f"{path}.log", log, "must be true (log-uniform prior) or false (uniform)")
    if log and low <= 0:
        raise ConfigError(f"{path}.low", low, "a log-uniform prior needs low > 0")
    source = data.get("source")
    if not isinstance(source, str) or len(source.strip()) < 12:
        raise ConfigError(
            f"{path}.source",
            source,
            "every prior range needs its source: a published figure, or 'assumption: <why>'",
        )
    return Parameter(key=key, low=low, high=high, log=log, source=source.strip())


def load_spec(path: str | Path) -> CalibrationSpec:
    """Read a calibration config and check it (the parameter schema check is separate)."""
    path = Path(path)
    return parse_spec(read_yaml_mapping(path, "calibration config"), path)


# ---------------------------------------------------------------- schema check


def schema_field(key: str) -> tuple[type, Mapping[str, Any]]:
    """The type and bounds the scenario schema gives the dotted config ``key``.

    Raises ``ConfigError`` naming the key when it does not exist or is not a number.
    """
    from clustersim.settings import Behavior

    roots: dict[str, Any] = {"behavior": Behavior}
    parts = key.split(".")
    path = f"parameters.{key}"
    if parts[0] not in roots:
        raise ConfigError(
            path,
            key,
            "a fitted parameter must be a behavior.* setting "
            "(the result is the preset behavior=calibrated)",
        )
    tp: Any = roots[parts[0]]
    meta: Mapping[str, Any] = {}
    done = [parts[0]]
    for part in parts[1:]:
        if get_origin(tp) in (typing.Union, types.UnionType):
            tp = next(a for a in get_args(tp) if a is not type(None))
        if get_origin(tp) is dict:
            tp = get_args(tp)[1]
            meta = {}
        elif dataclasses.is_dataclass(tp):
            fields = {f.name: f for f in dataclasses.fields(tp)}
            if part not in fields:
                raise ConfigError(
                    path,
                    key,
                    f"no such setting: {'.'.join(done)} has " + ", ".join(fields),
                )
            tp = typing.get_type_hints(tp)[part]
            meta = fields[part].metadata
        else:
            raise ConfigError(path, key, f"no such setting: {'.'.join(done)} is a single value")
        done.append(part)
    if tp not in (int, float):
        raise ConfigError(path, key, "a fitted parameter must be a number (this setting is not)")
    return tp, meta


def check_parameters(params: Sequence[Parameter]) -> tuple[Parameter, ...]:
    """Check each parameter against the schema; whole-number settings are marked ``integer``."""
    out = []
    for p in params:
        tp, meta = schema_field(p.key)
        path = f"parameters.{p.key}"
        for name, value in (("low", p.low), ("high", p.high)):
            problem = _outside(value, meta)
            if problem:
                raise ConfigError(
                    f"{path}.{name}", value, f"outside what the config accepts: must be {problem}"
                )
        out.append(dataclasses.replace(p, integer=tp is int))
    return tuple(out)


def _outside(value: float, meta: Mapping[str, Any]) -> str:
    """The bounds ``value`` breaks, described, or ``""``."""
    checks = {
        "gt": lambda b: value > b,
        "ge": lambda b: value >= b,
        "lt": lambda b: value < b,
        "le": lambda b: value <= b,
    }
    symbols = {"gt": ">", "ge": ">=", "lt": "<", "le": "<="}
    bounds = [(k, meta[k]) for k in checks if meta.get(k) is not None]
    if all(checks[k](b) for k, b in bounds):
        return ""
    return " and ".join(f"{symbols[k]} {b}" for k, b in bounds)
