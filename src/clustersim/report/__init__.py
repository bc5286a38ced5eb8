"""Policy comparison reports: a sweep folder -> one self-contained HTML file and a Markdown twin.

Data flows one way through small modules:

``load``      reads the sweep (``clustersim.results.load_sweep``, configs, ledgers, relocations)
``tables``    computes every number as DataFrames (pure functions)
``stats``     spread across seeds, bootstrap confidence intervals, rank correlation
``figures``   draws from the report tables (matplotlib, Agg, fixed variant colours)
``build``     puts numbers, figures and words into a ``document.Document``
``html``, ``markdown``  render the document
``publish``   ``write_report`` (sweep folder -> files; ``clustersim-report`` runs it)
"""

from clustersim.report.load import ReportInputError, SweepData, report_data

__all__ = ["ReportInputError", "SweepData", "report_data"]
