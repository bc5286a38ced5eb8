"""clustersim: an agent-based simulation of Shanghai's FinTech cluster under public incentives.

Data flows one way: config -> world -> monthly steps -> recorded outcomes -> collected
tables -> report. See ``docs/ODD.md`` for the model description.
"""

__version__ = "0.1.0"


def _register_resolvers() -> None:
    # ``${job_folder:...}`` names job folders in conf/hydra/default.yaml; every process
    # that composes or runs our configs imports this package first (see results/names.py)
    from clustersim.results.names import register_resolver

    register_resolver()


def _defer_unused_mesa_parts() -> None:
    # before anything imports mesa: its spaces load scipy and networkx, which no run needs,
    # and its model module walks the whole stack to name its logger
    from clustersim.mesa_import import defer_unused_mesa_parts, name_module_loggers_cheaply

    defer_unused_mesa_parts()
    name_module_loggers_cheaply()


_defer_unused_mesa_parts()
_register_resolvers()
