"""Sweeps at scale: resumable Hydra multiruns, failure records, progress and collection.

Hydra launches the jobs of a multirun; this package makes a sweep folder something a
user can rerun, watch and analyse:

- ``jobs.sweep_job`` wraps one job: it skips a job whose folder is already complete with
  the same config, records a failing job instead of stopping the sweep, and reports it;
- ``progress`` keeps one tiny status file per finished job and prints the sweep's progress;
- ``callbacks.SweepCallback`` (configured in ``conf/hydra/default.yaml``) clears staging
  folders of interrupted runs, shows progress, lists failures with the command that
  reruns them and collects the results at the end of a multirun;
- ``collect`` gathers every complete job into ``runs.parquet`` and ``panel.parquet``
  (also the ``clustersim-collect`` command);
- ``designs`` draws quasi-Monte Carlo designs (Sobol, Latin hypercube, Halton) over
  behavioural parameters for the ``qmc`` sweeper (``hydra/sweeper=qmc``).

The layout of a sweep folder is described in ``layout``.
"""
