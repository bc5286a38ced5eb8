"""Agent tables declared once: each column's name, type, fill value and meaning.

An agent type's state is a table of columns (numpy arrays indexed by agent slot), as in
mesa-frames. Each table class lists its columns once, as ``Column`` declarations; from
that list this module derives

- the arrays (``ColumnTable.__init__``: one array per column, filled with ``fill``);
- the year-end snapshot (``ColumnTable.snapshot``: one row per agent, one column per
  declared output, in declaration order, codes turned into labels, agent counts into
  people);
- the Mesa face's read-only attributes (``face_properties``: one property per declared
  output, reading the agent's slot of the table, so a face is always current).

Adding a state variable is one line in the table's ``COLUMNS``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from clustersim.agents.parks import ParkTable

#: What a column's integer codes stand for: fixed labels, or the world's parks.
Labels = tuple[str, ...] | Literal["parks"] | None


@dataclass(frozen=True)
class Column:
    """One state variable of an agent table.

    Attributes:
        name: the array's attribute name on the table (``staff``).
        dtype: numpy type of the array.
        fill: value of a slot no agent has taken yet.
        doc: what the value stands for, with its unit.
        out: name in snapshots and on the Mesa face (``employees``); None = internal.
        people: the value counts talent agents; outputs show people (x people per agent).
        labels: the value is a code into these labels (``FIRM_KINDS``) or ``"parks"``;
            outputs show the label. With ``"parks"``, firm snapshots add the district.
        district: for a ``"parks"`` column, also output the park's district right after it.

    """

    name: str
    dtype: type
    fill: Any
    doc: str
    out: str | None = None
    people: bool = False
    labels: Labels = None
    district: bool = False


class ColumnTable:
    """State of every slot of one agent type, one array per declared ``Column``.

    Attributes:
        n_slots: number of slots (laid out at the start of the run).
        faces: the Mesa face of each slot, or None.

    """

    #: The table's columns, in snapshot order.
    COLUMNS: ClassVar[tuple[Column, ...]] = ()
    #: Name of the slot id in snapshots (``firm_id``).
    ID: ClassVar[str] = "id"

    def __init__(self, n_slots: int) -> None:
        self.n_slots = n_slots
        for c in self.COLUMNS:
            setattr(self, c.name, np.full(n_slots, c.fill, dtype=c.dtype))
        self.faces: list[Any] = [None] * n_slots

    @classmethod
    def column(cls, name: str) -> Column:
        """The declaration of column ``name``."""
        for c in cls.COLUMNS:
            if c.name == name:
                return c
        raise KeyError(f"{cls.__name__} has no column {name!r}")

    def output(self, column: Column, slots: np.ndarray, people_per_agent: float) -> np.ndarray:
        """What ``column`` shows for ``slots`` in snapshots and on faces (codes as codes).

        The stored value, in people for agent counts. A table overrides this for an output
        that is derived from several columns (its snapshot and faces then agree).
        """
        values = getattr(self, column.name)[slots]
        return values * people_per_agent if column.people else values

    def present(self) -> np.ndarray:
        """Slots of the agents a snapshot shows (by default, every ``alive`` one)."""
        return np.flatnonzero(self.alive)  # type: ignore[attr-defined]

    def snapshot(self, month: str, parks: ParkTable, people_per_agent: float) -> pd.DataFrame:
        """One row per present agent: the month, its id, then every declared output."""
        return self.snapshot_later(month, parks, people_per_agent).frame()

    def snapshot_later(self, month: str, parks: ParkTable, people_per_agent: float) -> Snapshot:
        """``snapshot``'s columns taken now; the table made when first asked for.

        Making the table (pandas) costs several times more than taking the columns, and
        most runs never look at most snapshots (talent snapshots are written on request).
        """
        s = self.present()
        data: dict[str, Any] = {"month": month, self.ID: s}
        for c in self.COLUMNS:
            if c.out is None:
                continue
            values = self.output(c, s, people_per_agent)
            if c.labels == "parks":
                data[c.out] = _categorical(values, parks.ids)
                if c.district:
                    data["district"] = _categorical(parks.district[values], parks.districts)
            elif c.labels is not None:
                data[c.out] = _categorical(values, c.labels)
            else:
                data[c.out] = values
        return Snapshot(data, len(s))


class Snapshot:
    """One year-end snapshot of an agent table: its columns, made a DataFrame on demand.

    Attributes:
        rows: the number of agents in it.

    """

    def __init__(self, columns: dict[str, Any], rows: int) -> None:
        """A snapshot of ``rows`` agents: each column an array, a Categorical or one value."""
        self._columns: dict[str, Any] | None = columns
        self._frame: pd.DataFrame | None = None
        self.rows = rows

    def frame(self) -> pd.DataFrame:
        """The snapshot as a table (made once)."""
        if self._frame is None:
            self._frame = pd.DataFrame(self._columns)
            self._columns = None
        return self._frame

    @staticmethod
    def concat(snapshots: list[Snapshot]) -> pd.DataFrame:
        """The non-empty snapshots one after another, as one table with a fresh index.

        The table ``pd.concat`` makes of their frames, made from the columns directly
        (one DataFrame instead of one per snapshot and a concatenation): a column of one
        value (the month) repeated row by row, Categoricals of the same categories
        joined by their codes, the other columns concatenated.
        """
        parts = [s for s in snapshots if s.rows]
        if not parts:
            return pd.DataFrame()
        if any(s._columns is None for s in parts):  # some frame made already: join frames
            return pd.concat([s.frame() for s in parts], ignore_index=True)
        columns = [s._columns for s in parts if s._columns is not None]
        data: dict[str, Any] = {}
        for name, first in columns[0].items():
            values = [c[name] for c in columns]
            if isinstance(first, pd.Categorical):
                codes = np.concatenate([v.codes for v in values])
                data[name] = pd.Categorical.from_codes(codes, dtype=first.dtype, validate=False)
            elif isinstance(first, np.ndarray):
                data[name] = np.concatenate(values)
            else:
                data[name] = np.repeat(np.array(values, dtype=object), [s.rows for s in parts])
        return pd.DataFrame(data)


@lru_cache(maxsize=64)
def _dtype(labels: tuple[str, ...]) -> pd.CategoricalDtype:
    """The categorical type of codes into ``labels`` (made once per set of labels)."""
    return pd.CategoricalDtype(list(labels))


def _categorical(codes: np.ndarray, labels: tuple[str, ...]) -> pd.Categorical:
    """``pd.Categorical.from_codes(codes, labels)`` for codes the model made itself.

    The codes are indices into ``labels`` or -1 (none) by construction, so pandas's check
    of every code, which costs more than the rest, is skipped.
    """
    return pd.Categorical.from_codes(codes, dtype=_dtype(tuple(labels)), validate=False)


def face_properties(table_attr: str, columns: tuple[Column, ...]) -> Callable[[type], type]:
    """Class decorator: give a face one read-only property per declared output.

    The property reads the face's slot of ``model.<table_attr>`` and returns a plain
    Python value: a label for coded columns (``None`` for ``-1``), people for agent
    counts, else the number or flag. Properties the class defines itself are kept.
    """

    def make(c: Column) -> property:
        cast = bool if c.dtype is bool else int if np.issubdtype(c.dtype, np.integer) else float

        def get(self: Any) -> Any:
            table = getattr(self.model, table_attr)
            w = self.model.people_per_talent_agent
            v = table.output(c, np.array([self.slot]), w)[0]
            if c.people:
                return float(v)
            if c.labels is not None:
                if v < 0:
                    return None
                labels = self.model.parks.ids if c.labels == "parks" else c.labels
                return labels[v]
            return cast(v)

        get.__doc__ = c.doc
        return property(get)

    def decorate(cls: type) -> type:
        for c in columns:
            if c.out is not None and c.out not in cls.__dict__:
                setattr(cls, c.out, make(c))
        return cls

    return decorate
