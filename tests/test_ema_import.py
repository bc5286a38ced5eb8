"""PRIM is imported without the rest of EMA Workbench, and the rest still works when used.

Each case runs in a fresh interpreter: what a process has imported is the property.
"""

from __future__ import annotations

from tests.conftest import in_fresh_python


def test_prim_comes_without_the_modelling_framework_and_the_package_still_works() -> None:
    found = in_fresh_python(
        "import json, sys\n"
        "from clustersim.analysis.ema_import import import_prim\n"
        "prim = import_prim()\n"
        "alone = sorted(m for m in sys.modules if m.startswith('ema_workbench.em_framework.'))\n"
        "others = ('logistic_regression', 'pairs_plotting', 'cart', 'feature_scoring')\n"
        "heavy = [m for m in others if f'ema_workbench.analysis.{m}' in sys.modules]\n"
        "import ema_workbench\n"
        "from ema_workbench.analysis import prim as again\n"
        "print(json.dumps({'alone': alone, 'heavy': heavy, 'prim': prim.Prim.__name__,\n"
        "    'model': ema_workbench.Model.__name__, 'same': again is prim,\n"
        "    'cart': ema_workbench.analysis.cart.CART.__name__}))\n",
        "-W",
        "ignore",
    )
    assert found["prim"] == "Prim"
    assert found["alone"] == ["ema_workbench.em_framework.util"]  # what PRIM itself imports
    assert found["heavy"] == []  # nor the analyses it does not use
    # used afterwards, the package runs its own __init__ files and works as imported plainly
    assert found["model"] == "Model" and found["cart"] == "CART" and found["same"]


def test_prim_is_imported_as_usual_when_the_package_is_already() -> None:
    found = in_fresh_python(
        "import json\n"
        "import ema_workbench.analysis.prim as plain\n"
        "from clustersim.analysis.ema_import import import_prim\n"
        "print(json.dumps({'same': import_prim() is plain}))\n",
        "-W",
        "ignore",
    )
    assert found["same"]
