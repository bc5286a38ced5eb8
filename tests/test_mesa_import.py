"""Mesa's unused spaces are deferred: a run never loads scipy or networkx, Mesa still works.

Each case runs in a fresh interpreter: what a process has imported is the property.
"""

from __future__ import annotations

import pytest

from tests.conftest import in_fresh_python


def test_the_model_and_the_runner_import_neither_scipy_nor_networkx() -> None:
    found = in_fresh_python(
        "import json, sys\n"
        "import clustersim.runner, clustersim.cli.run, clustersim.results.summary\n"
        "print(json.dumps(sorted(m for m in sys.modules"
        " if m.split('.')[0] in ('scipy', 'networkx'))))\n"
    )
    assert found == []


def test_deferred_parts_of_mesa_work_when_used() -> None:
    """Each deferred part runs its code on first use, with what its names stand for."""
    found = in_fresh_python(
        "import json, sys\n"
        "import clustersim.model, mesa\n"
        "from mesa.discrete_space import OrthogonalMooreGrid\n"
        "from mesa.space import MultiGrid, NetworkGrid\n"
        "from mesa.experimental.continuous_space import ContinuousSpace\n"
        "import mesa.discrete_space.grid as grid\n"
        "model = mesa.Model(rng=1)\n"
        "cells = OrthogonalMooreGrid((3, 3), random=model.random)\n"
        "space = MultiGrid(4, 4, torus=False)\n"
        "print(json.dumps({'cells': len(cells.all_cells), 'space': space.width,\n"
        "  'same': grid.OrthogonalMooreGrid is mesa.discrete_space.OrthogonalMooreGrid,\n"
        "  'continuous': ContinuousSpace.__module__, 'network': NetworkGrid.__name__,\n"
        "  'types': sorted({type(sys.modules[m]).__name__ for m in\n"
        "    ('mesa.discrete_space', 'mesa.space', 'mesa.experimental.continuous_space')})}))\n"
    )
    assert found["cells"] == 9 and found["space"] == 4 and found["same"]
    assert found["continuous"] == "mesa.experimental.continuous_space.continuous_space"
    assert found["network"] == "NetworkGrid"
    assert found["types"] == ["module"]  # each became an ordinary module


@pytest.mark.parametrize("first", ["mesa", "mesa.discrete_space"])
def test_mesa_imported_before_clustersim_is_left_as_it_is(first: str) -> None:
    found = in_fresh_python(
        f"import json, sys\nimport {first}\nimport clustersim.model\n"
        "print(json.dumps([type(sys.modules['mesa.discrete_space']).__name__,"
        " 'scipy' in sys.modules]))\n"
    )
    assert found == ["module", True]


def test_mesa_names_its_module_loggers_without_walking_the_stack() -> None:
    """Mesa's loggers are the ones Mesa makes, and ``inspect.stack`` is never called."""
    found = in_fresh_python(
        "import inspect, json, logging, sys\n"
        "def walked(*args, **kwargs):\n"
        "    raise AssertionError('inspect.stack was called')\n"
        "inspect.stack = walked\n"
        "import clustersim.model\n"
        "import mesa.mesa_logging\n"
        "import mesa.model\n"
        "print(json.dumps({'loggers': sorted(mesa.mesa_logging._module_loggers),\n"
        "  'model': mesa.model._mesa_logger.name,\n"
        "  'bound': mesa.mesa_logging is sys.modules['mesa.mesa_logging'],\n"
        "  'named': mesa.mesa_logging.create_module_logger().name}))\n"
    )
    assert found["loggers"] == ["mesa.mesa_logging", "mesa.model"]
    assert found["model"] == "MESA.mesa.model"
    assert found["bound"]  # ``import mesa.mesa_logging`` gives the module, as it would
    assert found["named"] == "MESA.__main__"  # named after the calling module


def test_mesa_decorates_model_init_without_walking_the_stack() -> None:
    """``Model.__init__`` logs its call under the class's name, no ``getouterframes`` walk."""
    found = in_fresh_python(
        "import inspect, json, logging\n"
        "def walked(*args, **kwargs):\n"
        "    raise AssertionError('inspect.getouterframes was called')\n"
        "inspect.getouterframes = walked\n"
        "import clustersim.model\n"
        "import mesa\n"
        "seen = []\n"
        "class Keep(logging.Handler):\n"
        "    def emit(self, record):\n"
        "        seen.append((record.name, record.levelno, record.getMessage()))\n"
        "logger = logging.getLogger('MESA.mesa.model')\n"
        "logger.addHandler(Keep())\n"
        "logger.setLevel(logging.DEBUG)\n"
        "mesa.Model(rng=5)\n"
        "print(json.dumps({'seen': seen, 'name': mesa.Model.__init__.__name__}))\n"
    )
    assert found["name"] == "__init__"  # functools.wraps, as Mesa's decorator keeps it
    assert found["seen"] == [
        ["MESA.mesa.model", 10, "calling Model.__init__ with () and {'rng': 5}"]
    ]
