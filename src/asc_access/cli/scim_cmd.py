"""``asc-access scim``: what the IdP's groups give on a team (the SCIM bridge's group mappings)."""

from __future__ import annotations

import typer
from rich.table import Table

from asc_access.cli.common import JSON_OPTION, console, emit_json, handle_errors
from asc_access.cli.main import command_group
from asc_access.errors import NotFoundLocallyError, UsageError

__all__ = ["register"]

scim_app = command_group("scim", no_args_is_help=True)

CONNECTION = typer.Argument(..., help="The connection (team) the SCIM token provisions.")
GROUP = typer.Argument(..., help="The group's display name, as the IdP pushes it.")


@scim_app.command("map-group")
def map_group(
    connection: str = CONNECTION,
    group: str = GROUP,
    roles: list[str] = typer.Option(..., "--role", help="A role the group gives (repeatable)."),
    apps: list[str] = typer.Option([], "--app", help="A bundle id the group shows (repeatable)."),
    all_apps: bool = typer.Option(False, "--all-apps", help="The group sees every app."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Say what membership of a group gives (combined with the User's own access as a union)."""
    # lazy: the store (SQLAlchemy, ~0.25 s) loads when the command runs, not for its --help
    from asc_access.actions.building import validate_roles
    from asc_access.runtime import open_store
    from asc_access.store.connections import get_connection
    from asc_access.store.scim import GroupAccess, set_group_access

    with handle_errors(as_json=as_json):
        if not group.strip():
            raise UsageError("give the group's display name")
        if apps and all_apps:
            raise UsageError("give --app or --all-apps, not both")
        engine = open_store()
        record = get_connection(engine, connection)
        mapping = GroupAccess(
            record.id,
            group.strip(),
            validate_roles(roles),
            all_apps,
            tuple(sorted({a.strip() for a in apps if a.strip()})),
        )
        set_group_access(engine, mapping)
    if as_json:
        emit_json({"connection": connection, **mapping.as_dict()})
        return
    console.print(
        f"Members of group [bold]{mapping.group_name}[/] on {connection} get "
        f"{', '.join(mapping.roles)}"
        + (" and every app" if all_apps else f" and apps {', '.join(mapping.apps) or '(none)'}")
        + ". People are re-planned when the IdP next changes the group or the User."
    )


@scim_app.command("unmap-group")
def unmap_group(
    connection: str = CONNECTION, group: str = GROUP, as_json: bool = JSON_OPTION
) -> None:
    """Remove a group's mapping (the group then gives nothing)."""
    # lazy: the store (SQLAlchemy, ~0.25 s) loads when the command runs, not for its --help
    from asc_access.runtime import open_store
    from asc_access.store.connections import get_connection
    from asc_access.store.scim import delete_group_access

    with handle_errors(as_json=as_json):
        engine = open_store()
        record = get_connection(engine, connection)
        if not delete_group_access(engine, record.id, group.strip()):
            raise NotFoundLocallyError(
                f"no mapping for group {group!r} on {connection}: `asc-access scim groups "
                f"{connection}` lists them"
            )
    if as_json:
        emit_json({"connection": connection, "group": group.strip(), "removed": True})
        return
    console.print(f"Group [bold]{group.strip()}[/] on {connection} no longer gives access.")


@scim_app.command("groups")
def groups(connection: str = CONNECTION, as_json: bool = JSON_OPTION) -> None:
    """List the group mappings, and the groups the IdP pushed with their member counts."""

    # lazy: the store (SQLAlchemy, ~0.25 s) loads when the command runs, not for its --help
    from asc_access.runtime import open_store
    from asc_access.store.connections import get_connection
    from asc_access.store.scim import list_group_access, list_groups

    with handle_errors(as_json=as_json):
        engine = open_store()
        record = get_connection(engine, connection)
        mappings = list_group_access(engine, record.id)
        with engine.connect() as conn:
            pushed = {g.display_name: len(g.member_ids) for g in list_groups(conn, record.id)}
    if as_json:
        emit_json(
            {
                "connection": connection,
                "mappings": [m.as_dict() for m in mappings],
                "groups": [{"display_name": n, "members": c} for n, c in sorted(pushed.items())],
            }
        )
        return
    table = Table("group", "pushed members", "roles", "apps")
    names = sorted({m.group_name for m in mappings} | set(pushed))
    by_name = {m.group_name: m for m in mappings}
    for name in names:
        m = by_name.get(name)
        apps = "" if m is None else ("all apps" if m.all_apps else ", ".join(m.apps))
        table.add_row(
            name,
            str(pushed[name]) if name in pushed else "not pushed",
            ", ".join(m.roles) if m else "(no mapping)",
            apps,
        )
    console.print(table)


def register(app: typer.Typer) -> None:
    """Add ``scim`` to ``app``."""
    app.add_typer(scim_app)
