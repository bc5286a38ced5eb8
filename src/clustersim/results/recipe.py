"""A run's recipe: what made its config, cheap to compare without composing the config.

Rerunning a sweep must skip the jobs already complete with the same config, and run the
others. Composing a job's config to compare its hash costs a Hydra composition (0.1-1 s),
so deciding that 100 complete jobs need not run took 44 s. But a composed config is a
function of what Hydra read: the config name, the job's overrides (in order), and the
content of every config file on the search path. The **recipe** is a digest of exactly
that; two jobs with the same recipe have the same config. It is stored in each run
folder's marker (``COMPLETE``), so a sweeper can skip a complete job before launching it
by comparing digests: no composition, no worker, no import of the model.

The recipe is a shortcut only when it is sure: ``None`` (compare config hashes as
before, in the job) when a config file reads the environment (``oc.env``, ``env``), a
config source cannot be read, or ``hydra.searchpath`` is overridden. Structured
configs (Hydra's ConfigStore) hold only Hydra's and the plugins' own settings, never a
setting of a run, so they are not part of it. A recipe that differs does not mean the
config differs (a comment was edited): the job is then launched and its config hash
decides, as without recipes.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

#: Text in a config file that makes a composed config depend on more than the files.
ENVIRONMENT_READS = ("oc.env", "${env:")
#: Version of the recipe format (part of the digest, so a new format never matches).
FORMAT = 1


class _Unsure(Exception):
    """The recipe cannot stand for the config (see the module docstring)."""


def _file_digest(h: Any, root: Path) -> None:
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        if path.suffix not in (".yaml", ".yml"):
            continue
        data = path.read_bytes()
        if any(token.encode() in data for token in ENVIRONMENT_READS):
            raise _Unsure(f"{path} reads the environment")
        h.update(path.relative_to(root).as_posix().encode() + b"\0")
        h.update(hashlib.sha256(data).digest())


def _package_root(name: str) -> Path:
    import importlib.resources

    root = importlib.resources.files(name)
    if not isinstance(root, Path):  # pragma: no cover - zipped packages
        raise _Unsure(f"package {name} is not a folder")
    return root


def _root(schema: str, path: str) -> Path | None:
    """The folder of a ``file`` or ``pkg`` config source; None for a structured one."""
    if schema == "file":
        root = Path(path)
        if not root.is_dir():
            raise _Unsure(f"{root} is not a folder")
        return root
    if schema == "pkg":
        return _package_root(path)
    if schema != "structured":
        raise _Unsure(f"config source {schema}://{path}")
    return None


def _stamp(sources: Sequence[tuple[str, str]]) -> tuple[Any, ...]:
    """The sources with the path, size and modification time of every file under them."""
    stamp: list[Any] = []
    for schema, path in sources:
        stamp.append((schema, path))
        root = _root(schema, path)
        if root is None:
            continue
        for folder, _dirs, files in os.walk(root):
            for name in files:
                st = os.stat(os.path.join(folder, name))
                stamp.append((folder, name, st.st_size, st.st_mtime_ns))
    return tuple(stamp)


#: Digests made in this process, by ``_stamp`` of their sources (a sweep worker asks once
#: per job: reading and hashing every config file took ~8 ms a job, a stamp ~1 ms).
_DIGESTS: dict[tuple[Any, ...], str | None] = {}
#: Stamps kept (one per search path, in practice).
KEEP = 8
#: A digest is kept only when every file is older than this (nanoseconds): a file's
#: modification time has the kernel clock's granularity (a few ms), so two edits of the
#: same size within it look alike; a file edited again after this long gets a new time.
SETTLED_NS = 2_000_000_000


def sources_digest(sources: Iterable[Mapping[str, Any]]) -> str | None:
    """Digest of the config files of a search path (``hydra.runtime.config_sources``).

    Returns None when a file reads the environment or a source cannot be read. Kept per
    process while no file under the sources is added, removed, resized or rewritten
    (their sizes and modification times, as ``clustersim.sweep.compose`` keys its
    compositions in a process).
    """
    named = [(str(s.get("schema")), str(s.get("path"))) for s in sources]
    try:
        stamp: tuple[Any, ...] | None = _stamp(named)
    except (_Unsure, OSError, ImportError, ValueError):
        stamp = None  # (the digest says what is wrong: None)
    if stamp is not None and stamp in _DIGESTS:
        return _DIGESTS[stamp]
    digest = _digest(named)
    if stamp is not None and _settled(stamp):
        _DIGESTS[stamp] = digest
        while len(_DIGESTS) > KEEP:
            del _DIGESTS[next(iter(_DIGESTS))]
    return digest


def _settled(stamp: tuple[Any, ...]) -> bool:
    """Every file of ``stamp`` was last modified over ``SETTLED_NS`` ago."""
    times = [entry[3] for entry in stamp if len(entry) == 4]
    return not times or time.time_ns() - max(times) > SETTLED_NS


def _digest(sources: Sequence[tuple[str, str]]) -> str | None:
    """``sources_digest`` made afresh: every config file read and hashed."""
    h = hashlib.sha256()
    try:
        for schema, path in sources:
            h.update(f"{schema}://{path}\0".encode())
            root = _root(schema, path)
            if root is not None:
                _file_digest(h, root)
    except (_Unsure, OSError, ImportError, ValueError):
        return None
    return h.hexdigest()


def recipe(config_name: str, task_overrides: Sequence[str], sources: str | None) -> str | None:
    """The recipe of a job: its config name, its overrides and the sources' digest."""
    if sources is None:
        return None
    if any(str(o).lstrip("+~").startswith("hydra.searchpath") for o in task_overrides):
        return None
    text = json.dumps([FORMAT, str(config_name), [str(o) for o in task_overrides], sources])
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def recipe_of(hydra: Any) -> str | None:
    """The recipe of a job from its ``hydra`` node, or None without one.

    The node is ``HydraConfig.get()`` in a job, or ``cfg.hydra`` of a config composed
    with ``return_hydra_config=True``.
    """
    try:
        from omegaconf import OmegaConf

        sources = [dict(s) for s in hydra.runtime.config_sources]
        # as typed: an override's value may hold an interpolation (``x=${y}``)
        typed = OmegaConf.to_container(hydra.overrides, resolve=False)
        overrides = [str(o) for o in typed["task"]]
        hydra_overrides = [str(o) for o in typed["hydra"]]
        name = str(hydra.job.config_name)
    except Exception:  # no hydra node, or one without these fields
        return None
    if any(o.lstrip("+~").startswith("hydra.searchpath") for o in hydra_overrides):
        return None
    return recipe(name, overrides, sources_digest(sources))


__all__ = ["recipe", "recipe_of", "sources_digest"]
