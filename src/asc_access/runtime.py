"""Runtime glue: the store, the vault, clients for saved connections, connect and diagnose.

Used by the CLI, the service and the workers, so all three open connections,
decrypt keys and record health the same way:

- :func:`open_store` / :func:`vault_for` / :func:`client_for_connection`;
- :func:`doctor_client_factory`: clients for the doctor (short retries, no pacing);
- :func:`diagnose_credentials` / :func:`diagnose_connection`: run the doctor;
- :func:`connect` / :func:`rotate_key`: save a connection, or replace its key,
  only when the doctor passes (``force`` saves a failing one marked unhealthy).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine

from asc_access.api import AppStoreConnectClient, PacingBudget, RetryPolicy, TokenSource
from asc_access.api.transport import AsyncTransport
from asc_access.config import Settings
from asc_access.credentials import (
    Credentials,
    Evaluation,
    RawCredentials,
    Sourced,
    TokenManager,
    parse_private_key,
)
from asc_access.diagnosis.doctor import History, diagnose
from asc_access.diagnosis.findings import finding_for
from asc_access.diagnosis.probes import ClientFactory
from asc_access.diagnosis.report import DoctorReport
from asc_access.errors import CredentialError, SecretStoreError, UsageError
from asc_access.ids import IssuerId, KeyId
from asc_access.store import connections as store
from asc_access.store.connections import ConnectionRecord
from asc_access.store.db import open_engine
from asc_access.vault import Vault

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
    "vault_for",
]

#: The doctor answers a person waiting at a terminal: few, short retries.
DOCTOR_RETRY = RetryPolicy(max_attempts=3, base_delay=0.25, max_delay=2.0, total_budget=10.0)
_KEY_PURPOSE = "private-key"


def open_store(settings: Settings | None = None) -> Engine:
    """The store for ``settings`` (default: from the environment), home and schema ensured."""
    return open_engine(settings or Settings.from_env())


def vault_for(settings: Settings) -> Vault:
    """The vault holding stored private keys (master key from env or the home-dir file)."""
    return Vault.from_settings(settings)


def credentials_for_connection(
    engine: Engine, settings: Settings, name: str
) -> tuple[ConnectionRecord, Credentials]:
    """A saved connection and its decrypted credentials."""
    record = store.get_connection(engine, name)
    return record, _credentials(record, vault_for(settings))


def _credentials(record: ConnectionRecord, vault: Vault) -> Credentials:
    if not record.encrypted_private_key:
        raise SecretStoreError(f"connection {record.name!r} has no stored private key")
    pem = vault.decrypt(
        record.encrypted_private_key,
        purpose=_KEY_PURPOSE,
        what=f"private key of connection {record.name!r}",
    )
    source = f"connection {record.name}"
    key = parse_private_key(pem, source=f"the stored key of {source}").key
    return Credentials(
        key_id=KeyId(record.key_id),
        issuer_id=IssuerId(record.issuer_id) if record.issuer_id else None,
        key_type="individual" if record.key_type == "individual" else "team",
        private_key=key,
        sources={"key_id": source, "issuer_id": source, "private_key": source},
    )


def client_for_connection(
    engine: Engine, settings: Settings, name: str, **client_kwargs: Any
) -> AppStoreConnectClient:
    """An API client for a saved connection, at the connection's own API URL."""
    record, creds = credentials_for_connection(engine, settings, name)
    client_kwargs.setdefault("base_url", record.api_url)
    client_kwargs["budget"] = _metered(client_kwargs)
    return AppStoreConnectClient(TokenManager(creds), **client_kwargs)


def _metered(client_kwargs: dict[str, Any]) -> Any:
    """The client's rate budget, counted in the metrics (Apple requests, budget left per key)."""
    from asc_access.metrics import MeteredBudget

    inner = client_kwargs.get("budget")
    if inner is None:
        pacing: dict[str, Any] = {
            k: client_kwargs[k] for k in ("sleep", "clock") if k in client_kwargs
        }
        inner = PacingBudget(**pacing)
    return inner if isinstance(inner, MeteredBudget) else MeteredBudget(inner)


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
    engine: Engine,
    settings: Settings,
    name: str,
    *,
    client_factory: ClientFactory | None = None,
    wall_clock: Callable[[], float] = time.time,
    record_health: bool = True,
) -> DoctorReport:
    """The doctor for a saved connection, using its history; records the verdict as health."""
    record = store.get_connection(engine, name)
    try:
        creds = _credentials(record, vault_for(settings))
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


