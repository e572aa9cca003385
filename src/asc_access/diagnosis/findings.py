"""Findings: the user-facing explanation of one failure.

:func:`make_finding` builds one from a catalogue cause and the facts the
doctor gathered; :func:`finding_for` turns any error asc-access raises into
one, so the CLI, the service and the workers explain failures the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from asc_access.catalogue import (
    CAUSES,
    CONFLICT_STEP,
    UNCATALOGUED,
    Certainty,
    Wording,
    fill,
    lookup,
)
from asc_access.errors import (
    ApiError,
    AscAccessError,
    CredentialError,
    NotFoundLocallyError,
    RequestRejectedError,
    SecretStoreError,
    UsageError,
)

__all__ = ["Finding", "finding_for", "make_finding", "request_label"]


@dataclass(frozen=True, slots=True)
class Finding:
    """One explained failure: the doctor's ``findings[]`` entry.

    ``code`` / ``cause`` are ``None`` for failures outside the catalogue (a
    conflict Apple reported, a local usage error). ``suspects`` ranks the
    possible reasons when Apple's answer cannot tell them apart.
    """

    code: str | None
    cause: str | None
    certainty: Certainty
    title: str
    evidence: str
    resolution: tuple[str, ...]
    suspects: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        """The JSON shape of the doctor contract (``suspects`` only when there are some)."""
        out: dict[str, Any] = {
            "code": self.code,
            "cause": self.cause,
            "certainty": self.certainty,
            "title": self.title,
            "evidence": self.evidence,
            "resolution": list(self.resolution),
        }
        if self.suspects:
            out["suspects"] = list(self.suspects)
        return out


def make_finding(
    cause: str,
    facts: Mapping[str, object] | None = None,
    *,
    certainty: Certainty | None = None,
    suspects: tuple[str, ...] = (),
) -> Finding:
    """A finding for a catalogue ``cause``, its templates filled from ``facts``."""
    item = CAUSES[cause]
    return Finding(
        code=item.code,
        cause=cause,
        certainty=certainty or item.certainty,
        title=item.title,
        evidence=fill(item.evidence, facts),
        resolution=tuple(fill(step, facts) for step in item.resolution),
        suspects=suspects,
    )


def request_label(error: ApiError) -> str:
    """``GET /v1/users`` (plus Apple's request id when there is one)."""
    label = f"{error.method} {error.path}".strip() or "the request"
    if error.request_id:
        label += f" (request id {error.request_id})"
    return label


def _api_detail(error: ApiError) -> str:
    parts = []
    if error.status is not None:
        parts.append(f"Apple answered {error.status}")
        if error.apple_code:
            parts[-1] += f" {error.apple_code}"
        parts[-1] += f" to {request_label(error)}"
    else:
        parts.append(error.message)
    if error.rate_limit is not None and error.rate_limit.limit is not None:
        parts.append(
            f"rate limit {error.rate_limit.remaining} of {error.rate_limit.limit} left this hour"
        )
    if error.retry_after is not None:
        parts.append(f"Retry-After {error.retry_after:g} s")
    kind = error.context.get("kind")
    if kind and error.status is None:
        parts.append(f"({kind})")
    return "; ".join(parts) + "."


def finding_for(error: AscAccessError, facts: Mapping[str, object] | None = None) -> Finding:
    """The finding that explains ``error`` (any error asc-access raises).

    ``facts`` adds what the caller knows (``name``, ``key_id``, ``api_url``...)
    to fill the resolution steps.
    """
    merged: dict[str, object] = dict(facts or {})
    merged.setdefault("message", error.message)
    if isinstance(error, CredentialError) and error.cause in CAUSES:
        return make_finding(error.cause, merged, certainty="certain")
    if isinstance(error, ApiError):
        merged.setdefault("request", request_label(error))
        merged.setdefault("request_id", error.request_id)
        merged.setdefault("apple_code", error.apple_code)
        merged.setdefault("detail", _api_detail(error))
        merged.setdefault("context", "")
        skew = error.context.get("clock_skew_seconds")
        if error.cause == "clock_skew" and isinstance(skew, int | float):
            # Measured from Apple's Date header on the refusal itself; the doctor can
            # make it certain by trying a token dated by Apple's clock.
            merged.setdefault("skew", f"{abs(skew):.0f}")
            merged.setdefault("direction", "behind" if skew > 0 else "ahead of")
            merged.setdefault("corrected", "Run `asc-access doctor` to confirm.")
            return make_finding("clock_skew", merged, certainty="likely")
        if error.cause in CAUSES:
            return make_finding(error.cause, merged)
        return _uncatalogued_api(error)
    if isinstance(error, SecretStoreError):
        return _local(UNCATALOGUED["secret_store"], error)
    if isinstance(error, NotFoundLocallyError):
        return _local(UNCATALOGUED["unknown_name"], error)
    if isinstance(error, UsageError):
        return _local(UNCATALOGUED["usage"], error)
    return Finding(error.code, error.cause, "certain", error.message, error.message, ())


def _local(wording: Wording, error: AscAccessError) -> Finding:
    return Finding(None, None, "certain", wording.title, error.message, wording.resolution)


def _uncatalogued_api(error: ApiError) -> Finding:
    known = lookup(error.status, error.apple_code)
    title = known.title if known else UNCATALOGUED["request_rejected"].title
    detail = _api_detail(error)
    if known:
        detail += f" {known.meaning}"
    first = error.errors[0] if error.errors else None
    if first is not None and first.detail:
        detail += f" Apple says: {first.detail}"
    if first is not None and first.source:
        detail += f" (at {', '.join(str(v) for v in first.source.values())})"
    steps: tuple[str, ...] = ()
    if isinstance(error, RequestRejectedError) and known and known.kind == "conflict":
        steps = (CONFLICT_STEP,)
    return Finding(error.code, error.cause, "certain", title, detail, steps)
