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

``grant_many`` is the one function the model (``policy.engine``) calls to grant one
month's applications to every instrument in force, in one pass over them all (the
instruments' terms as arrays, ``Terms``); ``grant`` is the same function for one
instrument, which the tests call. Both ask the payout rule what each applicant requests
(the numbers of ``policy.instruments``) and apply the steps of ``decide``; a test checks
that they decide exactly as ``decide`` does.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from clustersim.policy.instruments import Instrument
from clustersim.policy.vocabulary import Event, PayoutRule

_EPS = float(np.finfo(np.float64).eps)

__all__ = [
    "Decision",
    "Decisions",
    "PriorityDraws",
    "Terms",
    "TurnedAway",
    "approve",
    "capped_amounts",
    "decide",
    "grant",
    "grant_many",
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
    """``capped_amounts`` on inputs already checked (the model's own, each month).

    The steps write into arrays of their own (the inputs are left alone); with nothing
    received (``got`` the float 0), the headroom is the cap itself (``cap - 0.0`` is
    ``cap``).
    """
    if isinstance(got, float) and got == 0.0:
        headroom = np.maximum(cap, 0.0)
    else:
        headroom = np.subtract(cap, got)
        np.maximum(headroom, 0.0, out=headroom)
    amount = np.maximum(req, floor)
    np.minimum(amount, headroom, out=amount)
    # A floor award that cannot be paid in full is not paid; nothing asked, nothing paid.
    ok = req > 0
    ok &= amount >= floor
    ok &= amount > 0
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
    positive = (a > 0).nonzero()[0]
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


@dataclass(frozen=True)
class Terms:
    """What each of several instruments pays, as arrays with one entry per instrument.

    The numbers of the payout rules (``policy.instruments.requested_amount``,
    ``applicant_cap``, ``applicant_floor``) in a form that a whole month of applications
    to many instruments can be computed with at once: an application to instrument ``k``
    on base ``b`` asks for ``amount[k] * b`` if ``per_base[k]`` else ``amount[k]``; its
    cap is ``cap[k] * b`` if ``cap_per_base[k]`` else ``cap[k]`` (inf: none); its floor
    likewise (0: none).

    Attributes:
        amount: the rate (rate rules) or RMB per grant or per person.
        per_base: the request is ``amount`` times the base (rate rules, per person, a
            lump sum per patent); otherwise ``amount`` itself.
        cap: per-applicant cap, RMB (inf = none).
        cap_per_base: the cap is per person (times the base).
        floor: per-applicant floor, RMB (0 = none).
        floor_per_base: the floor is per person (times the base).
        approval: approval probability.
        entitlement: approved for sure, without cap or floor: with no budget line, every
            request is paid as it is (a tax rate).

    """

    amount: np.ndarray
    per_base: np.ndarray
    cap: np.ndarray
    cap_per_base: np.ndarray
    floor: np.ndarray
    floor_per_base: np.ndarray
    approval: np.ndarray
    entitlement: np.ndarray

    @functools.cached_property
    def numbers(self) -> np.ndarray:
        """Rows ``amount``, ``cap``, ``floor`` and the approval threshold, one column each.

        The threshold is ``approval`` where it is below 1 and inf where it is 1: an
        application is approved when its draw (in [0, 1)) is below it, so an instrument
        that approves all approves whatever the draw (``draw < p`` with ``p = 1``).
        """
        threshold = np.where(self.approval >= 1.0, math.inf, self.approval)
        out = np.array([self.amount, self.cap, self.floor, threshold], dtype=float)
        out.flags.writeable = False
        return out.reshape(4, len(self.amount))

    @functools.cached_property
    def flags(self) -> np.ndarray:
        """Rows ``per_base``, ``cap_per_base`` and ``floor_per_base``, one column each."""
        out = np.array([self.per_base, self.cap_per_base, self.floor_per_base], dtype=bool)
        out.flags.writeable = False
        return out.reshape(3, len(self.per_base))

    @classmethod
    def of(cls, instruments: Sequence[Instrument]) -> Terms:
        """The terms of ``instruments``, in their order."""
        rows = [_terms(i) for i in instruments]
        cols = list(zip(*rows, strict=True)) if rows else [()] * 8
        return cls(
            amount=np.array(cols[0], dtype=float),
            per_base=np.array(cols[1], dtype=bool),
            cap=np.array(cols[2], dtype=float),
            cap_per_base=np.array(cols[3], dtype=bool),
            floor=np.array(cols[4], dtype=float),
            floor_per_base=np.array(cols[5], dtype=bool),
            approval=np.array(cols[6], dtype=float),
            entitlement=np.array(cols[7], dtype=bool),
        )


def _terms(inst: Instrument) -> tuple[float, bool, float, bool, float, bool, float, bool]:
    """One instrument's row of ``Terms``: as ``requested_amount`` and its siblings compute.

    A cap or floor the text does not state is inf or 0 (never "per person": inf x 0 persons
    would be NaN).
    """
    p = inst.payout
    per_person = p.rule is PayoutRule.PER_PERSON
    if p.rule.uses_rate:
        amount, per_base = p.rate or 0.0, True
    else:
        amount = p.amount if p.amount is not None else (inst.floor or 0.0)
        per_patent = p.rule is PayoutRule.LUMP_SUM and inst.eligible.event is Event.PATENT
        per_base = per_person or per_patent
    sure = inst.approval_probability == 1.0
    return (
        float(amount),
        per_base,
        math.inf if inst.cap is None else float(inst.cap),
        per_person and inst.cap is not None,
        0.0 if inst.floor is None else float(inst.floor),
        per_person and inst.floor is not None,
        float(inst.approval_probability),
        sure and inst.cap is None and inst.floor is None,
    )


@dataclass(frozen=True)
class Decisions:
    """The outcome of one month's applications to several instruments.

    Attributes:
        paid: RMB granted per application, in the order of the applications (0 =
            refused or not funded).
        turned_away: per instrument (its position in the batch) whose budget turned
            approved applications away, what it turned away; instruments without are absent.

    """

    paid: np.ndarray
    turned_away: dict[int, TurnedAway]


#: Priority draws asked for lazily: ``draws(k, positions)`` gives the draws of the
#: applications at ``positions`` (indices into the month's applications), all to the
#: ``k``-th instrument; the same numbers an array of every application's draws holds there.
PriorityDraws = Callable[[int, np.ndarray], np.ndarray]


def grant_many(
    terms: Terms,
    bounds: np.ndarray,
    base: np.ndarray,
    *,
    received: np.ndarray | None = None,
    remaining_budget: np.ndarray,
    approval_draws: np.ndarray | None = None,
    priority_draws: np.ndarray | PriorityDraws | None = None,
) -> Decisions:
    """Grant one month's applications to several instruments at once: the model's grants.

    Args:
        terms: what each instrument pays (``Terms``), one entry per instrument.
        bounds: instrument ``k``'s applications are ``base[bounds[k]:bounds[k + 1]]``.
        base: one number per application, meaning as in ``PayoutRule.base``.
        received: RMB each applicant already got within its instrument's cap period
            (None: nothing).
        remaining_budget: RMB left this year, per instrument (inf = no budget line).
        approval_draws: one uniform draw in [0, 1) per application (approved if < p);
            may be None when every approval probability is 1.
        priority_draws: one uniform draw in [0, 1) per application (lower served first),
            or a function giving the draws of some applications of one instrument
            (``PriorityDraws``: the model's, which draws only for the instruments whose
            queue is needed, and only for their approved applications); may be None
            when no budget is finite.

    Each instrument's applications are decided exactly as ``decide`` decides them (cap
    and floor, approval, then rationing within its budget). Approval comes first here:
    a refused application is paid nothing whatever its amount, so the amounts are
    worked out for the approved applications only (often a few of many: a programme
    approving 2% of its applicants), each with its instrument's numbers, elementwise
    over all instruments at once. Rationing is per instrument, but it only needs the
    queue (``_ration``) where the budget may bind; where a budget surely pays every
    approved application, every approved amount is paid, whatever the order. That test
    is made here for all instruments at once on per-instrument sums in another order
    than ``_ration``'s (a running sum, ``np.bincount``), with twice ``_ration``'s margin
    for rounding: any instrument it passes, ``_ration``'s own test passes too, so its
    grants are the same; any other goes through ``_ration`` itself, on its approved
    applications in their order (the refused ones, paid 0, are not in its queue).

    """
    bounds = np.asarray(bounds, dtype=np.int64)
    counts = np.diff(bounds)
    k = counts.shape[0]
    n = int(bounds[-1]) if k else 0
    seg = np.repeat(np.arange(k), counts)  # the instrument of each application
    b = np.asarray(base, dtype=float)
    remaining = np.asarray(remaining_budget, dtype=float)
    finite = ~np.isinf(remaining)
    if approval_draws is None and np.any(terms.approval < 1.0):
        raise ValueError("an approval probability below 1 needs approval_draws")
    if priority_draws is None and finite.any():
        raise ValueError("a finite budget needs priority_draws")

    # Approval: the applications whose draw is below their instrument's threshold
    # (``Terms.numbers``' last row: the probability, or inf where it is 1), in order.
    # ``kept`` are their positions; None: every application (nothing to refuse).
    kept: np.ndarray | None = None
    if approval_draws is not None and np.any(terms.approval < 1.0):
        threshold = np.take(terms.numbers[3], seg)
        kept = (np.asarray(approval_draws) < threshold).nonzero()[0]
        seg = seg[kept]
        b = b[kept]
        if received is not None:
            received = received[kept]
        # the approved applications of instrument ``j`` are ``kept[at[j]:at[j + 1]]``
        at = np.searchsorted(kept, bounds)
    else:
        at = bounds

    # each approved application's terms: two lookups of the instruments' tables
    # (``Terms.numbers``, ``Terms.flags``; ``np.take``, several times faster here than
    # ``[:, seg]``) give fresh rows, changed in place below
    requested, cap, floor = np.take(terms.numbers[:3], seg, axis=1)
    per_base, cap_per_base, floor_per_base = np.take(terms.flags, seg, axis=1)
    np.multiply(requested, b, out=requested, where=per_base)
    np.multiply(cap, b, out=cap, where=cap_per_base)
    np.multiply(floor, b, out=floor, where=floor_per_base)
    amounts = _capped(requested, cap, floor, 0.0 if received is None else received)
    # an entitlement with no budget line pays every request as it is (as ``grant`` does)
    free = terms.entitlement & ~finite
    if free.any():
        amounts = np.where(free[seg], np.maximum(requested, 0.0), amounts)

    # Rationing. Where no budget can bind, what is approved is paid: ``amounts`` itself.
    # (The refused applications, left out, would add 0 to the sums and counts.)
    n_positive = np.bincount(seg, weights=amounts > 0, minlength=k)
    total = np.bincount(seg, weights=amounts, minlength=k)  # a running sum per instrument
    with np.errstate(invalid="ignore"):  # inf - inf: not surely fitting
        surely = remaining - total > 2.0 * 4.0 * n_positive * _EPS * total
    queue = (finite & (n_positive > 0) & ~surely).nonzero()[0]
    paid = amounts
    turned_away: dict[int, TurnedAway] = {}
    if queue.size:
        assert priority_draws is not None
        draws_of = priority_draws if callable(priority_draws) else _slicer(priority_draws)
        paid = amounts.copy()
        for j in queue.tolist():
            s, e = int(at[j]), int(at[j + 1])
            where = np.arange(s, e) if kept is None else kept[s:e]
            paid[s:e], away = _ration(amounts[s:e], float(remaining[j]), draws_of(j, where))
            if away:
                turned_away[j] = away
    if kept is not None:
        approved_paid = paid
        paid = np.zeros(n)
        paid[kept] = approved_paid
    return Decisions(paid, turned_away)


def _slicer(draws: np.ndarray) -> PriorityDraws:
    """``PriorityDraws`` of an array of every application's draws."""
    values = np.asarray(draws, dtype=float)
    return lambda _k, positions: values[positions]


def grant(
    instrument: Instrument,
    base: Any,
    *,
    received: Any = None,
    remaining_budget: float | None = None,
    approval_draws: Any = None,
    priority_draws: Any = None,
) -> Decision:
    """Grant one month's applications to ``instrument``: ``grant_many`` for one instrument.

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
    b = np.atleast_1d(np.asarray(base, dtype=float))
    budget = instrument.yearly_budget if remaining_budget is None else remaining_budget
    decisions = grant_many(
        Terms.of([instrument]),
        np.array([0, b.shape[0]]),
        b,
        received=None if received is None else np.asarray(received, dtype=float),
        remaining_budget=np.array([float(budget)]),
        approval_draws=None if approval_draws is None else np.asarray(approval_draws, dtype=float),
        priority_draws=None if priority_draws is None else np.asarray(priority_draws, dtype=float),
    )
    return Decision(decisions.paid, decisions.turned_away.get(0, _NONE_AWAY))
