"""The run-folder contract: what a run folder holds, how it is written, and how it is read.

A run folder is either complete or not there. A run writes every file into a hidden
staging folder beside its final place (``.<name>.partial-<pid>``), flushes every file and
the folder to disk (``fsync``), writes the completion marker last (flushed too), and then
renames the staging folder to its final name. A rename within one file system is atomic,
so a reader (the collector, a resumed sweep, a person) sees either no folder or a complete
one, even after a power cut. An interrupted run leaves at most a hidden staging folder,
which a rerun of the same job removes, and any later write into the same folder removes
once it has been untouched for ``STALE_AFTER`` seconds (a staging folder lives for the
seconds a run takes to write its files, so an older one belongs to a killed run: this is
what cleans up after killed single runs, whose folder names are never reused).

What every run folder holds (listed for users in ``results/README.md``):

- ``COMPLETE``: the marker, a small JSON file (config hash, seed, version, the recipe
  when known, ``values``: the value in the config of each overridden key, as the
  collector's columns, and ``files``: the size and SHA-256 of every other file, so that
  a file truncated or replaced later is found: ``StoredRun.damage``); no clock time, so
  that the same config and seed give the same bytes;
- ``config.yaml``: the fully resolved config, seed included;
- ``overrides.yaml``: the command-line overrides that made the run;
- ``summary.json``: headline outcomes at the report months;
- ``monthly.parquet``, ``firms_yearly.parquet``, ``relocations.parquet``; with a plan also
  ``ledger.parquet``, ``spending.parquet`` and ``rationing.parquet``; on request
  ``talent_yearly.parquet``;
- ``counterfactual/``: the same tables for the run without the policy, when one was asked.

``write_run_folder`` is the one writer and ``StoredRun`` the one reader.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

try:  # the C loader and dumper are 4-10x faster (same text); else the pure-Python ones
    from yaml import CSafeDumper as _YamlDumper
    from yaml import CSafeLoader as _YamlLoader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeDumper as _YamlDumper  # type: ignore[assignment]
    from yaml import SafeLoader as _YamlLoader  # type: ignore[assignment]

if TYPE_CHECKING:  # pandas and pyarrow load when a table is read or written, not before
    import pandas as pd
    import pyarrow as pa

#: Name of the marker file that makes a run folder complete. Written last.
MARKER = "COMPLETE"
#: The resolved config, the overrides that made the run, and its headline summary.
CONFIG = "config.yaml"
OVERRIDES = "overrides.yaml"
SUMMARY = "summary.json"
#: The run's tables (Parquet, one row per what their name says).
MONTHLY = "monthly.parquet"
FIRMS_YEARLY = "firms_yearly.parquet"
RELOCATIONS = "relocations.parquet"
LEDGER = "ledger.parquet"
SPENDING = "spending.parquet"
#: Approved applications turned away for lack of budget (runs with a plan; run folders
#: written before the grant engine recorded them lack it).
RATIONING = "rationing.parquet"
TALENT_YEARLY = "talent_yearly.parquet"
#: Key of the marker listing every file of the run with its size and SHA-256.
MANIFEST = "files"
#: Key of the marker holding ``override_values`` of the run's overrides and config: the
#: collector's columns without reading the whole ``config.yaml`` (~30 ms a job).
VALUES = "values"
#: Sub-folder holding the counterfactual's tables (same names).
COUNTERFACTUAL = "counterfactual"
#: Files that only a run writes: a folder holding files but none of these is not a run.
RUN_FILES = (CONFIG, OVERRIDES, SUMMARY, MONTHLY)
#: Infix of a staging folder's name (``.<name>.partial-<pid>``).
PARTIAL_INFIX = ".partial-"
#: Seconds after which an untouched staging folder is taken for a killed run's. Assumption:
#: writing a run folder takes seconds (the 10x city: well under a minute), so ten minutes
#: leave a wide margin for a slow shared disk.
STALE_AFTER = 600.0


#: What may be in a folder a run is written to, besides a ``*.log``: the files of a run
#: folder (of an earlier, unfinished attempt) and what Hydra itself may write (``.hydra/``).
RUN_NAMES = frozenset(
    {
        MARKER,
        CONFIG,
        OVERRIDES,
        SUMMARY,
        MONTHLY,
        FIRMS_YEARLY,
        RELOCATIONS,
        LEDGER,
        SPENDING,
        RATIONING,
        TALENT_YEARLY,
        COUNTERFACTUAL,
        ".hydra",
    }
)


class RunFolderError(Exception):
    """A run folder cannot be written where it was asked to be."""


def foreign_files(folder: Path) -> list[str]:
    """Names in ``folder`` that no run wrote (writing a run there would replace them).

    Empty for a missing or empty folder and for an unfinished run's folder.
    """
    folder = Path(folder)
    if not folder.is_dir():
        return []
    return sorted(p.name for p in folder.iterdir() if not _written_by_a_run(p.name))


def _written_by_a_run(name: str) -> bool:
    return name in RUN_NAMES or name.endswith(".log")


def refuse_to_replace(final: Path) -> None:
    """Raise ``RunFolderError`` unless writing a run at ``final`` loses nothing.

    ``final`` may be missing, an empty folder (Hydra creates a job's folder before the
    job starts) or an unfinished run's folder; never a complete run, a file, or a folder
    holding anything a run does not write (``hydra.run.dir=~/Documents`` would delete the
    documents).
    """
    final = Path(final)
    if is_complete(final):
        raise RunFolderError(f"run folder {final} is already complete; refusing to overwrite it")
    if final.exists() and not final.is_dir():
        raise RunFolderError(f"{final} is a file, not a run folder; refusing to replace it")
    others = foreign_files(final)
    if others:
        listed = ", ".join(others[:3]) + (", ..." if len(others) > 3 else "")
        raise RunFolderError(
            f"{final} holds files that are not a run's ({listed}); refusing to replace them"
        )


class BadRunFolderError(Exception):
    """A run folder is marked complete but one of its files cannot be read; says which."""


def read_yaml(path: Path) -> Any:
    """A YAML file (``config.yaml``, ``overrides.yaml``) as plain data.

    Raises ``OSError`` or ``yaml.YAMLError``; callers turn them into their own messages.
    """
    return yaml.load(Path(path).read_text(), Loader=_YamlLoader)


def dump_yaml(data: Any, sort_keys: bool = False) -> str:
    """``yaml.safe_dump(data, allow_unicode=True)``, through the C dumper when there is one."""
    return yaml.dump(data, Dumper=_YamlDumper, sort_keys=sort_keys, allow_unicode=True)


#: YAML text of the top-level config sections written last, by ``repr`` of their content.
_SECTION_TEXT: OrderedDict[str, str] = OrderedDict()
#: Sections kept (a sweep's jobs mostly share them: a world, a policy, the behaviour).
KEEP_SECTIONS = 32
#: The types a config holds as plain data; anything else goes to the whole-document dump.
_PLAIN_LEAVES = (str, int, float, bool, type(None))


def _plain_unshared(data: Any, seen: set[int]) -> bool:
    """Whether ``data`` is plain nested data in which no container appears twice.

    Plain: dicts, lists, str, numbers, bools, None. A container seen twice would make
    YAML write an anchor and an alias.
    """
    if type(data) in (dict, list):
        if id(data) in seen:
            return False
        seen.add(id(data))
        items = data.items() if type(data) is dict else enumerate(data)
        return all(type(k) in _PLAIN_LEAVES and _plain_unshared(v, seen) for k, v in items)
    return type(data) in _PLAIN_LEAVES


def config_yaml(config: Mapping[str, Any]) -> str:
    """The text of ``config.yaml``: ``dump_yaml(dict(config), sort_keys=True)``, made faster.

    PyYAML's representer is pure Python (~30-50 ms for our policy trees, with the C
    emitter), and the jobs of a sweep repeat most top-level sections word for word. A
    block-style mapping's YAML is its keys' entries one after the other, so each section
    is dumped on its own and its text kept by ``repr`` of its content (exact for plain
    data: ``1``, ``1.0``, ``True`` and ``'1'`` have different ``repr``). Data that is not
    plain, or where a container appears twice (an anchor would number across sections),
    is dumped whole, as before.
    """
    data = dict(config)
    if not all(type(k) is str for k in data) or not _plain_unshared(data, set()):
        return dump_yaml(data, sort_keys=True)
    parts = []
    for key in sorted(data):
        section = {key: data[key]}
        memo = repr(section)
        text = _SECTION_TEXT.get(memo)
        if text is None:
            text = _SECTION_TEXT[memo] = dump_yaml(section, sort_keys=True)
            while len(_SECTION_TEXT) > KEEP_SECTIONS:
                _SECTION_TEXT.popitem(last=False)
        _SECTION_TEXT.move_to_end(memo)
        parts.append(text)
    return "".join(parts) if parts else dump_yaml(data, sort_keys=True)


def is_complete(folder: Path) -> bool:
    """Return True if ``folder`` is a finished run folder (it holds the marker)."""
    return (Path(folder) / MARKER).is_file()


def read_marker(folder: Path) -> dict[str, Any]:
    """Return the marker's content of a complete run folder."""
    return json.loads((Path(folder) / MARKER).read_text())


