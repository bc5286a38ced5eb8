"""Grant decisions as pure numpy functions: applications in, granted RMB out.

No model is needed: the caller passes what each applicant asks for, the instrument's cap
and floor, the uniform draws that decide approval and priority, and the budget left for
the year. The same inputs always give the same grants (the randomness is in the draws,
which the model takes from its named random streams, so a run and its counterfactual
see the same draws).

Steps, per application:

1. **Cap and floor.** The amount is the request, cut to the recipient's remaining cap
   (``cap - received``, where ``received`` is what it already got within the cap period)
   and, for floor awards, lifted to the floor. A floor award whose remaining cap is below
   the floor is not granted (it could not be paid in full).
2. **Approval.** An application with a positive amount is approved when its approval draw
   is below the approval probability (``draw < p``: ``p = 1`` approves all, ``p = 0``
   none).
3. **Rationing.** Approved applications are served in priority order (ascending priority
   draw; ties by position) while the budget lasts. Each is paid **in full or not at all**,
   and the queue **stops at the first application that does not fit**; that one and
   every later one get nothing this time.

Why all-or-nothing: the plans grant fixed awards per approved application (经认定/
经综合评估 "给予 ... 奖励"); paying a fraction of an award is not how these schemes work,
and a partial payment would break "not less than" floors. Why stop rather than skip to
smaller later applications: with a stopping queue each applicant's grant, and the total,
can only rise when the budget rises (a bigger budget never takes money away from
anyone), which makes budget sweeps and counterfactuals easy to read; skipping to smaller
applications would let a larger budget admit one big award that crowds out several
small ones served before. The price is that up to one award's worth of budget may stay
unspent in a month; it stays available to later months of the same year.

An approved application that the queue stops at, or any after it, is *turned away for
lack of budget*. ``decide`` says how many were turned away and their RMB, so the model
can record the month each yearly budget ran out as a fact; it does the extra counting
only when the budget binds (when the queue has to be sorted, or nothing is left).

``grant`` is the one function the model (``policy.engine``) and the tests call to grant
one month's applications to one instrument: it asks the payout rule what each applicant
requests (``policy.instruments``) and hands that to ``decide``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from clustersim.policy.instruments import (
    Instrument,
    applicant_cap,
    applicant_floor,
    requested_amount,
)

_EPS = float(np.finfo(np.float64).eps)

__all__ = [
    "Decision",
    "TurnedAway",
    "approve",
    "capped_amounts",
    "decide",
    "grant",
    "ration",
]


def _vector(name: str, x: Any, n: int | None = None, *, broadcast: bool = True) -> np.ndarray:
    """``x`` as a float vector of length ``n``; a scalar is broadcast if ``broadcast``."""
    a = np.atleast_1d(np.asarray(x, dtype=float))
    if a.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {a.shape}")
    if n is not None and a.shape[0] != n:
        if broadcast and np.ndim(x) == 0:
            return np.full(n, a[0])
        raise ValueError(f"{name} has {a.shape[0]} entries, expected {n}")
    return a


def _check_draws(name: str, draws: np.ndarray) -> None:
    if np.any(~np.isfinite(draws)) or np.any(draws < 0) or np.any(draws >= 1):
        raise ValueError(f"{name} must be uniform draws in [0, 1)")


def capped_amounts(
    requested: Any,
    *,
    cap: Any = None,
    floor: Any = None,
    received: Any = None,
) -> np.ndarray:
    """What each applicant would get if approved and funded: cap and floor applied.

    Args:
        requested: RMB each applicant asks for (>= 0).
        cap: per-applicant cap in RMB (scalar or array; ``None`` or inf = no cap).
        floor: per-applicant floor in RMB for "not less than" awards (``None`` = none).
        received: RMB each applicant already got within the cap period (default 0).

    Returns:
        Amounts >= 0; 0 where nothing is requested or the floor no longer fits the cap.

    """
    req = _vector("requested", requested)
    n = req.shape[0]
    if np.any(~np.isfinite(req)) or np.any(req < 0):
        raise ValueError("requested amounts must be finite and >= 0")
    cap_v = _vector("cap", math.inf if cap is None else cap, n)
    floor_v = _vector("floor", 0.0 if floor is None else floor, n)
    got = _vector("received", 0.0 if received is None else received, n, broadcast=received is None)
    if np.any(np.isnan(cap_v)) or np.any(cap_v < 0):
        raise ValueError("cap must be >= 0 (inf for none)")
    if np.any(~np.isfinite(floor_v)) or np.any(floor_v < 0):
        raise ValueError("floor must be finite and >= 0")
    if np.any(~np.isfinite(got)) or np.any(got < 0):
        raise ValueError("received must be finite and >= 0")
    return _capped(req, cap_v, floor_v, got)


def _capped(
    req: np.ndarray, cap: np.ndarray | float, floor: np.ndarray | float, got: np.ndarray | float
) -> np.ndarray:
    """``capped_amounts`` on inputs already checked (the model's own, each month)."""
    headroom = np.maximum(cap - got, 0.0)
    amount = np.minimum(np.maximum(req, floor), headroom)
    # A floor award that cannot be paid in full is not paid; nothing asked, nothing paid.
    ok = (req > 0) & (amount >= floor) & (amount > 0)
    return np.where(ok, amount, 0.0)


def approve(amounts: Any, approval_probability: float, approval_draws: Any) -> np.ndarray:
    """Boolean mask of approved applications: positive amount and ``draw < p``."""
    a = _vector("amounts", amounts)
    d = _vector("approval_draws", approval_draws, a.shape[0], broadcast=False)
    _check_draws("approval_draws", d)
    p = float(approval_probability)
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"approval_probability must lie in [0, 1], got {p}")
    return (a > 0) & (d < p)


