"""Composing ``conf/`` as ``clustersim-run`` would, with Hydra's errors turned into one line.

Hydra reports an override it cannot apply, a config file it cannot parse or an option
that does not exist in several lines, with a stack trace or the whole search path. Every
entry point (the command line, the app, the model's keyword constructor, the Python API)
reports them the same way, through ``explain``: one ``ComposeError`` naming the override
or file, the value and what is allowed (the keys of that part of the config, the options
of that group, or the file and line of a YAML error).
"""

from __future__ import annotations

import dataclasses
import functools
import re
import types
import typing
from collections.abc import Sequence
from typing import Any

from clustersim.config import ConfigError


class ComposeError(ConfigError):
    """An override or config file Hydra cannot use, named with its value and what is allowed.

    An unknown key or option, bad override syntax, or a config file that is not valid YAML.
    """

    def __init__(self, override: str, reason: str) -> None:
        key, _, value = override.partition("=")
        ValueError.__init__(self, f"{key} = {value!r}: {reason}")
        self.field, self.value, self.allowed = key, value, reason


@functools.lru_cache(maxsize=64)
def _compose(lines: tuple[str, ...]) -> Any:
    """The composed config of ``lines``, kept: a reset with the same controls composes once.

    Composing costs about a second; callers only read the config (``load_scenario`` copies
    it into plain containers), so sharing one is safe.
    """
    from clustersim.api import compose

    return compose(lines)


def compose_checked(lines: Sequence[str]) -> Any:
    """Compose ``lines`` as ``clustersim-run`` would; a Hydra error becomes one clear line."""
    try:
        return _compose(tuple(lines))
    except Exception as err:
        explained = explain(lines, err)
        if explained is None:
            raise
        raise explained from None


def explain(lines: Sequence[str], err: BaseException) -> ComposeError | None:
    """The one-line ``ComposeError`` for an error of composing ``lines``, or None.

    Handles Hydra's and OmegaConf's errors and YAML syntax errors (also when Hydra wraps
    them); returns None for anything else (a bug, not bad input).
    """
    from hydra.errors import HydraException
    from omegaconf.errors import OmegaConfBaseException

    yaml_error = _yaml_cause(err)
    if yaml_error is not None:
        return _explain_yaml(yaml_error)
    bad_group = bad_group_override(lines)  # (Hydra fails on it with a TypeError, or muddled)
    if bad_group is not None:
        return bad_group
    if isinstance(err, HydraException | OmegaConfBaseException) or type(err) is ValueError:
        return _explain_override(lines, err)
    return None


def bad_group_override(lines: Sequence[str]) -> ComposeError | None:
    """The first override that gives a config group something other than option names.

    A group takes the name of one of its options (``policy=all_three``) or a list of
    names (``policy=[shanghai_2020,pudong_2027]``, merged in that order). A number, a
    ``null``, a mapping, or a list holding one (``policy=[1]``) ends in a ``TypeError``
    deep inside Hydra, or a message that names every override at once.
    """
    from hydra.core.override_parser.overrides_parser import OverridesParser

    parser = OverridesParser.create()
    for line in lines:
        if "=" not in line or line.startswith("-"):
            continue
        try:
            override = parser.parse_override(line)
        except Exception:  # bad syntax: Hydra's own error says what (_explain_override)
            continue
        group = override.key_or_group
        if override.is_sweep_override() or override.is_delete() or not is_group(group):
            continue
        value = override.value()
        names = value if isinstance(value, list) else [value]
        if all(isinstance(name, str) for name in names):
            continue
        options = group_options(group)
        where = f"its options in conf/{group}" if group.startswith("hydra/") else "its options"
        listed = f"; {where}: {', '.join(options)}" if options else ""
        return ComposeError(
            line.lstrip("+~"),
            f"{group} is a config group: it takes the name of an option ({group}=<name>) "
            f"or a list of names ({group}=[<name>,<name>]){listed}",
        )
    return None


def is_group(key: str) -> bool:
    """True if ``key`` (``policy``, ``hydra/launcher``) names a config group, not a value."""
    from clustersim.paths import conf_dir

    return "/" in key or (bool(key) and "." not in key and (conf_dir() / key).is_dir())


def group_options(group: str) -> list[str]:
    """The options of a config group of ``conf/`` (``policy`` -> ``all_three``, ...)."""
    from clustersim.paths import conf_dir

    folder = conf_dir() / group
    return sorted(p.stem for p in folder.glob("*.yaml")) if folder.is_dir() else []


def _yaml_cause(err: BaseException) -> Any:
    """The YAML syntax error behind ``err`` (itself, or what it was raised from), if any."""
    import yaml

    seen: set[int] = set()
    e: BaseException | None = err
    while e is not None and id(e) not in seen:
        if isinstance(e, yaml.YAMLError):
            return e
        seen.add(id(e))
        e = e.__cause__ or e.__context__
    return None


def _explain_yaml(err: Any) -> ComposeError:
    """``<file>, line N, column M: <problem>`` of a YAML error (file and line 1-based)."""
    mark = getattr(err, "problem_mark", None) or getattr(err, "context_mark", None)
    problem = " ".join(
        str(p) for p in (getattr(err, "context", None), getattr(err, "problem", None)) if p
    )
    problem = problem or str(err).splitlines()[0]
    if mark is None:
        return ComposeError("config file=?", f"not valid YAML: {problem}")
    where = f"{mark.name}, line {mark.line + 1}, column {mark.column + 1}"
    return ComposeError(f"config file={where}", f"not valid YAML: {problem}")


