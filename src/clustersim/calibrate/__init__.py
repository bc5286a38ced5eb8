"""Calibration: fit behavioural parameters to published figures by approximate Bayesian computation.

- ``statistics``: the run outcomes a target can name (monthly columns, firm-snapshot statistics);
- ``targets``: the targets file (published figures, their uncertainty and source) and its checks;
- ``spec``: the calibration config (parameters, priors and their sources, inference settings);
- ``problem``: both checked together against the composed base config of every run.
"""
