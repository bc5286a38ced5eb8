"""National law that is in force in every scenario: the framework the local plans sit in.

Two national tax measures shape the finances of Shanghai's FinTech firms whatever the
city and its districts do:

- the reduced income-tax rate of certified high-tech enterprises: 15% instead of 25%
  (Enterprise Income Tax Law of the PRC, art. 4 and art. 28);
- the additional deduction of R&D expenses ("super-deduction"): 75% of R&D spending
  deducted on top of the spending itself (MOF/STA 财税〔2018〕99号), 100% from 2023
  (MOF/STA Announcement 2023 No. 7).

They are not measures of the three plans: the municipal plan only "supports FinTech
firms ... to enjoy relevant preferential tax policies" (M23). So the framework acts in
every scenario, ``policy=none`` included; a plan's counterfactual never removes it; its
cost is national tax expenditure (revenue forgone by the central and local treasuries
under national law), recorded apart from the plans' spending and never counted in a
plan's cost or caused effects.

How it acts: the tax a firm saves stays in the firm and relaxes its financing constraint
as retained earnings do (``policy_response.financing_relief``, per unit of saving over
the annual wage bill). Its effect on how much R&D firms do and on how often they certify
is already in the calibrated R&D intensities and certification rates (firms in Shanghai
were observed under this law), so it does not shift them again.

``conf/national/prc.yaml`` holds the law's figures; ``national=none`` switches it off (for
teaching: a world without national tax preferences).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from clustersim.config import ConfigError, bound, build
from clustersim.months import Month, MonthError

if TYPE_CHECKING:
    from clustersim.model import ClusterModel

#: Laws the framework may cite, with the articles they have (a cited article must exist).
#: For the two notices only the article the framework cites is listed.
LAWS: dict[str, range] = {
    "企业所得税法": range(1, 61),  # Enterprise Income Tax Law of the PRC: 60 articles
    "财税〔2018〕99号": range(1, 2),  # MOF/STA/MOST notice on the 75% R&D additional deduction
    "财政部 税务总局公告2023年第7号": range(1, 2),  # MOF/STA Announcement 2023 No. 7 (100%)
}


def _check_citation(path: str, law: str, article: int) -> None:
    if law not in LAWS:
        raise ConfigError(f"{path}.law", law, f"unknown law; known: {', '.join(LAWS)}")
    articles = LAWS[law]
    if article not in articles:
        raise ConfigError(
            f"{path}.article",
            article,
            f"{law} has articles {articles.start}..{articles.stop - 1}; no article {article}",
        )


@dataclass(frozen=True, kw_only=True)
class HighTechRate:
    """The reduced income-tax rate of certified high-tech enterprises."""

    enabled: bool
    law: str
    article: int = bound(ge=1, doc="article granting the reduced rate")
    standard_rate: float = bound(ge=0, le=1, doc="income-tax rate of other enterprises")
    reduced_rate: float = bound(ge=0, le=1, doc="income-tax rate of certified high-tech firms")

    def check(self, path: str) -> None:
        """The cited article exists; the reduced rate is not above the standard one."""
        _check_citation(path, self.law, self.article)
        if self.reduced_rate > self.standard_rate:
            raise ConfigError(
                f"{path}.reduced_rate",
                self.reduced_rate,
                f"must not exceed standard_rate ({self.standard_rate})",
            )


@dataclass(frozen=True, kw_only=True)
class DeductionStep:
    """From a month on, this share of R&D spending is deducted on top of the spending."""

    law: str
    article: int = bound(ge=1)
    start: str
    extra_deduction: float = bound(ge=0, le=2, doc="additional deduction, share of R&D spending")

    def check(self, path: str) -> None:
        """The cited article exists and the start is a real month."""
        _check_citation(path, self.law, self.article)
        try:
            Month.parse(self.start)
        except MonthError as e:
            raise ConfigError(f"{path}.start", self.start, str(e)) from None


@dataclass(frozen=True, kw_only=True)
class RdSuperDeduction:
    """The additional deduction of R&D expenses, as a schedule of steps over time."""

    enabled: bool
    schedule: tuple[DeductionStep, ...]

    def check(self, path: str) -> None:
        """Steps are in time order."""
        starts = [Month.parse(s.start) for s in self.schedule]
        for i in range(1, len(starts)):
            if not starts[i] > starts[i - 1]:
                raise ConfigError(
                    f"{path}.schedule[{i}].start",
                    self.schedule[i].start,
                    f"steps must be in time order: must be after {self.schedule[i - 1].start}",
                )

    def extra_at(self, month: Month) -> float:
        """The additional deduction in force in ``month`` (0 before the first step)."""
        extra = 0.0
        for start, step in zip(self._starts, self.schedule, strict=True):
            if start <= month:
                extra = step.extra_deduction
        return extra

    @functools.cached_property
    def _starts(self) -> tuple[Month, ...]:
        """Each step's first month (parsed once: the framework asks every month)."""
        return tuple(Month.parse(step.start) for step in self.schedule)


@dataclass(frozen=True, kw_only=True)
class NationalFramework:
    """National tax law in force in every scenario (see the module docstring)."""

    high_tech_rate: HighTechRate
    rd_super_deduction: RdSuperDeduction

    @property
    def enabled(self) -> bool:
        """True if any national measure is in force."""
        return self.high_tech_rate.enabled or self.rd_super_deduction.enabled


def load_national(data: Any, path: str = "national") -> NationalFramework:
    """Check the ``national`` config and return the framework, or raise ``ConfigError``."""
    return build(NationalFramework, data, path)


#: Names of the monthly tax-expenditure tallies the framework adds to.
TALLIES = ("national_high_tech_rate", "national_rd_super_deduction")


def apply_national(model: ClusterModel) -> None:
    """One month of national law: each firm's tax saving, recorded and left in the firm.

    Taxable profit is ``policy_response.profit_share`` of the wage bill. A certified
    high-tech firm pays ``reduced_rate`` instead of ``standard_rate`` on it; every firm
    deducts ``extra_deduction`` x its R&D spending from it (at most down to zero profit),
    saving its own tax rate on that. The saving relaxes the firm's financing constraint.
    """
    nat = model.national
    if nat is None or not nat.enabled:
        return
    f = model.firms
    live = f.live()
    if len(live) == 0:
        return
    r = model.behavior.policy_response
    wage_bill = f.wage_bill[live]
    profit = wage_bill * r.profit_share
    ht = nat.high_tech_rate
    certified = f.high_tech[live]
    rate_saving = np.zeros(len(live))
    if ht.enabled:
        rate_saving = np.where(certified, (ht.standard_rate - ht.reduced_rate) * profit, 0.0)
    rd_saving = np.zeros(len(live))
    if nat.rd_super_deduction.enabled:
        extra = nat.rd_super_deduction.extra_at(model.month)
        if ht.enabled:
            rate = np.where(certified, ht.reduced_rate, ht.standard_rate)
        else:
            rate = np.full(len(live), ht.standard_rate)
        rd_saving = rate * np.minimum(extra * f.rd_spend[live], profit)
    saving = rate_saving + rd_saving
    f.national_support[live] += saving
    wages = np.maximum(wage_bill * 12.0, 1.0)
    f.financing[live] *= np.exp(-r.financing_relief * saving / wages)
    model.tally["national_high_tech_rate"] += float(rate_saving.sum())
    model.tally["national_rd_super_deduction"] += float(rd_saving.sum())
