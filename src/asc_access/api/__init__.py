"""The async App Store Connect API client (library surface).

Build an :class:`AppStoreConnectClient` with a :class:`TokenSource` and use its
resources: ``client.users``, ``client.invitations``, ``client.apps``. See
``docs/library.md``. Only :mod:`asc_access.api.transport` imports httpx.
"""

from asc_access.api.classify import RULES, ClassifyRule, classify
from asc_access.api.client import AppStoreConnectClient
from asc_access.api.jsonapi import associated_errors
from asc_access.api.query import MAX_INCLUDED_LIMIT, MAX_LIMIT
from asc_access.api.ratelimit import PacingBudget, RateBudget, parse_rate_limit, parse_retry_after
from asc_access.api.resources import AppsResource, InvitationsResource, UsersResource
from asc_access.api.retry import RetryPolicy
from asc_access.api.types import Page, ResponseInfo, TokenSource

__all__ = [
    "MAX_INCLUDED_LIMIT",
    "MAX_LIMIT",
    "RULES",
    "AppStoreConnectClient",
    "AppsResource",
    "ClassifyRule",
    "InvitationsResource",
    "PacingBudget",
    "Page",
    "RateBudget",
    "ResponseInfo",
    "RetryPolicy",
    "TokenSource",
    "UsersResource",
    "associated_errors",
    "classify",
    "parse_rate_limit",
    "parse_retry_after",
]
