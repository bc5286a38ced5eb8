"""Where a firm wants to be: the utility of each park for each firm kind.

Entry and relocation both use ``park_utility``: agglomeration of like firms (Arthur's
g(n)), the district's talent pool, rent, amenity, compute, a kind's fixed affinity for a
park, and — for firms whose choice incentives can tip at all — the expected subsidy.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from clustersim.settings import Agglomeration

if TYPE_CHECKING:
    from clustersim.incentives import Levers
    from clustersim.model import ClusterModel


def agglomeration_return(n: np.ndarray, agg: Agglomeration) -> np.ndarray:
    """Arthur's g(n): the utility of locating where ``n`` (weighted) firms already are.

    ``linear`` is unbounded increasing returns (one location captures the industry),
    ``bounded`` stops growing at ``ceiling`` (locations share it), ``log`` is concave but
    unbounded, ``none`` switches agglomeration off.
    """
    if agg.form == "none" or agg.strength == 0.0:
        return np.zeros_like(n, dtype=np.float64)
    if agg.form == "linear":
        return agg.strength * n
    if agg.form == "bounded":
        return agg.strength * np.minimum(n, agg.ceiling)
    return agg.strength * np.log1p(n)


def like_firms(model: ClusterModel, counts: np.ndarray) -> np.ndarray:
    """(kinds x parks) weighted count of firms: like firms fully, others by cross weight."""
    w = model.behavior.agglomeration.cross_kind_weight
    # np.add.reduce is what counts.sum calls, without its argument handling
    return counts + w * (np.add.reduce(counts, axis=0, keepdims=True) - counts)


def firm_counts(model: ClusterModel) -> np.ndarray:
    """(kinds x parks) operating firms now."""
    f = model.firms
    k, p = model.n_kinds, len(model.parks)
    cell = f.live_kind() * p + f.live_park()
    return np.bincount(cell, minlength=k * p).reshape(k, p).astype(float)


def park_utility(
    model: ClusterModel,
    levers: Levers,
    counts: np.ndarray,
    park_people: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Return (base, subsidy): (kinds x parks) utilities without and from incentives.

    A firm's utility of a park is ``base[kind] + sensitive * subsidy[kind]`` plus noise,
    where ``sensitive`` marks the firms whose choice incentives can tip (the but-for share).
    ``park_people``: the people employed in each park now, when the caller has them.
    """
    if park_people is None:
        park_people = model.park_employees()
    e = model.behavior.entry
    parks = model.parks
    fixed = _fixed_terms(model)
    g = agglomeration_return(like_firms(model, counts), model.behavior.agglomeration)
    district_staff = np.bincount(
        parks.district, weights=park_people, minlength=len(parks.districts)
    )
    site = (
        e.amenity_weight * (parks.amenity + levers.amenity_bonus)
        - e.rent_weight * parks.rent / fixed.mean_base_rent
        + e.talent_weight * np.log1p(district_staff[parks.district] / 1000.0)
        + fixed.compute
    )
    base = g + site[None, :] + fixed.affinity
    subsidy = e.subsidy_weight * np.log1p(levers.firm_offer / e.subsidy_scale)
    return base, subsidy


@dataclass(frozen=True)
class _FixedTerms:
    """The terms of ``park_utility`` that stay the same all run, worked out once.

    A park's base rent, compute and kind affinities are fixed with the world (no rule
    changes them), and the behaviour's weights with the scenario; the values are those
    ``park_utility`` would compute every month, to the bit.
    """

    mean_base_rent: np.float64
    compute: np.ndarray
    affinity: np.ndarray


def _fixed_terms(model: ClusterModel) -> _FixedTerms:
    """``_FixedTerms`` of the model's parks and entry behaviour (made at the first call)."""
    fixed = getattr(model, "_park_utility_terms", None)
    if fixed is None:
        e, parks = model.behavior.entry, model.parks
        fixed = _FixedTerms(
            mean_base_rent=parks.base_rent.mean(),
            compute=e.compute_weight * np.log1p(parks.compute),
            affinity=e.affinity_weight * parks.affinity,
        )
        model._park_utility_terms = fixed
    return fixed
