"""The three plans as policy regimes: typed instruments, grant mechanics, the ledger.

- ``instruments``: ``Instrument`` and ``Regime`` and ``parse_regimes`` (config -> checked
  regimes); the payout rules' semantics.
- ``grants``: pure numpy grant decisions within caps, floors and budgets.
- ``ledger``: the append-only grant ledger and spending summaries.
- ``show``: the ``clustersim-policy`` command (``show <regime>``, ``list``).

The plans themselves live in ``conf/policy/``.
"""

from clustersim.policy.grants import grant_amounts, grant_for_instrument
from clustersim.policy.instruments import (
    Event,
    Instrument,
    PayoutRule,
    PolicyConfigError,
    Recipient,
    Regime,
    expected_value,
    parse_regimes,
    requested_amount,
)
from clustersim.policy.ledger import GrantLedger

__all__ = [
    "Event",
    "GrantLedger",
    "Instrument",
    "PayoutRule",
    "PolicyConfigError",
    "Recipient",
    "Regime",
    "expected_value",
    "grant_amounts",
    "grant_for_instrument",
    "parse_regimes",
    "requested_amount",
]
