"""Provisioning: invite, change, remove and offboard — planned, idempotent, verified, audited.

Every action is first a :class:`Plan` (``plan_*``), built from a fresh read of
Apple; :func:`execute_plan` runs it through a :class:`ProvisioningSource` (the
API client fits), re-reading each target before writing, writing once,
reading back, writing the audit log as it goes and updating the mirror.
Desired-state files (YAML/JSON) plan like Terraform: :func:`load_desired_state`,
:func:`plan_desired_state`.
"""

from __future__ import annotations

from asc_access.actions.access import Access
from asc_access.actions.desired import (
    DesiredPerson,
    DesiredState,
    load_desired_state,
    parse_desired_state,
    plan_desired_state,
)
from asc_access.actions.executor import execute_plan, record_unexecuted
from asc_access.actions.model import Outcome, Plan, Refusal, Rule, Step, StepKind
from asc_access.actions.planner import (
    plan_cancel_invitation,
    plan_invite,
    plan_offboard,
    plan_remove,
    plan_set_apps,
    plan_set_roles,
)
from asc_access.actions.requests import ACTION_NAMES, ActionName, ActionSpec, plan_action
from asc_access.actions.results import Execution, StepResult
from asc_access.actions.source import ProvisioningSource, Team

__all__ = [
    "ACTION_NAMES",
    "Access",
    "ActionName",
    "ActionSpec",
    "DesiredPerson",
    "DesiredState",
    "Execution",
    "Outcome",
    "Plan",
    "ProvisioningSource",
    "Refusal",
    "Rule",
    "Step",
    "StepKind",
    "StepResult",
    "Team",
    "execute_plan",
    "load_desired_state",
    "parse_desired_state",
    "plan_action",
    "plan_cancel_invitation",
    "plan_desired_state",
    "plan_invite",
    "plan_offboard",
    "plan_remove",
    "plan_set_apps",
    "plan_set_roles",
    "record_unexecuted",
]
