"""Policy comparison reports: a sweep folder -> one self-contained HTML file and a Markdown twin.

Data flows one way through small modules:

``load``      reads the sweep (collected tables, configs, ledgers, relocations)
``tables``    computes every number as DataFrames (pure functions)
``stats``     spread across seeds, bootstrap confidence intervals, rank correlation
``figures``   draws from the report tables (matplotlib, Agg, fixed variant colours)
``build``     puts numbers, figures and words into a ``document.Document``
``html``, ``markdown``  render the document
``cli``       ``clustersim-report`` and ``write_report`` (sweep folder -> files)
"""

from clustersim.report.load import ReportInputError, SweepData, load_sweep

__all__ = ["ReportInputError", "SweepData", "load_sweep"]
