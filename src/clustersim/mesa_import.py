"""Import Mesa without what clustersim does not use: its spaces (~0.5 s), a stack walk (~0.1 s).

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

``name_module_loggers_cheaply`` loads ``mesa.mesa_logging`` before Mesa and gives it a
``create_module_logger`` that names a module's logger from the calling frame's module
name. Mesa's own (``mesa.model`` calls it as it is imported) calls ``inspect.stack()``
for that one name: a walk of the whole import stack that reads the source of every frame
and, for importlib's frozen frames, scans every loaded module to find their file
(~0.1 s of each process, more the deeper the import). The loggers are the same
(``MESA.mesa.model``, kept in ``mesa.mesa_logging._module_loggers``). Its
``method_logger`` (``Model.__init__``'s decorator) likewise takes the class's name from
the calling frame, where Mesa's walks the stack with ``inspect.getouterframes``.
"""

from __future__ import annotations

import functools
import importlib
import importlib.machinery
import importlib.util
import logging
import sys
import threading
import types
from collections.abc import Callable
from typing import Any

#: The parts of Mesa deferred: modules clustersim never uses, whose import loads scipy or
#: networkx. (``mesa.space``: the legacy grids, networkx; ``mesa.discrete_space``: the cell
#: spaces, scipy and networkx; the experimental continuous space: scipy.)
UNUSED_MESA_PARTS = ("mesa.discrete_space", "mesa.space", "mesa.experimental.continuous_space")

#: Re-entrant: running one deferred package may import another (EMA Workbench's do).
_LOADING = threading.RLock()


class DeferredModule(types.ModuleType):
    """A module whose code runs when one of its names is first read.

    It holds what the import system reads without running a module (``__spec__``,
    ``__path__``, ``__file__``); any other name is missing until the code has run, so
    ``__getattr__`` (called only for missing names) runs it, turning the module into an
    ordinary one first, and then answers. For a package, the name of one of its
    sub-modules (``from package import module``, as the package's own modules write)
    imports that module alone, as the import system would once the package had run.
    Used for Mesa's unused parts here and EMA Workbench's packages
    (``clustersim.analysis.ema_import``).
    """

    def __getattr__(self, name: str) -> object:
        path = getattr(self.__spec__, "submodule_search_locations", None)
        full = f"{self.__name__}.{name}"
        if path and importlib.machinery.PathFinder.find_spec(full, list(path)) is not None:
            return importlib.import_module(full)
        with _LOADING:
            if type(self) is DeferredModule:  # (not already run by another thread)
                self.__class__ = types.ModuleType
                self.__spec__.loader.exec_module(self)  # type: ignore[union-attr]
        return getattr(self, name)


def _mesa_folder() -> str | None:
    """The folder of the Mesa package, found without running it; None if Mesa is imported."""
    if "mesa" in sys.modules:
        return None  # (imported before clustersim: its parts are loaded already)
    mesa = importlib.util.find_spec("mesa")
    if mesa is None or not mesa.submodule_search_locations:
        return None
    return str(mesa.submodule_search_locations[0])


def defer_unused_mesa_parts() -> None:
    """Register ``UNUSED_MESA_PARTS`` as deferred modules, if Mesa is not imported yet."""
    root = _mesa_folder()
    if root is None:
        return
    for name in UNUSED_MESA_PARTS:
        parents = name.split(".")[1:-1]
        folder = "/".join([root, *parents])
        spec = importlib.machinery.PathFinder.find_spec(name, [folder])
        if spec is None or spec.loader is None:
            continue  # (a Mesa without that part)
        module = importlib.util.module_from_spec(spec)
        module.__class__ = DeferredModule
        sys.modules[name] = module


#: Name of Mesa's logging module, loaded ahead of Mesa by ``name_module_loggers_cheaply``.
MESA_LOGGING = "mesa.mesa_logging"


def name_module_loggers_cheaply() -> None:
    """Load ``mesa.mesa_logging`` before Mesa, naming module loggers without a stack walk.

    Its ``create_module_logger(name=None)`` takes the calling module's name from the
    caller's frame (its ``__name__``: the module ``inspect.getmodule`` finds for it), where
    Mesa's walks the whole stack; with a name given it is Mesa's own. Nothing is done when
    Mesa is imported already or has no such module.
    """
    root = _mesa_folder()
    if root is None or MESA_LOGGING in sys.modules:
        return
    spec = importlib.machinery.PathFinder.find_spec(MESA_LOGGING, [root])
    if spec is None or spec.loader is None:
        return
    module = importlib.util.module_from_spec(spec)
    sys.modules[MESA_LOGGING] = module
    try:
        spec.loader.exec_module(module)
        mesas_own = module.create_module_logger
    except Exception:  # (another Mesa: let it import its own way)
        del sys.modules[MESA_LOGGING]
        return

    def create_module_logger(name: str | None = None) -> logging.Logger:
        if name is None:
            name = str(sys._getframe(1).f_globals["__name__"])
        # the module was loaded ahead of its package: Mesa's package, being imported now
        # (its model module calls this), gets its attribute, as an import would have set
        package = sys.modules.get("mesa")
        if package is not None and getattr(package, "mesa_logging", None) is not module:
            package.mesa_logging = module  # type: ignore[attr-defined]
        return mesas_own(name)  # type: ignore[no-any-return]

    create_module_logger.__doc__ = mesas_own.__doc__
    module.create_module_logger = create_module_logger  # type: ignore[attr-defined]
    if callable(getattr(module, "method_logger", None)):
        method_logger.__doc__ = module.method_logger.__doc__
        module.method_logger = method_logger  # type: ignore[attr-defined]


def method_logger(name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Mesa's ``mesa_logging.method_logger``, naming the class without a stack walk.

    Mesa's (``mesa.model`` decorates ``Model.__init__`` with it as it is imported) takes
    the name of the class being defined from ``inspect.getouterframes``, which reads the
    source lines of every frame of the import stack and looks up each frame's module
    (~0.05-0.1 CPU-s of each process); that name is the calling frame's code name, read
    here directly. The decorated method logs what Mesa's logs, at DEBUG.
    """
    logger = sys.modules[MESA_LOGGING].get_module_logger(name)
    classname = sys._getframe(1).f_code.co_name

    def real_decorator(func: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            logger.debug(f"calling {classname}.{func.__name__} with {args[1::]} and {kwargs}")
            return func(*args, **kwargs)

        return wrapper

    return real_decorator
