"""The programs ``bench_peers.py`` runs, one per tool, each in its tool's own interpreter.

Every program reads the whole team through its tool (members with roles and, for
restricted members, their apps; invitations with their apps; apps), with only the
base URL pointed at the sandbox, and prints one JSON document on stdout::

    {"members": {id: [roles, all_apps, apps | null]}, "invitations": {id: apps | null},
     "apps": [ids], "wall": seconds, "rss_mb": peak, "notes": [...]}

``null`` where the tool cannot read a list at all. Environment: ``BASE`` (the sandbox's
URL), ``KEY_ID``, ``ISSUER``, ``KEY_FILE``, and ``HOME_DIR`` (asc-access only).
"""

from __future__ import annotations

_FOOTER = """
out["wall"] = time.perf_counter() - _started
out["rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(out))
"""

_HEADER = """
import json, os, resource, time
_started = time.perf_counter()
out = {"members": {}, "invitations": {}, "apps": [], "notes": []}
"""

ASC_ACCESS = (
    _HEADER
    + """
import asyncio
from pathlib import Path
from asc_access import runtime
from asc_access.config import Settings
from asc_access.store.connections import add_connection
from asc_access.store.mirror import load_snapshot
from asc_access.sync import sync_connection

settings = Settings.from_env({"ASC_ACCESS_HOME": os.environ["HOME_DIR"]})
engine = runtime.open_store(settings)
pem = Path(os.environ["KEY_FILE"]).read_bytes()
record = add_connection(
    engine, name="bench", key_id=os.environ["KEY_ID"], issuer_id=os.environ["ISSUER"],
    key_type="team", api_url=os.environ["BASE"],
    encrypted_private_key=runtime.vault_for(settings).encrypt(pem, purpose="private-key"),
    healthy=True, sync_interval_seconds=0,
)

async def read():
    async with runtime.client_for_connection(engine, settings, "bench") as client:
        return await sync_connection(engine, client, record.id)

result = asyncio.run(read())
with engine.connect() as conn:
    snap = load_snapshot(conn, record.id)
for u in snap.users.values():
    apps = [] if u.all_apps_visible else sorted(u.app_ids)
    out["members"][u.user_id] = [sorted(u.roles), u.all_apps_visible, apps]
for i in snap.invitations.values():
    out["invitations"][i.invitation_id] = [] if i.all_apps_visible else sorted(i.app_ids)
out["apps"] = sorted(snap.apps)
out["lower_bound"] = result.lower_bound
"""
    + _FOOTER
)

PONYTECH = (
    _HEADER
    + """
import appstoreconnect.api as A
A.BASE_API = os.environ["BASE"]  # the one change: the base URL
api = A.Api(os.environ["KEY_ID"], os.environ["KEY_FILE"], os.environ["ISSUER"], submit_stats=False)
for u in api.list_users():
    apps = [] if u.allAppsVisible else sorted(a.id for a in u.visibleApps())
    out["members"][u.id] = [sorted(u.roles), u.allAppsVisible, apps]
for i in api.list_invited_users():
    everything = i.allAppsVisible
    out["invitations"][i.id] = [] if everything else None
out["apps"] = sorted(a.id for a in api.list_apps())
out["notes"].append("no visibleApps relationship on invitations")
"""
    + _FOOTER
)

ASCONNECT = (
    _HEADER
    + """
import asconnect
import asconnect.models.users as users_model
from asconnect.httpclient import HttpClient
from asconnect.models import App
# Patch (round2-notes): its UserRole enum lacks current roles (GENERATE_INDIVIDUAL_KEYS),
# so read roles as plain strings; otherwise it crashes on the first page of users.
users_model.UserAttributes.__annotations__["roles"] = list[str]
base = os.environ["BASE"]
HttpClient.generate_url = lambda self, endpoint: f"{base}/v1/{endpoint}"  # the base URL
client = asconnect.Client(
    key_id=os.environ["KEY_ID"], key_contents=open(os.environ["KEY_FILE"]).read(),
    issuer_id=os.environ["ISSUER"],
)
for u in client.users.get_users():
    a = u.attributes
    if a.all_apps_visible:
        apps = []
    else:  # no call for a user's apps: follow the relationship's related link
        related = u.relationships["visibleApps"].links.related
        listed = client.http_client.get(url=related, data_type=list[App])
        apps = sorted(x.identifier for x in listed)
    out["members"][u.identifier] = [sorted(str(r) for r in a.roles), a.all_apps_visible, apps]
out["invitations"] = None
out["notes"].append("no invitations API")
out["apps"] = sorted(x.identifier for x in client.app.get_all())
"""
    + _FOOTER
)

#: (tool, pip requirement or None for this interpreter, program)
PEERS: list[tuple[str, str | None, str]] = [
    ("asc-access sync", None, ASC_ACCESS),
    ("appstoreconnect 0.10.1 (Ponytech)", "appstoreconnect==0.10.1", PONYTECH),
    ("asconnect 7.1.1 (Microsoft, patched)", "asconnect==7.1.1", ASCONNECT),
]
