"""Job folder names that are safe on every file system, for any override value.

A job of a sweep is named by its settings, as Hydra's ``hydra.job.override_dirname``
spells them (``policy=none,seed=3``), so that rerunning the same command finds the same
folders again. A value can hold anything a user types: a park name with ``/`` (which
would split the folder into nested ones), spaces, quotes, non-ASCII text, or be longer
than a file name may be. ``job_folder`` turns such a name into one folder name:

- every character other than ASCII letters, digits and ``=,.+-_@~`` is %-escaped (UTF-8
  bytes, as in a URL: ``a/b`` -> ``a%2Fb``); a leading ``.`` too, since hidden names are
  the sweep's bookkeeping; so ordinary names stay as they are, and ``unescape`` gives
  the settings back;
- a name still longer than ``MAX_FOLDER_BYTES`` is cut and ends with ``~h`` and 16 hex
  digits of the SHA-256 of the full name, so two long names never share a folder.

The mapping is kept: each run folder holds the overrides that made it
(``overrides.yaml``), and a failed job's record holds them too. The function is also an
OmegaConf resolver (``${job_folder:...}``), which ``conf/hydra/default.yaml`` uses for
the job folders of a sweep and (through ``run_suffix``) the folder of a single run, so
Hydra, ``clustersim.api`` and the sweepers' skip check all name a job the same way.

This module imports nothing heavy: every process of a sweep loads it.
"""

from __future__ import annotations

import hashlib
from urllib.parse import quote, unquote

#: Longest job folder name in bytes. File systems allow 255; a run's staging folder adds
#: 17 (``.<name>.partial-<pid>``), and some tools add suffixes of their own.
MAX_FOLDER_BYTES = 200
#: Characters kept as they are besides ASCII letters and digits (everything else is
#: %-escaped). ``=`` and ``,`` separate settings; ``+``, ``~`` and ``@`` are Hydra's
#: override prefixes and package marker; ``.``, ``-`` and ``_`` appear in keys and numbers.
SAFE = "=,.+-_@~"
#: Marks a name cut to fit, before the digest of the full name.
HASHED = "~h"
#: Hex digits of the digest kept in a cut name.
DIGEST_CHARS = 16


def job_folder(name: str) -> str:
    """The folder name of a job named ``name`` (see the module docstring)."""
    name = str(name)
    safe = quote(name, safe=SAFE)
    if safe.startswith("."):
        safe = "%2E" + safe[1:]
    if len(safe) <= MAX_FOLDER_BYTES:
        return safe
    digest = hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:DIGEST_CHARS]
    head = safe[: MAX_FOLDER_BYTES - len(HASHED) - DIGEST_CHARS]
    cut = head.rfind("%", len(head) - 2)  # never cut an escape (%XX) in two
    if cut >= 0:
        head = head[:cut]
    return f"{head}{HASHED}{digest}"


def run_suffix(name: str) -> str:
    """What follows a single run's time stamp in its folder name: ``_`` and its settings.

    Empty when the run has no settings on the command line, so that the default run's
    folder is ``2026-11-30_19-44-37``, not ``2026-11-30_19-44-37_``.
    """
    folder = job_folder(name)
    return f"_{folder}" if folder else ""


def is_hashed(folder: str) -> bool:
    """True if ``folder`` is a name cut to fit (its settings are in its ``overrides.yaml``)."""
    tail = folder[-(len(HASHED) + DIGEST_CHARS) :]
    return tail.startswith(HASHED) and len(folder) > MAX_FOLDER_BYTES - len(HASHED) - DIGEST_CHARS


def unescape(folder: str) -> str:
    """The job name an escaped (not cut) folder name stands for."""
    return unquote(folder)


def register_resolver() -> None:
    """Make ``${job_folder:<name>}`` and ``${run_suffix:<name>}`` available (idempotent)."""
    from omegaconf import OmegaConf

    for resolver in (job_folder, run_suffix):
        if not OmegaConf.has_resolver(resolver.__name__):
            OmegaConf.register_new_resolver(resolver.__name__, resolver)


__all__ = [
    "MAX_FOLDER_BYTES",
    "is_hashed",
    "job_folder",
    "register_resolver",
    "run_suffix",
    "unescape",
]
