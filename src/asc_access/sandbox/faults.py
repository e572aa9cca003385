"""Fault injection: latency, error statuses, dropped connections, malformed bodies."""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass
from typing import Any

__all__ = ["FAULT_STATUSES", "Fault", "FaultBook", "parse_fault"]

FAULT_STATUSES = frozenset({429, 500, 502, 503})


@dataclass(slots=True)
class Fault:
    """One rule. Matching requests are counted; the first ``after`` pass untouched."""

    id: int
    latency_ms: int = 0
    status: int | None = None
    rate: float | None = None
    count: int | None = None
    after: int = 0
    path_prefix: str | None = None
    method: str | None = None
    retry_after: int | None = None
    drop: bool = False
    malformed: bool = False
    #: The error's detail quotes the request's Authorization header (as a proxy or WAF may).
    echo_authorization: bool = False
    seen: int = 0
    applied: int = 0

    def describe(self) -> dict[str, Any]:
        """The rule as JSON: every field, in the order declared above."""
        return asdict(self)


def _int(spec: dict[str, Any], name: str, default: int | None, minimum: int = 0) -> int | None:
    value = spec.get(name, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"'{name}' must be an integer >= {minimum}")
    return value


def parse_fault(spec: dict[str, Any], fault_id: int) -> Fault:
    """Validate a fault spec from the control API (ValueError names the bad field)."""
    known = {
        "latency_ms",
        "status",
        "rate",
        "count",
        "after",
        "path_prefix",
        "method",
        "retry_after",
        "drop",
        "malformed",
        "echo_authorization",
    }
    unknown = sorted(set(spec) - known)
    if unknown:
        raise ValueError(f"unknown fault fields: {', '.join(unknown)}")
    status = _int(spec, "status", None, 100)
    if status is not None and status not in FAULT_STATUSES:
        raise ValueError(f"'status' must be one of {sorted(FAULT_STATUSES)}")
    rate = spec.get("rate")
    if rate is not None and (
        isinstance(rate, bool) or not isinstance(rate, int | float) or not 0 <= rate <= 1
    ):
        raise ValueError("'rate' must be a number between 0 and 1")
    for flag in ("drop", "malformed", "echo_authorization"):
        if not isinstance(spec.get(flag, False), bool):
            raise ValueError(f"'{flag}' must be true or false")  # noqa: TRY004
    for text in ("path_prefix", "method"):
        if spec.get(text) is not None and not isinstance(spec[text], str):
            raise ValueError(f"'{text}' must be a string")
    fault = Fault(
        id=fault_id,
        latency_ms=_int(spec, "latency_ms", 0) or 0,
        status=status,
        rate=None if rate is None else float(rate),
        count=_int(spec, "count", None, 1),
        after=_int(spec, "after", 0) or 0,
        path_prefix=spec.get("path_prefix"),
        method=spec["method"].upper() if spec.get("method") else None,
        retry_after=_int(spec, "retry_after", None),
        drop=bool(spec.get("drop", False)),
        malformed=bool(spec.get("malformed", False)),
        echo_authorization=bool(spec.get("echo_authorization", False)),
    )
    if not (fault.latency_ms or fault.status or fault.drop or fault.malformed):
        raise ValueError("a fault needs latency_ms, status, drop or malformed")
    return fault


class FaultBook:
    """The active faults; ``random_seed`` makes ``rate`` faults repeatable."""

    def __init__(self, random_seed: int = 0) -> None:
        self.faults: list[Fault] = []
        self._next_id = 1
        self._random = random.Random(random_seed)

    def add(self, spec: dict[str, Any]) -> Fault:
        """Add a rule from its JSON spec."""
        fault = parse_fault(spec, self._next_id)
        self._next_id += 1
        self.faults.append(fault)
        return fault

    def clear(self) -> None:
        """Remove every rule."""
        self.faults.clear()

    def match(self, method: str, path: str) -> list[Fault]:
        """The rules that fire for this request, in the order they were added."""
        firing = []
        for fault in self.faults:
            if fault.path_prefix and not path.startswith(fault.path_prefix):
                continue
            if fault.method and fault.method != method:
                continue
            fault.seen += 1
            if fault.seen <= fault.after:
                continue
            if fault.count is not None and fault.applied >= fault.count:
                continue
            if fault.rate is not None and self._random.random() >= fault.rate:
                continue
            fault.applied += 1
            firing.append(fault)
        return firing
