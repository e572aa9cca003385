"""The doctor: offline checks, then online probes, then one verdict with its evidence.

Order of reasoning:

1. Offline checks (:func:`asc_access.credentials.evaluate`). A missing value is a
   usage error; any proven APP-101 cause is reported ``certain`` and nothing is
   sent to Apple.
2. ``GET /v1/apps?limit=1`` with a fresh token; Apple's ``Date`` header gives the
   clock skew. Agreements, rate limit, 5xx, network and unreadable answers stop
   here with their own code.
3. On 401: if the clock is off by more than the token absorbs, that is
   ``clock_skew`` (certain), and a token dated by Apple's clock is tried. Then
   the other token shape (team ↔ individual): accepted → ``key_type_mismatch``
   (certain). Refused too → ``revoked_after_working`` when this key worked
   before (likely), else ``rejected`` (likely, suspects ranked).
4. With an accepted token: users and invitations (one item each). A 403 there
   is ``permissions_revoked`` when the saved history says it worked,
   ``individual_key_limited`` for an individual key, else
   ``key_role_insufficient``.
5. The rate-limit budget: none left is ``rate_limited``; little left, a warning.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime

from asc_access.credentials import Credentials, Evaluation, KeyType, TokenManager
from asc_access.diagnosis.findings import finding_for, make_finding
from asc_access.diagnosis.probe_results import ProbeName, ProbeResult
from asc_access.diagnosis.report import DoctorReport
from asc_access.diagnosis.suspects import rank_suspects
from asc_access.diagnosis.verdicts import (
    CAPABILITY_OF,
    History,
    finding_facts,
    permission_finding,
    rate_budget_verdict,
    signed_seconds,
    skew_text,
)
from asc_access.doctor.probes import ClientFactory, ProbeSession
from asc_access.errors import (
    CredentialError,
    PermissionDeniedError,
    RequestRejectedError,
    UnexpectedResponseError,
    UsageError,
)

__all__ = ["SKEW_WARN_SECONDS", "History", "diagnose"]

log = logging.getLogger("asc_access.diagnosis")

#: A measured skew at least this large is reported as a warning even when Apple accepts.
SKEW_WARN_SECONDS = 30.0
_ALL: tuple[ProbeName, ...] = ("apps", "users", "invitations")
_FIRST: tuple[ProbeName, ...] = ("apps",)


def _other(key_type: str) -> KeyType:
    return "individual" if key_type == "team" else "team"


def _terminal(result: ProbeResult) -> bool:
    """A result after which no further probe on this token makes sense."""
    return result.error is not None and not isinstance(result.error, PermissionDeniedError)


class _Doctor:
    def __init__(
        self,
        creds: Credentials,
        report: DoctorReport,
        factory: ClientFactory,
        history: History | None,
        wall_clock: Callable[[], float],
        suspicions: list[CredentialError] | None = None,
    ) -> None:
        self.creds = creds
        self.suspicions = suspicions or []
        self.report = report
        self.factory = factory
        self.history = history
        self.wall = wall_clock
        self.facts: dict[str, object] = {
            "key_id": creds.key_id,
            "issuer_id": creds.issuer_id,
            "name": history.name if history else None,
            "api_url": report.api_url,
        }

    def session(self, creds: Credentials, clock: Callable[[], float]) -> ProbeSession:
        return ProbeSession(self.factory, TokenManager(creds, clock=clock), wall_clock=self.wall)

    async def run(self) -> None:
        first = self.session(self.creds, self.wall)
        await first.run(_ALL, stop=_terminal)
        apps = first.results["apps"]
        self.report.rate_limit = first.rate_limit
        self._record_skew(apps)
        if apps.unauthorized:
            self.report.add("token_accepted", "fail", f"Apple answered 401 to {apps.request}")
            accepted = await self._after_401(apps)
            if accepted is None:
                self._skip_capabilities("Apple accepted no token")
                return
            first = accepted
        elif apps.error is not None:
            self._stop_on(apps)
            return
        else:
            self.report.add(
                "token_accepted", "pass", f"Apple accepted a {self.creds.key_type} token"
            )
        self._capabilities(first)
        self._rate_budget(first)

    # -- clock -------------------------------------------------------------------------
    def _record_skew(self, result: ProbeResult) -> None:
        skew = result.skew_seconds
        self.report.clock_skew_seconds = skew
        if skew is None:
            self.report.add("clock_skew", "skip", "Apple's Date header was not received")
        elif abs(skew) >= SKEW_WARN_SECONDS:
            self.report.add("clock_skew", "warn", skew_text(skew))
        else:
            self.report.add("clock_skew", "pass", skew_text(skew))

    @staticmethod
    def _skew_breaks_tokens(skew: float, manager: TokenManager) -> bool:
        """Whether Apple's clock, ``skew`` seconds off, sees our fresh tokens as invalid."""
        issued_in_future = -skew > manager.backdate_seconds
        already_expired = skew >= manager.lifetime_seconds - manager.backdate_seconds
        return issued_in_future or already_expired

    # -- 401 ---------------------------------------------------------------------------
    async def _after_401(self, apps: ProbeResult) -> ProbeSession | None:
        skew = apps.skew_seconds
        clock = self.wall
        if skew is None or abs(skew) < SKEW_WARN_SECONDS:
            return await self._other_shape(apps, clock)
        breaks = self._skew_breaks_tokens(skew, TokenManager(self.creds, clock=clock))
        shifted = _shifted(self.wall, skew)
        corrected = self.session(self.creds, shifted)
        await corrected.run(_ALL, stop=_terminal)
        result = corrected.results["apps"]
        ok = result.ok or isinstance(result.error, PermissionDeniedError)
        self.report.add(
            "clock_corrected_token",
            "pass" if ok else "fail",
            f"a token dated by Apple's clock was {'accepted' if ok else 'refused too'}",
        )
        if ok or breaks:
            # Proven: either Apple accepted the corrected token, or the measured
            # difference alone puts our token outside its validity on Apple's clock.
            self.report.findings.append(
                make_finding(
                    "clock_skew",
                    {
                        **self.facts,
                        "skew": f"{abs(skew):.0f}",
                        "direction": "ahead of" if skew > 0 else "behind",
                        "corrected": (
                            "A token dated by Apple's clock was accepted."
                            if ok
                            else "A token dated by Apple's clock was refused too, so the key "
                            "itself has a problem as well (see below)."
                        ),
                    },
                )
            )
            clock = shifted
        if ok:
            return corrected
        if not result.unauthorized:
            self._stop_on(result)
            return None
        return await self._other_shape(apps, clock)

    async def _other_shape(
        self, apps: ProbeResult, clock: Callable[[], float]
    ) -> ProbeSession | None:
        tried = self.creds.key_type
        other = _other(tried)
        if other == "team" and self.creds.issuer_id is None:
            self.report.add(
                "other_token_shape", "skip", "no Issuer ID given, so the team shape cannot be tried"
            )
            self._refused(apps, shape_tried=False)
            return None
        session = self.session(self.creds.with_key_type(other), clock)
        await session.run(_ALL, stop=_terminal)
        result = session.results["apps"]
        if result.unauthorized:
            self.report.add(
                "other_token_shape", "fail", f"Apple refused the key's {other} token too"
            )
            self._refused(apps, shape_tried=True)
            return None
        if result.error is not None and not isinstance(result.error, PermissionDeniedError):
            self._stop_on(result)
            return None
        self.report.add("other_token_shape", "pass", f"Apple accepted the key's {other} token")
        self.report.key_type = other
        self.report.findings.append(
            make_finding(
                "key_type_mismatch",
                {
                    **self.facts,
                    "tried": tried,
                    "accepted": other,
                    "accepted_key": "a team key" if other == "team" else "an individual key",
                },
            )
        )
        return session

    def _refused(self, apps: ProbeResult, *, shape_tried: bool) -> None:
        assert apps.error is not None
        facts = {**finding_facts(apps.error), **self.facts}
        history = self.history
        worked_before = (
            history is not None
            and history.last_ok_at is not None
            and history.key_id == self.creds.key_id
        )
        suspects = rank_suspects(self.creds, shape_tried=shape_tried, worked_before=worked_before)
        if worked_before and history is not None and history.last_ok_at is not None:
            facts["last_ok_at"] = history.last_ok_at.strftime("%Y-%m-%d %H:%M UTC")
            cause = "revoked_after_working"
        else:
            cause = "rejected"
        facts["context"] = self._clean_context(shape_tried)
        suspicion = self.suspicions[0] if self.suspicions and not worked_before else None
        if suspicion is not None and suspicion.cause is not None:
            # Apple refused the key, and a local clue points at one cause: name it, as likely.
            facts["message"] = f"{suspicion.message}; Apple refused the token ({apps.request})."
            finding = make_finding(suspicion.cause, facts, certainty="likely", suspects=suspects)
            self.report.findings.append(finding)
            return
        self.report.findings.append(make_finding(cause, facts, suspects=suspects))

    def _clean_context(self, shape_tried: bool) -> str:
        skew = self.report.clock_skew_seconds
        if any(f.cause == "clock_skew" for f in self.report.findings):
            clock = "a token dated by Apple's clock was refused as well"
        elif skew is None:
            clock = "Apple's clock could not be read"
        elif abs(skew) < SKEW_WARN_SECONDS:
            clock = f"this computer's clock agrees with Apple's ({signed_seconds(skew, 0)})"
        else:
            clock = f"the clock is {abs(skew):.0f} s off, but a token dated by Apple's clock "
            clock += "was refused too"
        shape = "; the other token shape was refused too" if shape_tried else ""
        return f"Every local check passed; {clock}{shape}."

    # -- other failures ----------------------------------------------------------------
    def _stop_on(self, result: ProbeResult) -> None:
        error = result.error
        assert error is not None
        if isinstance(error, RequestRejectedError):
            # A 404 PATH_ERROR or a 400 on our own probe: not Apple's API at this URL.
            error = UnexpectedResponseError(
                f"{result.request} was answered {error.status} {error.apple_code or ''}: "
                "this does not look like App Store Connect's API",
                method=error.method,
                path=error.path,
                status=error.status,
                errors=error.errors,
                request_id=error.request_id,
                rate_limit=error.rate_limit,
            )
        check = _STOP_CHECK.get(error.code or "", "api_response")
        if not any(c.id == "token_accepted" for c in self.report.checks):
            if error.code == "APP-103":
                self.report.add(
                    "token_accepted", "pass", "Apple accepted the token but blocks every call"
                )
            else:
                self.report.add("token_accepted", "skip", "Apple gave no verdict on the token")
        self.report.add(check, "fail", str(error))
        self.report.findings.append(finding_for(error, self.facts))
        self._skip_capabilities(f"stopped: {error.code} {error.cause}")

    def _skip_capabilities(self, why: str) -> None:
        for name in ("read_apps", "read_users", "read_invitations", "manage_users"):
            if not any(c.id == name for c in self.report.checks):
                self.report.add(name, "skip", why)

    # -- capabilities ------------------------------------------------------------------
    def _capabilities(self, session: ProbeSession) -> None:
        self.report.accepted_at = datetime.fromtimestamp(self.wall(), UTC)
        caps = self.report.capabilities
        forbidden: list[ProbeResult] = []
        for name in _ALL:
            capability = CAPABILITY_OF[name]
            result = session.results.get(name)
            if result is None:
                self.report.add(capability, "skip", "not probed")
                continue
            if result.ok:
                caps[capability] = True
                self.report.add(capability, "pass", f"{result.request} answered 200")
            elif isinstance(result.error, PermissionDeniedError):
                caps[capability] = False
                forbidden.append(result)
                self.report.add(capability, "fail", f"{result.request} answered 403")
            else:
                self._stop_on(result)
                return
        caps["manage_users"] = caps["read_users"]
        if caps["read_users"] is not None:
            self.report.add(
                "manage_users",
                "pass" if caps["read_users"] else "fail",
                "inferred from read_users (only Admin keys, or an Admin's individual key, may "
                "read the team's users); no write was attempted",
            )
        if forbidden:
            self._permission_finding(session, forbidden)
        self.report.add("agreements", "pass", "no agreement block: Apple answered the probes")

    def _permission_finding(self, session: ProbeSession, forbidden: list[ProbeResult]) -> None:
        ok_calls = ", ".join(r.request for r in session.results.values() if r.ok) or "the token"
        self.report.findings.append(
            permission_finding(
                forbidden,
                facts={**self.facts, "ok_calls": ok_calls},
                key_type=self.report.key_type or self.creds.key_type,
                key_id=self.creds.key_id,
                history=self.history,
            )
        )

    # -- rate budget -------------------------------------------------------------------
    def _rate_budget(self, session: ProbeSession) -> None:
        self.report.rate_limit = session.rate_limit or self.report.rate_limit
        rate_budget_verdict(self.report, self.facts)