def _explain_override(lines: Sequence[str], err: BaseException) -> ComposeError:
    """Name the override Hydra refused, and what is allowed, in one line."""
    text = str(err).strip()
    first = text.splitlines()[0] if text else type(err).__name__
    missing = re.search(r"Could not find '([^']+)/([^']+)'", text)
    if missing:
        group, option = missing.groups()
        options = re.findall(r"^\t(\S+)$", text, flags=re.M)
        allowed = f"unknown {group}; allowed: {', '.join(options)}" if options else first
        return ComposeError(f"{group}={option}", allowed)
    not_in_struct = re.search(r"Key '([^']+)' is not in struct", text)
    no_match = re.search(r"Could not override '([^']+)'", text)
    key = (no_match or not_in_struct).group(1) if (no_match or not_in_struct) else None
    if key is not None:
        for line in lines:
            bare = line.lstrip("+~").partition("=")[0]
            if bare == key or bare.endswith("." + key) or key.endswith(bare):
                return ComposeError(line.lstrip("+~"), unknown_key(bare, lines))
        return ComposeError(f"{key}=?", unknown_key(key, lines))
    override = getattr(err, "override", None)  # hydra.errors.OverrideParseException
    if isinstance(override, str):
        return ComposeError(
            override,
            f"not a valid override ({first}); spell it key=value, e.g. seed=3 or "
            "run.report_months=[2025-12,2027-12] (grammar: "
            "https://hydra.cc/docs/advanced/override_grammar/basic)",
        )
    ambiguous = re.search(r"Ambiguous value for argument '([^']+)'", text)
    if ambiguous:
        return ComposeError(
            ambiguous.group(1),
            "ambiguous value: a list is key=[a,b], a text with commas is key='a,b', and a "
            "sweep over the values needs --multirun (-m)",
        )
    return ComposeError(" ".join(lines) or "(none)", f"cannot apply the overrides: {first}")


def unknown_key(dotted: str, lines: Sequence[str] = ()) -> str:
    """What to say about an unknown key: the first part that is unknown, and the keys there.

    ``behavior.entry.nokey`` -> the keys of ``behavior.entry``; ``foo.bar`` -> ``foo`` is
    not a key of the top level. Where the keys are ids the config chooses (the parks of
    ``world.parks``), they are the ones of the config ``lines`` compose (without the
    overrides of that part). Inside free-form parts (a policy) the keys are not listed.
    """
    parts = dotted.split(".")
    for i, part in enumerate(parts):
        parent = ".".join(parts[:i])
        keys = schema_keys(parent)
        if keys is None and is_id_mapping(parent):
            keys = configured_keys(parent, lines)
            if keys is not None and part not in keys:
                if parent == "world.parks":
                    return f"unknown park id; the parks of this world are: {', '.join(keys)}"
                return f"unknown key; the keys of {parent} are: {', '.join(keys)}"
        if keys is None:
            break
        if part not in keys:
            where = parent or "the top level"
            return f"unknown key; the keys of {where} are: {', '.join(keys)}"
    return "unknown key (see `clustersim-run --cfg job` for the keys)"


def configured_keys(dotted: str, lines: Sequence[str]) -> list[str] | None:
    """The keys the config of ``lines`` has at ``dotted`` (``world.parks`` -> park ids).

    Composed without the overrides of that part (one of them is the unknown key); None if
    that cannot be composed or the part is not a mapping.
    """
    from omegaconf import DictConfig, OmegaConf

    others = [line for line in lines if not line.lstrip("+~").startswith(f"{dotted}.")]
    try:
        node = OmegaConf.select(_compose(tuple(others)), dotted)
    except Exception:  # the other overrides are bad too: they get their own message
        return None
    return [str(k) for k in node] if isinstance(node, DictConfig) else None


def is_id_mapping(dotted: str) -> bool:
    """True if the schema gives ``dotted`` as a mapping of ids (``world.parks``)."""
    owner, _, key = dotted.rpartition(".")
    if not owner:
        return False
    node = _schema_node(owner)
    if not dataclasses.is_dataclass(node):
        return False
    return typing.get_origin(_unoptional(typing.get_type_hints(node).get(key))) is dict


def _unoptional(node: Any) -> Any:
    if typing.get_origin(node) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(node) if a is not type(None)]
        return args[0] if args else None
    return node


def schema_keys(dotted: str) -> list[str] | None:
    """The keys a config node may have, from the settings' schema (None if not known).

    ``""`` is the top level; ``world.parks.lujiazui`` is a park. Policies are free-form
    mappings checked by ``clustersim.policy.parsing``, and mappings of ids
    (``world.parks``) have the keys the config gives them: None for them.
    """
    from clustersim.settings.scenario import TOP_LEVEL

    if not dotted:
        return list(TOP_LEVEL)
    node = _schema_node(dotted)
    if typing.get_origin(node) is dict or not dataclasses.is_dataclass(node):
        return None
    return [f.name for f in dataclasses.fields(node)]


def _schema_node(dotted: str) -> Any:
    """The schema type of a config node (a settings dataclass, ``dict[...]``), or None."""
    from clustersim.national import NationalFramework
    from clustersim.settings import Behavior, RunOptions, World

    top = {"world": World, "behavior": Behavior, "run": RunOptions, "national": NationalFramework}
    parts = dotted.split(".")
    node: Any = top.get(parts[0])
    for part in parts[1:]:
        if node is None:
            return None
        if typing.get_origin(node) is dict:
            node = typing.get_args(node)[1]  # any key of a mapping (a park id)
            continue
        if not dataclasses.is_dataclass(node):
            return None
        node = _unoptional(typing.get_type_hints(node).get(part))
    return node
