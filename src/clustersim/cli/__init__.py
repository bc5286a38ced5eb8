"""Command-line entry points: ``clustersim-run`` (Hydra) and friends."""
