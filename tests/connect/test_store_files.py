"""The SQLite store on disk: owner-only files, and no old key left in the write-ahead log."""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Any

from sqlalchemy import select

from _support.sandbox import RunningSandbox
from asc_access.config import Settings
from asc_access.runtime import open_store
from asc_access.store import schema


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _db_path() -> Path:
    url = Settings.from_env().database_url
    return Path(url.removeprefix("sqlite:///"))


def _connect(cli: Any, key_args: Any, sandbox: RunningSandbox, key: Any) -> None:
    run = cli("connect", "prod", "--api-url", sandbox.base_url, "--json", *key_args(key))
    assert run.exit_code == 0, run.stdout


def test_the_database_and_its_wal_files_are_0600(
    cli: Any, key_args: Any, sandbox: RunningSandbox
) -> None:
    _connect(cli, key_args, sandbox, sandbox.keys["admin"])
    db = _db_path()
    assert _mode(db) == 0o600
    for suffix in ("-wal", "-shm"):
        part = Path(f"{db}{suffix}")
        if part.exists():
            assert _mode(part) == 0o600, part


def test_an_existing_world_readable_database_is_tightened(tmp_path: Path) -> None:
    open_store().dispose()
    db = _db_path()
    db.chmod(0o644)
    open_store().dispose()
    assert _mode(db) == 0o600


def test_rotate_key_leaves_no_copy_of_the_old_ciphertext_on_disk(
    cli: Any, key_args: Any, sandbox: RunningSandbox
) -> None:
    old = sandbox.issue_key("team", role="ADMIN")
    _connect(cli, key_args, sandbox, old)
    engine = open_store()
    with engine.connect() as conn:
        before = conn.execute(select(schema.connections.c.encrypted_private_key)).scalar_one()
    assert before
    new = sandbox.issue_key("team", role="ADMIN")
    run = cli("connections", "rotate-key", "prod", "--json", *key_args(new))
    assert run.exit_code == 0, run.stdout
    # The replaced key is kept (encrypted) until the new key has synced once; that
    # sync forgets it, and then no copy of its ciphertext may be left on disk.
    assert cli("sync", "prod", "--json").exit_code == 0
    db = _db_path()
    needle = bytes(before)[-48:]  # the tail of the old blob: ciphertext and tag
    for part in (db, Path(f"{db}-wal")):
        if part.exists():
            assert needle not in part.read_bytes(), f"the old ciphertext is still in {part.name}"
    engine.dispose()
