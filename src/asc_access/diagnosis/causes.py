"""The diagnosis table: for every catalogue cause, what a person reads.

Each :class:`CauseEntry` holds the one-line title, what it means, when we are
``certain`` and when only ``likely`` (the rule the doctor applies), an
evidence template and numbered resolution steps written in App Store Connect's
own menu names. ``docs/errors.md`` is generated from this table
(:mod:`asc_access.diagnosis.docs`) and a test keeps the two identical.

Templates use ``{name}`` fields; :func:`fill` supplies readable defaults
(``<KEY_ID>``) for facts a caller does not know.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from asc_access.catalogue import CAUSES as CATALOGUE_CAUSES
from asc_access.catalogue import code_of

__all__ = ["CAUSES", "KEYS_PAGE", "CauseEntry", "Certainty", "entry", "fill"]

Certainty = Literal["certain", "likely"]

KEYS_PAGE = "**Users and Access → Integrations → App Store Connect API**"
_TEAM_KEYS = f"{KEYS_PAGE}, tab **Team Keys**"
_INDIVIDUAL = "your name (top right of any page) → **Edit Profile** → **Individual API Key**"
_NEW_ADMIN_KEY = (
    f"Generate a replacement key: {_TEAM_KEYS} → **Generate API Key** (or **+**), give it a "
    "name and the **Admin** access role. Download the `.p8` at once: App Store Connect "
    "offers the download only once."
)
_ROTATE = (
    "Give asc-access the new key: `asc-access connections rotate-key {name} --key-id "
    "<NEW_KEY_ID> --issuer-id {issuer_id} --private-key-file AuthKey_<NEW_KEY_ID>.p8` "
    "(or `asc-access connect` for a new connection)."
)
_REVOKE_OLD = (
    "Once nothing uses the old key {key_id} any more, click **Revoke** next to it in the "
    "same list (revocation is immediate and permanent)."
)
_AGAIN = "Run `asc-access doctor` again to confirm."


@dataclass(frozen=True, slots=True)
class CauseEntry:
    """What the doctor says about one catalogue cause."""

    cause: str
    title: str
    meaning: str
    certainty: Certainty
    certainty_rule: str
    evidence: str
    resolution: tuple[str, ...]

    @property
    def code(self) -> str:
        """The catalogue code this cause belongs to."""
        return code_of(self.cause)


def _e(
    cause: str,
    title: str,
    meaning: str,
    certainty: Certainty,
    rule: str,
    evidence: str,
    *steps: str,
) -> CauseEntry:
    return CauseEntry(cause, title, meaning, certainty, rule, evidence, steps)


_ENTRIES = (
    _e(
        "key_id_malformed",
        "The Key ID is not a valid App Store Connect Key ID",
        "A Key ID is 10 upper-case letters and digits, shown in the KEY ID column of the "
        "key's row. The value given is not shaped like one, so Apple could never accept it.",
        "certain",
        "certain: the value fails the shape check `^[A-Z0-9]{10}$` after removing "
        "surrounding whitespace and quotes.",
        "{message}",
        f"Open {_TEAM_KEYS} (for an individual key: {_INDIVIDUAL}).",
        "Find the key and copy its **KEY ID** with the copy button next to it: 10 characters, "
        "upper-case letters and digits (Apple's sample: `2X9R4HXF34`).",
        "Pass exactly that value with `--key-id` or `ASC_KEY_ID` (not the Issuer ID, not the "
        "file name).",
        _AGAIN,
    ),
    _e(
        "issuer_id_malformed",
        "The Issuer ID is not a valid App Store Connect Issuer ID",
        "The Issuer ID identifies the team; it is a UUID (8-4-4-4-12 hexadecimal digits) "
        "shown at the top of the Team Keys tab. The value given is not shaped like one.",
        "certain",
        "certain: the value fails the shape check (8-4-4-4-12 hexadecimal digits, any case) "
        "after removing surrounding whitespace and quotes.",
        "{message}",
        f"Open {_TEAM_KEYS}.",
        "Copy the **Issuer ID** shown at the top of the page with its copy button (it looks "
        "like `57246542-96fe-1a63-e053-0824d011072a`).",
        "Pass it with `--issuer-id` or `ASC_ISSUER_ID`. An individual key has no Issuer ID: "
        "leave it out and pass `--individual`.",
        _AGAIN,
    ),
    _e(
        "ids_swapped",
        "The Key ID and the Issuer ID are swapped",
        "The value given as Key ID is shaped like an Issuer ID (a UUID) and the value given "
        "as Issuer ID is shaped like a Key ID (10 characters).",
        "certain",
        "certain: the Key ID matches the Issuer ID shape and the Issuer ID matches the Key ID "
        "shape.",
        "{message}",
        "Swap the two values: the 10-character value is the Key ID (`--key-id` / "
        "`ASC_KEY_ID`), the UUID is the Issuer ID (`--issuer-id` / `ASC_ISSUER_ID`).",
        f"To double-check, open {_TEAM_KEYS}: the Issuer ID is at the top of the page, the "
        "Key ID is in the key's row.",
        _AGAIN,
    ),
    _e(
        "private_key_unreadable",
        "The private key cannot be read",
        "The private key is missing, empty, a directory, unreadable, or not a PEM/base64 key "
        "at all (damaged while copying, truncated, or a different kind of file).",
        "certain",
        "certain: the file or value cannot be read or parsed as a private key.",
        "{message}",
        "Check the path and that it is the `.p8` file downloaded from App Store Connect: a "
        "small text file that starts with `-----BEGIN PRIVATE KEY-----`.",
        "When the key comes from an environment variable or a CI secret, store the file's "
        "whole content unchanged (or its base64); asc-access copes with quotes, `\\n` escapes "
        "and Windows line endings.",
        "If the `.p8` is lost, App Store Connect cannot send it again. " + _NEW_ADMIN_KEY,
        _AGAIN,
    ),
    _e(
        "private_key_wrong_type",
        "The file is not an App Store Connect API private key",
        "App Store Connect API keys are EC private keys on curve P-256 (PKCS#8 `.p8`). "
        "The key given is another kind (RSA, another curve, a public key, a certificate).",
        "certain",
        "certain: the key parses, but is not an EC P-256 private key.",
        "{message}",
        f"Use the `.p8` downloaded from {KEYS_PAGE} for the key whose Key ID you passed; it "
        "is named `AuthKey_<KEY_ID>.p8`.",
        "Certificates, public keys and keys made with openssl or ssh-keygen do not work; nor "
        "do keys for other Apple services.",
        "If the `.p8` is lost: " + _NEW_ADMIN_KEY,
        _AGAIN,
    ),
    _e(
        "private_key_encrypted",
        "The private key is encrypted with a password",
        "App Store Connect's `.p8` is never encrypted. This one was protected with a password "
        "after download, so it cannot sign tokens as it is.",
        "certain",
        "certain: the key is an encrypted PKCS#8 (or encrypted PEM) key.",
        "{message}",
        "Use the `.p8` exactly as downloaded from App Store Connect.",
        "If you encrypted it yourself, decrypt it (you are asked for the password): "
        "`openssl pkey -in encrypted.p8 -out AuthKey_<KEY_ID>.p8` and keep the result "
        "private (`chmod 600`).",
        "`asc-access connect` stores the key encrypted for you; no need to encrypt the file.",
        _AGAIN,
    ),
    _e(
        "key_id_filename_mismatch",
        "The Key ID and the key file belong to different keys",
        "App Store Connect names the download `AuthKey_<KEY_ID>.p8`. The file given is named "
        "for another key than the Key ID given, and Apple refused the token: most likely it "
        "was signed with another key's private key.",
        "likely",
        "likely: the file is named `AuthKey_<X>.p8`, X differs from the Key ID, and Apple "
        "refused the token. A file name alone proves nothing (the file may have been renamed): "
        "when Apple accepts the key, the doctor reports OK with this as a warning.",
        "{message}",
        f"In {KEYS_PAGE}, look up which key you mean to use.",
        "Either pass the Key ID from the file name, or use the `.p8` of the key whose Key ID "
        "you passed.",
        "If you renamed the file yourself and it really is this key, give it back its "
        "original name `AuthKey_<KEY_ID>.p8`.",
        _AGAIN,
    ),
    _e(
        "key_type_mismatch",
        "A team key was used as an individual key, or the other way round",
        "Team keys sign tokens with the Issuer ID (`iss`); individual keys sign with `sub: "
        '"user"` and no Issuer ID. Apple refused the shape given and accepted the other one.',
        "certain",
        "certain: Apple refused the token shape given (401) and accepted the same key in the "
        "other shape.",
        "Apple refused the key's {tried} token (401 NOT_AUTHORIZED) and accepted its "
        "{accepted} token.",
        "This is {accepted_key}. For a team key pass the Issuer ID (`--issuer-id` / "
        "`ASC_ISSUER_ID`) and leave out `--individual`; for an individual key pass "
        "`--individual`.",
        f"Team keys are listed in {_TEAM_KEYS}; individual keys under {_INDIVIDUAL}.",
        _AGAIN,
    ),
    _e(
        "clock_skew",
        "This computer's clock is off, so Apple rejects its tokens",
        "Apple checks a token's issue and expiry times against its own clock. This computer's "
        "clock differs from Apple's by more than a token can absorb.",
        "certain",
        "certain: Apple answered 401 and its `Date` header differs from this computer's clock "
        "by more than the token tolerates (60 s ahead, or the token's remaining lifetime "
        "behind); a token dated by Apple's clock is tried too.",
        "Apple's clock (Date header) is {skew} s {direction} this computer's; the token was "
        "refused (401). {corrected}",
        "Turn on automatic time: macOS System Settings → General → Date & Time → **Set time "
        "and date automatically**; Windows Settings → Time & language → **Set the time "
        "automatically**; Linux `timedatectl set-ntp true`. In a container or VM, fix the "
        "host's clock.",
        "Run `asc-access doctor` again: the measured difference should be a few seconds.",
    ),
    _e(
        "token_lifetime_invalid",
        "The configured token lifetime is out of range",
        "Apple refuses tokens whose lifetime (`exp - iat`) exceeds 20 minutes for these calls, "
        "and a lifetime of zero or less makes no token at all.",
        "certain",
        "certain: the configured lifetime is <= 0 or above 1200 seconds.",
        "{message}",
        "Set the lifetime (`--token-lifetime` or fastlane's `duration`) to at most 1200 "
        "seconds, or leave it out: asc-access uses 11 minutes.",
        "Stay at or below 15 minutes: with a slightly fast clock, Apple has refused longer tokens.",
        _AGAIN,
    ),
    _e(
        "rejected",
        "Apple refused the key",
        "Apple answers every credential problem with the same 401, so it does not say which "
        "value is wrong. Every local check passed; the evidence says what else was ruled out "
        "(the clock, the other token shape), and the suspects are ranked by it.",
        "likely",
        "likely (never certain): Apple's 401 is identical for a wrong Issuer ID, a revoked "
        "key, a `.p8` of another key or another Apple service; local evidence only ranks them.",
        "Apple answered 401 NOT_AUTHORIZED to {request}. {context}",
        f"Open {_TEAM_KEYS} (individual keys: {_INDIVIDUAL}) and check that key {{key_id}} "
        "is listed and active. Revoked keys never work again.",
        "Check the **Issuer ID** at the top of that page equals {issuer_id}: a key of another "
        "team or another developer account fails the same way. Copy it with the copy button.",
        "Check the `.p8` belongs to key {key_id} (downloaded as `AuthKey_{key_id}.p8`). A `.p8` "
        "from Certificates, Identifiers & Profiles → **Keys** (push notifications, Sign in "
        "with Apple) looks identical but does not work with this API.",
        "If the page offers **Request Access**, the Account Holder must request API access "
        "first; no key works before that.",
        "If it still fails: " + _NEW_ADMIN_KEY + " Connect with it, then revoke the old key.",
    ),
    _e(
        "revoked_after_working",
        "Apple stopped accepting a key that used to work",
        "This connection's key worked before and is now refused with a 401 although nothing "
        "changed locally: most often the key was revoked (or its owner left the team).",
        "likely",
        "likely: Apple accepted this key id before (the connection's history) and now refuses "
        "both token shapes with a clean local check and clock; Apple's 401 does not say why.",
        "Apple accepted key {key_id} on {last_ok_at}; now it answers 401 NOT_AUTHORIZED to "
        "{request}. {context}",
        f"Open {_TEAM_KEYS} (individual keys: {_INDIVIDUAL}) and look for key {{key_id}}: a "
        "revoked key is shown as revoked for 30 days, then disappears.",
        "If it was revoked, or belonged to someone who left the team: " + _NEW_ADMIN_KEY,
        _ROTATE,
        "If the key is still active, Apple may be having a short incident: run `asc-access "
        "doctor {name}` again in a few minutes.",
    ),
    _e(
        "key_role_insufficient",
        "The key's role does not allow managing users",
        "Apple accepts the key, but its access role may not read or manage users and "
        "invitations. Managing users needs an Admin key. A key's role cannot be edited.",
        "certain",
        "certain: Apple accepted the token and answered 403 FORBIDDEN_ERROR ('The API key in "
        "use does not allow this request') to a call the integration needs.",
        "Apple accepted the key ({ok_calls}) but answered 403 FORBIDDEN_ERROR to {request}.",
        _NEW_ADMIN_KEY,
        _ROTATE,
        _REVOKE_OLD,
    ),
    _e(
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
        f"For a team key: check in {_TEAM_KEYS} whether key {{key_id}} was revoked.",
        "Or use a new Admin key: " + _NEW_ADMIN_KEY,
        _ROTATE,
    ),
    _e(
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
        "or use a team key with the Admin role: " + _NEW_ADMIN_KEY,
        _ROTATE,
    ),
    _e(
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
        "The block lifts as soon as the agreements are accepted. " + _AGAIN,
    ),
    _e(
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
        f"asc-access its own key: {_TEAM_KEYS} → **Generate API Key**.",
        "If it keeps happening, sync less often (the connection's sync interval).",
    ),
    _e(
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
    ),
    _e(
        "network_unreachable",
        "App Store Connect could not be reached",
        "The request never reached Apple: DNS, connection, TLS or proxy failed.",
        "certain",
        "certain: the connection to the API URL failed before any answer.",
        "{detail}",
        "Check that this machine reaches {api_url} (for example `curl -sI {api_url}`): DNS, "
        "firewall, proxy settings (`HTTPS_PROXY`) and TLS inspection are the usual causes.",
        "If asc-access was pointed elsewhere (`--api-url` / `ASC_ACCESS_API_URL`), check that URL.",
        _AGAIN,
    ),
    _e(
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
    ),
)

CAUSES: dict[str, CauseEntry] = {e.cause: e for e in _ENTRIES}

_ALL_CATALOGUED = {cause for causes in CATALOGUE_CAUSES.values() for cause in causes}
if set(CAUSES) != _ALL_CATALOGUED:  # pragma: no cover - caught at import and by a test
    raise RuntimeError(f"diagnosis table out of step: {set(CAUSES) ^ _ALL_CATALOGUED}")

_DEFAULTS = {
    "key_id": "<KEY_ID>",
    "issuer_id": "<ISSUER_ID>",
    "name": "<NAME>",
    "api_url": "https://api.appstoreconnect.apple.com",
    "request_id": "(none)",
    "request": "the request",
    "context": "",
    "message": "",
    "detail": "",
    "tried": "<KEY TYPE>",
    "accepted": "<OTHER KEY TYPE>",
    "accepted_key": "<a team key | an individual key>",
    "last_ok_at": "<DATE>",
    "ok_calls": "GET /v1/apps",
    "lost": "read users",
    "skew": "<SECONDS>",
    "direction": "ahead of / behind",
    "corrected": "",
    "apple_code": "FORBIDDEN.REQUIRED_AGREEMENTS_MISSING_OR_EXPIRED",
}


class _Facts(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return _DEFAULTS.get(key, f"<{key.upper()}>")


def fill(template: str, facts: Mapping[str, object] | None = None) -> str:
    """Fill ``{field}`` placeholders from ``facts``, with readable defaults for the rest."""
    values = _Facts({k: str(v) for k, v in (facts or {}).items() if v is not None})
    return string.Formatter().vformat(template, (), values).strip()


def entry(cause: str) -> CauseEntry:
    """The table entry for ``cause`` (``KeyError`` for an unknown cause)."""
    return CAUSES[cause]
