"""clustersim's Hydra sweepers: ``qmc`` (quasi-Monte Carlo designs) and ``grid``.

Hydra finds them under the ``hydra_plugins`` namespace package. ``hydra/sweeper=qmc`` runs
a Sobol, Latin-hypercube or Halton design (``clustersim.sweep.designs``); ``grid``, the
default in ``conf/hydra/default.yaml``, is Hydra's basic sweeper with a cheaper check of
the batch before launch.
"""
