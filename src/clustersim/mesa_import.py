"""Import Mesa without the spaces clustersim does not use (scipy and networkx, ~0.5 s).

``import mesa`` (and so any ``import mesa.<part>``: a package runs its ``__init__`` first)
imports every part of Mesa: its grid, network and continuous spaces too, which import
scipy (``KDTree``, ``cdist``) and networkx. clustersim places agents in parks itself and
uses none of them, yet they were over a third of a run's import time: half a second of
each ``clustersim-run`` and of each process of a sweep.

``defer_unused_mesa_parts`` registers those parts as *deferred* modules before Mesa is
imported: Mesa's ``__init__`` finds them already in ``sys.modules`` and binds them as
usual, and a deferred module runs its own code the first time one of its names is read
(``mesa.discrete_space.OrthogonalMooreGrid``, ``from mesa.space import NetworkGrid``,
SolaraViz drawing a grid). Nothing changes for code that uses them but when scipy and
networkx are loaded. Mesa's own submodules (``mesa.discrete_space.grid``) import as usual.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import sys
import threading
import types

#: The parts of Mesa deferred: modules clustersim never uses, whose import loads scipy or
#: networkx. (``mesa.space``: the legacy grids, networkx; ``mesa.discrete_space``: the cell
#: spaces, scipy and networkx; the experimental continuous space: scipy.)
UNUSED_MESA_PARTS = ("mesa.discrete_space", "mesa.space", "mesa.experimental.continuous_space")

_LOADING = threading.Lock()


class DeferredModule(types.ModuleType):
    """A module whose code runs when one of its names is first read.

    It holds what the import system reads without running a module (``__spec__``,
    ``__path__``, ``__file__``); any other name is missing until the code has run, so
    ``__getattr__`` (called only for missing names) runs it, turning the module into an
    ordinary one first, and then answers.
    """

    def __getattr__(self, name: str) -> object:
        with _LOADING:
            if type(self) is DeferredModule:  # (not already run by another thread)
                self.__class__ = types.ModuleType
                self.__spec__.loader.exec_module(self)  # type: ignore[union-attr]
        return getattr(self, name)


def defer_unused_mesa_parts() -> None:
    """Register ``UNUSED_MESA_PARTS`` as deferred modules, if Mesa is not imported yet."""
    if "mesa" in sys.modules:
        return  # (imported before clustersim: its parts are loaded already)
    mesa = importlib.util.find_spec("mesa")  # (finds the package without running it)
    if mesa is None or not mesa.submodule_search_locations:
        return
    root = mesa.submodule_search_locations[0]
    for name in UNUSED_MESA_PARTS:
        parents = name.split(".")[1:-1]
        folder = "/".join([root, *parents])
        spec = importlib.machinery.PathFinder.find_spec(name, [folder])
        if spec is None or spec.loader is None:
            continue  # (a Mesa without that part)
        module = importlib.util.module_from_spec(spec)
        module.__class__ = DeferredModule
        sys.modules[name] = module
