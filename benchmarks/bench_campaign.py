"""Campaign benchmark: an access review over 10,000 people.

A generated sandbox team (10,000 members, 200 apps, 100 invitations) is served
in this process and synced once into a SQLite store in a temp dir (not timed).
Then, timed one by one, with the process's peak RSS after each (and, for the
steps that can run twice, the peak of Python allocations of a second, traced run):

- ``start``: the campaign freezes every person x team with roles, apps and flags;
- ``decide (bulk)``: Admins kept with a comment, then every undecided item kept;
- ``policies``: a policy check of every kind the mirror alone answers;
- ``evidence CSV`` and ``evidence PDF``: the reports with their digest.

    .venv/bin/python benchmarks/bench_campaign.py [--users N]
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from asc_access.api import AppStoreConnectClient
from asc_access.credentials import TokenManager, load_credentials
from asc_access.governance import campaigns, evidence
from asc_access.governance.check import check
from asc_access.governance.notify import NotifySettings
from asc_access.governance.policies import parse_policies
from asc_access.sandbox import Sandbox, SandboxOptions
from asc_access.sandbox.server import ThreadedServer
from asc_access.store import campaigns as store
from asc_access.store.db import ensure_schema, make_engine
from asc_access.sync import sync_connection

POLICIES = """\
policies:
  - {id: few-admins, kind: max_admins, max: 5}
  - {id: domains, kind: allowed_domains, domains: [example.com]}
  - {id: invites, kind: invitation_age, days: 30}
  - {id: sprawl, kind: admin_on_teams, max: 1}
  - {id: outside, kind: out_of_band_change}
  - {id: health, kind: connection_unhealthy, hours: 24}
"""


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kB


def _timed(label: str, work: Callable[[], Any], *, traced: bool) -> Any:
    """Time ``work``; with ``traced``, run it again under tracemalloc for its allocation peak."""
    started = time.perf_counter()
    result = work()
    seconds = time.perf_counter() - started
    peak_text = ""
    if traced:  # tracemalloc slows allocation-heavy work: never inside the timed run
        tracemalloc.start()
        work()
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        peak_text = f"   peak Python allocations {peak / 2**20:6.1f} MiB"
    print(f"{label:<16} {seconds:7.2f} s   process peak RSS {_rss_mb():6.1f} MiB{peak_text}")
    return result


async def _sync(engine: Any, sandbox: Sandbox, base_url: str, state_dir: Path) -> None:
    from asc_access.store.connections import add_connection

    key = sandbox.named_keys["admin"]
    pem = state_dir / "admin.p8"
    pem.write_text(key.private_key_pem)
    credentials = load_credentials(
        environ={
            "ASC_KEY_ID": key.key_id,
            "ASC_ISSUER_ID": sandbox.issuer_id,
            "ASC_PRIVATE_KEY_PATH": str(pem),
        }
    )
    record = add_connection(
        engine, name="big", key_id=key.key_id, issuer_id=sandbox.issuer_id, key_type="team",
        api_url=base_url, encrypted_private_key=b"unused", healthy=True,
    )  # fmt: skip
    async with AppStoreConnectClient(TokenManager(credentials), base_url=base_url) as client:
        await sync_connection(engine, client, record.id)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=10_000)
    args = parser.parse_args()
    options = SandboxOptions(
        seed="generated", users=args.users, apps=200, invitations=100, rate_limit=1_000_000
    )
    with tempfile.TemporaryDirectory(prefix="asc-bench-campaign-") as tmp:
        state_dir = Path(tmp)
        engine = make_engine(f"sqlite:///{state_dir / 'store.db'}")
        ensure_schema(engine)
        sandbox = Sandbox(options)
        with ThreadedServer(sandbox) as server:
            started = time.perf_counter()
            asyncio.run(_sync(engine, sandbox, server.base_url, state_dir))
            print(
                f"synced {args.users:,} members in {time.perf_counter() - started:.1f} s (untimed)"
            )
        now = datetime.now(UTC)
        campaign_id = _timed(
            "start",
            lambda: campaigns.start(engine, "bench", actor="bench", now=now, due="2030-01-01"),
            traced=False,
        )

        def decide() -> int:
            admins = campaigns.Filter(flag="admin")
            kept = campaigns.decide(engine, campaign_id, admins, "keep", actor="bench", now=now,
                                    comment="on-call")  # fmt: skip
            rest = campaigns.Filter(undecided=True)
            return kept + campaigns.decide(engine, campaign_id, rest, "keep", actor="bench",
                                           now=now)  # fmt: skip

        decided = _timed("decide (bulk)", decide, traced=False)
        files = parse_policies(POLICIES, "bench.yaml", state_dir)
        _timed("policies", lambda: check(engine, files, notify=NotifySettings()), traced=True)
        campaign = store.get_campaign(engine, campaign_id)
        items = _timed("load items", lambda: store.list_items(engine, campaign_id), traced=True)
        csv_path, pdf_path = state_dir / "evidence.csv", state_dir / "evidence.pdf"
        _timed("evidence CSV", lambda: evidence.write_csv(csv_path, campaign, items), traced=True)
        digest = _timed(
            "evidence PDF", lambda: evidence.write_pdf(pdf_path, campaign, items), traced=True
        )
        print(
            f"{len(items):,} items, {decided:,} decided; CSV {csv_path.stat().st_size / 2**20:.1f}"
            f" MiB, PDF {pdf_path.stat().st_size / 2**20:.1f} MiB; {digest}"
        )
        engine.dispose()


if __name__ == "__main__":
    main()
