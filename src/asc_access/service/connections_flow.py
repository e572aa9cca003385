"""Connections for the API and the console: add, test, rotate, remove, and how each is doing."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from fastapi import Request

from asc_access import runtime
from asc_access.diagnosis.report import DoctorReport
from asc_access.errors import NotFoundLocallyError, UsageError
from asc_access.service.context import ServiceContext
from asc_access.service.errors import Problem, ServiceError
from asc_access.service.explain import Explanation, explain_cause, from_finding
from asc_access.service.uploads import read_key_upload
from asc_access.store import connections as store
from asc_access.store.connections import ConnectionRecord
from asc_access.store.runs import RunRecord, list_runs
from asc_access.urlpolicy import ApiUrlNotAllowedError

__all__ = [
    "ConnectionView",
    "add_connection",
    "connection_view",
    "connection_views",
    "problem_for_report",
    "rotate_connection_key",
]

#: Codes that say the key itself cannot serve the integration: the caller's input is at fault.
_INPUT_CODES = {"APP-101", "APP-102", "APP-103"}


@dataclass(frozen=True)
class ConnectionView:
    """A connection with its health explained, its last sync, and whether it syncs now."""

    record: ConnectionRecord
    health: Explanation | None
    last_run: RunRecord | None
    syncing: bool

    @property
    def name(self) -> str:
        """The connection's name."""
        return self.record.name

    def as_dict(self) -> dict[str, Any]:
        """The API's shape."""
        return {
            **self.record.as_dict(),
            "health": self.health.as_dict() if self.health else None,
            "last_run": self.last_run.as_dict() if self.last_run else None,
            "syncing": self.syncing,
        }


def _view(ctx: ServiceContext, record: ConnectionRecord) -> ConnectionView:
    with ctx.engine.connect() as conn:
        runs = list_runs(conn, connection_ids=[record.id], limit=1)
    facts = {
        "name": record.name,
        "key_id": record.key_id,
        "issuer_id": record.issuer_id,
        "api_url": record.api_url,
        "last_ok_at": record.last_ok_at.strftime("%Y-%m-%d %H:%M UTC")
        if record.last_ok_at
        else None,
    }
    health = (
        None if record.healthy else explain_cause(record.health_code, record.health_cause, facts)
    )
    return ConnectionView(
        record=record,
        health=health,
        last_run=runs[0] if runs else None,
        syncing=ctx.syncs.running(record.name),
    )


def connection_views(ctx: ServiceContext) -> list[ConnectionView]:
    """Every connection, by name."""
    return [_view(ctx, r) for r in store.list_connections(ctx.engine)]


def connection_view(ctx: ServiceContext, name: str) -> ConnectionView:
    """One connection (:class:`NotFoundLocallyError` if unknown)."""
    return _view(ctx, store.get_connection(ctx.engine, name))


def problem_for_report(report: DoctorReport) -> Problem:
    """The error answer for a doctor report that did not pass."""
    if report.usage_error is not None:
        return Problem(
            status=422,
            code=None,
            cause="invalid_request",
            title="The connection is missing a value",
            message=report.usage_error,
            resolution=["Fill in the missing values and try again."],
            detail={"doctor": report.as_dict()},
        )
    verdict = report.verdict
    assert verdict is not None
    ex = from_finding(verdict)
    code = verdict.code or ""
    status = 422 if code in _INPUT_CODES else (503 if code == "APP-104" else 502)
    return Problem(
        status=status,
        code=ex.code,
        cause=ex.cause,
        title=ex.title,
        message=f"The doctor found a problem: {ex.title}.",
        resolution=list(ex.resolution),
        certainty=ex.certainty,
        evidence=list(ex.evidence),
        detail={"doctor": report.as_dict()},
    )


def _exists(ctx: ServiceContext, name: str) -> bool:
    try:
        store.get_connection(ctx.engine, name)
    except NotFoundLocallyError:
        return False
    return True


async def allowed_url(ctx: ServiceContext, url: str) -> str:
    """``url`` if the service may send a token there, else a 422 that says only that.

    Checked before anything is sent, so the answer is the same whatever listens there.
    """
    try:
        return await asyncio.to_thread(ctx.url_policy.check, url)
    except ApiUrlNotAllowedError as error:
        raise ServiceError(
            422,
            error.message,
            cause="api_url_not_allowed",
            title="That API address is not allowed",
            resolution=[
                "Leave the API address empty to use Apple's.",
                (
                    "To use a sandbox, start the service with its origin listed in "
                    "ASC_ACCESS_ALLOWED_API_URLS (comma-separated, e.g. http://127.0.0.1:8765)."
                ),
            ],
        ) from None


async def add_connection(ctx: ServiceContext, request: Request) -> runtime.ConnectOutcome:
    """Run the doctor on the credentials ``request`` uploads; save the connection when it works."""
    upload = await read_key_upload(request, limit=ctx.max_key_bytes, need_name=True)
    url = await allowed_url(ctx, upload.api_url or ctx.settings.api_url)
    if _exists(ctx, upload.name):
        raise ServiceError(
            409,
            f"A connection named {upload.name!r} already exists.",
            cause="conflict",
            title="That name is taken",
            resolution=[
                "Pick another name, or replace this connection's key (rotate) instead.",
            ],
        )
    return await runtime.connect(
        ctx.engine,
        ctx.settings,
        upload.name,
        upload.evaluation(),
        api_url=url,
        force=upload.force,
    )


async def rotate_connection_key(
    ctx: ServiceContext, name: str, request: Request
) -> runtime.ConnectOutcome:
    """Replace the key of ``name`` once the key ``request`` uploads passes the doctor."""
    record = store.get_connection(ctx.engine, name)  # 404 before reading the upload
    upload = await read_key_upload(request, limit=ctx.max_key_bytes, need_name=False)
    url = await allowed_url(ctx, upload.api_url or record.api_url)
    try:
        return await runtime.rotate_key(
            ctx.engine, ctx.settings, name, upload.evaluation(), api_url=url, move=upload.move
        )
    except UsageError as error:
        if not error.context.get("conflict"):
            raise
        raise ServiceError(
            409,
            f"The new key was not saved: {error.message}",
            cause="rotation_moves_connection",
            title="The new key would move this connection",
            resolution=[
                "Upload a new key of the same team (same issuer) for the same API address.",
                "To move the connection to another team or address on purpose, send move=true.",
            ],
        ) from None


async def test_connection(ctx: ServiceContext, name: str) -> DoctorReport:
    """Run the doctor on a saved connection and record its health."""
    await allowed_url(ctx, store.get_connection(ctx.engine, name).api_url)
    return await runtime.diagnose_connection(ctx.engine, ctx.settings, name)
