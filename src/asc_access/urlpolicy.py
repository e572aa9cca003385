"""Which App Store Connect API URLs the service may send a signed token to.

The service holds Admin keys and signs a token for every request it sends to a
connection's ``api_url``, so that URL must never be chosen by whoever fills in
a form. :class:`UrlPolicy` allows Apple's origin and the exact origins an
operator lists in ``ASC_ACCESS_ALLOWED_API_URLS`` (comma-separated; a sandbox,
say), and refuses everything else before any connection is opened:

- anything that is not a bare origin (a path, query, fragment or user info);
- an origin not on the list;
- plain ``http`` unless the origin is listed *and* its host is loopback;
- a listed host that resolves (now, at check time) to a link-local or
  metadata address, and Apple's host resolving to anything not public.

A refusal says only that the URL is not allowed: it never depends on what is
listening there, so it cannot be used to scan ports. The CLI does not use this
policy: it trusts its own operator's ``--api-url``.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from asc_access.config import APPLE_API_URL, Settings
from asc_access.errors import UsageError

__all__ = [
    "ALLOWED_URLS_ENV",
    "ApiUrlNotAllowedError",
    "Resolver",
    "UrlPolicy",
    "origin_of",
    "system_resolver",
]

ALLOWED_URLS_ENV = "ASC_ACCESS_ALLOWED_API_URLS"

#: ``(host, port)`` → the IP addresses it resolves to (tests inject their own).
Resolver = Callable[[str, int], list[str]]

_IP = ipaddress.IPv4Address | ipaddress.IPv6Address
_METADATA = {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")}


class ApiUrlNotAllowedError(UsageError):
    """The API URL is not one the service may call (the message never says why in detail)."""

    default_cause = "api_url_not_allowed"


def system_resolver(host: str, port: int) -> list[str]:
    """The addresses ``host`` resolves to now (empty when it does not resolve)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return []
    return [str(info[4][0]) for info in infos]


def origin_of(url: str) -> str | None:
    """``scheme://host[:port]`` of a bare-origin URL (lower-cased, default port dropped).

    ``None`` when ``url`` is not a bare http(s) origin: it has a path (other than
    ``/``), a query, a fragment or user info, or no host.
    """
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if scheme not in {"http", "https"} or not host or parts.username or parts.password:
        return None
    if parts.path not in {"", "/"} or parts.query or parts.fragment or "@" in parts.netloc:
        return None
    default = 443 if scheme == "https" else 80
    shown = f"[{host}]" if ":" in host else host
    return f"{scheme}://{shown}" + (f":{port}" if port not in {None, default} else "")


def _ip(value: str) -> _IP | None:
    try:
        ip = ipaddress.ip_address(value.strip("[]").split("%", 1)[0])
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1
    return ip


def _addresses(values: Iterable[str]) -> list[_IP]:
    return [ip for ip in map(_ip, values) if ip is not None]


def _public(ip: _IP) -> bool:
    return ip.is_global and not ip.is_multicast and ip not in _METADATA


@dataclass(frozen=True)
class UrlPolicy:
    """Apple's origin plus ``extra`` exact origins; ``resolver`` looks hosts up at check time."""

    extra: frozenset[str] = frozenset()
    resolver: Resolver = field(default=system_resolver, compare=False)

    @classmethod
    def from_settings(cls, settings: Settings, *, resolver: Resolver | None = None) -> UrlPolicy:
        """The policy for ``settings.allowed_api_urls`` (``ASC_ACCESS_ALLOWED_API_URLS``)."""
        return cls.from_list(settings.allowed_api_urls, resolver=resolver)

    @classmethod
    def from_list(cls, urls: Iterable[str], *, resolver: Resolver | None = None) -> UrlPolicy:
        """The policy for these origins; :class:`UsageError` for one that is not an origin."""
        extra = set()
        for url in urls:
            origin = origin_of(url)
            if origin is None:
                raise UsageError(
                    f"{ALLOWED_URLS_ENV} lists {url[:200]!r}, which is not an origin: "
                    "give scheme://host[:port] only, e.g. http://127.0.0.1:8765"
                )
            extra.add(origin)
        return cls(frozenset(extra), resolver or system_resolver)

    @property
    def origins(self) -> frozenset[str]:
        """Every allowed origin."""
        apple = origin_of(APPLE_API_URL)
        assert apple is not None
        return self.extra | {apple}

    def listed(self, url: str) -> bool:
        """Whether ``url`` is an allowed origin (no DNS look-up; see :meth:`check`)."""
        origin = origin_of(url)
        return origin is not None and origin in self.origins

    def check(self, url: str) -> str:
        """``url`` if a token may be sent there now; else :class:`ApiUrlNotAllowedError`."""
        origin = origin_of(url)
        if origin is None or origin not in self.origins or not self._addresses_ok(origin):
            raise ApiUrlNotAllowedError(
                f"The API URL {url[:200]!r} is not allowed. The service calls only "
                f"{APPLE_API_URL} and the origins listed in {ALLOWED_URLS_ENV}.",
                context={"input": "api_url"},
            )
        return url

    def _addresses_ok(self, origin: str) -> bool:
        parts = urlsplit(origin)
        host = parts.hostname or ""
        port = parts.port or (443 if parts.scheme == "https" else 80)
        literal = _ip(host)
        if literal is not None:
            ips = [literal]
        else:
            ips = _addresses(self.resolver(host, port))
            if not ips:
                # Unresolvable now: nothing can be reached, and the request will fail as such.
                return True
        if any(ip.is_link_local or ip in _METADATA for ip in ips):
            return False
        if parts.scheme == "http":
            # A token never travels in the clear, except to a listed loopback origin.
            return origin in self.extra and all(ip.is_loopback for ip in ips)
        if origin not in self.extra:
            return all(_public(ip) for ip in ips)  # Apple's host: public addresses only
        return True
