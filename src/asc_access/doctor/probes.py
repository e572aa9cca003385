"""Online probes: one cheap read per capability, with Apple's clock measured on the way.

Each probe reads one item (``limit=1``) and never writes:

============  ===============================  ======================================
probe         request                          proves
============  ===============================  ======================================
apps          ``GET /v1/apps?limit=1``         Apple accepts the token (any role)
users         ``GET /v1/users?limit=1``        the key may read the team's users
invitations   ``GET /v1/userInvitations?...``  the key may read pending invitations
============  ===============================  ======================================

``manage_users`` is *inferred*, never tested by writing: Apple (and the
sandbox) lets only Admin keys, or the individual key of an Admin, read the
team's users, so reading users implies the Admin role that manages them.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

from asc_access.api import AppStoreConnectClient, TokenSource
from asc_access.diagnosis.probe_results import PROBES, ProbeName, ProbeResult
from asc_access.errors import ApiError, RateLimitSnapshot

__all__ = ["PROBES", "ClientFactory", "ProbeName", "ProbeResult", "ProbeSession", "run_probe"]

#: Builds a client for a token source (the CLI binds the API URL, retry policy, transport).
ClientFactory = Callable[[TokenSource], AbstractAsyncContextManager[AppStoreConnectClient]]


def _first_page(client: AppStoreConnectClient, name: ProbeName) -> AsyncIterator[Any]:
    if name == "apps":
        return client.apps.pages(limit=1, fields=("name",))
    if name == "users":
        return client.users.pages(limit=1)
    return client.invitations.pages(limit=1)


async def run_probe(
    client: AppStoreConnectClient,
    name: ProbeName,
    *,
    wall_clock: Callable[[], float] = time.time,
) -> ProbeResult:
    """Send one probe; never raises :class:`ApiError` (it is returned in the result)."""
    before = client.last_response
    started = wall_clock()
    error: ApiError | None = None
    pages = _first_page(client, name)
    try:
        await anext(pages, None)
    except ApiError as exc:
        error = exc
    finally:
        aclose = getattr(pages, "aclose", None)
        if aclose is not None:
            await aclose()
    finished = wall_clock()
    info = client.last_response
    fresh = info is not None and info is not before
    date = info.date if fresh and info is not None else None
    skew = None
    if date is not None:
        # The Date header has whole seconds: Apple's time lies in [date, date + 1).
        skew = round(date.timestamp() + 0.5 - (started + finished) / 2, 1)
    return ProbeResult(
        name=name,
        request=PROBES[name],
        error=error,
        skew_seconds=skew,
        server_date=date,
        rate_limit=client.rate_limit,
    )


class ProbeSession:
    """Runs probes for one token source through one client, remembering the results."""

    def __init__(
        self,
        factory: ClientFactory,
        tokens: TokenSource,
        *,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self._factory = factory
        self.tokens = tokens
        self._wall_clock = wall_clock
        self.results: dict[ProbeName, ProbeResult] = {}
        self.rate_limit: RateLimitSnapshot | None = None

    async def run(
        self, names: tuple[ProbeName, ...], *, stop: Callable[[ProbeResult], bool]
    ) -> None:
        """Run ``names`` in order on one client, stopping after a result ``stop`` accepts."""
        async with self._factory(self.tokens) as client:
            for name in names:
                result = await run_probe(client, name, wall_clock=self._wall_clock)
                self.results[name] = result
                if result.rate_limit is not None:
                    self.rate_limit = result.rate_limit
                if stop(result):
                    return
