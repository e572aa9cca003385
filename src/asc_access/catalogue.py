"""The error catalogue's identities: codes and their stable cause ids (design.md).

Users script against these names; they never change. The words a person reads
(titles, resolution steps) live in :mod:`asc_access.diagnosis`.
"""

from __future__ import annotations

from typing import Final

__all__ = ["CAUSES", "CODES", "EXIT_STATUS", "code_of", "exit_status_for"]

CODES: Final[dict[str, str]] = {
    "APP-101": "Key ID, Issuer ID or private key invalid or expired",
    "APP-102": "The key lacks permission for the calls the integration needs",
    "APP-103": "The team's agreements are missing or expired",
    "APP-104": "Rate limit reached",
    "APP-105": "Apple's service failed or timed out after retries",
    "APP-106": "Apple could not be reached",
    "APP-107": "Apple answered something the client cannot read",
}

CAUSES: Final[dict[str, tuple[str, ...]]] = {
    "APP-101": (
        "key_id_malformed",
        "issuer_id_malformed",
        "ids_swapped",
        "private_key_unreadable",
        "private_key_wrong_type",
        "private_key_encrypted",
        "key_id_filename_mismatch",
        "key_type_mismatch",
        "clock_skew",
        "token_lifetime_invalid",
        "rejected",
        "revoked_after_working",
    ),
    "APP-102": ("key_role_insufficient", "permissions_revoked", "individual_key_limited"),
    "APP-103": ("agreements_missing",),
    "APP-104": ("rate_limited",),
    "APP-105": ("apple_unavailable",),
    "APP-106": ("network_unreachable",),
    "APP-107": ("unexpected_response",),
}

#: CLI exit status: 0 success, 101-107 catalogued failure, 2 usage, 1 anything else.
EXIT_STATUS: Final[dict[str, int]] = {code: int(code.split("-")[1]) for code in CODES}


def code_of(cause: str) -> str:
    """The code a cause id belongs to."""
    for code, causes in CAUSES.items():
        if cause in causes:
            return code
    raise KeyError(cause)


def exit_status_for(code: str | None) -> int:
    """The CLI exit status for a catalogue code (1 when there is none)."""
    if code is None:
        return 1
    return EXIT_STATUS.get(code, 1)
