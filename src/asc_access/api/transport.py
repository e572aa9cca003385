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
chained with ``from``. The bearer token is never logged, never put in an error.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import ssl
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from importlib import metadata
from typing import Any
from urllib.parse import quote, urlencode, urljoin

import httpx

from asc_access.api.classify import classify
from asc_access.api.jsonapi import decode_errors
from asc_access.api.ratelimit import PacingBudget, RateBudget, parse_rate_limit, parse_retry_after
from asc_access.api.response import (
    ApiResponse,
    error_message,
    excerpt,
    http_date,
    redact,
    url_path,
)
from asc_access.api.retry import Outcome, RetryPolicy, may_repeat
from asc_access.api.types import ResponseInfo, TokenSource
from asc_access.errors import (
    ApiError,
    RateLimitedError,
    RateLimitSnapshot,
    ResourceNotFoundError,
    TransportError,
    UnexpectedResponseError,
    UsageError,
)

__all__ = ["ApiResponse", "AsyncTransport", "Sleep", "Transport"]

log = logging.getLogger("asc_access.api")

#: The type of an injectable httpx transport (``httpx.MockTransport`` in unit tests).
AsyncTransport = httpx.AsyncBaseTransport
Sleep = Callable[[float], Awaitable[None]]


@functools.cache
def _user_agent() -> str:
    # Cached: reading the installed metadata scans site-packages (~15 ms a client).
    try:
        return f"asc-access/{metadata.version('asc-access')}"
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "asc-access"


def _exception_kind(exc: httpx.HTTPError) -> tuple[str, Outcome | None]:
    """What went wrong, and what it proves about whether Apple saw the request."""
    if isinstance(exc, httpx.ConnectTimeout):
        return "connect_timeout", Outcome.NOT_SENT
    if isinstance(exc, httpx.PoolTimeout):
        return "pool_timeout", Outcome.NOT_SENT
    if isinstance(exc, httpx.TimeoutException):
        return "timeout", Outcome.MAYBE_PROCESSED
    if isinstance(exc, httpx.ProxyError):
        return "proxy", Outcome.NOT_SENT
    if isinstance(exc, httpx.ConnectError):
        text = str(exc).lower()
        if "ssl" in text or "certificate" in text or "tls" in text:
            return "tls", Outcome.NOT_SENT
        if any(w in text for w in ("name or service", "nodename", "getaddrinfo", "resolution")):
            return "dns", Outcome.NOT_SENT
        return "connect", Outcome.NOT_SENT
    if isinstance(exc, httpx.RemoteProtocolError):
        return "dropped", Outcome.MAYBE_PROCESSED
    if isinstance(exc, httpx.NetworkError):
        return "network", Outcome.MAYBE_PROCESSED
    if isinstance(exc, httpx.DecodingError):
        return "decoding", None
    if isinstance(exc, httpx.UnsupportedProtocol):
        return "unsupported_protocol", None
    return "protocol", None


@dataclass(frozen=True, slots=True)
class _Failure:
    error: ApiError
    outcome: Outcome | None
    remint: bool = False
    cause: BaseException | None = None


#: A clock this far ahead of Apple's puts a token's ``iat`` in Apple's future even
#: after the usual back-dating; this far behind, the token has expired on arrival.
SKEW_AHEAD_REFUSED = 120.0
SKEW_BEHIND_REFUSED = 600.0


