"""The APP-101 causes: Key ID, Issuer ID or private key invalid or expired.

The first seven are proven locally (the credential checks raise them with
:class:`~asc_access.errors.CredentialError`); the rest need Apple's answer.
"""

from __future__ import annotations

from functools import partial

from asc_access.catalogue.model import CauseEntry, cause_entry
from asc_access.catalogue.steps import (
    AGAIN,
    INDIVIDUAL,
    KEYS_PAGE,
    NEW_ADMIN_KEY,
    ROTATE,
    TEAM_KEYS,
)

__all__ = ["KEY_CAUSES"]


#: Every key cause is reported as APP-101.
_e = partial(cause_entry, "APP-101")


KEY_CAUSES: tuple[CauseEntry, ...] = (
    _e(
        "key_id_malformed",
        "The Key ID is not a valid App Store Connect Key ID",
        "A Key ID is 10 upper-case letters and digits, shown in the KEY ID column of the "
        "key's row. The value given is not shaped like one, so Apple could never accept it.",
        "certain",
        "certain: the value fails the shape check `^[A-Z0-9]{10}$` after removing "
        "surrounding whitespace and quotes.",
        "{message}",
        f"Open {TEAM_KEYS} (for an individual key: {INDIVIDUAL}).",
        "Find the key and copy its **KEY ID** with the copy button next to it: 10 characters, "
        "upper-case letters and digits (Apple's sample: `2X9R4HXF34`).",
        "Pass exactly that value with `--key-id` or `ASC_KEY_ID` (not the Issuer ID, not the "
        "file name).",
        AGAIN,
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
        f"Open {TEAM_KEYS}.",
        "Copy the **Issuer ID** shown at the top of the page with its copy button (it looks "
        "like `57246542-96fe-1a63-e053-0824d011072a`).",
        "Pass it with `--issuer-id` or `ASC_ISSUER_ID`. An individual key has no Issuer ID: "
        "leave it out and pass `--individual`.",
        AGAIN,
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
        f"To double-check, open {TEAM_KEYS}: the Issuer ID is at the top of the page, the "
        "Key ID is in the key's row.",
        AGAIN,
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
        "If the `.p8` is lost, App Store Connect cannot send it again. " + NEW_ADMIN_KEY,
        AGAIN,
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
        "If the `.p8` is lost: " + NEW_ADMIN_KEY,
        AGAIN,
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
        AGAIN,
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
        AGAIN,
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
        f"Team keys are listed in {TEAM_KEYS}; individual keys under {INDIVIDUAL}.",
        AGAIN,
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
        AGAIN,
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
        f"Open {TEAM_KEYS} (individual keys: {INDIVIDUAL}) and check that key {{key_id}} "
        "is listed and active. Revoked keys never work again.",
        "Check the **Issuer ID** at the top of that page equals {issuer_id}: a key of another "
        "team or another developer account fails the same way. Copy it with the copy button.",
        "Check the `.p8` belongs to key {key_id} (downloaded as `AuthKey_{key_id}.p8`). A `.p8` "
        "from Certificates, Identifiers & Profiles → **Keys** (push notifications, Sign in "
        "with Apple) looks identical but does not work with this API.",
        "If the page offers **Request Access**, the Account Holder must request API access "
        "first; no key works before that.",
        "If it still fails: " + NEW_ADMIN_KEY + " Connect with it, then revoke the old key.",
        error="AuthenticationError",
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
        f"Open {TEAM_KEYS} (individual keys: {INDIVIDUAL}) and look for key {{key_id}}: a "
        "revoked key is shown as revoked for 30 days, then disappears.",
        "If it was revoked, or belonged to someone who left the team: " + NEW_ADMIN_KEY,
        ROTATE,
        "If the key is still active, Apple may be having a short incident: run `asc-access "
        "doctor {name}` again in a few minutes.",
    ),
)
