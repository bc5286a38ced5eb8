"""Where the project's config lives, for the command line and the Python API alike."""

from __future__ import annotations

import os
from pathlib import Path


def conf_dir() -> Path:
    """The ``conf/`` folder: ``$CLUSTERSIM_CONF`` if set, else the repository's."""
    env = os.environ.get("CLUSTERSIM_CONF")
    if env:
        return Path(env).resolve()
    return Path(__file__).resolve().parents[2] / "conf"
