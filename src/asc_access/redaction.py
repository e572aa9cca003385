"""The one redactor of the product: secrets out of any text before it is kept or shown.

Upstream text (Apple's error titles and details, response excerpts, transport
errors) can echo what we sent: a proxy or a WAF may quote the ``Authorization``
header back. :func:`redact` masks, in this order:

- PEM blocks (``-----BEGIN … KEY-----`` to its end line, or to the end of the
  text when the end line was cut off);
- JWT-shaped strings (``eyJ…`` three base64url parts; Apple's tokens are JWTs);
- a token-shaped value (12 or more characters) after ``Bearer`` (an
  ``Authorization`` echo), leaving prose such as "the bearer token" alone;
- the password of a URL (``redis://user:secret@host``).

It sits in the lowest layer so that the API client (where upstream text
enters), the store (where it is kept), the logs and the service (where it is
shown) all use the same rule.
"""

from __future__ import annotations

import re

__all__ = ["redact"]

_PEM = re.compile(r"-----BEGIN [A-Z0-9 ]+-----.*?(?:-----END [A-Z0-9 ]+-----|$)", re.DOTALL)
_JWT = re.compile(r"eyJ[\w-]{2,}\.[\w-]{2,}\.?[\w-]*")
_BEARER = re.compile(r"(?i)(bearer\s+)[\w.~+/=-]{12,}")
_URL_PASSWORD = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://)(?P<user>[^:/@\s]*):[^@/\s]+@")


def redact(text: str) -> str:
    """``text`` with key material, tokens and URL passwords masked."""
    text = _PEM.sub("[private key redacted]", text)
    text = _JWT.sub("[redacted]", text)
    text = _BEARER.sub(r"\1[redacted]", text)
    return _URL_PASSWORD.sub(r"\g<scheme>\g<user>:***@", text)
