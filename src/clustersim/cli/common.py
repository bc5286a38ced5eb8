"""What every command-line tool of the project shares: its parser and its exit statuses.

``clustersim-run`` takes Hydra overrides (Hydra parses them); the other tools parse
their arguments here, so they all read alike: ``<tool> --help`` describes every option,
an error is one line ``<tool>: <what is wrong, and what is allowed>`` on standard error,
and the exit status says how it ended.
"""

from __future__ import annotations

import argparse
import sys

#: The command did what it was asked.
OK = 0
#: The command ran but produced nothing (e.g. no run could be collected).
FAILED = 1
#: Bad input: an argument, a config value, a folder (as argparse uses for bad arguments).
BAD_INPUT = 2


def cannot_write(err: OSError) -> str:
    """What to say when a run or sweep folder cannot be created or written (one line)."""
    where = err.filename if err.filename is not None else ""
    return (
        f"cannot write {where!s}: {err.strerror or err} (runs write under paths.results; "
        "choose a folder you can write with hydra.run.dir=, hydra.sweep.dir= or "
        "paths.results=)"
    )


def command(prog: str, description: str) -> argparse.ArgumentParser:
    """The argument parser of one tool (its ``--help`` shows defaults)."""
    return argparse.ArgumentParser(
        prog=prog,
        description=description,
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )


def fail(parser: argparse.ArgumentParser, message: str, status: int = BAD_INPUT) -> int:
    """Print ``<tool>: <message>`` on standard error and return ``status``."""
    print(f"{parser.prog}: {message}", file=sys.stderr)
    return status


__all__ = ["BAD_INPUT", "FAILED", "OK", "cannot_write", "command", "fail"]
