"""The three plans as policy regimes: typed instruments, grant mechanics, the ledger.

- ``vocabulary``: the terms a plan's config may use (recipients, events, payout rules,
  what a service gives, ...).
- ``instruments``: ``Instrument`` and ``Regime``; what each payout rule means.
- ``parsing``: ``parse_regimes`` (config -> checked regimes), ``PolicyConfigError``.
- ``applications``: who applies for an instrument this month, on what base.
- ``grants``: ``grant``, the one grant function (caps, floors, approval, budgets).
- ``ledger``: the append-only grant ledger and spending summaries.
- ``engine``: ``RegimeIncentives``, the plans in force month by month.
- ``show``: the ``clustersim-policy`` command (``show <regime>``, ``list``).

The plans themselves live in ``conf/policy/``.
"""

from clustersim.policy.grants import Decision, decide, grant
from clustersim.policy.instruments import Instrument, Regime, expected_value, requested_amount
from clustersim.policy.ledger import GrantLedger
from clustersim.policy.parsing import PolicyConfigError, parse_regimes
from clustersim.policy.vocabulary import Event, PayoutRule, Recipient, ServiceGrant

__all__ = [
    "Decision",
    "Event",
    "GrantLedger",
    "Instrument",
    "PayoutRule",
    "PolicyConfigError",
    "Recipient",
    "Regime",
    "ServiceGrant",
    "decide",
    "expected_value",
    "grant",
    "parse_regimes",
    "requested_amount",
]
