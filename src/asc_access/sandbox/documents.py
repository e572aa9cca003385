"""JSON:API documents shaped as Apple shapes them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from asc_access.sandbox.params import Query, encode_cursor
from asc_access.sandbox.records import AppRecord, InvitationRecord, UserRecord, format_timestamp
from asc_access.sandbox.vocabulary import APP_RELATIONSHIPS, INVITATION_FIELDS, USER_FIELDS

__all__ = ["Renderer", "page_links"]

Doc = dict[str, Any]
#: Relationships Apple describes with ``data`` only (no links): left out unless included.
_NO_LINKS = frozenset({"appStoreIcon"})
#: A person's attributes by Apple's name (users and invitations list theirs in
#: :data:`USER_FIELDS` / :data:`INVITATION_FIELDS`, in the order Apple sends them).
_PERSON_ATTRIBUTES: dict[str, Callable[[Any], Any]] = {
    "username": lambda p: p.username,
    "email": lambda p: p.email,
    "firstName": lambda p: p.first_name,
    "lastName": lambda p: p.last_name,
    "expirationDate": lambda p: format_timestamp(p.expiration),
    "roles": lambda p: list(p.roles),
    "allAppsVisible": lambda p: p.all_apps_visible,
    "provisioningAllowed": lambda p: p.provisioning_allowed,
}


def page_links(
    base: str, path: str, query: Query, raw_query: str, offset: int, total: int
) -> dict[str, str]:
    """``links.self`` echoing the request and ``links.next`` when more remain."""
    links = {"self": f"{base}{path}" + (f"?{raw_query}" if raw_query else "")}
    if offset + query.limit < total:
        kept = [(k, v) for k, v in query.items if k not in ("cursor", "limit")]
        kept.append(("cursor", encode_cursor(offset + query.limit)))
        kept.append(("limit", str(query.limit)))
        links["next"] = f"{base}{path}?{urlencode(kept)}"
    return links


class Renderer:
    """Renders records for one base URL, caching app resources (apps are read-only)."""

    def __init__(
        self, base: str, app_cache: dict[tuple[object, ...], Doc], *, omit_totals: bool = False
    ) -> None:
        self.base = base
        self._app_cache = app_cache
        self._omit_totals = omit_totals

    # ----- apps ----------------------------------------------------------------------
    def app(self, app: AppRecord, fields: frozenset[str] | None) -> Doc:
        """An ``apps`` resource object."""
        key = (self.base, app.id, fields)
        cached = self._app_cache.get(key)
        if cached is not None:
            return cached
        url = f"{self.base}/v1/apps/{app.id}"
        values: dict[str, Any] = {
            "name": app.name,
            "bundleId": app.bundle_id,
            "sku": app.sku,
            "primaryLocale": app.primary_locale,
            "isOrEverWasMadeForKids": False,
            "contentRightsDeclaration": "DOES_NOT_USE_THIRD_PARTY_CONTENT",
            "streamlinedPurchasingEnabled": False,
        }
        attributes = {k: v for k, v in values.items() if fields is None or k in fields}
        relationships = {
            rel: {"links": {"self": f"{url}/relationships/{rel}", "related": f"{url}/{rel}"}}
            for rel in APP_RELATIONSHIPS
            if (fields is None or rel in fields) and rel not in _NO_LINKS
        }
        doc: Doc = {"type": "apps", "id": app.id}
        if attributes or fields is None:
            doc["attributes"] = attributes
        if relationships:
            doc["relationships"] = relationships
        doc["links"] = {"self": url}
        if len(self._app_cache) > 50_000:
            self._app_cache.clear()
        self._app_cache[key] = doc
        return doc

    # ----- users and invitations -----------------------------------------------------
    def _visible_apps(
        self,
        owner_path: str,
        app_ids: list[str],
        query: Query,
        included: dict[str, Doc],
        apps: dict[str, AppRecord],
    ) -> Doc:
        relationship: Doc = {
            "links": {
                "self": f"{self.base}{owner_path}/relationships/visibleApps",
                "related": f"{self.base}{owner_path}/visibleApps",
            }
        }
        if "visibleApps" in query.include:
            shown = app_ids[: query.include_limit]
            paging: Doc = {"limit": query.include_limit}
            if not self._omit_totals:
                paging = {"total": len(app_ids), **paging}
            relationship["meta"] = {"paging": paging}
            relationship["data"] = [{"type": "apps", "id": a} for a in shown]
            fields = query.fields_for("apps")
            for app_id in shown:
                if app_id not in included and app_id in apps:
                    included[app_id] = self.app(apps[app_id], fields)
        return relationship

    def person(
        self,
        person: UserRecord | InvitationRecord,
        query: Query,
        included: dict[str, Doc],
        apps: dict[str, AppRecord],
    ) -> Doc:
        """A ``users`` or ``userInvitations`` resource object: sparse fields, visible apps.

        Included apps are added to ``included``.
        """
        if isinstance(person, UserRecord):
            kind, names = "users", USER_FIELDS
        else:
            kind, names = "userInvitations", INVITATION_FIELDS
        fields = query.fields_for(kind)
        path = f"/v1/{kind}/{person.id}"
        doc: Doc = {"type": kind, "id": person.id}
        doc["attributes"] = {
            name: _PERSON_ATTRIBUTES[name](person)
            for name in names
            if name in _PERSON_ATTRIBUTES and (fields is None or name in fields)
        }
        if fields is None or "visibleApps" in fields:
            doc["relationships"] = {
                "visibleApps": self._visible_apps(
                    path, person.visible_app_ids, query, included, apps
                )
            }
        doc["links"] = {"self": f"{self.base}{path}"}
        return doc
