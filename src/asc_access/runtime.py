"""Runtime glue: the store, the vault, clients for saved connections, connect and diagnose.

Used by the CLI, the service and the workers, so all three open connections,
decrypt keys and record health the same way:

- :func:`open_store`; :func:`vault_for` / :func:`client_for_connection`
  (from :mod:`asc_access.clients`);
- :func:`doctor_client_factory`: clients for the doctor (short retries, no pacing);
- :func:`diagnose_credentials` / :func:`diagnose_connection`: run the doctor;
- :func:`connect` / :func:`rotate_key`: save a connection, or replace its key,
  only when the doctor passes (``force`` saves a failing one marked unhealthy).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypedDict

from asc_access.api import AppStoreConnectClient, PacingBudget, RetryPolicy, TokenSource
from asc_access.api.transport import AsyncTransport
from asc_access.clients import (
    KEY_PURPOSE,
    client_for_connection,
    credentials_for_connection,
    stored_credentials,
    vault_for,
)
from asc_access.connection_rules import rotation_refusal, same_key_warnings
from asc_access.credentials import (
    Credentials,
    Evaluation,
    RawCredentials,
    Sourced,
)
from asc_access.diagnosis.findings import finding_for
from asc_access.diagnosis.report import DoctorReport
from asc_access.doctor import ClientFactory, History, diagnose
from asc_access.errors import CredentialError, SecretStoreError, UsageError

if TYPE_CHECKING:
    from asc_access.actions.locking import TeamLock
    from asc_access.config import Settings
    from asc_access.store.connections import ConnectionRecord
    from asc_access.store.handle import Database

# The store (SQLAlchemy, Alembic: ~0.25 s) is imported inside the functions that use it,
# so `doctor` with flags and the service's start-up path never pay for it.

__all__ = [
    "DOCTOR_RETRY",
    "ConnectOutcome",
    "client_for_connection",
    "connect",
    "credentials_for_connection",
    "diagnose_connection",
    "diagnose_credentials",
    "doctor_client_factory",
    "open_store",
    "rotate_key",
    "rotation_refusal",
    "team_lock",
    "vault_for",
]

#: The doctor answers a person waiting at a terminal: few, short retries.
DOCTOR_RETRY = RetryPolicy(max_attempts=3, base_delay=0.25, max_delay=2.0, total_budget=10.0)


def open_store(settings: Settings | None = None) -> Database:
    """The store for ``settings`` (default: from the environment), home and schema ensured."""
    from asc_access.config import Settings  # lazy: pydantic only once a store is opened
    from asc_access.store.db import open_engine  # lazy: see the note on the store above

    return open_engine(settings or Settings.from_env())


def team_lock(settings: Settings) -> TeamLock:
    """The per-team lock actions and syncs share: the workers' Redis lock with a broker."""
    if not settings.broker_url:
        # lazy: the actions package pulls in the store (SQLAlchemy), which `doctor` never needs
        from asc_access.actions.locking import LOCAL_TEAM_LOCK

        return LOCAL_TEAM_LOCK
    from asc_access.queue.team_lock import shared_team_lock  # lazy: Redis

    return shared_team_lock(settings)


def doctor_client_factory(
    api_url: str, *, transport: AsyncTransport | None = None, retry: RetryPolicy | None = None
) -> ClientFactory:
    """Clients for the doctor's probes: short retries, and no pacing (it sends three reads)."""

    def factory(tokens: TokenSource) -> AppStoreConnectClient:
        return AppStoreConnectClient(
            tokens,
            base_url=api_url,
            transport=transport,
            retry=retry or DOCTOR_RETRY,
            budget=PacingBudget(reserve=0, max_delay=0.0),
            timeout=15.0,
        )

    return factory


async def diagnose_credentials(
    evaluation: Evaluation,
    api_url: str,
    *,
    client_factory: ClientFactory | None = None,
    wall_clock: Callable[[], float] = time.time,
) -> DoctorReport:
    """The doctor for credentials given on the command line (no history)."""
    return await diagnose(
        evaluation,
        client_factory=client_factory or doctor_client_factory(api_url),
        api_url=api_url,
        wall_clock=wall_clock,
    )


def _history(record: ConnectionRecord) -> History:
    return History(
        name=record.name,
        key_id=record.key_id,
        key_type=record.key_type,
        last_ok_at=record.last_ok_at,
        capabilities=record.capabilities,
    )


async def diagnose_connection(
    engine: Database,
    settings: Settings,
    name: str,
    *,
    client_factory: ClientFactory | None = None,
    wall_clock: Callable[[], float] = time.time,
    record_health: bool = True,
) -> DoctorReport:
    """The doctor for a saved connection, using its history; records the verdict as health."""
    from asc_access.store import connections as store  # lazy: see the note above

    record = store.get_connection(engine, name)
    try:
        creds = stored_credentials(record, vault_for(settings, engine), engine)
    except (SecretStoreError, CredentialError) as error:
        # A local problem: report it in the doctor's shape, leave the health alone.
        report = DoctorReport(api_url=record.api_url, connection=name, key_id=record.key_id)
        report.key_type = record.key_type
        report.add("stored_key", "fail", error.message)
        report.findings.append(finding_for(error, {"name": name, "key_id": record.key_id}))
        return report
    evaluation = Evaluation(raw=_raw_for(record), credentials=creds)
    evaluation.add("stored_key", "pass", f"decrypted the stored key of connection {name}")
    report = await diagnose(
        evaluation,
        client_factory=client_factory or doctor_client_factory(record.api_url),
        history=_history(record),
        api_url=record.api_url,
        wall_clock=wall_clock,
    )
    report.key_id = record.key_id
    if record_health:
        store.update_health(
            engine,
            name,
            healthy=report.ok,
            code=report.code,
            cause=report.cause,
            accepted=report.accepted,
            capabilities=report.capabilities if report.accepted else None,
        )
    return report


