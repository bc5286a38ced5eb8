"""Hydra multiruns as resumable, watched, collected sweeps.

Hydra launches the jobs of a multirun; this package plugs the project's results
machinery (``clustersim.results``) into it:

- ``jobs.sweep_job`` hands each Hydra job to the one job runner
  (``clustersim.results.jobs.run_job``): skip a job already complete with the same
  config, record a failing job instead of stopping the sweep;
- ``progress`` counts the jobs' status files and prints the sweep's progress;
- ``callbacks.SweepCallback`` (configured in ``conf/hydra/default.yaml``) clears staging
  folders of interrupted runs, shows progress, lists failures with the command that
  reruns them and collects the results at the end of a multirun;
- ``preflight`` checks every job's config before the first one runs;
- ``designs`` draws quasi-Monte Carlo designs (Sobol, Latin hypercube, Halton) over
  behavioural parameters for the ``qmc`` sweeper (``hydra/sweeper=qmc``).

The layout of a sweep folder is described in ``clustersim.results.sweep_folder``.
"""
