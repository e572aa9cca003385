"""Tables of governance: policy violations, their notifications, review campaigns and items.

Kept apart from :mod:`asc_access.store.schema` (which imports this module, so
the tables are registered whenever the schema is); both join the one
``metadata`` of :mod:`asc_access.store.columns` the migrations are compared with.

A violation row lives from the first evaluation that finds it (``first_seen``)
to the first that no longer does (``resolved_at``); ``key`` identifies what is
wrong (policy, team, person) so the same problem found by every sync stays one
row. A notification row per violation, event (``opened`` / ``resolved``) and
channel makes delivery happen once, not once per sync.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from asc_access.store.columns import TS, cascade_to, metadata, row_id

__all__ = ["campaign_items", "campaigns", "notifications", "policy_violations"]

policy_violations = Table(
    "policy_violations",
    metadata,
    row_id(),
    Column("policy", String(200), nullable=False),
    Column("kind", String(40), nullable=False),
    Column("key", String(1000), nullable=False),  # what is wrong: policy|team|person
    Column("connection", String(1000), nullable=False),
    Column("email", String(500), nullable=True),
    Column("detail", Text, nullable=False),
    Column("first_seen", TS, nullable=False),
    Column("last_seen", TS, nullable=False),
    Column("resolved_at", TS, nullable=True),
    Index("ix_policy_violations_key", "key"),
    Index("ix_policy_violations_resolved", "resolved_at"),
)

notifications = Table(
    "notifications",
    metadata,
    row_id(),
    cascade_to("violation_id", "policy_violations.id", nullable=False),
    Column("event", String(16), nullable=False),  # opened | resolved
    Column("channel", String(200), nullable=False),  # a label, never a secret
    Column("status", String(16), nullable=False),  # pending | delivered | failed
    Column("attempts", Integer, nullable=False, default=0),
    Column("last_error", Text, nullable=True),
    Column("created_at", TS, nullable=False),
    Column("delivered_at", TS, nullable=True),
    UniqueConstraint("violation_id", "event", "channel", name="uq_notifications_once"),
)

campaigns = Table(
    "campaigns",
    metadata,
    row_id(),
    Column("name", String(200), nullable=False),
    Column("status", String(16), nullable=False),  # open | closed
    Column("due_date", String(10), nullable=True),  # YYYY-MM-DD
    Column("connections", JSON, nullable=False),
    Column("reviewers", JSON, nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("created_at", TS, nullable=False),
    Column("closed_by", String(200), nullable=True),
    Column("closed_at", TS, nullable=True),
    Column("audit_id", Integer, nullable=True),  # the remediation's audit entry
)

campaign_items = Table(
    "campaign_items",
    metadata,
    row_id(),
    cascade_to("campaign_id", "campaigns.id", nullable=False),
    Column("connection", String(200), nullable=False),
    Column("email", String(500), nullable=False),
    Column("status", String(16), nullable=False),  # member | invited
    Column("name", String(1000), nullable=False, default=""),
    Column("roles", JSON, nullable=False),
    Column("all_apps_visible", Boolean, nullable=False),
    Column("apps", JSON, nullable=False),  # bundle ids (or ids) seen at start
    Column("flags", JSON, nullable=False),  # admin, all_apps, leaver, invitation_pending
    Column("decision", String(16), nullable=True),  # keep | revoke | reduce
    Column("decision_roles", JSON, nullable=True),
    Column("decision_apps", JSON, nullable=True),
    Column("comment", Text, nullable=True),
    Column("decided_by", String(200), nullable=True),
    Column("decided_at", TS, nullable=True),
    Column("outcome", String(16), nullable=True),  # kept | done | already | failed | refused
    Column("outcome_detail", Text, nullable=True),
    Column("after", JSON, nullable=True),  # the access read back after remediation
    UniqueConstraint(
        "campaign_id", "connection", "email", "status", name="uq_campaign_items_person"
    ),
    Index("ix_campaign_items_campaign", "campaign_id"),
)
