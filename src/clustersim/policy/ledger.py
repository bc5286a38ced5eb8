"""The grant ledger: every grant a jurisdiction makes, one row each, append-only.

Rows are kept as columns (numpy chunks appended per ``record`` call), so a run that
grants every month stays cheap. Running totals per (instrument, year) and per
(instrument, recipient, year) let the model ask how much budget is left and how much of
a cap a recipient has used without scanning the rows.

Columns of ``to_frame()``:

=================  ========================================================
recipient_id       agent slot or park index (int)
recipient_type     ``firm`` | ``talent`` | ``park``
instrument         instrument id (``talent_introduction``)
regime             regime key (``huangpu_2024``)
issuer             paying jurisdiction (``shanghai`` | ``pudong`` | ``huangpu``)
rule               payout rule (``lump_sum``, ``service``, ...)
month              ``YYYY-MM``
year               calendar year (int)
amount             RMB (yuan)
=================  ========================================================
"""

from __future__ import annotations

import functools
import math
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from clustersim.months import Month
from clustersim.policy.instruments import Instrument
from clustersim.policy.vocabulary import CapPeriod, PayoutRule

__all__ = ["COLUMNS", "GrantLedger"]

#: Column names of the ledger's frame, in order.
COLUMNS: tuple[str, ...] = (
    "recipient_id",
    "recipient_type",
    "instrument",
    "regime",
    "issuer",
    "rule",
    "month",
    "year",
    "amount",
)
_STRING_COLUMNS = ("recipient_type", "instrument", "regime", "issuer", "rule", "month")


