"""Turn a composed Hydra config into typed, checked settings, or a clear error.

Hydra composes YAML; this module decides whether what it composed is a valid scenario.
Each dataclass field may carry a constraint in its metadata (``gt``, ``ge``, ``le``,
``lt``, ``choices``); ``build`` walks a plain mapping against a dataclass and raises
``ConfigError`` naming the dotted field, the value and what is allowed. Unknown keys are
errors too, which also catches keys a user added with ``+key=...`` (Hydra accepts those
silently). ``build`` checks every field before it gives up, and reports all the bad ones
at once (``ConfigErrors``), so a user fixes a config in one round, not one per value.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import math
import types
import typing
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, Literal, TypeVar, get_args, get_origin

from omegaconf import DictConfig, ListConfig, Node, OmegaConf

T = TypeVar("T")


#: Longest value an error message repeats in full; longer ones are cut (a whole config
#: group pasted into one line hides the rule that was broken).
SHOWN_CHARS = 80


def shown(value: Any) -> str:
    """A value as an error message repeats it: its repr, a group of settings by its keys."""
    if isinstance(value, Mapping):
        keys = list(value)
        more = f", ... ({len(keys)} keys)" if len(keys) > 6 else ""
        return "{" + ", ".join(str(k) for k in keys[:6]) + more + "}"
    text = repr(value)
    return text if len(text) <= SHOWN_CHARS else text[: SHOWN_CHARS - 3] + "..."


class ConfigError(ValueError):
    """A config value that the model cannot run with; the message says field, value, rule."""

    def __init__(self, field: str, value: Any, allowed: str) -> None:
        self.field, self.value, self.allowed = field, value, allowed
        super().__init__(f"{field} = {shown(value)}: {allowed}")

    def problems(self) -> list[ConfigError]:
        """The single problems this error stands for (itself)."""
        return [self]

    def within(self, prefix: str) -> ConfigError:
        """The same problem, its field prefixed with ``prefix`` (a sweep job, a file)."""
        return ConfigError(f"{prefix}{self.field}", self.value, self.allowed)


class ConfigErrors(ConfigError):
    """Several bad values found in one config: every one named, on a line of its own.

    ``field``, ``value`` and ``allowed`` are those of the first problem, so code that reads
    one problem still works; ``problems()`` lists them all.
    """

    def __init__(self, problems: list[ConfigError]) -> None:
        self._problems = [p for e in problems for p in e.problems()]
        first = self._problems[0]
        self.field, self.value, self.allowed = first.field, first.value, first.allowed
        lines = "\n".join(f"  {p}" for p in self._problems)
        ValueError.__init__(self, f"{len(self._problems)} settings are invalid:\n{lines}")

    def problems(self) -> list[ConfigError]:
        """Every problem, in the order they were found."""
        return list(self._problems)

    def within(self, prefix: str) -> ConfigError:
        """The same problems, each field prefixed with ``prefix``."""
        return ConfigErrors([p.within(prefix) for p in self._problems])


class Problems:
    """Collects the ``ConfigError``s of several independent checks, to report them together.

    Each check runs in ``with problems.check():``; a ``ConfigError`` it raises is kept and
    the next check runs. ``raise_any()`` then raises one ``ConfigError``, or
    ``ConfigErrors`` naming them all.
    """

    def __init__(self) -> None:
        self.found: list[ConfigError] = []

    @contextmanager
    def check(self) -> Iterator[None]:
        """Run the block; a ``ConfigError`` it raises is kept and the caller goes on."""
        try:
            yield
        except ConfigError as err:
            self.found.extend(err.problems())

    def add(self, err: ConfigError) -> None:
        """Keep a problem found without raising it."""
        self.found.extend(err.problems())

    def __bool__(self) -> bool:
        return bool(self.found)

    def raise_any(self) -> None:
        """Raise what was found: the one ``ConfigError``, or ``ConfigErrors`` of several."""
        if len(self.found) == 1:
            raise self.found[0]
        if self.found:
            raise ConfigErrors(self.found)


def bound(
    *,
    gt: float | None = None,
    ge: float | None = None,
    lt: float | None = None,
    le: float | None = None,
    doc: str = "",
) -> Any:
    """A dataclass field whose numeric value must lie within the given bounds."""
    return dataclasses.field(metadata={"gt": gt, "ge": ge, "lt": lt, "le": le, "doc": doc})


def _describe_bounds(meta: Mapping[str, Any]) -> str:
    parts = []
    for key, sym in (("gt", ">"), ("ge", ">="), ("lt", "<"), ("le", "<=")):
        if meta.get(key) is not None:
            parts.append(f"{sym} {meta[key]}")
    return " and ".join(parts)


def _check_bounds(path: str, value: float, meta: Mapping[str, Any]) -> None:
    ok = True
    if meta.get("gt") is not None and not value > meta["gt"]:
        ok = False
    if meta.get("ge") is not None and not value >= meta["ge"]:
        ok = False
    if meta.get("lt") is not None and not value < meta["lt"]:
        ok = False
    if meta.get("le") is not None and not value <= meta["le"]:
        ok = False
    if not ok:
        raise ConfigError(path, value, f"must be {_describe_bounds(meta)}")


def _type_name(tp: Any) -> str:
    if get_origin(tp) is Literal:
        return "one of " + ", ".join(repr(a) for a in get_args(tp))
    return getattr(tp, "__name__", str(tp))


def _convert(path: str, value: Any, tp: Any, meta: Mapping[str, Any]) -> Any:
    """Convert ``value`` to type ``tp`` or raise ``ConfigError``."""
    origin = get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = get_args(tp)
        if value is None and type(None) in args:
            return None
        inner = [a for a in args if a is not type(None)]
        return _convert(path, value, inner[0], meta)
    if value is None:
        raise ConfigError(path, value, f"a value is required ({_type_name(tp)})")
    if origin is Literal:
        allowed = get_args(tp)
        if value not in allowed:
            raise ConfigError(path, value, "must be one of " + ", ".join(map(repr, allowed)))
        return value
    if dataclasses.is_dataclass(tp):
        return build(tp, value, path)
    if origin in (list, tuple):
        if isinstance(value, str) or not isinstance(value, (list, tuple)):
            raise ConfigError(path, value, "must be a list")
        (item_tp, *_rest) = get_args(tp)
        problems, items = Problems(), []
        for i, v in enumerate(value):
            with problems.check():
                items.append(_convert(f"{path}[{i}]", v, item_tp, meta))
        problems.raise_any()
        return tuple(items)
    if origin is dict:
        if not isinstance(value, Mapping):
            raise ConfigError(path, value, "must be a mapping")
        _key_tp, val_tp = get_args(tp)
        problems, out = Problems(), {}
        for k, v in value.items():
            with problems.check():
                out[str(k)] = _convert(f"{path}.{k}", v, val_tp, meta)
        problems.raise_any()
        return out
    if tp is bool:
        if not isinstance(value, bool):
            raise ConfigError(path, value, "must be true or false")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            else:
                raise ConfigError(path, value, "must be a whole number")
        _check_bounds(path, value, meta)
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(path, value, "must be a number")
        value = float(value)
        if not math.isfinite(value):
            raise ConfigError(path, value, "must be a finite number (not NaN or infinity)")
        _check_bounds(path, value, meta)
        return value
    if tp is str:
        if not isinstance(value, str):
            raise ConfigError(path, value, "must be text")
        return value
    raise TypeError(f"config schema uses an unsupported type {tp!r} at {path}")


@functools.cache
def _schema(cls: type) -> tuple[dict[str, Any], dict[str, dataclasses.Field[Any]]]:
    """The type hints and the fields of dataclass ``cls``, by field name, worked out once.

    The settings modules write their annotations as text (``from __future__ import
    annotations``), and ``typing.get_type_hints`` evaluates that text again at each call:
    ~40% of a scenario's check (~6 ms of each run and each job of a sweep, and of each
    job the sweep's preflight checks). A class's hints do not change while it exists.
    """
    hints = typing.get_type_hints(cls)
    return hints, {f.name: f for f in dataclasses.fields(cls)}


def build(cls: type[T], data: Any, path: str) -> T:
    """Build dataclass ``cls`` from mapping ``data``; every error names its dotted path.

    Every field is checked before an error is raised: one bad value gives its
    ``ConfigError``, several give ``ConfigErrors`` naming each. The class's own ``check``
    (relations between fields) runs only once every field is valid.
    """
    if not isinstance(data, Mapping):
        raise ConfigError(path, data, f"must be a mapping with keys {_field_names(cls)}")
    hints, fields = _schema(cls)
    problems = Problems()
    for key in data:
        if key not in fields:
            problems.add(
                ConfigError(
                    f"{path}.{key}", data[key], f"unknown key; allowed keys: {_field_names(cls)}"
                )
            )
    kwargs = {}
    for name, f in fields.items():
        sub = f"{path}.{name}"
        if name not in data:
            if f.default is not dataclasses.MISSING:
                kwargs[name] = f.default
                continue
            if f.default_factory is not dataclasses.MISSING:
                kwargs[name] = f.default_factory()
                continue
            problems.add(ConfigError(sub, None, "missing: this setting is required"))
            continue
        with problems.check():
            kwargs[name] = _convert(sub, data[name], hints[name], f.metadata)
    problems.raise_any()
    obj = cls(**kwargs)
    check = getattr(obj, "check", None)
    if callable(check):
        check(path)
    return obj


def _field_names(cls: type) -> str:
    return ", ".join(f.name for f in dataclasses.fields(cls))  # type: ignore[arg-type]


#: Top-level nodes that say how and where a run is launched, not what it simulates:
#: Hydra's own node and ``paths`` (conf/paths/). Left out of a run's config and its hash.
NOT_SETTINGS = ("hydra", "paths")


def to_plain(
    cfg: DictConfig | Mapping[str, Any], choices: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Resolve a config to plain Python containers: its settings and its policy option.

    The settings are every top-level node but ``NOT_SETTINGS`` (``settings_of``). Of
    Hydra's node the data keeps one thing, in Hydra's spelling: the option chosen for the
    ``policy`` group (``{"hydra": {"runtime": {"choices": {"policy": "all_three"}}}}``),
    the name the run is reported under (``Scenario.policy_name``); so plain data copied,
    changed and checked later (``clustersim.api.run_seeds``, a calibration's runs) still
    says which option it was composed with, and nothing needs Hydra's global state, which
    may hold another job's. ``choices`` gives the options for a job's config, which Hydra
    hands its task without its node (``HydraConfig.get().runtime.choices``).

    Each top-level node is converted on its own (interpolations still resolve against the
    whole config), which spares a copy of the whole tree, Hydra's node included, and by
    ``plain_container`` (``OmegaConf.to_container(node, resolve=True)``, faster).
    """
    if isinstance(cfg, DictConfig):
        data = {}
        for key in cfg:
            if key in NOT_SETTINGS:  # hydra: composed with return_hydra_config
                continue
            node = cfg._get_node(key)
            if OmegaConf.is_config(node):
                data[key] = plain_container(node)  # type: ignore[arg-type]
            elif OmegaConf.is_missing(cfg, key):
                data[key] = "???"  # as to_container keeps a missing value
            else:
                data[key] = cfg[key]
    else:
        data = dict(cfg)
    assert isinstance(data, dict)
    choice = _policy_option(choices) if choices is not None else policy_choice(cfg)
    data = settings_of(data)
    if choice is not None:
        data["hydra"] = {"runtime": {"choices": {"policy": choice}}}
    return data