async def connect(
    engine: Engine,
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
    if not name.strip():
        raise UsageError("a connection needs a name")
    store.check_connection_name(name)
    try:
        store.get_connection(engine, name)
    except UsageError:
        pass
    else:
        raise UsageError(
            f"a connection named {name!r} already exists: use `asc-access connections "
            f"rotate-key {name}` to replace its key, or remove it first"
        )
    warnings = _same_key_warnings(engine, evaluation, force=force)
    report = await diagnose_credentials(
        evaluation, api_url, client_factory=client_factory, wall_clock=wall_clock
    )
    report.connection = name
    creds = evaluation.credentials
    if creds is None or report.usage_error or not (report.ok or force):
        return ConnectOutcome(report, None, warnings)
    blob = vault_for(settings).encrypt(creds.private_key.pem_bytes(), purpose=_KEY_PURPOSE)
    record = store.add_connection(
        engine,
        name=name,
        key_id=creds.key_id,
        issuer_id=creds.issuer_id,
        key_type=report.key_type or creds.key_type,
        api_url=api_url,
        encrypted_private_key=blob,
        healthy=report.ok,
        health_code=report.code,
        health_cause=report.cause,
        last_ok_at=report.accepted_at,
        capabilities=report.capabilities if report.accepted else None,
        sync_interval_seconds=sync_interval_seconds,
    )
    return ConnectOutcome(report, record, warnings)


def _same_key_warnings(engine: Engine, evaluation: Evaluation, *, force: bool) -> tuple[str, ...]:
    """Refuse (unless ``force``) a key already saved under another name; else warn.

    The same key twice mirrors one team twice, and reviews would count everyone twice.
    """
    creds = evaluation.credentials
    if creds is None:
        return ()
    twins = [r.name for r in store.connections_with_key(engine, creds.key_id, creds.issuer_id)]
    if not twins:
        return ()
    message = (
        f"key {creds.key_id} is already saved as connection {', '.join(repr(t) for t in twins)}; "
        "a second connection with the same key mirrors the same team twice"
    )
    if not force:
        raise UsageError(
            f"{message}: use that connection (or `connections rotate-key` to change its key), "
            "or pass --force to save it again",
            context={"conflict": True, "connections": twins},
        )
    return (message + " (saved anyway: --force)",)


async def rotate_key(
    engine: Engine,
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
    record = store.get_connection(engine, name)
    url = (api_url or record.api_url).rstrip("/")
    refusal = None if move else rotation_refusal(record, evaluation.credentials, url, None)
    if refusal is not None:
        raise UsageError(refusal, context={"conflict": True, "input": "key"})
    report = await diagnose_credentials(
        evaluation, url, client_factory=client_factory, wall_clock=wall_clock
    )
    report.connection = name
    creds = evaluation.credentials
    if creds is None or not report.ok:
        return ConnectOutcome(report, None)
    refusal = None if move else rotation_refusal(record, creds, url, report.capabilities)
    if refusal is not None:
        raise UsageError(refusal, context={"conflict": True, "input": "key"})
    blob = vault_for(settings).encrypt(creds.private_key.pem_bytes(), purpose=_KEY_PURPOSE)
    saved = store.set_key(
        engine,
        name,
        key_id=creds.key_id,
        issuer_id=creds.issuer_id,
        key_type=report.key_type or creds.key_type,
        encrypted_private_key=blob,
        healthy=True,
        capabilities=report.capabilities,
        api_url=url,
        move=move,
    )
    return ConnectOutcome(report, saved)


_MOVE_HINT = " Ask for an explicit move (--move, or move: true) if that is what you want."


def rotation_refusal(
    record: ConnectionRecord,
    creds: Credentials | None,
    url: str,
    capabilities: dict[str, bool | None] | None,
) -> str | None:
    """Why rotating ``record`` to ``creds`` at ``url`` would move it (``None``: it would not).

    Apple tells nobody which user an individual key belongs to, so for those the
    same key type and no lost capability stand in for "the same user"; the first
    sync then checks the team itself (:mod:`asc_access.sync.rotation`).
    """
    if url != record.api_url.rstrip("/"):
        return f"a new key keeps the connection's API URL ({record.api_url}), not {url}." + (
            _MOVE_HINT
        )
    if creds is None:
        return None  # the doctor explains what is wrong with the key
    if creds.key_type != record.key_type:
        return (
            f"connection {record.name!r} uses a {record.key_type} key; the new key is a "
            f"{creds.key_type} key, so it may not be of the same team." + _MOVE_HINT
        )
    if (
        record.key_type == "team"
        and (creds.issuer_id or "").lower() != (record.issuer_id or "").lower()
    ):
        return (
            f"the new key's issuer ({creds.issuer_id}) is not this connection's "
            f"({record.issuer_id}): it belongs to another team." + _MOVE_HINT
        )
    lost = sorted(
        k
        for k, v in (record.capabilities or {}).items()
        if v and (capabilities or {}).get(k) is False
    )
    if record.key_type == "individual" and capabilities is not None and lost:
        return (
            f"the new individual key cannot {', '.join(lost)} as the old one could: it looks "
            "like another user's key." + _MOVE_HINT
        )
    return None
