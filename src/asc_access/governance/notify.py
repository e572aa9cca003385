"""Alerts when a violation opens or resolves: signed webhooks; Slack, Teams, e-mail via apprise.

Channels come from the environment (never from the policy file, which may be
committed with secrets in view):

``ASC_ACCESS_NOTIFY_WEBHOOKS``        webhook URLs (space or comma separated): a JSON POST
                                      signed ``X-Asc-Access-Signature: sha256=<hex>``,
                                      HMAC-SHA256 of the body with
``ASC_ACCESS_NOTIFY_WEBHOOK_SECRET``  the shared secret;
``ASC_ACCESS_NOTIFY_URLS``            apprise URLs: ``slack://…``, ``msteams://…``,
                                      ``mailto://…`` / ``mailtos://…`` (SMTP) and more;
``ASC_ACCESS_NOTIFY_RETRIES``         attempts per delivery (default 3), waiting
``ASC_ACCESS_NOTIFY_BACKOFF``         seconds before the 2nd attempt, doubling (default 1).

Each delivery is stored (:mod:`asc_access.store.notifications`), once per
violation, event and channel; a channel that keeps failing is marked
``failed`` with its last error, and nothing here ever raises into a sync.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import time
import urllib.error
import urllib.request
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from asc_access.store.violations import Violation

__all__ = ["Channel", "NotifySettings", "channels_from_settings", "message", "sign"]

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Asc-Access-Signature"
Sender = Callable[[dict[str, Any]], None]


def sign(secret: str, body: bytes) -> str:
    """The signature header value for ``body``: ``sha256=<hex HMAC>``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _split(value: str | None) -> list[str]:
    return [part for part in (value or "").replace(",", " ").split() if part]


@dataclass(frozen=True, slots=True)
class NotifySettings:
    """Where alerts go, and how hard to try."""

    webhooks: tuple[str, ...] = ()
    webhook_secret: str | None = None
    apprise_urls: tuple[str, ...] = ()
    retries: int = 3
    backoff: float = 1.0

    def __repr__(self) -> str:  # URLs and the secret may carry credentials
        return f"NotifySettings(webhooks={len(self.webhooks)}, apprise={len(self.apprise_urls)})"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> NotifySettings:
        """Read the ``ASC_ACCESS_NOTIFY_*`` variables."""
        env = os.environ if environ is None else environ
        return cls(
            webhooks=tuple(_split(env.get("ASC_ACCESS_NOTIFY_WEBHOOKS"))),
            webhook_secret=env.get("ASC_ACCESS_NOTIFY_WEBHOOK_SECRET") or None,
            apprise_urls=tuple(_split(env.get("ASC_ACCESS_NOTIFY_URLS"))),
            retries=max(1, int(env.get("ASC_ACCESS_NOTIFY_RETRIES") or 3)),
            backoff=max(0.0, float(env.get("ASC_ACCESS_NOTIFY_BACKOFF") or 1.0)),
        )


@dataclass(frozen=True, slots=True)
class Channel:
    """A place alerts go: a label safe to store and show, and how to send there."""

    label: str
    send: Sender


def message(event: str, violation: Violation) -> dict[str, Any]:
    """The alert document (the webhook body; apprise gets its title and text)."""
    verb = "opened" if event == "opened" else "resolved"
    who = f" {violation.email}" if violation.email else ""
    return {
        "event": f"violation.{verb}",
        "title": f"asc-access: policy {violation.policy} {verb} on {violation.connection}{who}",
        "violation": violation.as_dict(),
        "sent_at": datetime.now(UTC).isoformat(),
    }


def _webhook(url: str, secret: str | None) -> Channel:
    parts = urlsplit(url)
    label = f"webhook:{parts.scheme}://{parts.hostname}{f':{parts.port}' if parts.port else ''}"
    label += parts.path

    def send(document: dict[str, Any]) -> None:
        body = json.dumps(document, sort_keys=True).encode()
        headers = {"Content-Type": "application/json", "User-Agent": "asc-access"}
        if secret:
            headers[SIGNATURE_HEADER] = sign(secret, body)
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
                status = response.status
        except urllib.error.HTTPError as error:
            raise RuntimeError(f"HTTP {error.code}") from None
        except (urllib.error.URLError, OSError) as error:
            raise RuntimeError(f"not delivered: {type(error).__name__}") from None
        if not 200 <= status < 300:
            raise RuntimeError(f"HTTP {status}")

    return Channel(label[:200], send)


def _apprise(url: str) -> Channel:
    scheme = url.split("://", 1)[0]
    digest = hashlib.sha256(url.encode()).hexdigest()[:8]

    def send(document: dict[str, Any]) -> None:
        # apprise's mail plugin still imports a deprecated stdlib module: not our warning
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            _apprise_send(url, scheme, document)

    return Channel(f"apprise:{scheme}:{digest}", send)


def _apprise_send(url: str, scheme: str, document: dict[str, Any]) -> None:
    import apprise  # lazy: apprise loads its many plugins; only apprise URLs need it

    notifier = apprise.Apprise()
    if not notifier.add(url):
        raise RuntimeError(f"apprise does not understand the {scheme}:// URL")
    v = document["violation"]
    body = (
        f"{v['detail']}\n\npolicy {v['policy']} ({v['kind']}), team {v['connection']}, "
        f"person {v['email'] or '-'}, first seen {v['first_seen']}"
    )
    if not notifier.notify(title=document["title"], body=body):
        raise RuntimeError(f"apprise could not deliver to {scheme}://")


def channels_from_settings(settings: NotifySettings) -> list[Channel]:
    """Every configured channel."""
    out = [_webhook(url, settings.webhook_secret) for url in settings.webhooks]
    out += [_apprise(url) for url in settings.apprise_urls]
    return out


def send_with_retries(
    channel: Channel,
    document: dict[str, Any],
    settings: NotifySettings,
    *,
    sleep: Callable[[float], None] = time.sleep,
) -> tuple[bool, int, str | None]:
    """Try up to ``retries`` times, backing off; ``(ok, attempts, last error)``."""
    error: str | None = None
    for attempt in range(1, settings.retries + 1):
        try:
            channel.send(document)
        except Exception as failure:  # noqa: BLE001  (any failure of a channel is its own)
            error = str(failure) or type(failure).__name__
            log.warning("alert to %s failed (attempt %s): %s", channel.label, attempt, error)
            if attempt < settings.retries:
                sleep(settings.backoff * 2 ** (attempt - 1))
            continue
        return True, attempt, None
    return False, settings.retries, error


def labels(channels: Sequence[Channel]) -> list[str]:
    """The stored labels of ``channels``."""
    return [c.label for c in channels]