def plain_container(node: DictConfig | ListConfig) -> Any:
    """``OmegaConf.to_container(node, resolve=True)``, two to three times faster.

    OmegaConf reaches each child through its checked accessors (key validation, flags,
    error formatting: ~20 ms a job for our policy trees); this walks the nodes' contents
    directly, with OmegaConf's own rules: an interpolation is resolved by OmegaConf
    (``_dereference_node``, against the whole config), a missing value stays ``"???"``,
    a ``None`` container is ``None``, a structured config becomes a dict, enum values
    stay enums. Anything that goes wrong (an interpolation that does not resolve) is
    raised by ``OmegaConf.to_container`` itself, with its message
    (``tests/test_config_plain.py`` compares both on every config the project ships).
    """
    try:
        return _plain_node(node)
    except Exception:
        return OmegaConf.to_container(node, resolve=True)


def _plain_node(node: Node) -> Any:
    """The plain value of one node (``plain_container``)."""
    if node._is_interpolation():
        node = node._dereference_node()
    if isinstance(node, DictConfig | ListConfig):
        content = node._content
        if content is None:
            return None
        if isinstance(content, str):  # "???" (an interpolation was resolved above)
            return "???"
        if isinstance(content, dict):
            return {key: _plain_node(child) for key, child in content.items()}
        return [_plain_node(child) for child in content]
    return node._value()


