"""Run folders written atomically: a run folder is either complete or not there.

A run writes every file into a hidden staging folder beside its final place
(``.<name>.partial-<pid>``), writes the completion marker last, and then renames the
staging folder to its final name. A rename within one file system is atomic, so a reader
(the collector, a resumed sweep, a person) sees either no folder or a complete one.
An interrupted run leaves at most a hidden staging folder, which ``clear_stale_partials``
removes.

The contract every run folder meets (listed for users in ``README.md`` and
``results/README.md``):

- ``COMPLETE``: the marker, a small JSON file (config hash, seed, version); no clock time,
  so that the same config and seed give the same bytes;
- ``config.yaml``: the fully resolved config, seed included;
- ``overrides.yaml``: the command-line overrides that made the run;
- ``summary.json``: headline outcomes at the report months;
- ``monthly.parquet``, ``firms_yearly.parquet`` and the other tables of the run (with a
  plan: ``ledger.parquet``, ``spending.parquet`` and ``rationing.parquet``, the approved
  applications turned away for lack of budget; see ``results/README.md``).
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

try:  # the C loader is ~10x faster; fall back to the pure-Python one
    from yaml import CSafeLoader as _YamlLoader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _YamlLoader  # type: ignore[assignment]

#: Name of the marker file that makes a run folder complete. Written last.
MARKER = "COMPLETE"
PARTIAL_INFIX = ".partial-"


def read_yaml(path: Path) -> Any:
    """A run folder's YAML file (``config.yaml``, ``overrides.yaml``) as plain data.

    Raises ``OSError`` or ``yaml.YAMLError``; callers turn them into their own messages.
    """
    return yaml.load(path.read_text(), Loader=_YamlLoader)


class RunFolderError(Exception):
    """A run folder cannot be written where it was asked to be."""


def is_complete(folder: Path) -> bool:
    """Return True if ``folder`` is a finished run folder (it holds the marker)."""
    return (Path(folder) / MARKER).is_file()


def read_marker(folder: Path) -> dict[str, Any]:
    """Return the marker's content of a complete run folder."""
    return json.loads((Path(folder) / MARKER).read_text())


def staging_path(final: Path) -> Path:
    """Return the hidden staging folder used while ``final`` is being written."""
    final = Path(final)
    return final.parent / f".{final.name}{PARTIAL_INFIX}{os.getpid()}"


def clear_stale_partials(parent: Path) -> list[Path]:
    """Remove staging folders left in ``parent`` by interrupted runs; return what was removed."""
    parent = Path(parent)
    removed: list[Path] = []
    if not parent.is_dir():
        return removed
    for p in parent.iterdir():
        if p.name.startswith(".") and PARTIAL_INFIX in p.name and p.is_dir():
            shutil.rmtree(p, ignore_errors=True)
            removed.append(p)
    return removed


class RunWriter:
    """Writes the files of one run into its staging folder; ``commit`` makes them visible."""

    def __init__(self, staging: Path) -> None:
        self.staging = Path(staging)

    def path(self, name: str) -> Path:
        """Return the staging path of a file (creating sub-folders as needed)."""
        p = self.staging / name
        p.parent.mkdir(parents=True, exist_ok=True)
        return p

    def table(self, name: str, frame: pd.DataFrame) -> None:
        """Write a table as Parquet (no index; deterministic bytes for equal frames)."""
        frame.to_parquet(self.path(name), index=False, engine="pyarrow", compression="zstd")

    def json(self, name: str, data: Any) -> None:
        """Write a JSON document with sorted keys (deterministic bytes)."""
        self.path(name).write_text(json.dumps(data, indent=2, sort_keys=True, default=_jsonable))

    def text(self, name: str, text: str) -> None:
        """Write a text file."""
        self.path(name).write_text(text)


def _jsonable(value: Any) -> Any:
    """Turn numpy scalars and similar into plain JSON values."""
    if hasattr(value, "item"):
        return value.item()
    raise TypeError(f"cannot write {type(value).__name__} to JSON")


@contextmanager
def atomic_run_folder(final: Path, marker: dict[str, Any]) -> Iterator[RunWriter]:
    """Stage a run folder and publish it at ``final`` only if the block finishes.

    ``final`` must not exist, or must be an empty folder (Hydra creates the job's output
    folder before the job starts), or an incomplete run folder (it is replaced). A
    complete run folder is never overwritten: that raises ``RunFolderError``.
    On any exception, including ``KeyboardInterrupt``, the staging folder (and ``final``,
    if it is an empty folder) is removed and the exception propagates.
    """
    final = Path(final)
    if is_complete(final):
        raise RunFolderError(f"run folder {final} is already complete; refusing to overwrite it")
    staging = staging_path(final)
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
    writer = RunWriter(staging)
    try:
        yield writer
        writer.json(MARKER, marker)
        if final.exists():
            shutil.rmtree(final)
        os.replace(staging, final)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        if final.is_dir() and not any(final.iterdir()):
            final.rmdir()  # the empty folder Hydra made: leave nothing behind
        raise


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
