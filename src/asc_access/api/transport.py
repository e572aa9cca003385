"""The only module that speaks HTTP: auth, pacing, the bounded retry loop, error translation.

One request, one loop (never recursion)::

    for each attempt (the request is rebuilt every time, with the current token):
        ask the rate budget (it may wait or refuse)
        send under the concurrency semaphore; count it
        read X-Rate-Limit, Date, X-Request-ID; tell the budget
        2xx                    -> done
        401                    -> invalidate the token, send once more (once per request)
        error, retriable and   -> wait Retry-After (or capped exponential backoff with
        safe for this request     jitter) unless that overruns the time budget; repeat
        otherwise              -> raise the classified error with its full context

httpx exceptions are translated here and only here: connection-level failures
become :class:`~asc_access.errors.TransportError` (``context["kind"]`` says
``dns`` / ``tls`` / ``connect`` / ``proxy`` / ``timeout`` / ``dropped`` ...),
chained with ``from``; Apple's error answers become errors in
:mod:`asc_access.api.failures`, and the retry decisions are
:mod:`asc_access.api.retry`'s. The bearer token is never logged, never put in
an error.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import ssl
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from typing import Any
from urllib.parse import quote, urlencode, urljoin

from asc_access.api.failures import failed_answer
from asc_access.api.ratelimit import PacingBudget, RateBudget, parse_rate_limit, parse_retry_after
from asc_access.api.response import (
    ApiResponse,
    http_date,
    redact,
    url_path,
)
from asc_access.api.retry import AttemptOutcome, FailedAttempt, RetryPolicy
from asc_access.api.types import ResponseInfo, TokenSource
from asc_access.errors import (
    RateLimitedError,
    RateLimitSnapshot,
    TransportError,
    UnexpectedResponseError,
    UsageError,
)
from asc_access.version import __version__

# httpx imports its command-line client (click, rich's progress and syntax, pygments: a
# third of its import time) only to expose ``httpx.main``. Hide it during the import so
# ``httpx.main`` is httpx's own stub; a later ``import httpx._main`` still works.
_HIDE_CLI = "httpx" not in sys.modules and "httpx._main" not in sys.modules
if _HIDE_CLI:
    sys.modules["httpx._main"] = None  # type: ignore[assignment]
try:
    import httpx
finally:
    if _HIDE_CLI:
        del sys.modules["httpx._main"]

__all__ = ["ApiResponse", "AsyncTransport", "Sleep", "Transport"]

log = logging.getLogger("asc_access.api")

#: The type of an injectable httpx transport (``httpx.MockTransport`` in unit tests).
AsyncTransport = httpx.AsyncBaseTransport
Sleep = Callable[[float], Awaitable[None]]


def _user_agent() -> str:
    # The package's own version: reading the installed metadata instead cost the
    # doctor ~25 ms before its first request (importing importlib.metadata, then
    # scanning site-packages).
    return f"asc-access/{__version__}"


#: httpx's failures (after ``ConnectError``, told apart by its text), first match wins.
_KINDS: tuple[tuple[type[httpx.HTTPError], str, AttemptOutcome | None], ...] = (
    (httpx.ConnectTimeout, "connect_timeout", AttemptOutcome.NOT_SENT),
    (httpx.PoolTimeout, "pool_timeout", AttemptOutcome.NOT_SENT),
    (httpx.TimeoutException, "timeout", AttemptOutcome.MAYBE_PROCESSED),
    (httpx.ProxyError, "proxy", AttemptOutcome.NOT_SENT),
    (httpx.RemoteProtocolError, "dropped", AttemptOutcome.MAYBE_PROCESSED),
    (httpx.NetworkError, "network", AttemptOutcome.MAYBE_PROCESSED),
    (httpx.DecodingError, "decoding", None),
    (httpx.UnsupportedProtocol, "unsupported_protocol", None),
)


def _exception_kind(exc: httpx.HTTPError) -> tuple[str, AttemptOutcome | None]:
    """What went wrong, and what it proves about whether Apple saw the request."""
    if isinstance(exc, httpx.ConnectError):
        text = str(exc).lower()
        if "ssl" in text or "certificate" in text or "tls" in text:
            return "tls", AttemptOutcome.NOT_SENT
        if any(w in text for w in ("name or service", "nodename", "getaddrinfo", "resolution")):
            return "dns", AttemptOutcome.NOT_SENT
        return "connect", AttemptOutcome.NOT_SENT
    for kind_type, kind, outcome in _KINDS:
        if isinstance(exc, kind_type):
            return kind, outcome
    return "protocol", None


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """One verifying TLS context for every client of this process (loading the CAs: ~40 ms)."""
    return httpx.create_ssl_context()


def _bad_link() -> UnexpectedResponseError:
    return UnexpectedResponseError(
        "Apple's answer holds a link that is not a URL", context={"reason": "bad link"}
    )


def _verify_for(scheme: str) -> ssl.SSLContext:
    # http:// (the sandbox, tests) never negotiates TLS: skip loading the CA bundle at all.
    return _tls_context() if scheme == "https" else ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)


class Transport:
    """Sends requests to one App Store Connect base URL with one token source.

    Counters and the latest response facts live here; the client exposes them.
    """

    def __init__(
        self,
        tokens: TokenSource,
        *,
        base_url: str,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Sleep = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        retry: RetryPolicy | None = None,
        budget: RateBudget | None = None,
        key_id: str | None = None,
        timeout: float = 30.0,
        max_concurrency: int = 4,
    ) -> None:
        if max_concurrency < 1:
            raise ValueError("max_concurrency must be at least 1")
        self.base_url = base_url.rstrip("/")
        try:
            base = httpx.URL(self.base_url)
        except httpx.InvalidURL as exc:
            raise UsageError(f"the API URL {base_url!r} is not a valid URL") from exc
        if base.scheme not in {"http", "https"} or not base.host:
            raise UsageError(f"the API URL {base_url!r} must be an http(s) URL with a host")
        self._origin = (base.scheme, base.host, base.port)
        self._tokens = tokens
        self._sleep = sleep
        self._clock = clock
        self._wall_clock = wall_clock
        self.retry = retry or RetryPolicy()
        self.budget: RateBudget = budget or PacingBudget(sleep=sleep, clock=clock)
        self.key_id = str(key_id or getattr(tokens, "key_id", None) or "default")
        self._semaphore = asyncio.Semaphore(max_concurrency)
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            transport=transport,
            timeout=timeout,
            follow_redirects=False,
            headers={"Accept": "application/json", "User-Agent": _user_agent()},
            verify=_verify_for(base.scheme),
        )
        self.request_count = 0
        self.rate_limit: RateLimitSnapshot | None = None
        self.last_response: ResponseInfo | None = None

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    def resolve(self, target: str, params: Sequence[tuple[str, str]] | None = None) -> str:
        """The absolute, normalised URL a target (path or link) and parameters stand for.

        Raises ``UnexpectedResponseError`` for a link that is not a URL or leaves
        the API's origin (links come from Apple's documents).
        """
        try:
            return str(self._http.build_request("GET", self._url(target, params)).url)
        except httpx.InvalidURL as exc:
            raise _bad_link() from exc

    def _url(self, target: str, params: Sequence[tuple[str, str]] | None) -> str:
        if "://" in target.partition("?")[0]:
            try:
                url = httpx.URL(target)
            except httpx.InvalidURL as exc:
                raise _bad_link() from exc
            if (url.scheme, url.host, url.port) != self._origin:
                raise UnexpectedResponseError(
                    "Apple's answer links to another host; not sending credentials there",
                    context={"reason": "foreign link", "host": url.host},
                )
        elif not target.startswith("/"):
            target = urljoin(self.base_url + "/", target)
        if params:
            joiner = "&" if "?" in target else "?"
            target = f"{target}{joiner}{urlencode(list(params), safe=',', quote_via=quote)}"
        return target

    async def request(
        self,
        method: str,
        target: str,
        *,
        params: Sequence[tuple[str, str]] | None = None,
        body: Any = None,
        replayable: bool | None = None,
    ) -> ApiResponse:
        """Send ``method target`` (a path, or an absolute link on the API's own origin).

        ``replayable`` says whether repeating the request after Apple may have
        acted on it is safe (default: only for GET/HEAD; see
        :mod:`asc_access.api.retry`). Returns the 2xx response or raises the
        classified :class:`~asc_access.errors.ApiError`.
        """
        method = method.upper()
        if replayable is None:
            replayable = method in {"GET", "HEAD"}
        url = self._url(target, params)
        content = None if body is None else json.dumps(body, separators=(",", ":")).encode()
        started = self._clock()
        sends = 0
        reminted = False
        maybe_processed = False
        previous: FailedAttempt | None = None
        while True:
            sends += 1
            try:
                result = await self._attempt(
                    method, url, content, sends, after_retry=maybe_processed
                )
            except RateLimitedError as stop:
                if previous is None:
                    raise
                # The budget refused a retry: report what Apple said, noting the stop.
                previous.error.context["budget_stopped_retries"] = True
                raise previous.error from stop
            previous = result if isinstance(result, FailedAttempt) else None
            if isinstance(result, ApiResponse):
                return replace(result, after_retry=sends > 1)
            if result.remint and not reminted:
                reminted = True
                self._tokens.invalidate()
                log.info("%s %s -> 401; token re-minted, sending once more", method, url_path(url))
                continue
            maybe_processed = maybe_processed or result.outcome is AttemptOutcome.MAYBE_PROCESSED
            await self._wait_to_retry(
                result, method, url, replayable, sends - int(reminted), started
            )

    async def _wait_to_retry(
        self,
        failure: FailedAttempt,
        method: str,
        url: str,
        replayable: bool,
        attempt: int,
        started: float,
    ) -> None:
        """Sleep before the next attempt, or raise the failure's error when none may follow."""
        error = failure.error
        delay = self.retry.next_delay(
            failure.outcome,
            replayable=replayable,
            attempt=attempt,
            retry_after=error.retry_after,
            elapsed=lambda: self._clock() - started,
        )
        if delay is None:
            raise error from failure.cause
        what = error.apple_code or error.context.get("kind") or error.status
        log.info(
            "%s %s failed (%s); retry %d in %.2fs", method, url_path(url), what, attempt, delay
        )
        await self._sleep(delay)

    async def _attempt(
        self, method: str, url: str, content: bytes | None, sends: int, *, after_retry: bool
    ) -> ApiResponse | FailedAttempt:
        path = url_path(url)
        try:
            await self.budget.before_request(self.key_id)
        except RateLimitedError as exc:
            if exc.method:
                raise
            raise RateLimitedError(
                exc.message,
                method=method,
                path=path,
                rate_limit=exc.rate_limit or self.rate_limit,
                retry_after=exc.retry_after,
                cause=exc.cause,
                context=exc.context,
            ) from exc
        async with self._semaphore:
            headers = {"Authorization": f"Bearer {self._tokens.token()}"}
            if content is not None:
                headers["Content-Type"] = "application/json"
            try:
                request = self._http.build_request(method, url, content=content, headers=headers)
            except httpx.InvalidURL as exc:
                raise UsageError(f"cannot build a request for {path!r}") from exc
            self.request_count += 1
            begun = self._clock()
            try:
                response = await self._http.send(request)
            except httpx.HTTPError as exc:
                return self._transport_failure(exc, method, path, sends, after_retry)
        return self._outcome(method, path, response, sends, after_retry, self._clock() - begun)

    def _transport_failure(
        self, exc: httpx.HTTPError, method: str, path: str, sends: int, after_retry: bool
    ) -> FailedAttempt:
        kind, outcome = _exception_kind(exc)
        detail = " ".join(f"{type(exc).__name__}: {exc}".split())[:300]
        detail = redact(detail)
        context: dict[str, Any] = {"kind": kind, "exception": type(exc).__name__, "attempts": sends}
        if after_retry:
            context["after_retry"] = True
        log.debug("%s %s failed: %s (send %d)", method, path, kind, sends)
        error_type = UnexpectedResponseError if kind == "decoding" else TransportError
        verb = "could not be read" if kind == "decoding" else "could not be reached"
        error = error_type(
            f"{self._origin[1]} {verb} ({kind}): {detail}",
            method=method,
            path=path,
            rate_limit=self.rate_limit,
            context=context,
        )
        return FailedAttempt(error, outcome, cause=exc)

    def _outcome(
        self,
        method: str,
        path: str,
        response: httpx.Response,
        sends: int,
        after_retry: bool,
        elapsed: float,
    ) -> ApiResponse | FailedAttempt:
        info = self._observe(method, path, response, sends, elapsed)
        status = response.status_code
        if 200 <= status < 300:
            return ApiResponse(info=info, body=response.content)
        return failed_answer(
            info,
            response.content,
            retry_after=parse_retry_after(response.headers.get("retry-after"), now=info.date),
            rate_limit=info.rate_limit or self.rate_limit,
            sends=sends,
            after_retry=after_retry,
            wall_clock=self._wall_clock,
        )

    def _observe(
        self, method: str, path: str, response: httpx.Response, sends: int, elapsed: float
    ) -> ResponseInfo:
        """Read the answer's facts (rate limit, Date, request id); tell the budget; log."""
        headers = response.headers
        snapshot = parse_rate_limit(headers.get("x-rate-limit"))
        info = ResponseInfo(
            method=method,
            path=path,
            status=response.status_code,
            request_id=headers.get("x-request-id") or None,
            rate_limit=snapshot,
            date=http_date(headers.get("date")),
        )
        self.last_response = info
        if snapshot is not None:
            self.rate_limit = snapshot
            self.budget.observe(self.key_id, snapshot)
        log.debug(
            "%s %s -> %d in %.0f ms (request id %s, rate limit %s/%s, send %d)",
            method,
            path,
            info.status,
            elapsed * 1000,
            info.request_id,
            snapshot.remaining if snapshot else "?",
            snapshot.limit if snapshot else "?",
            sends,
        )
        return info
