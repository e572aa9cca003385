"""Clients for saved connections: the vault, the stored key decrypted, the API client.

Used through :mod:`asc_access.runtime` (which re-exports these) by the CLI, the
service and the workers, so all three decrypt keys and pace requests the same way.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from asc_access.api import AppStoreConnectClient, PacingBudget
from asc_access.credentials import Credentials, TokenManager, parse_private_key
from asc_access.errors import SecretStoreError
from asc_access.ids import IssuerId, KeyId
from asc_access.vault import Vault

if TYPE_CHECKING:
    from asc_access.config import Settings
    from asc_access.store.connections import ConnectionRecord
    from asc_access.store.handle import Database
    from asc_access.store.refs import ConnectionRef

# The store (SQLAlchemy, Alembic) is imported inside the functions that use it.

__all__ = [
    "KEY_PURPOSE",
    "client_for_connection",
    "credentials_for_connection",
    "stored_credentials",
    "vault_for",
]

#: The vault purpose private keys are encrypted under.
KEY_PURPOSE = "private-key"


def vault_for(settings: Settings, engine: Database | None = None) -> Vault:
    """The vault holding stored private keys (master key from env or the home-dir file).

    Given the store, the master key is checked against the store's check value
    first, and a missing key file is never replaced while ciphertext exists
    (:mod:`asc_access.store.keycheck`).
    """
    if engine is None:
        return Vault.from_settings(settings)
    from asc_access.store import keycheck  # lazy: see the note above

    return keycheck.open_vault(settings, engine)


def credentials_for_connection(
    engine: Database, settings: Settings, connection: str | ConnectionRef
) -> tuple[ConnectionRef, Credentials]:
    """A saved connection (resolved by name, or as given) and its decrypted credentials."""
    from asc_access.store.refs import resolve_ref  # lazy: see the note above

    ref = resolve_ref(engine, connection) if isinstance(connection, str) else connection
    return ref, stored_credentials(ref, vault_for(settings, engine), engine)


def stored_credentials(
    record: ConnectionRecord | ConnectionRef, vault: Vault, engine: Database
) -> Credentials:
    from asc_access.store import keycheck  # lazy: see the note above

    blob = record.encrypted_private_key
    if not blob:
        raise SecretStoreError(f"connection {record.name!r} has no stored private key")
    pem = vault.decrypt(
        blob,
        purpose=KEY_PURPOSE,
        what=f"private key of connection {record.name!r}",
        bound_to=keycheck.binding_for(record.name),
    )
    keycheck.rebind(engine, vault, record.name, blob, pem)  # an old-format blob: bind it now
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
    engine: Database, settings: Settings, connection: str | ConnectionRef, **client_kwargs: Any
) -> AppStoreConnectClient:
    """An API client for a saved connection (a name, or a resolved ref), at its own API URL."""
    ref, creds = credentials_for_connection(engine, settings, connection)
    client_kwargs.setdefault("base_url", ref.api_url)
    client_kwargs["budget"] = _metered(client_kwargs)
    return AppStoreConnectClient(TokenManager(creds), **client_kwargs)


def _metered(client_kwargs: dict[str, Any]) -> Any:
    """The client's rate budget, counted in the metrics (Apple requests, budget left per key)."""
    # lazy: prometheus_client only once a client is built
    from asc_access.metrics import MeteredBudget

    inner = client_kwargs.get("budget")
    if inner is None:
        pacing: dict[str, Any] = {
            k: client_kwargs[k] for k in ("sleep", "clock") if k in client_kwargs
        }
        inner = PacingBudget(**pacing)
    return inner if isinstance(inner, MeteredBudget) else MeteredBudget(inner)
