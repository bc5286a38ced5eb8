"""Calibration targets: published figures a run of the model should reproduce.

A targets file (``conf/targets/<name>.yaml``) maps each target's name to: the statistic
of a run it compares with (``clustersim.calibrate.statistics``), the month or period it
covers, the observed value, its uncertainty (one standard deviation, in the units of the
value), whether it is used for fitting (``use: fit``) or held out for validation
(``use: validate``), and its source. ``load_targets`` checks what can be checked from the
file alone; ``check_against_run`` checks the columns and months against the run the
calibration makes. Every problem is one ``ConfigError`` naming the field, the value and
what is allowed.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from clustersim.calibrate.statistics import MONTHLY, STATISTICS, month_number
from clustersim.config import ConfigError
from clustersim.months import Month, MonthError

#: How a target is used: fitted to, or held out to check the fit.
USES = ("fit", "validate")
_TARGET_KEYS = (
    "statistic",
    "column",
    "per",
    "month",
    "period",
    "observed",
    "uncertainty",
    "use",
    "source",
    "note",
    "options",
)
_MIN_SOURCE_CHARS = 12  # "a source" means a document, table, page or URL, not "paper"


@dataclass(frozen=True)
class Target:
    """One published figure and the run statistic it is compared with.

    Attributes:
        name: the target's key in the file.
        statistic: a name in ``STATISTICS``.
        first, last: the months it covers (equal for a single month), ``YYYY-MM``.
        observed: the published value.
        uncertainty: one standard deviation of the published value, same units (> 0).
        use: ``fit`` or ``validate``.
        source: document, table, page or URL of the figure.
        column, per: the monthly-table columns of a monthly statistic.
        options: numeric settings of the statistic (e.g. ``min_employees``).
        note: what the figure measures and how it maps onto the model.

    """

    name: str
    statistic: str
    first: str
    last: str
    observed: float
    uncertainty: float
    use: str
    source: str
    column: str | None = None
    per: str | None = None
    options: Mapping[str, float] = field(default_factory=dict)
    note: str = ""

    @property
    def settings(self) -> dict[str, Any]:
        """Keyword settings of the statistic's function."""
        out: dict[str, Any] = dict(self.options)
        if self.column is not None:
            out["column"] = self.column
        if self.per is not None:
            out["per"] = self.per
        return out

    @property
    def when(self) -> str:
        """The month, or ``first..last``."""
        return self.first if self.first == self.last else f"{self.first}..{self.last}"


@dataclass(frozen=True)
class TargetSet:
    """The targets of one file."""

    name: str
    path: Path
    targets: tuple[Target, ...]
    description: str = ""

    def used_for(self, use: str) -> tuple[Target, ...]:
        """Targets with ``use`` (``fit`` or ``validate``)."""
        return tuple(t for t in self.targets if t.use == use)

    @property
    def names(self) -> tuple[str, ...]:
        """Target names in file order."""
        return tuple(t.name for t in self.targets)


