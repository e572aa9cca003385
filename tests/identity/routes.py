"""Every route an app serves, with its full path and the dependencies it runs."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import FastAPI
from fastapi.routing import APIRoute
from starlette.routing import Mount

__all__ = ["ServedRoute", "served_routes"]


@dataclass(frozen=True)
class ServedRoute:
    """One method of one route."""

    method: str
    path: str
    dependencies: tuple[str, ...]


def _walk(routes: list[object]) -> list[tuple[object, str, list[object]]]:
    found: list[tuple[object, str, list[object]]] = []
    for route in routes:
        contexts = getattr(route, "effective_route_contexts", None)
        if contexts is not None:  # FastAPI >= 0.16x keeps included routers unflattened
            for ctx in contexts():
                found.append((ctx, ctx.path_format, list(ctx.dependencies)))
        elif isinstance(route, APIRoute):
            found.append((route, route.path_format, list(route.dependencies)))
        elif isinstance(route, Mount):
            found.append((route, route.path.rstrip("/") + "/", []))
        else:
            found.append((route, getattr(route, "path", ""), []))
    return found


def served_routes(app: FastAPI) -> list[ServedRoute]:
    """Every (method, path) the app answers; mounts appear as ``MOUNT /prefix/``."""
    out: list[ServedRoute] = []
    for route, path, deps in _walk(list(app.routes)):
        names = tuple(getattr(d.dependency, "__name__", "") for d in deps)  # type: ignore[attr-defined]
        if isinstance(route, Mount):
            out.append(ServedRoute("MOUNT", path, names))
            continue
        methods = getattr(route, "methods", None) or {"GET"}
        out.extend(ServedRoute(m, path, names) for m in sorted(methods) if m != "HEAD")
    return out
