"""Optional dependencies: a command that needs a missing extra says which one to install.

``pip install asc-access`` gives the library and the command line; the web
service, the Celery workers and the PostgreSQL driver are extras. When a command
reaches for a module of an extra that is not installed, :func:`needed_extra`
names the extra, and :func:`asc_access.cli.main.main` prints the one ``pip install``
line instead of a traceback.
"""

from __future__ import annotations

__all__ = ["EXTRAS", "install_hint", "needed_extra"]

#: Each extra (as in ``pyproject.toml``) and the top-level modules it brings.
EXTRAS: dict[str, tuple[str, ...]] = {
    "service": (
        "fastapi",
        "starlette",
        "uvicorn",
        "jinja2",
        "multipart",
        "python_multipart",
        "limits",
        "authlib",
        "scim2_models",
        "scim2_server",
    ),
    "workers": ("celery", "kombu", "redis"),
    "postgres": ("psycopg", "psycopg_binary"),
}

_EXTRA_OF = {module: extra for extra, modules in EXTRAS.items() for module in modules}


def needed_extra(error: ModuleNotFoundError) -> str | None:
    """The extra whose module ``error`` could not import, or ``None`` if it is not one of ours."""
    top = (error.name or "").split(".")[0]
    return _EXTRA_OF.get(top)


def install_hint(extra: str, module: str) -> str:
    """The one line telling what to install (``module`` is the one that was missing)."""
    return (
        f"this needs the optional '{extra}' dependencies ({module} is not installed): "
        f"pip install 'asc-access[{extra}]'"
    )