class GrantLedger:
    """Append-only record of grants with budget and cap bookkeeping."""

    def __init__(self) -> None:
        self._ids: list[np.ndarray] = []
        self._amounts: list[np.ndarray] = []
        self._meta: list[tuple[str, str, str, str, str, str, int]] = []
        self._n = 0
        self._by_year: dict[tuple[str, str, int], float] = defaultdict(float)
        #: RMB per recipient id, per (regime, instrument, year or None = whole window),
        #: as a dense array indexed by recipient id (ids are agent slots: small integers).
        #: Kept only where a cap makes the model ask (``_cap_key``); other instruments
        #: answer ``received`` from the rows.
        self._by_recipient: dict[tuple[str, str, int | None], np.ndarray] = {}

    def __len__(self) -> int:
        return self._n

    def record(
        self,
        instrument: Instrument,
        month: Month | str,
        recipient_ids: Sequence[int] | np.ndarray,
        amounts: Sequence[float] | np.ndarray,
    ) -> float:
        """Append the grants of one instrument in one month; zero amounts are dropped.

        Returns the RMB recorded.
        """
        m = Month.parse(month) if isinstance(month, str) else month
        ids = np.atleast_1d(np.asarray(recipient_ids, dtype=np.int64))
        amt = np.atleast_1d(np.asarray(amounts, dtype=float))
        if ids.shape != amt.shape:
            raise ValueError(f"{ids.shape[0]} recipients but {amt.shape[0]} amounts")
        if not (amt >= 0).all():  # also catches NaN
            bad = amt[~(amt >= 0)][:3].tolist()
            raise ValueError(f"{instrument.key}: grant amounts must be finite and >= 0, got {bad}")
        keep = amt > 0
        ids, amt = ids[keep], amt[keep]
        if ids.size == 0:
            return 0.0
        return self._add(instrument, m, ids, amt)

    def append(
        self, instrument: Instrument, month: Month, recipient_ids: np.ndarray, amounts: np.ndarray
    ) -> float:
        """``record`` for grants already known positive: the engine's own, every month.

        ``recipient_ids`` and ``amounts`` (each > 0) are arrays of the same length, at
        least one; the ledger keeps copies. Returns the RMB recorded.
        """
        ids = np.array(recipient_ids, dtype=np.int64)
        amt = np.array(amounts, dtype=float)
        return self._add(instrument, month, ids, amt)

    def append_month(
        self,
        instruments: Sequence[Instrument],
        month: Month,
        recipient_ids: np.ndarray,
        amounts: np.ndarray,
        bounds: Sequence[int],
    ) -> list[tuple[int, float]]:
        """``append`` for one month's grants of several instruments: the engine's own.

        The grants of ``instruments[k]`` are ``recipient_ids[bounds[k]:bounds[k + 1]]``
        and the same slice of ``amounts`` (each > 0; an instrument may have none). The
        ledger keeps the slices, not copies: the two arrays are the ledger's from now on
        (the engine makes them read only). Returns the position of each instrument with
        grants and the RMB recorded for it, in order: the same rows and sums as
        ``append`` instrument by instrument.
        """
        recorded: list[tuple[int, float]] = []
        for k, inst in enumerate(instruments):
            s, e = bounds[k], bounds[k + 1]
            if s < e:
                recorded.append((k, self._add(inst, month, recipient_ids[s:e], amounts[s:e])))
        return recorded

    def _add(self, instrument: Instrument, m: Month, ids: np.ndarray, amt: np.ndarray) -> float:
        """Keep the rows ``ids``, ``amt`` (arrays the ledger owns from now on, amounts > 0)."""
        total = float(amt.sum())
        if not math.isfinite(total):
            bad = amt[~np.isfinite(amt)][:3].tolist()
            raise ValueError(f"{instrument.key}: grant amounts must be finite and >= 0, got {bad}")
        self._ids.append(ids)
        self._amounts.append(amt)
        self._meta.append(instrument.labels + _month_labels(m))
        self._n += ids.size
        self._by_year[(instrument.regime, instrument.id, m.year)] += total
        key = _cap_key(instrument, m.year)
        if key is not None:
            book = self._by_recipient.get(key, np.zeros(0))
            top = int(ids.max())
            if book.shape[0] <= top:
                book = np.concatenate([book, np.zeros(max(top + 1, 2 * book.shape[0]) - len(book))])
            np.add.at(book, ids, amt)
            self._by_recipient[key] = book
        return total

    def spent(self, instrument: Instrument, year: int) -> float:
        """RMB granted by ``instrument`` in calendar ``year``."""
        return self._by_year.get((instrument.regime, instrument.id, year), 0.0)

    def remaining_budget(self, instrument: Instrument, year: int) -> float:
        """RMB of the instrument's yearly budget still unspent in ``year`` (inf = no limit)."""
        return max(instrument.yearly_budget - self.spent(instrument, year), 0.0)

    def received(
        self, instrument: Instrument, recipient_ids: Sequence[int] | np.ndarray, year: int
    ) -> np.ndarray:
        """RMB each recipient already got from ``instrument`` within its cap period.

        ``cap_per: grant`` gives zeros, ``year`` the grants of ``year``, ``window`` all.
        """
        ids = np.atleast_1d(np.asarray(recipient_ids, dtype=np.int64))
        if instrument.cap_per is CapPeriod.GRANT:
            return np.zeros(ids.shape[0])
        key = _cap_key(instrument, year)
        book = (
            self._by_recipient.get(key)
            if key is not None
            else self._book_from_rows(instrument, year)
        )
        if book is None:
            return np.zeros(ids.shape[0])
        if ids.shape[0] == 0 or int(ids.max()) < book.shape[0]:  # every id has a place
            return book[ids]
        out = np.zeros(ids.shape[0])
        known = ids < book.shape[0]
        out[known] = book[ids[known]]
        return out

    def _book_from_rows(self, instrument: Instrument, year: int) -> np.ndarray | None:
        """RMB per recipient id from the rows (for instruments without a running book)."""
        chunks = [
            (ids, amt)
            for ids, amt, meta in zip(self._ids, self._amounts, self._meta, strict=True)
            if meta[1] == instrument.id
            and meta[2] == instrument.regime
            and (instrument.cap_per is CapPeriod.WINDOW or meta[6] == year)
        ]
        if not chunks:
            return None
        ids = np.concatenate([c[0] for c in chunks])
        return np.bincount(ids, weights=np.concatenate([c[1] for c in chunks]))

    def to_frame(self) -> pd.DataFrame:
        """All grants as a DataFrame with the columns in ``COLUMNS``."""
        if self._n == 0:
            frame = pd.DataFrame({c: pd.Series(dtype=object) for c in COLUMNS})
            frame = frame.astype({"recipient_id": "int64", "year": "int64", "amount": "float64"})
            for name in _STRING_COLUMNS:
                frame[name] = frame[name].astype("category" if name != "month" else "string")
            return frame
        return self._frame(COLUMNS)

    def _frame(self, names: Sequence[str]) -> pd.DataFrame:
        """The columns ``names`` of ``to_frame`` (a ledger with rows), made from the chunks.

        Each chunk (one ``record``) holds one instrument-month: its labels are repeated
        for its rows (``_repeated_labels``) rather than written row by row.
        """
        sizes = np.fromiter((a.size for a in self._ids), dtype=np.int64, count=len(self._ids))
        cols: dict[str, Any] = {}
        for name in names:
            if name == "recipient_id":
                cols[name] = np.concatenate(self._ids)
            elif name == "amount":
                cols[name] = np.concatenate(self._amounts)
            elif name == "year":
                years = [meta[6] for meta in self._meta]
                cols[name] = np.repeat(np.asarray(years, dtype=np.int64), sizes)
            else:
                j = _STRING_COLUMNS.index(name)
                cols[name] = _repeated_labels([meta[j] for meta in self._meta], sizes)
        frame = pd.DataFrame(cols)
        if "month" in cols:
            frame["month"] = frame["month"].astype("string")
        return frame

    def spending(self, by: Sequence[str] = ("issuer", "instrument", "year")) -> pd.DataFrame:
        """RMB granted and number of grants, grouped by the given columns.

        The default is the spending table by jurisdiction x instrument x year. Columns
        ``cash`` and ``in_kind`` split budget outlays from services and tax forgone.
        """
        unknown = [c for c in by if c not in COLUMNS]
        if unknown:
            raise ValueError(f"unknown ledger columns {unknown}; allowed: {', '.join(COLUMNS)}")
        cash_rules = {r.value for r in PayoutRule if r.cash}
        if self._n == 0:
            frame = self.to_frame()
            cash = frame["rule"].astype(str).isin(cash_rules).to_numpy()
        else:  # only the columns grouped by; a chunk's rows all have its rule
            frame = self._frame(list(dict.fromkeys([*by, "amount"])))
            sizes = np.fromiter((a.size for a in self._ids), dtype=np.int64, count=len(self._ids))
            cash = np.repeat([meta[4] in cash_rules for meta in self._meta], sizes)
        frame = frame.assign(cash=np.where(cash, frame["amount"], 0.0))
        frame["in_kind"] = frame["amount"] - frame["cash"]
        out = (
            frame.groupby(list(by), observed=True)
            .agg(
                amount=("amount", "sum"),
                cash=("cash", "sum"),
                in_kind=("in_kind", "sum"),
                grants=("amount", "size"),
            )
            .reset_index()
        )
        return out

    def total(self) -> float:
        """RMB granted in all."""
        return float(sum(a.sum() for a in self._amounts))

    def to_parquet(self, path: str | Path) -> Path:
        """Write the ledger to a Parquet file and return its path."""
        p = Path(path)
        self.to_frame().to_parquet(p, index=False)
        return p


def _repeated_labels(labels: list[str], sizes: np.ndarray) -> pd.Categorical:
    """Each chunk's label repeated for its rows, as a categorical with sorted categories.

    The same column as ``astype("category")`` of the repeated strings, built from the
    chunks' codes: a run's ledger has tens of thousands of rows but a few dozen labels.
    """
    categories = sorted(set(labels))
    code = {label: i for i, label in enumerate(categories)}
    codes = np.fromiter((code[label] for label in labels), dtype=np.int64, count=len(labels))
    return pd.Categorical.from_codes(np.repeat(codes, sizes), pd.Index(categories, dtype="str"))


@functools.cache
def _month_labels(month: Month) -> tuple[str, int]:
    """The month's labels of a row: ``YYYY-MM`` and the year."""
    return str(month), month.year


def _cap_key(instrument: Instrument, year: int) -> tuple[str, str, int | None] | None:
    """The running book an instrument's cap reads (None: no cap, or a cap per grant)."""
    if instrument.cap is None or instrument.cap_per is CapPeriod.GRANT:
        return None
    period = year if instrument.cap_per is CapPeriod.YEAR else None
    return (instrument.regime, instrument.id, period)
