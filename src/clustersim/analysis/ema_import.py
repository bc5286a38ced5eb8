"""Import EMA Workbench's PRIM without the rest of the package (~2 s less of each import).

Scenario discovery uses one module of EMA Workbench, ``ema_workbench.analysis.prim``. But
importing it runs the package's ``__init__`` files first, and they import everything: the
whole modelling framework (whose classes, as they are defined, each call
``inspect.getouterframes``, a walk of the import stack that reads the source of every
frame: ~1.5 s), statsmodels, altair and the plotting modules. PRIM needs none of that:
it imports ``ema_workbench.util``, ``ema_workbench.em_framework.util`` and its sibling
modules of ``ema_workbench.analysis`` directly.

``import_prim`` registers the three packages whose ``__init__`` does the heavy lifting
(``ema_workbench``, ``ema_workbench.analysis``, ``ema_workbench.em_framework``) as
deferred packages (``clustersim.mesa_import.DeferredModule``, as Mesa's unused parts
are) before importing PRIM: the import system finds its way to
PRIM's file through their ``__path__`` without running them, and a sub-module asked of
one (``from . import scenario_discovery_util``) is imported alone. Any other name read
of a deferred package (``import ema_workbench; ema_workbench.Model``) runs its
``__init__`` then, as a plain import would have: nothing changes for such code but when
the rest is loaded. When the package is imported already, PRIM is imported as usual.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import sys
import warnings
from types import ModuleType

from clustersim.mesa_import import DeferredModule

__all__ = ["HEAVY_PACKAGES", "import_prim"]

#: The packages of EMA Workbench whose ``__init__`` PRIM does not need.
HEAVY_PACKAGES = ("ema_workbench", "ema_workbench.em_framework", "ema_workbench.analysis")


def _defer_heavy_packages() -> None:
    """Register ``HEAVY_PACKAGES`` as deferred modules, if EMA Workbench is not imported yet."""
    if "ema_workbench" in sys.modules:
        return
    root = importlib.util.find_spec("ema_workbench")
    if root is None or not root.submodule_search_locations:
        return
    folder = list(root.submodule_search_locations)
    for name in HEAVY_PACKAGES:
        spec = (
            root
            if name == "ema_workbench"
            else importlib.machinery.PathFinder.find_spec(name, folder)
        )
        if spec is None or spec.loader is None:
            return  # (another layout: import it the usual way)
        module = importlib.util.module_from_spec(spec)
        module.__class__ = DeferredModule
        sys.modules[name] = module
        parent, _, child = name.rpartition(".")
        if parent:  # as the import system binds a sub-package to its parent
            setattr(sys.modules[parent], child, module)


def import_prim() -> ModuleType:
    """``ema_workbench.analysis.prim``, with as little of the rest of the package as it needs."""
    _defer_heavy_packages()
    with warnings.catch_warnings():  # it warns that its optional ipyparallel is missing
        warnings.simplefilter("ignore", UserWarning)
        import ema_workbench.analysis.prim as prim
    return prim
