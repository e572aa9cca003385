"""A page's ``links.next`` read off the end of its body, before the whole body is parsed.

A member page is ~240 KB of JSON: parsing it takes a few milliseconds, and the next
page's request cannot leave before its cursor is known. Apple (and the sandbox) put
the document's ``links`` and ``meta`` last, so the cursor can be read from the tail
alone. :func:`peek_next_link` answers only when the tail proves itself: the last
``"links"`` key, its object, then nothing but further members (``meta``) and the
closing brace of the top-level object. Anything else (another order, a nested
``links``, an escaped quote) gives ``None`` and the caller parses first, as before.
The caller still checks the peeked link against the parsed document.
"""

from __future__ import annotations

import json
import re

__all__ = ["peek_next_link"]

_DECODER = json.JSONDecoder()
_SPACE = re.compile(r"[ \t\n\r]*")
_TAIL = 16_384  #: links and meta are small; a longer tail is not Apple's shape


def peek_next_link(body: bytes) -> str | None:
    """``links.next`` of the top-level object when the body's tail shows it unambiguously."""
    at = body.rfind(b'"links"', max(0, len(body) - _TAIL))
    if at <= 0 or body[at - 1 : at] == b"\\":
        return None
    try:
        text = body[at:].decode("utf-8")
        _, end = _DECODER.raw_decode(text)
        end = _colon(text, end)
        links, end = _DECODER.raw_decode(text, end)
        if not isinstance(links, dict) or not _closes_top_level(text, end):
            return None
    except (ValueError, UnicodeDecodeError):
        return None
    link = links.get("next")
    return link if isinstance(link, str) and link else None


def _skip(text: str, at: int) -> int:
    """The position after any whitespace at ``at``."""
    space = _SPACE.match(text, at)
    return space.end() if space else at


def _colon(text: str, at: int) -> int:
    at = _skip(text, at)
    if text[at : at + 1] != ":":
        raise ValueError("no colon")
    return _skip(text, at + 1)


def _closes_top_level(text: str, at: int) -> bool:
    """Whether only ``, "key": value`` members and one final ``}`` follow ``at``."""
    at = _skip(text, at)
    while text[at : at + 1] == ",":
        at = _skip(text, at + 1)
        key, at = _DECODER.raw_decode(text, at)
        if not isinstance(key, str):
            return False
        _, at = _DECODER.raw_decode(text, _colon(text, at))
        at = _skip(text, at)
    return text[at : at + 1] == "}" and not text[at + 1 :].strip()
