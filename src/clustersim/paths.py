"""Where the project's config lives, and the spelling of its presets, for every entry point.

The command line and the Python API both compose ``conf/`` (``conf_dir``) and both accept
the spelling users learned before presets moved into the defaults list (``respell``);
what can be made again (composed configs) is kept in ``cache_dir``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

#: The config groups of named settings, in the defaults list with ``null``: users select
#: one as ``preset=<name>`` (single-run settings) or ``experiment=<name>`` (a study).
PRESET_GROUPS = ("preset", "experiment")


def conf_dir() -> Path:
    """The ``conf/`` folder: ``$CLUSTERSIM_CONF`` if set, else the repository's."""
    env = os.environ.get("CLUSTERSIM_CONF")
    if env:
        return Path(env).resolve()
    return Path(__file__).resolve().parents[2] / "conf"


def cache_dir() -> Path | None:
    """Where clustersim keeps what it can make again (composed configs), or None if nowhere.

    ``$CLUSTERSIM_CACHE`` if set (``off`` turns keeping off), else ``$XDG_CACHE_HOME/clustersim``,
    else ``~/.cache/clustersim``. Removing the folder is always safe: it only costs time.
    """
    env = os.environ.get("CLUSTERSIM_CACHE")
    if env:
        return None if env.strip().lower() in ("off", "0", "no", "false") else Path(env)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "clustersim"


def _options(group: str) -> set[str]:
    return {p.stem for p in (conf_dir() / group).glob("*.yaml")}


def respell(overrides: Sequence[str]) -> tuple[list[str], list[str]]:
    """Rewrite the old spelling of a preset into today's; return the overrides and notes.

    ``+experiment=<name>`` (needed while ``experiment`` was not in the defaults list)
    becomes ``experiment=<name>``; a name that is now a preset (``arthur_lockin``) becomes
    ``preset=<name>``, however it was prefixed. Each rewrite gives one note saying what to
    type from now on; every other override is returned as it is.
    """
    presets = _options("preset")
    out: list[str] = []
    notes: list[str] = []
    for text in overrides:
        head, sep, value = text.partition("=")
        group = head.lstrip("+")
        if sep and group in PRESET_GROUPS and (head != group or group == "experiment"):
            new_group = "preset" if value in presets else group
            new = f"{new_group}={value}"
            if new != text:
                notes.append(f"{text!r} is now spelled {new!r} (accepted; please type the new one)")
                text = new
        out.append(text)
    return out, notes