# --------------------------------------------------------------------------- staging


def staging_path(final: Path) -> Path:
    """Return the hidden staging folder used while ``final`` is being written."""
    final = Path(final)
    return final.parent / f".{final.name}{PARTIAL_INFIX}{os.getpid()}"


def is_partial_name(name: str) -> bool:
    """Return True if ``name`` is the name of a staging folder (``.<run>.partial-<pid>``)."""
    return name.startswith(".") and PARTIAL_INFIX in name


def clear_partials_of(final: Path) -> list[Path]:
    """Remove the staging folders left by earlier, interrupted attempts at writing ``final``."""
    final = Path(final)
    removed = []
    if final.parent.is_dir():
        for p in final.parent.glob(f".{final.name}{PARTIAL_INFIX}*"):
            if p.is_dir():
                shutil.rmtree(p, ignore_errors=True)
                removed.append(p)
    return removed


def clear_stale_partials(folder: Path, older_than: float = STALE_AFTER) -> list[Path]:
    """Remove staging folders in ``folder`` untouched for more than ``older_than`` seconds."""
    folder = Path(folder)
    removed: list[Path] = []
    if not folder.is_dir():
        return removed
    now = time.time()
    for p in folder.iterdir():
        if not is_partial_name(p.name):
            continue
        try:
            if not p.is_dir() or now - p.stat().st_mtime <= older_than:
                continue
        except OSError:  # removed meanwhile by its own run
            continue
        shutil.rmtree(p, ignore_errors=True)
        removed.append(p)
    return removed


