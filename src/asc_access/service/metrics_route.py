"""``GET /metrics``: the Prometheus text format, for any valid token (any role)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from asc_access import metrics
from asc_access.service.api.common import ERRORS
from asc_access.service.context import ServiceContext, context_of

__all__ = ["router"]

log = logging.getLogger("asc_access.service")

router = APIRouter(tags=["service"])


def _broker_depth(ctx: ServiceContext) -> int | None:
    # lazy: the [workers] extra (Celery, Redis): only a service with a broker needs it
    from redis import Redis

    # lazy: the [workers] extra (Celery, Redis): only a service with a broker needs it
    from asc_access.queue.app import worker_config_for
    from asc_access.queue.health import queue_depth

    config = worker_config_for(ctx.settings)
    client: Redis[Any] = Redis.from_url(config.broker_url, socket_timeout=1.0)
    try:
        return int(queue_depth(client, config)["depth"])
    finally:
        client.close()


async def _observe_queue(ctx: ServiceContext) -> None:
    if not ctx.settings.broker_url:
        metrics.QUEUE_DEPTH.labels(queue="in-process").set(len(ctx.syncs.running_names()))
        return
    try:
        depth = await asyncio.to_thread(_broker_depth, ctx)
    except Exception as error:  # noqa: BLE001 - a scrape must answer even with the broker down
        log.warning("queue depth unavailable: %s", type(error).__name__)
        return
    if depth is not None:
        metrics.QUEUE_DEPTH.labels(queue="celery").set(depth)


@router.get(
    "/metrics",
    responses={**ERRORS, 200: {"content": {"text/plain": {}}, "description": "Prometheus text"}},
)
async def prometheus(request: Request) -> Response:
    """Counters and gauges for syncs, Apple requests, rate budgets, queue, notifications, SCIM.

    Metric names start with ``asc_access_``; they are listed in docs/deploy.md.
    """
    await _observe_queue(context_of(request))
    body = await asyncio.to_thread(metrics.exposition)
    return Response(body, media_type=metrics.CONTENT_TYPE)