def _raw_for(record: ConnectionRecord) -> RawCredentials:
    source = f"connection {record.name}"
    return RawCredentials(
        key_id=Sourced(record.key_id, source),
        issuer_id=Sourced(record.issuer_id, source) if record.issuer_id else None,
        individual_source=source if record.key_type == "individual" else None,
    )


@dataclass(frozen=True, slots=True)
class ConnectOutcome:
    """What :func:`connect` / :func:`rotate_key` did: the doctor's report and the saved row."""

    report: DoctorReport
    record: ConnectionRecord | None
    warnings: tuple[str, ...] = ()

    @property
    def saved(self) -> bool:
        """Whether the connection (or its new key) was saved."""
        return self.record is not None


def _check_new_name(engine: Database, name: str) -> None:
    """Refuse an empty or malformed name, and one a saved connection already has."""
    from asc_access.store import connections as store  # lazy: see the note above

    if not name.strip():
        raise UsageError("a connection needs a name")
    store.check_connection_name(name)
    try:
        store.get_connection(engine, name)
    except UsageError:
        return
    raise UsageError(
        f"a connection named {name!r} already exists: use `asc-access connections "
        f"rotate-key {name}` to replace its key, or remove it first"
    )


async def connect(
    engine: Database,
    settings: Settings,
    name: str,
    evaluation: Evaluation,
    *,
    api_url: str,
    force: bool = False,
    sync_interval_seconds: int = 3600,
    client_factory: ClientFactory | None = None,
    wall_clock: Callable[[], float] = time.time,
) -> ConnectOutcome:
    """Diagnose new credentials and save them as connection ``name`` when they work.

    ``sync_interval_seconds`` is how often the scheduler syncs it (0: never by itself).

    With ``force`` a failing key is saved too, marked unhealthy with its code
    and cause, as long as the key itself could be read. Nothing is saved for a
    usage error. The private key is stored only encrypted.
    """
    from asc_access.store import connections as store  # lazy: the store (see the note above)

    _check_new_name(engine, name)
    warnings = same_key_warnings(engine, evaluation.credentials, force=force)
    report = await diagnose_credentials(
        evaluation, api_url, client_factory=client_factory, wall_clock=wall_clock
    )
    report.connection = name
    creds = evaluation.credentials
    if creds is None or report.usage_error or not (report.ok or force):
        return ConnectOutcome(report, None, warnings)
    record = store.add_connection(
        engine,
        name=name,
        **_key_columns(engine, settings, name, creds, report),
        api_url=api_url,
        healthy=report.ok,
        health_code=report.code,
        health_cause=report.cause,
        last_ok_at=report.accepted_at,
        capabilities=report.capabilities if report.accepted else None,
        sync_interval_seconds=sync_interval_seconds,
    )
    return ConnectOutcome(report, record, warnings)


class _KeyColumns(TypedDict):
    """What a connection stores of its key (new or rotated)."""

    key_id: str
    issuer_id: str | None
    key_type: str
    encrypted_private_key: bytes


def _key_columns(
    engine: Database, settings: Settings, name: str, creds: Credentials, report: DoctorReport
) -> _KeyColumns:
    """The key's columns: its ids, its type as the doctor found it, the private key sealed
    by the vault and bound to ``name``."""
    from asc_access.store import keycheck  # lazy: the store (see the note above)

    pem = creds.private_key.pem_bytes()
    blob = vault_for(settings, engine).encrypt(
        pem, purpose=KEY_PURPOSE, bound_to=keycheck.binding_for(name)
    )
    return _KeyColumns(
        key_id=creds.key_id,
        issuer_id=creds.issuer_id,
        key_type=report.key_type or creds.key_type,
        encrypted_private_key=blob,
    )


def _refuse_move(refusal: str | None) -> None:
    """Raise the rotation's refusal (the new key would move the connection), if any."""
    if refusal is not None:
        raise UsageError(refusal, context={"conflict": True, "input": "key"})


async def rotate_key(
    engine: Database,
    settings: Settings,
    name: str,
    evaluation: Evaluation,
    *,
    api_url: str | None = None,
    move: bool = False,
    client_factory: ClientFactory | None = None,
    wall_clock: Callable[[], float] = time.time,
) -> ConnectOutcome:
    """Replace connection ``name``'s key, only when the new key passes the doctor.

    The connection keeps its id, so its mirror, runs and change history stay.
    Unless ``move`` is asked for, the new key must be of the same team (the same
    issuer for team keys; for individual keys, the same key type and every
    capability the old key had) at the same URL (:func:`rotation_refusal`).
    The replaced key is kept until the new one has synced once.

    Raises:
        UsageError: the new key would move the connection (``context["conflict"]``).
    """
    from asc_access.store import connections as store  # lazy: the store (see the note above)

    record = store.get_connection(engine, name)
    url = (api_url or record.api_url).rstrip("/")
    refusal = None if move else rotation_refusal(record, evaluation.credentials, url, None)
    _refuse_move(refusal)
    report = await diagnose_credentials(
        evaluation, url, client_factory=client_factory, wall_clock=wall_clock
    )
    report.connection = name
    creds = evaluation.credentials
    if creds is None or not report.ok:
        return ConnectOutcome(report, None)
    refusal = None if move else rotation_refusal(record, creds, url, report.capabilities)
    _refuse_move(refusal)
    saved = store.set_key(
        engine,
        name,
        **_key_columns(engine, settings, name, creds, report),
        healthy=True,
        capabilities=report.capabilities,
        api_url=url,
        move=move,
    )
    return ConnectOutcome(report, saved)
