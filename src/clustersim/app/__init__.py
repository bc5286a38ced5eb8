"""The live classroom app: Mesa's SolaraViz over the cluster model.

In a notebook::

    from clustersim.app import page
    page

From a shell: ``clustersim-app`` (a local server; ``--port``, ``--host``, and Hydra overrides
as for ``clustersim-run``). The controls are keywords of the model's Mesa-style constructor,
on the same config path as the command line, so what the screen shows month by month is
the run of the ``clustersim-run`` command it prints. See docs/app.md.
"""

from __future__ import annotations

import json
import os

import solara
from mesa.visualization import SolaraViz

from clustersim.app.components import COMPONENTS
from clustersim.app.controls import initial_values, model_params
from clustersim.app.live import LiveModel

__all__ = ["OVERRIDES_ENV", "LiveModel", "Page", "page"]

#: Environment variable through which ``clustersim-app`` hands its overrides to the server.
OVERRIDES_ENV = "CLUSTERSIM_APP_OVERRIDES"


def base_overrides() -> list[str]:
    """The overrides the app starts from (``clustersim-app``'s arguments; none in a notebook)."""
    text = os.environ.get(OVERRIDES_ENV)
    return [str(o) for o in json.loads(text)] if text else []


@solara.component
def Page(overrides: list[str] | None = None) -> None:
    """The app: controls in the sidebar, the map, the selection and the plots."""
    start = base_overrides() if overrides is None else list(overrides)
    params = solara.use_memo(lambda: model_params(start), [tuple(start)])
    model = solara.use_memo(lambda: LiveModel(**initial_values(params)), [tuple(start)])
    SolaraViz(
        model,
        components=[(c, 0) for c in COMPONENTS],
        model_params=params,
        name="clustersim: Shanghai's FinTech cluster, month by month",
        play_interval=150,
    )


#: The app as an element: display it in a notebook cell, or serve it with Solara.
page = Page()
