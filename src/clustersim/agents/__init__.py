"""The model's agents: each type keeps its state in columns, with mesa.Agent faces.

A *table* (``FirmTable``, ``TalentTable``, ``ParkTable``) holds one numpy array per state
variable, indexed by a stable slot; the rules operate on whole tables at once. A *face*
(``Firm``, ``Talent``, ``Park``, ``Jurisdiction``) is a real ``mesa.Agent`` registered
with the model, whose attributes read the table, so ``model.agents_by_type[Firm]`` and
picking one firm in a notebook work as in any Mesa model.
"""

from clustersim.agents.firms import Firm, FirmTable
from clustersim.agents.jurisdictions import Jurisdiction
from clustersim.agents.parks import Park, ParkTable
from clustersim.agents.talent import Talent, TalentTable

__all__ = ["Firm", "FirmTable", "Jurisdiction", "Park", "ParkTable", "Talent", "TalentTable"]
