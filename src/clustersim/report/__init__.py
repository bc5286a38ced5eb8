"""Policy comparison reports: a sweep folder -> one self-contained HTML file and a Markdown twin.

Data flows one way through small modules:

``load``      reads the sweep (``clustersim.results.load_sweep``, configs, ledgers, relocations)
``sections``  one module per report section: its tables, its figures and its words
``common``    what the sections share (outcome labels, columns, pairing by replicate)
``stats``     spread across seeds, bootstrap confidence intervals, rank correlation
``style``     what every figure shares (colours, units, PNG output)
``build``     puts the sections into a ``document.Document``
``html``, ``markdown``  render the document
``publish``   ``write_report`` (sweep folder -> files; ``clustersim-report`` runs it) and
              ``write_document`` (a document already built -> the same files)
"""

from clustersim.report.load import ReportInputError, SweepData, report_data

__all__ = ["ReportInputError", "SweepData", "report_data"]
