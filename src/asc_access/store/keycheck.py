"""The master key's check value in the store, and the vault opened against it.

:func:`open_vault` is how everything that encrypts or decrypts stored keys gets
its :class:`~asc_access.vault.Vault`:

- the store keeps one check value (a constant encrypted under the master key);
  a master key that does not decrypt it is refused before any key is read or
  written, with an error naming where the key was taken from;
- while the store holds a check value or any ciphertext, a missing key file is
  an error (the vault never makes a new key then), so a lost key is never
  silently replaced by one that cannot decrypt what is stored;
- a store from before check values gets one on first use, after the master
  key has decrypted one of its stored keys.

:func:`rebind` rewrites a blob of the old, unbound format bound to its row.
"""

from __future__ import annotations

from sqlalchemy import Engine, select, update
from sqlalchemy.exc import IntegrityError

from asc_access.config import Settings
from asc_access.errors import SecretStoreError
from asc_access.store.schema import connections, master_key_check
from asc_access.store.timeutil import utc_now
from asc_access.vault import Vault

__all__ = ["binding_for", "open_vault", "rebind"]

_KEY_PURPOSE = "private-key"


def binding_for(name: str) -> str:
    """What a connection's key blob is bound to (its associated data)."""
    return f"connection:{name}"


def _mismatch(vault: Vault) -> SecretStoreError:
    return SecretStoreError(
        f"the stored keys cannot be decrypted with {vault.origin}: the master key differs "
        "from the one this store was set up with (the store's check value does not match). Set "
        "ASC_ACCESS_MASTER_KEY to the original key, or restore the original master.key file "
        "in ASC_ACCESS_HOME; nothing was changed"
    )


def _check_value(engine: Engine) -> bytes | None:
    with engine.connect() as conn:
        value = conn.execute(select(master_key_check.c.check_value)).scalar()
    return bytes(value) if value is not None else None


def _one_stored_key(engine: Engine) -> tuple[str, bytes] | None:
    c = connections.c
    query = select(c.name, c.encrypted_private_key).where(c.encrypted_private_key.is_not(None))
    with engine.connect() as conn:
        row = conn.execute(query.limit(1)).first()
    return (row.name, bytes(row.encrypted_private_key)) if row is not None else None


def _save_check(engine: Engine, vault: Vault) -> None:
    try:
        with engine.begin() as conn:
            conn.execute(
                master_key_check.insert().values(
                    id=1, check_value=vault.check_value(), created_at=utc_now()
                )
            )
    except IntegrityError:  # another process saved one first: it must be ours too
        stored = _check_value(engine)
        if stored is None or not vault.matches(stored):
            raise _mismatch(vault) from None


def open_vault(settings: Settings, engine: Engine) -> Vault:
    """The vault for ``settings``, checked against the store's check value (see module doc)."""
    check = _check_value(engine)
    stored = _one_stored_key(engine) if check is None else None
    vault = Vault.from_settings(settings, create=check is None and stored is None)
    if check is not None:
        if not vault.matches(check):
            raise _mismatch(vault)
        return vault
    if stored is not None:
        name, blob = stored
        try:
            vault.decrypt(blob, purpose=_KEY_PURPOSE, bound_to=binding_for(name))
        except SecretStoreError:
            raise _mismatch(vault) from None
    _save_check(engine, vault)
    return vault


def rebind(engine: Engine, vault: Vault, name: str, blob: bytes, plaintext: bytes) -> None:
    """Rewrite an unbound (old-format) key blob of ``name`` bound to it; no-op otherwise."""
    if not Vault.is_unbound(blob):
        return
    fresh = vault.encrypt(plaintext, purpose=_KEY_PURPOSE, bound_to=binding_for(name))
    with engine.begin() as conn:
        conn.execute(
            update(connections)
            .where(connections.c.name == name, connections.c.encrypted_private_key == blob)
            .values(encrypted_private_key=fresh)
        )
