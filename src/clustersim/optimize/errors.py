"""The one error a bad study setting raises, before anything is written."""

from __future__ import annotations

from clustersim.config import ConfigError


class StudyConfigError(ConfigError):
    """A study setting the optimiser cannot run with.

    A ``ValueError`` (through ``clustersim.config.ConfigError``) whose message names the
    field (``optimize.objectives[1]``), the value and what is allowed. It is raised while
    the study is checked, before its folder is created, so bad input writes nothing.
    """


__all__ = ["StudyConfigError"]
