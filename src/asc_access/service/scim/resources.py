"""SCIM documents from what the bridge knows: the mirror, our stable ids, the IdP's documents.

A User's Apple facts (userName, name, active, the App Store Connect extension)
come from the mirror, which every write updates; everything else the IdP sent
(``externalId``, phone numbers, the enterprise extension, attributes no schema
declares) comes back exactly as it was stored.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from asc_access.service.scim.schema import ASC_SCHEMA
from asc_access.store.queries import PersonRow
from asc_access.store.scim import ScimGroupRecord, ScimUserRecord

__all__ = [
    "CORE_GROUP",
    "CORE_USER",
    "NOT_STORED",
    "facts_extension",
    "group_document",
    "is_written",
    "user_document",
    "version_of",
]

CORE_USER = "urn:ietf:params:scim:schemas:core:2.0:User"
CORE_GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
#: Attributes the bridge computes, or must never keep (a password): not stored from the IdP.
NOT_STORED = frozenset({"id", "meta", "groups", "schemas", "password"})


def version_of(document: Mapping[str, Any]) -> str:
    """A weak ETag that changes whenever the document does."""
    digest = hashlib.sha256(json.dumps(document, sort_keys=True, default=str).encode())
    return f'W/"{digest.hexdigest()[:16]}"'


def _meta(kind: str, created: datetime, modified: datetime) -> dict[str, Any]:
    return {
        "resourceType": kind,
        "created": created.isoformat(),
        "lastModified": modified.isoformat(),
    }


def facts_extension(person: PersonRow) -> dict[str, Any]:
    """The extension as Apple has it (what a GET returns)."""
    return {
        "roles": list(person.roles),
        "allAppsVisible": person.sees_all_apps,
        "visibleApps": person.app_refs,
        "provisioningAllowed": person.provisioning_allowed,
    }


def _synthesised(record: ScimUserRecord, person: PersonRow | None) -> dict[str, Any]:
    """A person the IdP has not written yet: everything from Apple (the mirror)."""
    if person is None:
        stored = record.document.get(ASC_SCHEMA)
        return {
            "userName": record.email,
            "active": False,
            ASC_SCHEMA: dict(stored) if isinstance(stored, dict) else {},
        }
    return {
        "userName": person.email,
        "name": {"givenName": person.first_name, "familyName": person.last_name},
        "emails": [{"value": person.email, "type": "work", "primary": True}],
        "active": True,
        ASC_SCHEMA: facts_extension(person),
    }


def is_written(record: ScimUserRecord) -> bool:
    """Whether the IdP has written this User (created, replaced or patched it)."""
    return "userName" in record.document


def user_document(
    record: ScimUserRecord,
    person: PersonRow | None,
    groups: Iterable[ScimGroupRecord] = (),
) -> dict[str, Any]:
    """The SCIM User for ``record``; ``person`` is them on the team (mirror), if they are.

    Once the IdP has written a User, its document is returned as written (the
    bridge made Apple match it); ``active`` is false whenever the person is not
    on the team. Before that, every attribute comes from Apple.
    """
    doc: dict[str, Any] = {k: v for k, v in record.document.items() if k not in NOT_STORED}
    if is_written(record):
        if person is None:
            doc["active"] = False
        if not doc.get(ASC_SCHEMA):
            doc.pop(ASC_SCHEMA, None)
    else:
        doc.update(_synthesised(record, person))
    schemas = [CORE_USER, *[k for k in doc if k.startswith("urn:")]]
    doc["schemas"] = list(dict.fromkeys(schemas))
    doc["id"] = record.id
    if record.external_id is not None:
        doc["externalId"] = record.external_id
    member_of = [{"value": g.id, "display": g.display_name} for g in groups]
    if member_of:
        doc["groups"] = member_of
    meta = _meta("User", record.created_at, record.updated_at)
    meta["version"] = version_of({**doc, "meta": meta})
    doc["meta"] = meta
    return doc


def group_document(record: ScimGroupRecord) -> dict[str, Any]:
    """The SCIM Group for ``record`` (members as stored, with their ``$ref``)."""
    doc: dict[str, Any] = {
        k: v for k, v in record.document.items() if k not in {"id", "meta", "schemas"}
    }
    doc["schemas"] = [CORE_GROUP, *[k for k in doc if k.startswith("urn:")]]
    doc["id"] = record.id
    doc["displayName"] = record.display_name
    doc["members"] = [
        {**m, "$ref": f"Users/{m['value']}", "type": "User"}
        for m in doc.get("members") or []
        if isinstance(m, dict) and m.get("value")
    ]
    meta = _meta("Group", record.created_at, record.updated_at)
    meta["version"] = version_of({**doc, "meta": meta})
    doc["meta"] = meta
    return doc
