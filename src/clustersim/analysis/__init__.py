"""Global sensitivity analysis and scenario discovery over the model's assumptions.

SALib's three steps, as plain functions (numpy in, numpy out), then scenario discovery:

1. **sample** (``designs.sample``): a Sobol/Saltelli or Morris design over a
   ``ParameterSpace`` (config paths with ranges, read from ``conf/sensitivity/*.yaml``);
2. **evaluate**: each design row is a job of a sweep (the ``sensitivity`` Hydra sweeper),
   or any callable; ``outcomes.outcome_table`` lines a sweep's runs up with the rows;
3. **analyse** (``indices.indices``): first-order and total Sobol indices, or Morris
   mu* and sigma, with bootstrap intervals, and ``indices.convergence`` (N/2 vs N);
4. **discover** (``discovery``): PRIM boxes and CART leaves where a ``--where``
   condition (``conditions``) holds.

``study`` ties them to a sweep folder and writes tidy Parquet tables and figures.
"""

from clustersim.analysis.designs import SensitivityDesign, read_design, sample, write_design
from clustersim.analysis.errors import AnalysisError
from clustersim.analysis.indices import convergence, indices
from clustersim.analysis.space import Parameter, ParameterSpace, load_space

__all__ = [
    "AnalysisError",
    "Parameter",
    "ParameterSpace",
    "SensitivityDesign",
    "convergence",
    "indices",
    "load_space",
    "read_design",
    "sample",
    "write_design",
]
