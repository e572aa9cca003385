"""SCIM 2.0 bridge: Okta and Microsoft Entra ID provision App Store Connect through asc-access.

Built on scim2-server (protocol, filters, PATCH, errors) and scim2-models
(resources). Reads come from the mirror; every write is a plan executed by the
actions engine (fresh read, safety rules, execute, verify, audit, mirror).
"""

from __future__ import annotations

from asc_access.service.scim.app import BridgeApplication, create_scim_app
from asc_access.service.scim.schema import ASC_SCHEMA

__all__ = ["ASC_SCHEMA", "BridgeApplication", "create_scim_app"]