def settings_of(data: Mapping[str, Any]) -> dict[str, Any]:
    """Plain data without ``NOT_SETTINGS``: what is simulated (hashed, written as config.yaml)."""
    return {key: value for key, value in data.items() if key not in NOT_SETTINGS}


def policy_choice(cfg: DictConfig | Mapping[str, Any]) -> str | None:
    """The option of the ``policy`` group a config was composed with, if it says (``to_plain``).

    Read from the config's own ``hydra.runtime.choices``, never from Hydra's global state.
    """
    # asked before reading: OmegaConf's error for a missing key deep-copies the whole
    # config into its message (0.1-1 s with our policy trees), and a job's config has no
    # hydra node
    if not isinstance(cfg, Mapping) or "hydra" not in cfg:
        return None
    hydra = cfg["hydra"]
    runtime = hydra.get("runtime") if isinstance(hydra, Mapping) else None
    choices = runtime.get("choices") if isinstance(runtime, Mapping) else None
    return _policy_option(choices)


def _policy_option(choices: Any) -> str | None:
    if not isinstance(choices, Mapping) or "policy" not in choices:
        return None
    option = choices.get("policy")
    return None if option is None or option == "???" else str(option)


#: Settings that do not change a run's outputs, left out of its fingerprint (so that a
#: sweep rerun with the progress bar on still finds its finished jobs).
_NOT_OUTPUTS = (("run", "progress"),)


def config_hash(cfg: DictConfig | Mapping[str, Any]) -> str:
    """A short, stable fingerprint of everything that determines a run's outputs.

    Only the settings count (``settings_of``): not the policy option's name, so a config
    and its plain data, with or without that name, have one fingerprint.
    """
    data = settings_of(to_plain(cfg))
    for section, key in _NOT_OUTPUTS:
        if isinstance(data.get(section), Mapping):
            data[section] = {k: v for k, v in data[section].items() if k != key}
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]
