"""The SCIM bridge's group mappings for one connection: what each IdP group gives on the team."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData

from asc_access.actions.building import validate_roles
from asc_access.errors import UsageError
from asc_access.service.auth import ConsolePrincipal, FormPrincipal
from asc_access.service.console.common import form_list, form_text, see_other, split_list
from asc_access.service.console.render import render
from asc_access.service.context import context_of
from asc_access.store import connections
from asc_access.store import scim as store
from asc_access.store.handle import Database

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


@router.get("/connections/{name}/scim-groups", response_class=HTMLResponse)
def scim_groups_page(request: Request, name: str, principal: ConsolePrincipal) -> HTMLResponse:
    """Mappings and the groups the IdP pushed, with a form to map one more."""
    ctx = context_of(request)
    record = connections.get_connection(ctx.engine, name)
    mappings = store.list_group_access(ctx.engine, record.id)
    with ctx.engine.connect() as conn:
        pushed = {g.display_name: len(g.member_ids) for g in store.list_groups(conn, record.id)}
    return render(
        request,
        "scim_groups.html",
        principal,
        nav="connections",
        title=f"SCIM groups — {name}",
        connection=record,
        mappings=mappings,
        pushed=pushed,
        unmapped=sorted(set(pushed) - {m.group_name for m in mappings}),
    )


async def _group_form(request: Request, name: str) -> tuple[Database, int, FormData]:
    """What a group-mapping post works on: the store, the connection's id, the form."""
    engine = context_of(request).engine
    connection_id = connections.get_connection(engine, name).id
    return engine, connection_id, await request.form()


@router.post("/connections/{name}/scim-groups")
async def map_group(request: Request, name: str, principal: FormPrincipal) -> Response:
    """Set what a group gives (replacing its mapping, if any)."""
    del principal
    engine, connection_id, form = await _group_form(request, name)
    group = form_text(form, "group", max_length=500)
    if not group:
        raise UsageError("give the group's display name, as the identity provider pushes it")
    all_apps = form_text(form, "all_apps") == "on"
    apps = tuple(sorted(set(split_list(form_text(form, "apps")))))
    if apps and all_apps:
        raise UsageError("give apps or 'every app', not both")
    roles = validate_roles(form_list(form, "roles") or split_list(form_text(form, "role_list")))
    store.set_group_access(engine, store.GroupAccess(connection_id, group, roles, all_apps, apps))
    return see_other(f"/connections/{name}/scim-groups")


@router.post("/connections/{name}/scim-groups/remove")
async def unmap_group(request: Request, name: str, principal: FormPrincipal) -> Response:
    """Remove a group's mapping."""
    del principal
    engine, connection_id, form = await _group_form(request, name)
    store.delete_group_access(engine, connection_id, form_text(form, "group", max_length=500))
    return see_other(f"/connections/{name}/scim-groups")
