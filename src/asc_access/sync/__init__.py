"""Sync: a request-optimal, rate-aware mirror of who has access to what, with history.

``await sync_connection(engine, client, connection_id)`` reads a team in full
with the fewest requests Apple's API allows and swaps the stored picture in
one transaction, recording what changed. See :mod:`asc_access.sync.engine`.
"""

from asc_access.sync.diff import diff_snapshots
from asc_access.sync.engine import SyncResult, sync_connection
from asc_access.sync.progress import STREAMS, SyncProgress
from asc_access.sync.source import (
    APP_FIELDS,
    AppPages,
    InvitationPages,
    PageLike,
    SyncSource,
    UserPages,
)
from asc_access.sync.streams import PAGE_LIMIT, VISIBLE_APPS_LIMIT, FetchStats, pages_needed

__all__ = [
    "APP_FIELDS",
    "PAGE_LIMIT",
    "STREAMS",
    "VISIBLE_APPS_LIMIT",
    "AppPages",
    "FetchStats",
    "InvitationPages",
    "PageLike",
    "SyncProgress",
    "SyncResult",
    "SyncSource",
    "UserPages",
    "diff_snapshots",
    "pages_needed",
    "sync_connection",
]
