"""The first sync after a key rotation: confirm the new key, or put the old one back.

A rotated key is used at once, but the key it replaced is kept
(:mod:`asc_access.store.rotation`) until the new key has synced once. That
first sync compares what the new key sees with the stored picture: when the
picture is not empty and the new key sees none of its members and none of its
apps, the key belongs to another team, and writing its picture would record
everyone as removed. The sync then writes nothing, fails with
``rotated_to_another_team``, and the previous key is restored. When Apple
refuses the new key in that sync, the previous key is restored as well. A
rotation that asked for an explicit move (``--move``) skips the comparison.
"""

from __future__ import annotations

from asc_access.errors import AscAccessError, SyncError
from asc_access.store.db import checkpoint_wal
from asc_access.store.handle import Database, DatabaseConnection
from asc_access.store.rotation import confirm_rotation, pending_rotation, restore_previous_key
from asc_access.store.snapshot import Snapshot

__all__ = [
    "RotatedToAnotherTeamError",
    "after_failed_sync",
    "check_and_confirm",
    "forget_on_disk",
]

#: Apple refused the new key itself: the previous key comes back.
_REFUSED_KEY_CODES = frozenset({"APP-101", "APP-102"})


class RotatedToAnotherTeamError(SyncError):
    """The rotated key sees a different team than the one this connection mirrors."""

    default_cause = "rotated_to_another_team"


def _same_team(old: Snapshot, new: Snapshot) -> bool:
    if not old.users and not old.apps:
        return True  # nothing to compare with
    return bool(old.users.keys() & new.users.keys()) or bool(old.apps.keys() & new.apps.keys())


def check_and_confirm(
    conn: DatabaseConnection, connection_id: int, old: Snapshot, new: Snapshot
) -> bool:
    """Inside the sync's write: refuse another team's picture, else confirm a pending rotation.

    Returns whether a rotation was confirmed (its previous key forgotten).

    Raises:
        RotatedToAnotherTeamError: the new key sees none of the stored members or apps.
    """
    pending, move = pending_rotation(conn, connection_id)
    if not pending:
        return False
    if not move and not _same_team(old, new):
        raise RotatedToAnotherTeamError(
            "the rotated key sees another team: none of the stored members or apps are "
            "there, so nothing was written and the previous key was restored. Rotate to a "
            "key of this team, or ask for a move (--move / move: true) to switch teams.",
        )
    confirm_rotation(conn, connection_id)
    return True


def forget_on_disk(engine: Database, confirmed: bool) -> None:
    """After a confirmed rotation commits, checkpoint so the old key's bytes leave the log."""
    if confirmed:
        checkpoint_wal(engine)


def after_failed_sync(engine: Database, connection_id: int, error: BaseException) -> bool:
    """Restore the previous key when the new key's first sync showed it is wrong."""
    wrong_team = isinstance(error, RotatedToAnotherTeamError)
    refused = isinstance(error, AscAccessError) and error.code in _REFUSED_KEY_CODES
    if not (wrong_team or refused):
        return False
    try:
        return restore_previous_key(engine, connection_id)
    except Exception:  # noqa: BLE001 - the sync's own failure is what the caller reports
        return False
