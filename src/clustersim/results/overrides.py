"""The one reading of a run's overrides (``overrides.yaml``, ``hydra.overrides.task``).

An override is what a user typed after ``clustersim-run``: ``key=value`` with an optional
prefix (``+`` adds a key, ``++`` adds or replaces, ``~`` deletes; ``~key`` alone deletes
too) and an optional package (``group@pkg=value``). The collector turns a job's overrides
into columns of ``runs.parquet``; the report reads the same columns to tell variants from
replicates; job folders are named from them. All of them read overrides here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any


class OverrideError(ValueError):
    """An override text is not of the form ``[+|++|~]key[@package]=value`` (or ``~key``)."""


@dataclass(frozen=True)
class Override:
    """One parsed override.

    Attributes:
        text: the override as typed (``+behavior.entry.but_for_share=0.5``).
        key: the setting it names, without prefix or package (``behavior.entry.but_for_share``;
            a config group keeps its ``/``: ``hydra/launcher``).
        value: the value as typed (``"0.5"``); ``None`` for a deletion.
        deleted: True for ``~key`` and ``~key=value``.

    """

    text: str
    key: str
    value: str | None
    deleted: bool = False

    @property
    def group(self) -> str:
        """Hydra's ``key_or_group``: the key (kept for the words of Hydra's docs)."""
        return self.key


def parse_override(text: Any) -> Override:
    """Parse one override; raise ``OverrideError`` naming it when it has no ``=``."""
    text = str(text)
    head, sep, value = text.partition("=")
    deleted = head.startswith("~")
    if not sep and not deleted:
        raise OverrideError(f"override {text!r} is not of the form key=value")
    key = head.lstrip("+~").split("@", 1)[0]
    if not key:
        raise OverrideError(f"override {text!r} names no key")
    return Override(text=text, key=key, value=None if deleted else value, deleted=deleted)


def parse_overrides(texts: Iterable[Any]) -> list[Override]:
    """Parse a list of overrides (see ``parse_override``)."""
    return [parse_override(t) for t in texts or []]


def _select(config: Any, dotted: str) -> Any:
    """Return the value at a dotted key of a plain nested mapping, or None."""
    node = config
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def override_values(texts: Iterable[Any], config: Any = None) -> dict[str, Any]:
    """One value per overridden key: ``{"policy": "none", "seed": 3, ...}``.

    With the run's resolved ``config``, a key that names a plain value there takes that
    value (so ``seed=3`` gives the integer 3); otherwise, and without a config, the value
    is the override's text (a config group choice such as ``policy=none``). A deletion
    gives None. A later override of the same key wins, as in Hydra.
    """
    values: dict[str, Any] = {}
    for o in parse_overrides(texts):
        if o.deleted:
            values[o.key] = None
            continue
        found = _select(config, o.key.replace("/", ".")) if config is not None else None
        values[o.key] = found if isinstance(found, (bool, int, float, str)) else o.value
    return values


__all__ = ["Override", "OverrideError", "override_values", "parse_override", "parse_overrides"]
