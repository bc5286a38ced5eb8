"""A process's start, up to its first run: the cyclic garbage collector paused, then frozen.

A process that runs the model (``clustersim-run``, a sweep's worker) first imports numpy,
pandas, pyarrow, Mesa and Hydra and composes its config (~1.3 CPU-s), making ~200,000
objects, most of which live as long as the process: modules, classes, functions. Python's
cyclic garbage collector runs ~300 times meanwhile, each pass of the oldest generation
walking every object made so far, and finds little: ~0.15-0.2 CPU-s of a default
``clustersim-run`` (measured with ``gc.callbacks``), ~6% of it.

``collector_paused`` turns the collector off for that stretch; ``freeze_long_lived``
ends it at the process's first run: everything the process holds then is moved out of
the collector's reach (``gc.freeze``, Python's documented use for the long-lived objects
of a process's start) and the collector is turned back on, so the runs collect their own
garbage as before, without walking the start's objects again. The start's own cyclic
garbage (~80,000 objects, a few MB: mostly the nodes the config composer discarded) is
frozen with it and goes with the process. Reference counting frees objects as always;
the pause only delays the search for unreachable cycles.

A process that never runs the model (the one launching a sweep onto worker processes)
ends the pause when its sweep starts (``resume_collector``, from the sweep callback), or
when ``collector_paused`` exits.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

#: Set once ``freeze_long_lived`` has frozen this process's objects.
_FROZEN: list[bool] = []
#: Set while ``collector_paused`` holds the collector off (and it was on before).
_PAUSED: list[bool] = []


@contextmanager
def collector_paused() -> Iterator[None]:
    """Hold the cyclic collector off until the first run, or the end of the block.

    Does nothing in a process that has frozen its start already (its later work collects
    as usual), or where the collector is off already (someone else's choice, kept).
    """
    if _FROZEN or _PAUSED or not gc.isenabled():
        yield
        return
    gc.disable()
    _PAUSED.append(True)
    try:
        yield
    finally:
        resume_collector()


def resume_collector() -> None:
    """Turn the collector back on if ``collector_paused`` turned it off."""
    if _PAUSED:
        _PAUSED.clear()
        gc.enable()


def freeze_long_lived() -> None:
    """Exempt what this process holds before its first run from the garbage collector.

    The modules, classes and functions the imports made live as long as the process, yet
    each full collection during a run walks all of them again (one in a default run:
    ~0.1-0.2 s). ``gc.freeze`` moves them out of the collector's reach. Done once per
    process, before its first run: a sweep worker's later runs free their own garbage as
    before. Ends the pause of ``collector_paused``.
    """
    if not _FROZEN:
        gc.freeze()
        _FROZEN.append(True)
    resume_collector()


__all__ = ["collector_paused", "freeze_long_lived", "resume_collector"]
