"""A calibration problem: the base scenario, the parameters, the targets, checked together.

``load_problem`` reads a calibration config and its targets file, composes the base
config through ``clustersim.api`` (the same Hydra configs as ``clustersim-run``), checks
every fitted parameter against the scenario schema and every target against the run the
calibration makes (its monthly columns, its months), and raises one ``ConfigError`` for
the first problem. Nothing is written.

``Problem.overrides`` turns parameter values into the Hydra overrides of one run;
``Problem.scenario`` builds its checked scenario from the base config composed once
(composing with Hydra costs about a second; setting a few numbers in the composed
config costs nothing, and gives the same config as composing with those overrides).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from clustersim.calibrate.spec import CalibrationSpec, Parameter, check_parameters, load_spec
from clustersim.calibrate.targets import Target, TargetSet, check_against_run, load_targets
from clustersim.config import ConfigError
from clustersim.paths import conf_dir
from clustersim.settings import Scenario, load_scenario

#: Significant digits of a parameter value in a run's override (and its folder name).
DIGITS = 6


@dataclass(frozen=True)
class Problem:
    """A checked calibration: spec, targets, and the base config of every run."""

    spec: CalibrationSpec
    targets: TargetSet
    base: Mapping[str, Any]
    start: str
    end: str

    @property
    def parameters(self) -> tuple[Parameter, ...]:
        """The fitted parameters, in config order."""
        return self.spec.parameters

    @property
    def fit_targets(self) -> tuple[Target, ...]:
        """Targets used for fitting."""
        return self.targets.used_for("fit")

    def values_text(self, values: Sequence[float]) -> list[str]:
        """Parameter values as override text (whole numbers, or ``DIGITS`` significant digits)."""
        out = []
        for p, v in zip(self.parameters, values, strict=True):
            if p.integer:
                out.append(str(round(v)))
            else:
                text = format(float(v), f".{DIGITS}g")
                out.append(text)
        return out

    def overrides(self, values: Sequence[float], seed: int) -> list[str]:
        """The Hydra overrides of the run at ``values`` with ``seed`` (base overrides first)."""
        sets = [
            f"{p.key}={_literal(t, p.integer)}"
            for p, t in zip(self.parameters, self.values_text(values), strict=True)
        ]
        return [*self.spec.overrides, *sets, f"seed={seed}", "run.progress=false"]

    def scenario(self, values: Sequence[float], seed: int) -> Scenario:
        """The checked scenario of one run (the base config with the values set)."""
        data = copy.deepcopy(dict(self.base))
        for p, text in zip(self.parameters, self.values_text(values), strict=True):
            _set(data, p.key, int(text) if p.integer else float(text))
        data["seed"] = int(seed)
        data["run"] = {**data["run"], "progress": False}
        return load_scenario(data)


def _literal(text: str, integer: bool) -> str:
    """A value's override text that Hydra reads as a float unless the parameter is whole.

    (``1`` would be read as the integer 1 where ``Problem.scenario`` sets 1.0, and the two
    configs would hash differently.)
    """
    if integer or any(c in text for c in ".eEn"):
        return text
    return f"{text}.0"


def _set(data: dict[str, Any], key: str, value: Any) -> None:
    node = data
    parts = key.split(".")
    for part in parts[:-1]:
        node[part] = dict(node[part])  # copied above; keep the base untouched anyway
        node = node[part]
    node[parts[-1]] = value


def resolve(name_or_path: str | Path, group: str) -> Path:
    """A config file given by name (``conf/<group>/<name>.yaml``) or by path."""
    path = Path(name_or_path)
    if path.suffix in (".yaml", ".yml") or path.exists():
        return path
    candidate = conf_dir() / group / f"{name_or_path}.yaml"
    if not candidate.is_file():
        known = sorted(p.stem for p in (conf_dir() / group).glob("*.yaml"))
        raise ConfigError(group, str(name_or_path), "no such file; known: " + ", ".join(known))
    return candidate


def outcome_columns(base: Mapping[str, Any]) -> list[str]:
    """The monthly-table columns a run of ``base`` records (from a one-month run)."""
    from clustersim.model import ClusterModel
    from clustersim.runner import build_incentives

    data = copy.deepcopy(dict(base))
    data["world"] = {**data["world"], "end": data["world"]["start"]}
    data["run"] = {**data["run"], "report_months": [data["world"]["start"]], "progress": False}
    scenario = load_scenario(data)
    model = ClusterModel(scenario, build_incentives(scenario)).run()
    return list(model.monthly().columns)


def load_problem(
    spec_name: str | Path, targets_path: str | Path | None = None, extra: Sequence[str] = ()
) -> Problem:
    """Read, compose and check a calibration (``ConfigError`` on the first problem)."""
    import clustersim.api as api
    from clustersim.config import to_plain

    spec = load_spec(resolve(spec_name, "calibration"))
    if extra:
        spec = _with_extra(spec, extra)
    params = check_parameters(spec.parameters)
    spec = _replace(spec, parameters=params)
    targets = load_targets(resolve(targets_path or spec.targets, "targets"))
    try:
        cfg = api.compose(spec.overrides)
    except Exception as err:  # Hydra's own errors name the override
        raise ConfigError("overrides", list(spec.overrides), f"do not compose: {err}") from None
    base = to_plain(cfg)
    load_scenario(cfg)  # the base scenario itself must be valid
    for p in params:
        _get(base, p.key)  # present in the composed config
    start, end = str(base["world"]["start"]), str(base["world"]["end"])
    check_against_run(targets.targets, outcome_columns(base), start, end)
    return Problem(spec=spec, targets=targets, base=base, start=start, end=end)


def _get(data: Mapping[str, Any], key: str) -> Any:
    node: Any = data
    for part in key.split("."):
        if not isinstance(node, Mapping) or part not in node:
            raise ConfigError(f"parameters.{key}", key, "not in the composed config of this world")
        node = node[part]
    return node


def _replace(spec: CalibrationSpec, **changes: Any) -> CalibrationSpec:
    import dataclasses

    return dataclasses.replace(spec, **changes)


def _with_extra(spec: CalibrationSpec, extra: Sequence[str]) -> CalibrationSpec:
    """The spec with command-line settings (``population=50``, ``overrides+=world=toy``)."""
    from clustersim.calibrate.spec import parse_spec
    from clustersim.calibrate.targets import read_yaml_mapping

    data = read_yaml_mapping(spec.path, "calibration config")
    for item in extra:
        key, sep, text = item.partition("=")
        if not sep:
            raise ConfigError("setting", item, "must be key=value (e.g. population=50)")
        import yaml

        value = yaml.safe_load(text)
        if key == "overrides+":  # replace the base override of the same key, or add one
            okey = text.split("=", 1)[0]
            kept = [o for o in data.get("overrides", []) if o.split("=", 1)[0] != okey]
            data["overrides"] = [*kept, text]
        else:
            data[key] = value
    return parse_spec(data, spec.path, spec.name)