def ration(amounts: Any, remaining_budget: float, priority_draws: Any) -> np.ndarray:
    """Serve amounts in priority order, all or nothing, stopping at the first misfit.

    Args:
        amounts: RMB per approved application (0 = not approved; those are skipped).
        remaining_budget: RMB left this year (inf = no budget line).
        priority_draws: uniform draws; lower is served first, ties by position.

    Returns:
        RMB paid per application; the total never exceeds ``remaining_budget``.

    """
    a = _vector("amounts", amounts)
    pr = _vector("priority_draws", priority_draws, a.shape[0], broadcast=False)
    _check_draws("priority_draws", pr)
    budget = float(remaining_budget)
    if math.isnan(budget) or budget < 0:
        raise ValueError(f"remaining_budget must be >= 0 (inf for none), got {remaining_budget}")
    if np.any(~np.isfinite(a)) or np.any(a < 0):
        raise ValueError("amounts must be finite and >= 0")
    return _ration(a, budget, pr)[0]


@dataclass(frozen=True)
class TurnedAway:
    """Approved applications a budget could not pay in full this time.

    Attributes:
        applications: how many.
        amount: their RMB in all.
        largest: the largest of them, RMB.

    """

    applications: int = 0
    amount: float = 0.0
    largest: float = 0.0

    def __bool__(self) -> bool:
        return self.applications > 0


#: What ``_ration`` says when no application was turned away.
_NONE_AWAY = TurnedAway()


def _ration(a: np.ndarray, budget: float, pr: np.ndarray | None) -> tuple[np.ndarray, TurnedAway]:
    """``ration`` on inputs already checked, and what it turned away for lack of budget.

    ``pr`` may be None when the budget is inf. Returns the RMB paid per application and
    the applications with a positive amount that got nothing (``TurnedAway``). They are
    counted only where the budget binds (nothing left, or the queue sorted); elsewhere
    nobody is turned away.
    """
    if math.isinf(budget):
        return a.copy(), _NONE_AWAY
    assert pr is not None, "a finite budget needs priority draws"
    paid = np.zeros_like(a)
    positive = np.flatnonzero(a > 0)
    if positive.size == 0:
        return paid, _NONE_AWAY
    if budget <= 0:  # the year's budget is spent: every approved application is turned away
        return paid, _turned_away(a[positive])
    if _surely_fits(float(a[positive].sum()), positive.size, budget):
        paid[positive] = a[positive]  # everyone fits, whatever the order
        return paid, _NONE_AWAY
    order = positive[np.argsort(pr[positive], kind="stable")]  # ties: by position
    running = np.cumsum(a[order])
    n_fit = int(np.searchsorted(running, budget, side="right"))
    # Guard against rounding in the running sum: the paid total must not exceed budget;
    # the exact sum (fsum) is needed only when the slack is within the rounding error.
    while n_fit > 0:
        if _surely_fits(running[n_fit - 1], n_fit, budget):
            break
        if math.fsum(a[order[:n_fit]]) <= budget:
            break
        n_fit -= 1
    paid[order[:n_fit]] = a[order[:n_fit]]
    if n_fit == order.size:
        return paid, _NONE_AWAY
    return paid, _turned_away(a[order[n_fit:]])


def _surely_fits(total: float, n: int, budget: float) -> bool:
    """A floating sum ``total`` of ``n`` amounts is within ``budget`` whatever its rounding.

    A running or pairwise sum of n non-negative numbers is within n * eps * total of the
    exact sum; 4x that is a safe margin.
    """
    return budget - total > 4.0 * n * _EPS * total


def _turned_away(amounts: np.ndarray) -> TurnedAway:
    """The applications (their RMB) the budget could not pay."""
    return TurnedAway(int(amounts.size), float(amounts.sum()), float(amounts.max()))


@dataclass(frozen=True)
class Decision:
    """The outcome of one month's applications to one instrument.

    Attributes:
        paid: RMB granted per application (0 = refused or not funded).
        turned_away: approved applications the budget could not pay in full.

    """

    paid: np.ndarray
    turned_away: TurnedAway = _NONE_AWAY


