"""Mesa's ``DataCollector`` interface over the monthly outcomes the model records anyway.

The model records one row of outcomes per month into columns (``MonthlyRecorder``), which
costs far less than Mesa's reporters called agent by agent. Mesa's tools expect
``model.datacollector``: ``mesa.batch_run`` reads ``model_vars`` and
``_collection_steps``, and the stock plot components (``make_plot_component("firms")``)
read ``get_model_vars_dataframe()``. ``MonthlyDataCollector`` is that interface, read-only,
over the recorded months: model step ``s`` (1, 2, ...) is the month recorded ``s``-th.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    from clustersim.model import ClusterModel


class MonthlyDataCollector:
    """A DataCollector-compatible, read-only view of a model's monthly outcomes.

    Attributes:
        model_reporters: one entry per monthly metric (the names of the monthly table).
        model_vars: each metric's values, one per recorded month, oldest first.
        agent_reporters, agenttype_reporters: empty (agent states are in
            ``get_agent_vars_dataframe``: the firms' year-end snapshots).
        tables: the relocation table and, with a plan, the grant ledger.

    """

    def __init__(self, model: ClusterModel) -> None:
        self._model = model
        self.agent_reporters: dict[str, Any] = {}
        self.agenttype_reporters: dict[type, dict[str, Any]] = {}
        self._agent_records: dict[int, list] = {}
        self._agenttype_records: dict[int, dict] = {}

    @property
    def _collection_steps(self) -> list[int]:
        """The model steps at which a row was recorded (one per simulated month)."""
        return list(range(1, self._model.month_index + 1))

    def _frame(self) -> pd.DataFrame:
        return self._model.monthly()

    @property
    def model_reporters(self) -> dict[str, None]:
        """The recorded metrics (values are None: the model records them itself)."""
        return dict.fromkeys(self._frame().columns)

    @property
    def model_vars(self) -> dict[str, list[Any]]:
        """Each metric's values, one per recorded month (as Mesa's DataCollector keeps them)."""
        return {name: column.tolist() for name, column in self._frame().items()}

    def get_model_vars_dataframe(self) -> pd.DataFrame:
        """The monthly table, indexed by model step (``Step`` 1 is the first month)."""
        frame = self._frame()
        return frame.set_axis(pd.RangeIndex(1, len(frame) + 1, name="Step"), axis=0)

    def get_agent_vars_dataframe(self) -> pd.DataFrame:
        """The firms' year-end snapshots, indexed by (``Step``, ``AgentID`` = firm id)."""
        snaps = self._model.firms_yearly()
        if snaps.empty:
            return pd.DataFrame(
                index=pd.MultiIndex.from_arrays([[], []], names=["Step", "AgentID"])
            )
        step = {str(m): i + 1 for i, m in enumerate(self._model.calendar)}
        index = pd.MultiIndex.from_arrays(
            [snaps["month"].map(step).to_numpy(), snaps["firm_id"].to_numpy()],
            names=["Step", "AgentID"],
        )
        return snaps.set_index(index)

    @property
    def tables(self) -> dict[str, pd.DataFrame]:
        """The event tables: every relocation; with a plan, every grant (``ledger``)."""
        out = {"relocations": self._model.relocation_table()}
        ledger = self._model.incentives.ledger_frame()
        if ledger is not None:
            out["ledger"] = ledger
        return out

    def get_table_dataframe(self, table_name: str) -> pd.DataFrame:
        """One event table by name (``relocations`` or ``ledger``), as Mesa's tables."""
        tables = self.tables
        if table_name not in tables:
            raise ValueError(f"table {table_name!r} does not exist; tables: {', '.join(tables)}")
        return tables[table_name]
