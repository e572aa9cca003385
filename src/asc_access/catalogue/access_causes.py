"""The APP-102 to APP-107 causes: permissions, agreements, rate limit, Apple, the network."""

from __future__ import annotations

from asc_access.catalogue.model import CauseEntry
from asc_access.catalogue.model import cause_entry as _e
from asc_access.catalogue.steps import (
    AGAIN,
    NEW_ADMIN_KEY,
    REVOKE_OLD,
    ROTATE,
    TEAM_KEYS,
)

__all__ = ["ACCESS_CAUSES"]

ACCESS_CAUSES: tuple[CauseEntry, ...] = (
    _e(
        "APP-102",
        "key_role_insufficient",
        "The key's role does not allow managing users",
        "Apple accepts the key, but its access role may not read or manage users and "
        "invitations. Managing users needs an Admin key. A key's role cannot be edited.",
        "certain",
        "certain: Apple accepted the token and answered 403 FORBIDDEN_ERROR ('The API key in "
        "use does not allow this request') to a call the integration needs.",
        "Apple accepted the key ({ok_calls}) but answered 403 FORBIDDEN_ERROR to {request}.",
        NEW_ADMIN_KEY,
        ROTATE,
        REVOKE_OLD,
        error="PermissionDeniedError",
    ),
    _e(
        "APP-102",
        "permissions_revoked",
        "The key lost permissions it had before",
        "This connection's key could make these calls before and now gets 403. An individual "
        "key carries its owner's roles, which an Admin may have changed; a team key's role "
        "cannot change, so it may have been revoked.",
        "likely",
        "certain for an individual key (its owner's roles changed: the same key read these "
        "resources before and is now forbidden); likely for a team key (whose role cannot "
        "change).",
        "On {last_ok_at} this connection could {lost}; now Apple answers 403 FORBIDDEN_ERROR "
        "to {request}.",
        "For an individual key: in **Users and Access → People**, an Admin selects the key's "
        "owner and gives back the **Admin** role.",
        f"For a team key: check in {TEAM_KEYS} whether key {{key_id}} was revoked.",
        "Or use a new Admin key: " + NEW_ADMIN_KEY,
        ROTATE,
    ),
    _e(
        "APP-102",
        "individual_key_limited",
        "This individual key's owner is not an Admin",
        "An individual key acts with its owner's roles and app access. Apple accepts it, but "
        "its owner may not read or manage users.",
        "certain",
        "certain: the individual key is accepted and Apple answered 403 FORBIDDEN_ERROR to a "
        "call the integration needs.",
        "Apple accepted the individual key ({ok_calls}) but answered 403 FORBIDDEN_ERROR to "
        "{request}.",
        "Either an Admin gives the key's owner the **Admin** role in **Users and Access → "
        "People** (the key follows its owner's roles at once),",
        "or use a team key with the Admin role: " + NEW_ADMIN_KEY,
        ROTATE,
    ),
    _e(
        "APP-103",
        "agreements_missing",
        "The team's agreements must be accepted by the Account Holder",
        "Apple blocks every API call until the Account Holder accepts the latest agreements. "
        "No key or role change helps; only the Account Holder can fix it.",
        "certain",
        "certain: Apple answered 403 FORBIDDEN.REQUIRED_AGREEMENTS_MISSING_OR_EXPIRED.",
        "Apple answered 403 {apple_code} to {request}.",
        "Ask the team's **Account Holder** to sign in to App Store Connect, open **Business** "
        "and accept every pending agreement (the latest Program License Agreement first).",
        "The Apple Developer website (Account) may show the same agreement; accepting it there "
        "counts too.",
        "The block lifts as soon as the agreements are accepted. " + AGAIN,
        error="AgreementsError",
    ),
    _e(
        "APP-104",
        "rate_limited",
        "Apple's hourly request limit for this key is used up",
        "Apple counts requests per key over a rolling hour (the limit is in every response, "
        "typically 3600). asc-access stops before burning the last requests.",
        "certain",
        "certain: Apple answered 429 RATE_LIMIT_EXCEEDED, or its X-Rate-Limit header shows "
        "no requests left.",
        "{detail}",
        "Wait: the budget refills as the hour rolls on; asc-access retries queued syncs later.",
        "Other tools using the same key (CI, fastlane, scripts) share its budget. Give "
        f"asc-access its own key: {TEAM_KEYS} → **Generate API Key**.",
        "If it keeps happening, sync less often (the connection's sync interval).",
        error="RateLimitedError",
    ),
    _e(
        "APP-105",
        "apple_unavailable",
        "App Store Connect's API failed",
        "Apple's service answered with server errors (5xx) or timed out, and retries did not "
        "help. This is on Apple's side.",
        "certain",
        "certain: Apple answered 5xx (or timed out) on every attempt.",
        "{detail}",
        "Check Apple's System Status page (developer.apple.com/system-status) for App Store "
        "Connect.",
        "Try again later; asc-access already retried with back-off.",
        "If it persists, report it to Apple (developer.apple.com/contact) with the request id "
        "{request_id}.",
        error="ServerError",
    ),
    _e(
        "APP-106",
        "network_unreachable",
        "App Store Connect could not be reached",
        "The request never reached Apple: DNS, connection, TLS or proxy failed.",
        "certain",
        "certain: the connection to the API URL failed before any answer.",
        "{detail}",
        "Check that this machine reaches {api_url} (for example `curl -sI {api_url}`): DNS, "
        "firewall, proxy settings (`HTTPS_PROXY`) and TLS inspection are the usual causes.",
        "If asc-access was pointed elsewhere (`--api-url` / `ASC_ACCESS_API_URL`), check that URL.",
        AGAIN,
        error="TransportError",
    ),
    _e(
        "APP-107",
        "unexpected_response",
        "The API answered something asc-access cannot read",
        "The answer was not a JSON:API document from App Store Connect: a proxy or captive "
        "portal page, a wrong API URL, or a broken response.",
        "certain",
        "certain: the response could not be read as Apple's API document.",
        "{detail}",
        "Check the API URL (`--api-url` / `ASC_ACCESS_API_URL`): it should be "
        "https://api.appstoreconnect.apple.com, not a web page.",
        "Check for a proxy or network filter rewriting responses.",
        "If it persists, report it with the request id {request_id}.",
        error="UnexpectedResponseError",
    ),
)