def decide(
    requested: Any,
    *,
    cap: Any = None,
    floor: Any = None,
    received: Any = None,
    approval_probability: float = 1.0,
    approval_draws: Any = None,
    remaining_budget: float = math.inf,
    priority_draws: Any = None,
) -> Decision:
    """Granted RMB per application: cap and floor, approval, then rationing within budget.

    Deterministic given the draws. Draws that cannot matter may be left out: approval
    draws when the probability is 1, priority draws when the budget is unlimited.
    Properties: no grant exceeds ``cap - received``; a granted floor award is at least
    its floor; the total never exceeds ``remaining_budget``; a zero budget grants
    nothing; each grant (and the total) is non-decreasing in the budget. Bad input
    (negative or non-finite amounts, draws outside [0, 1), arrays of different lengths,
    a draw missing where it matters) raises ``ValueError``.
    """
    amounts = capped_amounts(requested, cap=cap, floor=floor, received=received)
    n = amounts.shape[0]
    p = float(approval_probability)
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"approval_probability must lie in [0, 1], got {p}")
    if approval_draws is not None:
        approved = approve(amounts, p, approval_draws)  # checks the draws
        if p < 1.0:
            amounts = np.where(approved, amounts, 0.0)
    elif p < 1.0:
        raise ValueError("an approval probability below 1 needs approval_draws")
    budget = float(remaining_budget)
    if math.isnan(budget) or budget < 0:
        raise ValueError(f"remaining_budget must be >= 0 (inf for none), got {remaining_budget}")
    priority = None
    if priority_draws is not None:
        priority = _vector("priority_draws", priority_draws, n, broadcast=False)
        _check_draws("priority_draws", priority)
    elif not math.isinf(budget):
        raise ValueError("a finite budget needs priority_draws")
    paid, away = _ration(amounts, budget, priority)
    return Decision(paid, away)


def _decide(
    requested: np.ndarray,
    cap: np.ndarray | float,
    floor: np.ndarray | float,
    received: np.ndarray | float,
    approval_probability: float,
    approval_draws: np.ndarray | None,
    budget: float,
    priority_draws: np.ndarray | None,
) -> Decision:
    """``decide`` on inputs the model made itself: the same steps, without the checks.

    The model grants each instrument every month, mostly to a handful of applicants;
    for such batches the checks cost several times the grant itself. ``grant`` is the
    only caller; a test checks that it decides exactly as ``decide`` does.
    """
    amounts = _capped(requested, cap, floor, received)
    if approval_probability < 1.0:
        if approval_draws is None:
            raise ValueError("an approval probability below 1 needs approval_draws")
        amounts = np.where(approval_draws < approval_probability, amounts, 0.0)
    if priority_draws is None and not math.isinf(budget):
        raise ValueError("a finite budget needs priority_draws")
    paid, away = _ration(amounts, budget, priority_draws)
    return Decision(paid, away)


def grant(
    instrument: Instrument,
    base: Any,
    *,
    received: Any = None,
    remaining_budget: float | None = None,
    approval_draws: Any = None,
    priority_draws: Any = None,
) -> Decision:
    """Grant one month's applications to ``instrument``: the model's one grant function.

    Args:
        instrument: the instrument applied to (assumed in force and the applicants eligible).
        base: one number per applicant, meaning as in ``PayoutRule.base``.
        received: RMB each applicant already got within the instrument's cap period.
        remaining_budget: RMB left this year; ``None`` = the instrument's full yearly budget.
        approval_draws: uniform draws in [0, 1), one per applicant (approved if < p);
            may be None when the approval probability is 1.
        priority_draws: uniform draws in [0, 1), one per applicant (lower served first);
            may be None when the budget is unlimited.

    An entitlement (approved for sure, no cap, no floor, no budget line: a tax rate)
    pays every request as it is, without the queue. The model's inputs are its own
    (a checked config, its own arrays, its own streams), so the steps of ``decide`` run
    here without ``decide``'s input checks; the result is the same (tested).

    """
    requested = requested_amount(instrument, base)
    budget = instrument.yearly_budget if remaining_budget is None else remaining_budget
    sure = instrument.approval_probability == 1.0
    if sure and instrument.cap is None and instrument.floor is None and math.isinf(budget):
        return Decision(np.maximum(requested, 0.0))
    return _decide(
        requested,
        math.inf if instrument.cap is None else applicant_cap(instrument, base),
        0.0 if instrument.floor is None else applicant_floor(instrument, base),
        0.0 if received is None else np.asarray(received, dtype=float),
        instrument.approval_probability,
        None if approval_draws is None else np.asarray(approval_draws, dtype=float),
        float(budget),
        None if priority_draws is None else np.asarray(priority_draws, dtype=float),
    )
