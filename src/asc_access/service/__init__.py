"""``asc-access serve``: the REST API, the web console and in-process scheduling."""

from __future__ import annotations

from asc_access.service.app import create_app

__all__ = ["create_app"]