_STOP_CHECK = {
    "APP-103": "agreements",
    "APP-104": "rate_limit",
    "APP-105": "api_available",
    "APP-106": "api_reachable",
    "APP-107": "api_response",
}


def _shifted(clock: Callable[[], float], skew: float) -> Callable[[], float]:
    return lambda: clock() + skew


async def diagnose(
    evaluation: Evaluation,
    *,
    client_factory: ClientFactory,
    history: History | None = None,
    wall_clock: Callable[[], float] = time.time,
    api_url: str | None = None,
) -> DoctorReport:
    """Run the doctor on checked credentials; never raises for what it diagnoses.

    ``client_factory`` builds an API client for a token source (the caller
    binds the API URL, retry policy and transport). ``history`` comes from a
    saved connection. ``wall_clock`` is this computer's clock (injectable).
    """
    report = DoctorReport(api_url=api_url, connection=history.name if history else None)
    report.checks.extend(evaluation.checks)
    raw = evaluation.raw
    report.key_type = (
        evaluation.credentials.key_type
        if evaluation.credentials
        else ("individual" if raw.individual_source else "team")
    )
    if raw.key_id is not None:
        value = raw.key_id.value.strip()
        # A long or multi-line "Key ID" is often the private key pasted in the wrong place:
        # never echo it into the report.
        report.key_id = value if len(value) <= 40 and "\n" not in value else None
    usage = [e for e in evaluation.errors if isinstance(e, UsageError)]
    for error in evaluation.errors:
        if not isinstance(error, UsageError):
            report.findings.append(finding_for(error, {"name": report.connection}))
    if usage:
        report.usage_error = "; ".join(e.message for e in usage)
    creds = evaluation.credentials
    if creds is None:
        why = "skipped: fix the problems above first"
        for name in ("token_accepted", "clock_skew", "read_apps", "read_users",
                     "read_invitations", "manage_users", "rate_limit"):  # fmt: skip
            report.add(name, "skip", why)
        return report
    doctor = _Doctor(creds, report, client_factory, history, wall_clock, evaluation.suspicions)
    await doctor.run()
    log.debug("doctor verdict: %s %s", report.code, report.cause)
    return report