def read_yaml_mapping(path: Path, what: str) -> dict[str, Any]:
    """A YAML file that must hold a mapping, or a ``ConfigError`` saying why not."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(what, str(path), "no such file")
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as err:
        raise ConfigError(what, str(path), f"not valid YAML ({err})") from None
    if not isinstance(data, dict):
        raise ConfigError(what, str(path), "must hold a mapping")
    return data


def _number(path: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(path, value, "must be a number")
    value = float(value)
    if not math.isfinite(value):
        raise ConfigError(path, value, "must be a finite number (not NaN or infinity)")
    return value


def _month(path: str, value: Any) -> str:
    try:
        return str(Month.parse(str(value)))
    except MonthError as err:
        raise ConfigError(path, value, str(err)) from None


def _text(path: str, value: Any, allowed: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(path, value, allowed)
    return value.strip()


def parse_target(name: str, data: Any, where: str = "targets") -> Target:
    """One target from its mapping in a targets file."""
    path = f"{where}.{name}"
    if not isinstance(data, Mapping):
        raise ConfigError(path, data, "must be a mapping with keys " + ", ".join(_TARGET_KEYS))
    for key in data:
        if key not in _TARGET_KEYS:
            raise ConfigError(
                f"{path}.{key}", data[key], "unknown key; allowed: " + ", ".join(_TARGET_KEYS)
            )
    statistic = data.get("statistic")
    if statistic not in STATISTICS:
        raise ConfigError(f"{path}.statistic", statistic, "must be one of " + ", ".join(STATISTICS))
    stat = STATISTICS[statistic]
    for need in ("column", "per"):
        if need in stat.needs:
            _text(
                f"{path}.{need}",
                data.get(need),
                f"statistic {statistic} needs a {need}: a monthly-table column",
            )
        elif data.get(need) is not None:
            raise ConfigError(
                f"{path}.{need}", data[need], f"statistic {statistic} takes no {need}"
            )
    options = data.get("options") or {}
    if not isinstance(options, Mapping):
        raise ConfigError(f"{path}.options", options, "must be a mapping of setting to number")
    for key, value in options.items():
        if key not in stat.options:
            allowed = ", ".join(stat.options) or "none"
            raise ConfigError(
                f"{path}.options.{key}",
                value,
                f"unknown setting of {statistic}; allowed: {allowed}",
            )
        if _number(f"{path}.options.{key}", value) < 0:
            raise ConfigError(f"{path}.options.{key}", value, "must be >= 0")
    has_month, has_period = "month" in data, "period" in data
    if has_month == has_period:
        raise ConfigError(
            path, dict(data), "give exactly one of month: YYYY-MM or period: [YYYY-MM, YYYY-MM]"
        )
    if has_month:
        first = last = _month(f"{path}.month", data["month"])
    else:
        period = data["period"]
        if not isinstance(period, list) or len(period) != 2:
            raise ConfigError(f"{path}.period", period, "must be [first month, last month]")
        first = _month(f"{path}.period[0]", period[0])
        last = _month(f"{path}.period[1]", period[1])
        if month_number(last) < month_number(first):
            raise ConfigError(
                f"{path}.period", period, "the last month must not be before the first"
            )
    observed = _number(f"{path}.observed", data.get("observed"))
    uncertainty = _number(f"{path}.uncertainty", data.get("uncertainty"))
    if uncertainty <= 0:
        raise ConfigError(
            f"{path}.uncertainty",
            data.get("uncertainty"),
            "must be > 0 (one standard deviation of the observed value, in its units)",
        )
    use = data.get("use")
    if use not in USES:
        raise ConfigError(
            f"{path}.use", use, "must be fit (used for fitting) or validate (held out)"
        )
    source = data.get("source")
    if not isinstance(source, str) or len(source.strip()) < _MIN_SOURCE_CHARS:
        raise ConfigError(
            f"{path}.source",
            source,
            "every target needs its source: document, table, page or URL of the published figure",
        )
    note = data.get("note", "")
    return Target(
        name=name,
        statistic=statistic,
        first=first,
        last=last,
        observed=observed,
        uncertainty=uncertainty,
        use=use,
        source=source.strip(),
        column=data.get("column"),
        per=data.get("per"),
        options={k: float(v) for k, v in options.items()},
        note=str(note or "").strip(),
    )


def parse_targets(data: Mapping[str, Any], path: Path, name: str | None = None) -> TargetSet:
    """A ``TargetSet`` from a targets file's content."""
    allowed = ("description", "targets")
    for key in data:
        if key not in allowed:
            raise ConfigError(key, data[key], "unknown key; allowed: " + ", ".join(allowed))
    targets = data.get("targets")
    if not isinstance(targets, Mapping) or not targets:
        raise ConfigError(
            "targets", targets, "must be a non-empty mapping of target name to target"
        )
    parsed = tuple(parse_target(str(k), v) for k, v in targets.items())
    if not any(t.use == "fit" for t in parsed):
        raise ConfigError(
            "targets.*.use", [t.use for t in parsed], "at least one target must have use: fit"
        )
    return TargetSet(
        name=name or Path(path).stem,
        path=Path(path),
        targets=parsed,
        description=str(data.get("description", "")).strip(),
    )


def load_targets(path: str | Path) -> TargetSet:
    """Read and check a targets file."""
    path = Path(path)
    return parse_targets(read_yaml_mapping(path, "targets file"), path)


def check_against_run(
    targets: Iterable[Target], columns: Sequence[str], start: str, end: str
) -> None:
    """Check that each target's columns exist and its months lie within ``start..end``.

    Snapshot statistics also need a year-end snapshot in their period (and, for growth
    and exits, the one a year later inside the run).
    """
    known = set(columns)
    for t in targets:
        path = f"targets.{t.name}"
        for key in ("column", "per"):
            col = getattr(t, key)
            if col is not None and col not in known:
                raise ConfigError(
                    f"{path}.{key}",
                    col,
                    "no such outcome in the run's monthly table; e.g. "
                    + ", ".join(sorted(c for c in known if c != "month")[:12])
                    + " ...",
                )
        for which, month in (("first", t.first), ("last", t.last)):
            if not month_number(start) <= month_number(month) <= month_number(end):
                field_ = f"{path}.month" if t.first == t.last else f"{path}.period"
                raise ConfigError(
                    field_, month, f"must lie within the run, {start}..{end} ({which} month)"
                )
        if STATISTICS[t.statistic].source != MONTHLY:
            _check_snapshots(t, path, start, end)


def _year_ends(first: str, last: str, start: str, end: str) -> list[int]:
    """Month numbers of the run's year-end snapshots (Decembers and the last month)."""
    ends = {m for m in range(month_number(start), month_number(end) + 1) if m % 12 == 11}
    ends.add(month_number(end))
    return sorted(m for m in ends if month_number(first) <= m <= month_number(last))


def _check_snapshots(t: Target, path: str, start: str, end: str) -> None:
    ends = _year_ends(t.first, t.last, start, end)
    pairs = t.statistic in ("growth_size_beta", "growth_sd", "growth_kurtosis", "exit_rate_by_age")
    if pairs:
        ends = [m for m in ends if m % 12 == 11 and m + 12 <= month_number(end)]
    if not ends:
        need = "a December whose next December is also in the run" if pairs else "a year end"
        raise ConfigError(
            f"{path}.period" if t.first != t.last else f"{path}.month",
            t.when,
            f"statistic {t.statistic} reads year-end firm snapshots: the period needs "
            f"{need} ({start}..{end})",
        )