def remove_if_empty(folder: Path, stop_at: Path | None = None) -> None:
    """Remove ``folder`` and then its empty parents, up to (not including) ``stop_at``.

    Used when a run is rejected before it starts, so that bad input leaves nothing behind
    (Hydra creates the output folder before our code sees the config).
    """
    folder = Path(folder).resolve()
    stop = Path(stop_at).resolve() if stop_at is not None else None
    while folder.is_dir() and folder != stop and not any(folder.iterdir()):
        folder.rmdir()
        folder = folder.parent


# --------------------------------------------------------------------------- writing


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    """Flush a folder's entries (new names, renames) to disk; a no-op where unsupported."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:  # pragma: no cover - e.g. Windows cannot open folders
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover - some file systems refuse fsync on folders
        pass
    finally:
        os.close(fd)


def _jsonable(value: Any) -> Any:
    """Turn numpy scalars and similar into plain JSON values."""
    if hasattr(value, "item"):
        return value.item()
    raise TypeError(f"cannot write {type(value).__name__} to JSON")


#: Tables written at once (threads: pyarrow encodes, compresses and writes without the
#: GIL, and a file's flush to disk waits on the disk, not a core). Assumption: a run writes
#: 6-13 tables; 4 keep a 2-core machine busy without crowding a sweep's other workers.
TABLE_WRITERS = 4


class RunWriter:
    """Writes the files of one run into its staging folder; the context publishes them."""

    def __init__(self, staging: Path) -> None:
        self.staging = Path(staging)
        self.written: list[Path] = []
        self._synced: set[Path] = set()

    def path(self, name: str) -> Path:
        """Return the staging path of a file (creating sub-folders as needed)."""
        p = self.staging / name
        p.parent.mkdir(parents=True, exist_ok=True)
        self.written.append(p)
        return p

    def table(self, name: str, frame: pd.DataFrame) -> None:
        """Write a table as Parquet (no index; deterministic bytes for equal frames)."""
        frame.to_parquet(self.path(name), index=False, engine="pyarrow", compression="zstd")

    def tables(self, frames: Mapping[str, pd.DataFrame]) -> None:
        """Write several tables at once, each flushed to disk as soon as it is written.

        The bytes are those ``table`` writes (each file is written whole by one thread).
        """
        if len(frames) <= 1:
            for name, frame in frames.items():
                self.table(name, frame)
            return

        def write(item: tuple[str, pd.DataFrame]) -> None:
            self.table(*item)
            path = self.staging / item[0]
            _fsync_file(path)
            self._synced.add(path)

        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=min(TABLE_WRITERS, len(frames))) as pool:
            for _ in pool.map(write, frames.items()):  # re-raises the first error
                pass

    def copy(self, name: str, source: Path) -> None:
        """Copy the file ``source`` (of another run folder) byte for byte."""
        shutil.copyfile(source, self.path(name))

    def json(self, name: str, data: Any) -> None:
        """Write a JSON document with sorted keys (deterministic bytes)."""
        self.path(name).write_text(json.dumps(data, indent=2, sort_keys=True, default=_jsonable))

    def text(self, name: str, text: str) -> None:
        """Write a text file."""
        self.path(name).write_text(text)

    def manifest(self) -> dict[str, list[Any]]:
        """``{file: [size in bytes, SHA-256 hex]}`` of every file written so far."""
        files: dict[str, list[Any]] = {}
        for p in sorted(set(self.written)):
            data = p.read_bytes()
            files[p.relative_to(self.staging).as_posix()] = [
                len(data),
                hashlib.sha256(data).hexdigest(),
            ]
        return files

    def sync(self) -> None:
        """Flush every file written so far, and the folders holding them, to disk.

        A file already flushed (by ``tables``, or an earlier ``sync``) is not flushed again.
        """
        folders = {self.staging}
        for p in self.written:
            if p not in self._synced:
                _fsync_file(p)
                self._synced.add(p)
            folders.add(p.parent)
        for folder in sorted(folders, key=lambda f: len(f.parts), reverse=True):
            _fsync_dir(folder)


@contextmanager
def atomic_run_folder(final: Path, marker: dict[str, Any]) -> Iterator[RunWriter]:
    """Stage a run folder and publish it at ``final`` only if the block finishes.

    ``final`` must not exist, or must be an empty folder (Hydra creates the job's output
    folder before the job starts), or an incomplete run folder (it is replaced). A
    complete run folder, a file, or a folder holding anything a run does not write is
    never replaced: that raises ``RunFolderError`` (``refuse_to_replace``; the command
    line and the API check the same before simulating, this is the last line).
    Every file and the folder are flushed to disk before the marker is written, and the
    marker before the rename, so a published folder is complete even after a crash.
    Staging folders of killed runs in the same parent folder are removed first
    (``clear_stale_partials``).
    On any exception, including ``KeyboardInterrupt``, the staging folder (and ``final``,
    if it is an empty folder) is removed and the exception propagates.
    """
    final = Path(final)
    refuse_to_replace(final)
    clear_stale_partials(final.parent)
    staging = staging_path(final)
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
    writer = RunWriter(staging)
    try:
        yield writer
        writer.sync()
        writer.json(MARKER, {**marker, MANIFEST: writer.manifest()})
        writer.sync()
        if final.exists():
            refuse_to_replace(final)  # again: something may have arrived while the run wrote
            shutil.rmtree(final)
        os.replace(staging, final)
        _fsync_dir(final.parent)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        if final.is_dir() and not any(final.iterdir()):
            final.rmdir()  # the empty folder Hydra made: leave nothing behind
        raise


@dataclass(frozen=True)
class RunContent:
    """What one run folder holds, before it is written (see the module docstring).

    Attributes:
        marker: the content of ``COMPLETE`` (config hash, seed, version).
        config: the resolved config, as plain data.
        overrides: the command-line overrides that made the run.
        summary: the content of ``summary.json``.
        tables: the run's tables by file name (``MONTHLY``, ...); the counterfactual's
            under ``counterfactual/<name>``.
        copies: files copied byte for byte from another run folder, by file name (a
            counterfactual another job of the sweep ran:
            ``clustersim.results.shared_counterfactuals``).

    """

    marker: dict[str, Any]
    config: Mapping[str, Any]
    overrides: list[str]
    summary: dict[str, Any]
    tables: dict[str, pd.DataFrame]
    copies: Mapping[str, Path] = field(default_factory=dict)


def write_run_folder(folder: Path, content: RunContent) -> Path:
    """Publish the run folder at ``folder``: complete, or not there at all.

    The marker gets ``VALUES``: ``override_values`` of the overrides in the config, what
    the collector would read back from ``overrides.yaml`` and ``config.yaml``.
    """
    from clustersim.results.overrides import OverrideError, override_values

    marker = dict(content.marker)
    config = dict(content.config)
    # (the collector says what is wrong with an override Hydra would not pass; a config
    # that is not plain data is read back from config.yaml, as YAML gives it)
    if _plain_unshared(config, set()):
        with suppress(OverrideError):
            marker[VALUES] = override_values(content.overrides, config)
    with atomic_run_folder(Path(folder), marker) as w:
        w.text(CONFIG, config_yaml(content.config))
        w.text(OVERRIDES, dump_yaml(list(content.overrides)))
        w.json(SUMMARY, content.summary)
        w.tables(content.tables)
        for name, source in content.copies.items():
            w.copy(name, source)
    return Path(folder)


# --------------------------------------------------------------------------- reading


def read_error(err: BaseException, path: Path | None = None) -> str:
    """What is wrong with a file, in a few words (pyarrow's messages run to lines)."""
    text = str(err).strip()
    if "magic bytes not found" in text:
        return "truncated, or not a Parquet file (its footer is missing)"
    line = text.splitlines()[0] if text else type(err).__name__
    if path is not None:
        line = line.replace(f"'{path}'", "the file").replace(str(path), "the file")
    return line


class StoredRun:
    """A complete run folder, read file by file.

    A file that cannot be read raises ``BadRunFolderError`` naming it.

    Attributes:
        folder: the run folder.

    """

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    def _json(self, name: str) -> Any:
        path = self.folder / name
        try:
            return json.loads(path.read_text())
        except FileNotFoundError as err:
            raise BadRunFolderError(f"{name} is missing") from err
        except (OSError, ValueError) as err:
            raise BadRunFolderError(f"{name} cannot be read: {err}") from err

    def _yaml(self, name: str) -> Any:
        path = self.folder / name
        try:
            return read_yaml(path)
        except FileNotFoundError as err:
            raise BadRunFolderError(f"{name} is missing") from err
        except (OSError, yaml.YAMLError) as err:
            raise BadRunFolderError(f"{name} cannot be read: {err}") from err

    def marker(self) -> dict[str, Any]:
        """The content of ``COMPLETE``."""
        data = self._json(MARKER)
        if not isinstance(data, dict):
            raise BadRunFolderError(f"{MARKER} must hold a JSON object")
        return data

    def damage(self, check_content: bool = False) -> str | None:
        """What is wrong with the files the marker lists, or None if nothing is.

        Sizes are compared (a ``stat`` per file: a truncated or half-copied file is
        found); with ``check_content`` the SHA-256 too (every byte is read). A marker
        without a list (a run written before markers had one) is taken as it is; an
        unreadable marker is damage.
        """
        try:
            listed = self.marker().get(MANIFEST)
        except BadRunFolderError as err:
            return str(err)
        if not isinstance(listed, dict):
            return None
        for name, entry in sorted(listed.items()):
            if not isinstance(entry, list) or len(entry) != 2:
                return f"{MARKER}: the entry of {name} is not [size, sha256]"
            path = self.folder / name
            try:
                size = path.stat().st_size
            except OSError:
                return f"{name} is missing"
            if size != entry[0]:
                return f"{name} holds {size} bytes, the run wrote {entry[0]} (truncated?)"
            if check_content and hashlib.sha256(path.read_bytes()).hexdigest() != entry[1]:
                return f"{name} differs from what the run wrote (its SHA-256 changed)"
        return None

    def summary(self) -> dict[str, Any]:
        """The content of ``summary.json``."""
        data = self._json(SUMMARY)
        if not isinstance(data, dict):
            raise BadRunFolderError(f"{SUMMARY} must hold a JSON object")
        return data

    def overrides(self) -> list[str]:
        """The overrides that made the run (``key=value`` texts)."""
        data = self._yaml(OVERRIDES) or []
        if not isinstance(data, list):
            raise BadRunFolderError(f"{OVERRIDES} must hold a list of key=value strings")
        return [str(o) for o in data]

    def config(self) -> Any:
        """The resolved config, as plain nested data."""
        return self._yaml(CONFIG)

    def has(self, name: str) -> bool:
        """True if the run folder holds the file ``name`` (e.g. ``RATIONING``)."""
        return (self.folder / name).is_file()

    def schema(self, name: str) -> pa.Schema:
        """The schema of one of the run's tables (read from its footer only)."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        path = self.folder / name
        try:
            return pq.read_schema(path)
        except FileNotFoundError as err:
            raise BadRunFolderError(f"{name} is missing") from err
        except (OSError, pa.ArrowException) as err:
            raise BadRunFolderError(f"{name} cannot be read: {read_error(err, path)}") from err

    def tables(self) -> list[str]:
        """The names of the run's tables (``monthly.parquet``, ``counterfactual/...``)."""
        return sorted(
            p.relative_to(self.folder).as_posix()
            for p in self.folder.rglob("*.parquet")
            if p.is_file() and not p.name.startswith(".")
        )

    def table(self, name: str, columns: list[str] | None = None) -> pd.DataFrame | None:
        """One of the run's tables, or None when the run did not write it.

        A table that cannot be read raises ``BadRunFolderError`` naming it.
        """
        import pandas as pd
        import pyarrow as pa

        path = self.folder / name
        if not path.is_file():
            return None
        try:
            return pd.read_parquet(path, columns=columns)
        except (OSError, ValueError, pa.ArrowException) as err:
            raise BadRunFolderError(f"{name} cannot be read: {read_error(err, path)}") from err
