"""Keeping a sandbox team across restarts: ``team.json`` and the ``.p8`` files in its state dir.

What is kept: the Issuer ID, every key (its ``.p8`` stays where it was written), the
seed, and the team itself: apps, members and invitations with every change made
through Apple's API or the control API. What is not: faults, counters, the quota's
history, the clock offset, the agreements switch (a restart is a clean gateway).

``team.json`` is rewritten (atomically, 0600) after every successful write request.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, fields
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from asc_access.sandbox.keys import IssuedKey
from asc_access.sandbox.records import AppRecord, Clock, InvitationRecord, UserRecord
from asc_access.sandbox.seeds import SeedSpec
from asc_access.sandbox.state import Sandbox, SandboxOptions
from asc_access.sandbox.world import World

__all__ = ["TEAM_FILE", "attach", "clear_state_dir", "load_team", "save_team"]

TEAM_FILE = "team.json"
_FORMAT = 1


def _key_file(state_dir: Path, key_id: str) -> Path:
    return state_dir / f"AuthKey_{key_id}.p8"


def _write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a 0600 temporary file and an atomic rename."""
    temporary = path.with_name(f".{path.name}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(text)
    temporary.chmod(0o600)
    temporary.replace(path)


def _key_json(key: IssuedKey) -> dict[str, Any]:
    return {
        "key_id": key.key_id,
        "key_type": key.key_type,
        "role": key.role,
        "user": key.user_id,
        "name": key.name,
        "revoked": key.revoked,
    }


def _record_json(record: AppRecord | UserRecord | InvitationRecord) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in (f.name for f in fields(record) if f.name != "seq"):
        value = getattr(record, name)
        out[name] = value.isoformat() if isinstance(value, datetime) else value
    return out


def team_document(sandbox: Sandbox) -> dict[str, Any]:
    """The ``team.json`` document (key metadata only: the private halves are the .p8 files)."""
    world = sandbox.world

    def ordered(records: dict[str, Any]) -> list[dict[str, Any]]:
        return [_record_json(r) for r in sorted(records.values(), key=lambda r: r.seq)]

    spec = sandbox.seed_spec
    return {
        "format": _FORMAT,
        "issuer_id": sandbox.issuer_id,
        "seed": asdict(spec),
        "named_keys": {name: key.key_id for name, key in sandbox.named_keys.items()},
        "keys": [_key_json(key) for key in sandbox.keys],
        "apps": ordered(world.apps),
        "users": ordered(world.users),
        "invitations": ordered(world.invitations),
    }


def save_team(sandbox: Sandbox, state_dir: Path) -> Path:
    """Write every key's ``.p8`` (when missing) and ``team.json``; return its path."""
    state_dir.mkdir(parents=True, exist_ok=True)
    for key in sandbox.keys:
        path = _key_file(state_dir, key.key_id)
        if not path.exists():
            _write_private(path, key.private_key_pem)
    target = state_dir / TEAM_FILE
    _write_private(target, json.dumps(team_document(sandbox), indent=1) + "\n")
    return target


def attach(sandbox: Sandbox, state_dir: Path) -> None:
    """Save the team now and after every successful write request."""
    save_team(sandbox, state_dir)

    def save() -> None:
        save_team(sandbox, state_dir)

    sandbox.on_change = save


def _load_key(state_dir: Path, entry: dict[str, Any]) -> IssuedKey:
    pem = _key_file(state_dir, entry["key_id"]).read_text(encoding="ascii")
    private = serialization.load_pem_private_key(pem.encode("ascii"), password=None)
    if not isinstance(private, ec.EllipticCurvePrivateKey):
        raise TypeError(f"AuthKey_{entry['key_id']}.p8 is not an EC private key")
    return IssuedKey(
        key_id=entry["key_id"],
        key_type=entry["key_type"],
        public_key=private.public_key(),
        private_key_pem=pem,
        role=entry.get("role"),
        user_id=entry.get("user"),
        name=entry.get("name"),
        revoked=bool(entry.get("revoked")),
    )


def _load_world(document: dict[str, Any], clock: Clock) -> World:
    world = World(clock)
    for app in document["apps"]:
        world.add_app(AppRecord(**app))
    for user in document["users"]:
        world.add_user(UserRecord(**user))
    for invitation in document["invitations"]:
        entry = dict(invitation)
        entry["expiration"] = datetime.fromisoformat(entry["expiration"])
        world.add_invitation(InvitationRecord(**entry))
    return world


def load_team(
    state_dir: Path, options: SandboxOptions | None = None, *, clock: Clock | None = None
) -> Sandbox | None:
    """The sandbox saved in ``state_dir`` (``None`` when there is none).

    ``options`` supplies what is not kept (latency, the hourly quota); the seed
    and the Issuer ID come from the saved team. ValueError when the file is damaged.
    """
    path = state_dir / TEAM_FILE
    if not path.exists():
        return None
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        return _restore(document, state_dir, options or SandboxOptions(), clock or Clock())
    except (OSError, KeyError, TypeError, ValueError) as error:
        raise ValueError(f"{path} cannot be read ({error}); start over with --fresh") from None


def _restore(
    document: dict[str, Any], state_dir: Path, base: SandboxOptions, clock: Clock
) -> Sandbox:
    if document.get("format") != _FORMAT:
        raise ValueError(f"unknown format {document.get('format')!r}")
    spec = SeedSpec(**document["seed"])
    restored = SandboxOptions(
        **asdict(spec),
        latency_ms=base.latency_ms,
        rate_limit=base.rate_limit,
        issuer_id=document["issuer_id"],
    )
    keys = [_load_key(state_dir, entry) for entry in document["keys"]]
    sandbox = Sandbox(restored, clock=clock, world=_load_world(document, clock))
    sandbox.keys.replace_all(keys)
    by_id = {key.key_id: key for key in keys}
    sandbox.named_keys = {name: by_id[key_id] for name, key_id in document["named_keys"].items()}
    return sandbox


def _issued_key_ids(state_dir: Path) -> set[str]:
    """Key ids the sandbox recorded in ``team.json`` / ``sandbox.json`` (unreadable: none)."""
    found: set[str] = set()
    for name in (TEAM_FILE, "sandbox.json"):
        try:
            document = json.loads((state_dir / name).read_text(encoding="utf-8"))
            found.update(str(entry["key_id"]) for entry in document.get("keys", []))
        except (OSError, ValueError, TypeError, KeyError, AttributeError):
            continue
    return found


def clear_state_dir(state_dir: Path) -> None:
    """Forget a saved team: its ``team.json``, ``sandbox.json`` and the ``.p8`` files it issued.

    Only key files the sandbox recorded are removed: a state dir that also holds
    someone's real ``AuthKey_*.p8`` keeps them.
    """
    if not state_dir.is_dir():
        return
    for key_id in filter(str.isalnum, _issued_key_ids(state_dir)):
        _key_file(state_dir, key_id).unlink(missing_ok=True)
    for name in (TEAM_FILE, "sandbox.json"):
        (state_dir / name).unlink(missing_ok=True)
