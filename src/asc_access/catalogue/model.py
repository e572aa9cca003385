"""The shapes of the catalogue's one table, and the template filler its wording uses.

A :class:`CauseEntry` is one row per cause id: its code (``APP-10x``), the
words a person reads (title, meaning, certainty rule, evidence template,
numbered resolution steps) and the error class that carries it by default. An
:class:`AppleCodeEntry` says which Apple answers (HTTP status, Apple code)
classify to which cause, and what a client does about them. Templates use
``{name}`` fields; :func:`fill` supplies readable defaults (``<KEY_ID>``) for
facts a caller does not know.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

__all__ = [
    "Action",
    "AppleCodeEntry",
    "CauseEntry",
    "Certainty",
    "Kind",
    "Wording",
    "cause_entry",
    "fill",
]

Certainty = Literal["certain", "likely"]
Action = Literal["remint", "retry", "fail"]
Kind = Literal[
    "authentication",
    "permission",
    "agreements",
    "not_found",
    "gone",
    "bad_request",
    "conflict",
    "rate_limit",
    "server",
]


@dataclass(frozen=True, slots=True)
class CauseEntry:
    """One catalogue cause: its code, what the doctor says, and its default error class.

    ``error`` names the error class (in :mod:`asc_access.errors`) whose
    ``default_code`` / ``default_cause`` this entry is, when one is.
    """

    code: str
    cause: str
    title: str
    meaning: str
    certainty: Certainty
    certainty_rule: str
    evidence: str
    resolution: tuple[str, ...]
    error: str | None = None


def cause_entry(
    code: str,
    cause: str,
    title: str,
    meaning: str,
    certainty: Certainty,
    rule: str,
    evidence: str,
    *steps: str,
    error: str | None = None,
) -> CauseEntry:
    """A :class:`CauseEntry`, with the resolution steps as trailing arguments."""
    return CauseEntry(code, cause, title, meaning, certainty, rule, evidence, steps, error)


@dataclass(frozen=True, slots=True)
class AppleCodeEntry:
    """One known Apple error, and how it classifies.

    ``code=None`` is the fallback for its status (for 404: the answer carried no
    Apple error document at all). ``wording`` narrows a code to documents whose
    title or detail mention it (the 2020 agreements block). ``any_code`` makes
    the entry take every Apple document of its status that no other code
    claims. ``cause`` names the catalogue cause when the error is a catalogued
    failure (the doctor may refine it with more evidence); ``action`` is what a
    client does: ``remint`` the token once, ``retry`` when safe, or ``fail``.
    """

    status: int
    code: str | None
    kind: Kind
    title: str
    meaning: str
    cause: str | None
    action: Action
    wording: str | None = None
    any_code: bool = False


@dataclass(frozen=True, slots=True)
class Wording:
    """What a person reads about a failure outside the catalogue (no code, no cause)."""

    title: str
    resolution: tuple[str, ...] = ()


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