def skew_explains_refusal(skew_seconds: float) -> bool:
    """Whether a clock ``skew_seconds`` off Apple's (positive: ahead) explains a 401."""
    return skew_seconds >= SKEW_AHEAD_REFUSED or skew_seconds <= -SKEW_BEHIND_REFUSED


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """One verifying TLS context for every client of this process (loading the CAs: ~40 ms)."""
    return httpx.create_ssl_context()


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
            raise UnexpectedResponseError(
                "Apple's answer holds a link that is not a URL", context={"reason": "bad link"}
            ) from exc

    def _url(self, target: str, params: Sequence[tuple[str, str]] | None) -> str:
        if "://" in target.partition("?")[0]:
            try:
                url = httpx.URL(target)
            except httpx.InvalidURL as exc:
                raise UnexpectedResponseError(
                    "Apple's answer holds a link that is not a URL", context={"reason": "bad link"}
                ) from exc
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
        previous: _Failure | None = None
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
            previous = result if isinstance(result, _Failure) else None
            if isinstance(result, ApiResponse):
                return replace(result, after_retry=sends > 1)
            if result.remint and not reminted:
                reminted = True
                self._tokens.invalidate()
                log.info("%s %s -> 401; token re-minted, sending once more", method, url_path(url))
                continue
            maybe_processed = maybe_processed or result.outcome is Outcome.MAYBE_PROCESSED
            delay = self._delay(result, replayable, sends - int(reminted), started)
            if delay is None:
                raise result.error from result.cause
            log.info(
                "%s %s failed (%s); retry %d in %.2fs",
                method,
                url_path(url),
                result.error.apple_code or result.error.context.get("kind") or result.error.status,
                sends - int(reminted),
                delay,
            )
            await self._sleep(delay)

    def _delay(
        self, failure: _Failure, replayable: bool, attempt: int, started: float
    ) -> float | None:
        policy = self.retry
        if failure.outcome is None or not may_repeat(failure.outcome, replayable=replayable):
            return None
        if attempt >= policy.max_attempts:
            return None
        retry_after = failure.error.retry_after
        delay = retry_after if retry_after is not None else policy.backoff(attempt)
        if self._clock() - started + delay > policy.total_budget:
            return None
        return delay

    async def _attempt(
        self, method: str, url: str, content: bytes | None, sends: int, *, after_retry: bool
    ) -> ApiResponse | _Failure:
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
    ) -> _Failure:
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
        return _Failure(error, outcome, cause=exc)

    def _outcome(
        self,
        method: str,
        path: str,
        response: httpx.Response,
        sends: int,
        after_retry: bool,
        elapsed: float,
    ) -> ApiResponse | _Failure:
        headers = response.headers
        status = response.status_code
        snapshot = parse_rate_limit(headers.get("x-rate-limit"))
        date = http_date(headers.get("date"))
        info = ResponseInfo(
            method=method,
            path=path,
            status=status,
            request_id=headers.get("x-request-id") or None,
            rate_limit=snapshot,
            date=date,
        )
        self.last_response = info
        if snapshot is not None:
            self.rate_limit = snapshot
            self.budget.observe(self.key_id, snapshot)
        log.debug(
            "%s %s -> %d in %.0f ms (request id %s, rate limit %s/%s, send %d)",
            method,
            path,
            status,
            elapsed * 1000,
            info.request_id,
            snapshot.remaining if snapshot else "?",
            snapshot.limit if snapshot else "?",
            sends,
        )
        if 200 <= status < 300:
            return ApiResponse(info=info, body=response.content)
        errors = decode_errors(response.content)
        rule = classify(status, errors)
        context: dict[str, Any] = {"attempts": sends}
        if not errors:
            context["excerpt"] = excerpt(response.content)
        message = error_message(status, errors)
        if after_retry:
            context["after_retry"] = True
            if rule.error is ResourceNotFoundError and method == "DELETE":
                message = (
                    "Not found when the DELETE was repeated: the earlier attempt, "
                    f"whose answer was lost, probably succeeded ({message})"
                )
        cause = None
        if status == 401 and date is not None:
            skew = self._wall_clock() - date.timestamp()
            if skew_explains_refusal(skew):
                # Apple's 401 says nothing; its Date header shows our tokens' times are off.
                cause = "clock_skew"
                context["clock_skew_seconds"] = round(skew, 1)
                message += f"; this computer's clock is {abs(skew):.0f} s " + (
                    "ahead of Apple's" if skew > 0 else "behind Apple's"
                )
        error = rule.error(
            message,
            method=method,
            path=path,
            status=status,
            errors=errors,
            request_id=info.request_id,
            rate_limit=snapshot or self.rate_limit,
            retry_after=parse_retry_after(headers.get("retry-after"), now=date),
            cause=cause,
            context=context,
        )
        outcome: Outcome | None = None
        if status == 429:
            outcome = Outcome.NOT_PROCESSED
        elif rule.action == "retry":
            outcome = Outcome.MAYBE_PROCESSED
        return _Failure(error, outcome, remint=rule.action == "remint")
