"""Governance: policies evaluated against the mirror, alerts, and access-review campaigns.

Policies (:mod:`~asc_access.governance.policies`) are data in a YAML file;
:func:`~asc_access.governance.check.check` evaluates them after every sync
and on demand, storing each violation with first seen / last seen /
resolved and alerting once when one opens or resolves. Campaigns
(:mod:`~asc_access.governance.campaigns`) freeze who has what, collect
decisions, remediate through the actions engine, and produce evidence.
"""
