"""The shapes of App Store Connect ids, and how a message may quote a wrong one."""

from __future__ import annotations

import re

from asc_access.credentials.keys import clean_text_value

__all__ = ["KEY_ID_PATTERN", "UUID_PATTERN", "clean", "issuer_problem", "key_id_problem", "shown"]

KEY_ID_PATTERN = re.compile(r"^[A-Z0-9]{10}$")
#: Shape only, case-insensitive: Apple's own sample is not an RFC 4122 UUID.
UUID_PATTERN = re.compile(
    r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.IGNORECASE
)
#: Longest id value quoted back in a message (an Issuer ID has 36 characters).
_QUOTE_MAX = 40


def clean(value: str) -> tuple[str, str]:
    """The value without stray quotes and whitespace, and a note saying what was removed."""
    cleaned, notes = clean_text_value(value)
    return cleaned, (f" ({'; '.join(notes)})" if notes else "")


def key_id_problem(key_id: str) -> str | None:
    """Why ``key_id`` is not a Key ID (``None`` when it is one)."""
    if KEY_ID_PATTERN.match(key_id):
        return None
    if UUID_PATTERN.match(key_id):
        return (
            "it is shaped like an Issuer ID (a UUID); the Key ID is the 10-character "
            "value in the KEY ID column"
        )
    problems = []
    if len(key_id) != 10:
        problems.append(f"it has {len(key_id)} characters, a Key ID has 10")
    if any(c.islower() for c in key_id):
        problems.append("it has lower-case letters, Key IDs are upper-case")
    odd = sorted({c for c in key_id if not c.isalnum()})
    if odd:
        problems.append(f"it contains {', '.join(repr(c) for c in odd)}")
    if not problems:
        problems.append("it must be 10 upper-case letters and digits")
    return "; ".join(problems) + f" (got {shown(key_id)})"


def issuer_problem(issuer_id: str) -> str:
    """Why ``issuer_id`` (which failed the shape check) is not an Issuer ID."""
    if KEY_ID_PATTERN.match(issuer_id):
        return (
            f"{issuer_id!r} looks like a Key ID; the Issuer ID is the UUID shown at "
            "the top of the Team Keys tab"
        )
    return (
        f"expected 8-4-4-4-12 hexadecimal digits with hyphens "
        f"(like 57246542-96fe-1a63-e053-0824d011072a), got {shown(issuer_id)}"
    )


def shown(value: str) -> str:
    """How a message may quote an id value: verbatim when short, described otherwise.

    A long or multi-line value is often a secret pasted into the wrong place (the
    ``.p8``'s content in ``ASC_KEY_ID``); it must never be echoed into output or logs.
    """
    if len(value) <= _QUOTE_MAX and "\n" not in value and "PRIVATE KEY" not in value:
        return repr(value)
    looks = " that looks like a private key" if "PRIVATE KEY" in value or len(value) > 100 else ""
    return f"a {len(value)}-character value{looks}, not shown"
