"""Compositions kept on disk between processes, so that a new process need not compose.

Composing ``conf/`` costs 0.5-1 s (Hydra parses every YAML file of the defaults list with
PyYAML's pure-Python loader, wraps it in OmegaConf nodes and merges them), and each
``clustersim-run``, each worker of a sweep and each preflight check starts from nothing.
A composition is a function of what Hydra read, so it can be kept like a ``.pyc``: this
store keeps each composition, pickled (a copy loads in ~20 ms), in a file named by the
digest of everything it depends on:

- the config name, the group overrides it was composed with, how it was called
  (``from_shell``) and the working folder (Hydra records it in ``hydra.runtime.cwd``);
- the content of every config file on the search path (``clustersim.results.recipe``'s
  ``sources_digest``: a file that reads the environment turns the store off for it);
- Hydra's structured configs (its ``ConfigStore``, where plugins register their settings:
  their values and types, read node by node, so that a sweep's workers, which get Hydra's
  state unpickled, find what the launching process kept);
- the task name and ``version_base`` Hydra records, and the versions of Python, Hydra,
  OmegaConf and clustersim.

Anything that changes one of them gives another digest, and the composition is made
afresh. Where it lives: ``clustersim.paths.cache_dir`` (``CLUSTERSIM_CACHE=off`` turns the
store off). A file that cannot be read is ignored and replaced; a folder that cannot be
written only costs the time saved. The files are pickles the user's own processes wrote
into the user's own cache folder (created private, mode 0700), trusted as ``.pyc`` files are.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import io
import json
import os
import pickle
import sys
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from dataclasses import fields as fields_of
from pathlib import Path
from typing import Any

from clustersim.paths import cache_dir

#: Version of the stored format (part of the digest: a new format never reads an old file).
FORMAT = 1
#: Compositions kept on disk (each is ~0.2 MB); the least recently used go first.
KEEP = 64
#: Sub-folder of the cache folder holding the compositions.
FOLDER = "compositions"
#: Pickle protocol of the compositions.
PROTOCOL = pickle.HIGHEST_PROTOCOL


@dataclass(frozen=True)
class Kept:
    """One composition: what a process keeps in memory and the store keeps on disk.

    Attributes:
        run_mode: the Hydra run mode it was composed in (``RunMode.RUN`` or ``MULTIRUN``).
        missing_choice: a config group was left unchosen (``???``), which only a multirun
            allows; such a composition is reused in its own run mode only.
        data: the pickled ``DictConfig`` (``fresh`` unpickles a copy of it), or None when
            it cannot be pickled (then ``config`` holds it, kept in this process only).
        config: the ``DictConfig`` itself when it cannot be pickled, else None.

    """

    run_mode: Any
    missing_choice: bool
    data: bytes | None
    config: Any = None

    @classmethod
    def of(cls, config: Any, run_mode: Any, missing_choice: bool) -> Kept:
        """Keep ``config``: pickled, or as it is if it cannot be pickled.

        A structured config whose class was imported twice (a launcher plugin's, in a
        joblib worker that restored Hydra's state) cannot be pickled by reference.
        """
        try:
            return cls(run_mode, missing_choice, _dumps(config))
        except (pickle.PicklingError, TypeError, AttributeError):
            return cls(run_mode, missing_choice, None, config)

    def usable_in(self, run_mode: Any) -> bool:
        """This composition is the one Hydra would make in ``run_mode``."""
        return self.run_mode == run_mode or not self.missing_choice

    def fresh(self) -> Any:
        """A new copy of the composed config (never shared with another caller)."""
        if self.data is None:
            return copy.deepcopy(self.config)
        return pickle.loads(self.data)


def _class_named(module: str, qualname: str) -> type:
    """The class ``module.qualname`` as imported now (how ``_ByName`` pickles a class)."""
    import importlib

    found: Any = importlib.import_module(module)
    for part in qualname.split("."):
        found = getattr(found, part)
    return found  # type: ignore[no-any-return]


class _ByName(pickle.Pickler):
    """A pickler that names a class imported twice by the one of its name now.

    Hydra's plugin scan executes a plugin's module a second time, so a structured config
    it registered (``JobLibLauncherConf`` in a joblib worker) is of a class that is not
    the one its module now holds, and pickle refuses it. It is the same definition, so it
    is pickled by name and comes back as the module's own.
    """

    def reducer_override(self, obj: Any) -> Any:
        if isinstance(obj, type) and obj.__module__ in sys.modules:
            try:
                same = _class_named(obj.__module__, obj.__qualname__)
            except (ImportError, AttributeError):
                return NotImplemented
            if same is not obj:
                return _class_named, (obj.__module__, obj.__qualname__)
        return NotImplemented


def _dumps(config: Any) -> bytes:
    buffer = io.BytesIO()
    _ByName(buffer, protocol=PROTOCOL).dump(config)
    return buffer.getvalue()


def _structured_digest() -> str | None:
    """Digest of Hydra's ConfigStore (the structured configs Hydra and plugins register).

    Made of a canonical text of every stored node (``_store_lines``: its place, its
    values and its types), not of its pickle: a pickle's bytes depend on which objects
    happen to be shared, and a joblib worker, which gets Hydra's state unpickled, stored
    the same configs under another pickle, so its compositions never matched the
    launching process's (every worker composed each config group again, ~0.5 s each).
    None when a node cannot be read so.
    """
    from hydra.core.config_store import ConfigStore

    h = hashlib.sha256()
    try:
        for line in _store_lines(ConfigStore.instance().repo, ""):
            h.update(line.encode())
            h.update(b"\n")
    except Exception:  # (a plugin storing what OmegaConf does not hold)
        return None
    return h.hexdigest()


def _store_lines(repo: dict[str, Any], prefix: str) -> Iterator[str]:
    """Lines naming every config node of a ConfigStore folder, in sorted order."""
    for key in sorted(repo):
        entry = repo[key]
        path = f"{prefix}{key}"
        if isinstance(entry, dict):
            yield from _store_lines(entry, f"{path}/")
        else:
            yield f"{path} {entry.name!r} {entry.group!r} {entry.package!r} {entry.provider!r}"
            yield from _node_lines(entry.node, path)


def _node_lines(node: Any, path: str) -> Iterator[str]:
    """Lines of an OmegaConf node: its kind and metadata (types, flags), then its content."""
    from omegaconf import DictConfig, ListConfig

    meta = node._metadata
    fields = [
        (f.name, getattr(meta, f.name)) for f in fields_of(meta) if f.name != "resolver_cache"
    ]
    yield f"{path} {type(node).__name__} {fields!r}"
    if isinstance(node, DictConfig | ListConfig):
        content = node._content
        if content is None or isinstance(content, str):  # None, missing, interpolation
            yield f"{path} = {content!r}"
        elif isinstance(content, dict):
            for key, child in content.items():
                yield from _node_lines(child, f"{path}.{key!r}")
        else:
            for index, child in enumerate(content):
                yield from _node_lines(child, f"{path}[{index}]")
    else:
        yield f"{path} = {node._value()!r}"


def _versions() -> list[str]:
    import hydra
    import omegaconf

    import clustersim

    return [sys.version, hydra.__version__, omegaconf.__version__, clustersim.__version__]


def _task_name() -> str | None:
    from hydra.core.utils import JobRuntime

    try:
        return str(JobRuntime().get("name"))
    except KeyError:
        return None


def composition_key(
    config_name: str | None,
    group_overrides: Sequence[str],
    from_shell: bool,
    sources: Sequence[Any],
) -> str | None:
    """The digest naming a composition in the store, or None when it cannot be kept.

    ``sources`` are the config sources Hydra composed from (``ConfigSource`` objects of
    the config repository); None comes back when one of them cannot be digested.
    """
    from hydra import version

    from clustersim.results.recipe import sources_digest

    files = sources_digest([{"schema": s.scheme(), "path": s.path} for s in sources])
    structured = _structured_digest()
    if files is None or structured is None:
        return None
    text = json.dumps(
        [
            FORMAT,
            _versions(),
            config_name,
            list(group_overrides),
            from_shell,
            os.getcwd(),
            _task_name(),
            str(version.getbase()),
            files,
            structured,
        ]
    )
    return hashlib.sha256(text.encode()).hexdigest()


def _folder() -> Path | None:
    root = cache_dir()
    return None if root is None else root / FOLDER


def load(key: str | None) -> Kept | None:
    """The composition kept under ``key``, or None (not kept, unreadable, store off)."""
    folder = _folder()
    if key is None or folder is None:
        return None
    path = folder / f"{key}.pickle"
    try:
        with path.open("rb") as f:
            stored_key, kept = pickle.load(f)
    except FileNotFoundError:
        return None
    except Exception:  # a damaged or foreign file: ignored, and replaced by the next save
        return None
    if stored_key != key or not isinstance(kept, Kept):
        return None
    with contextlib.suppress(OSError):
        os.utime(path)  # recently used: pruned last
    return kept


def save(key: str | None, kept: Kept) -> None:
    """Keep ``kept`` under ``key`` (atomically: a reader sees the old file or the new one)."""
    folder = _folder()
    if key is None or folder is None or kept.data is None:
        return
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                pickle.dump((key, kept), f, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, folder / f"{key}.pickle")
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        _prune(folder)
    except OSError:
        return  # a cache folder that cannot be written costs time, never a run


def _prune(folder: Path, keep: int = KEEP) -> None:
    """Remove all but the ``keep`` most recently used compositions."""
    entries = []
    for path in folder.glob("*.pickle"):
        try:
            entries.append((path.stat().st_mtime, path))
        except OSError:
            continue
    entries.sort(reverse=True)
    for _, path in entries[keep:]:
        path.unlink(missing_ok=True)


__all__ = ["FOLDER", "KEEP", "Kept", "composition_key", "load", "save"]
