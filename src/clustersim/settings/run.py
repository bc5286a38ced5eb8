"""The run settings (``run:`` in ``conf/config.yaml``): how a run is carried out, not the model.

Whether to show progress, which counterfactual to run beside it, what to write and which
months the summary reports.
"""

from __future__ import annotations

from dataclasses import dataclass

from clustersim.config import ConfigError, Problems
from clustersim.months import Month, MonthError


@dataclass(frozen=True, kw_only=True)
class RunOptions:
    """How a run is carried out and what it writes (not part of the model)."""

    progress: bool
    counterfactual: str
    write_talent_snapshots: bool
    report_months: tuple[str, ...]

    def check(self, path: str) -> None:
        """The counterfactual is of a known kind; report months are one or more real months.

        Whether the counterfactual names something of the scenario, and whether the months
        lie within the world's, is checked with the whole scenario (``load_scenario``).
        """
        problems = Problems()
        cf = self.counterfactual
        parts = cf.split(".")
        if cf not in ("off", "no_policy") and (len(parts) > 2 or "" in parts):
            problems.add(
                ConfigError(
                    f"{path}.counterfactual",
                    cf,
                    "must be off, no_policy, <regime> or <regime>.<instrument> (the run "
                    "without every plan, without that plan, or without that instrument)",
                )
            )
        if not self.report_months:
            problems.add(
                ConfigError(
                    f"{path}.report_months",
                    [],
                    "must name at least one month (YYYY-MM) for the summary to report",
                )
            )
        for i, m in enumerate(self.report_months):
            try:
                Month.parse(m)
            except MonthError as e:
                problems.add(ConfigError(f"{path}.report_months[{i}]", m, str(e)))
        problems.raise_any()
