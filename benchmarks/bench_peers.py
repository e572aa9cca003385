"""Peers side by side: each tool reads the same sandbox team; requests, time, memory, completeness.

Each peer is installed from PyPI into its own virtual environment (their PyJWT pins
conflict) under ``--venvs``, and runs as its own process with only its base URL
pointed at one ``asc-access sandbox`` (a separate process, latency on every call,
hourly limit raised so no tool is paced). Per tool:

- requests: counted by the sandbox (its control API's counters, reset before each);
- ratio to the lower bound (⌈members/200⌉ + ⌈invitations/200⌉ + ⌈apps/200⌉ + one
  read per member or invitation with more than 50 apps);
- wall time and peak RSS of the tool's process (its own ``getrusage``);
- complete: the result checked against a full read by this package's API client
  (every member, each restricted member's apps paged to the end, invitations with
  their apps, apps).

    .venv/bin/python benchmarks/bench_peers.py [--users 1000 --apps 150 --invitations 50]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import venv
from pathlib import Path
from typing import Any

import httpx

from asc_access.api import AppStoreConnectClient
from asc_access.credentials import CredentialFlags, TokenManager, evaluate, gather_credentials

sys.path.insert(0, str(Path(__file__).parent))
from bench_sync import _start_sandbox, _wait_ready
from peer_runners import PEERS


def _python_for(requirement: str | None, venvs: Path) -> str:
    """This interpreter, or a venv's with ``requirement`` installed (created once)."""
    if requirement is None:
        return sys.executable
    home = venvs / requirement.replace("==", "-")
    python = home / "bin" / "python"
    if not python.exists():
        venv.create(home, with_pip=True)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", requirement], check=True)
    return str(python)


async def _truth(base_url: str, tokens: TokenManager) -> dict[str, Any]:
    """The whole team, read the slow and sure way (every list paged to its end)."""
    async with AppStoreConnectClient(tokens, base_url=base_url) as client:
        members = {}
        for u in await client.users.list():
            apps = [] if u.all_apps_visible else sorted(await client.users.visible_app_ids(u.id))
            members[u.id] = [sorted(u.roles), u.all_apps_visible, apps]
        invitations = {}
        for i in await client.invitations.list():
            apps = (
                []
                if i.all_apps_visible
                else sorted(a.id for a in await client.invitations.visible_apps(i.id))
            )
            invitations[i.id] = apps
        apps_ = sorted(a.id for a in await client.apps.list())
    return {"members": members, "invitations": invitations, "apps": apps_}


def _missing(got: dict[str, Any], truth: dict[str, Any]) -> list[str]:
    """What the tool's read lacks or gets wrong (empty: complete)."""
    problems = []
    members = got.get("members") or {}
    wrong = [m for m, v in truth["members"].items() if members.get(m) != v]
    if wrong:
        problems.append(f"{len(wrong)} of {len(truth['members'])} members wrong or missing")
    invitations = got.get("invitations")
    if invitations is None:
        problems.append("no invitations")
    else:
        bad = [i for i, v in truth["invitations"].items() if invitations.get(i) != v]
        if bad:
            problems.append(f"{len(bad)} of {len(truth['invitations'])} invitations' apps")
    if got.get("apps") != truth["apps"]:
        problems.append(f"{len(got.get('apps') or [])} of {len(truth['apps'])} apps")
    return problems


def _lower_bound(truth: dict[str, Any]) -> int:
    def pages(n: int) -> int:
        return max(1, -(-n // 200))

    capped = sum(1 for v in truth["members"].values() if len(v[2]) > 50)
    capped += sum(1 for v in truth["invitations"].values() if len(v) > 50)
    return (
        pages(len(truth["members"]))
        + pages(len(truth["invitations"]))
        + pages(len(truth["apps"]))
        + capped
    )


def _run(python: str, program: str, env: dict[str, str]) -> tuple[dict[str, Any] | None, str]:
    done = subprocess.run(
        [python, "-c", program], env=env, capture_output=True, text=True, timeout=1800, check=False
    )
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["?"])[-1]
        return None, f"crashed: {last[:120]}"
    return json.loads(done.stdout.strip().splitlines()[-1]), ""


def main() -> None:
    """Run every tool against one sandbox and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--apps", type=int, default=150)
    parser.add_argument("--invitations", type=int, default=50)
    parser.add_argument("--latency-ms", type=int, default=20)
    parser.add_argument("--random-seed", type=int, default=0)
    parser.add_argument("--venvs", type=Path, default=Path.home() / ".cache" / "asc-access-peers")
    args = parser.parse_args()
    pythons = {tool: _python_for(req, args.venvs) for tool, req, _ in PEERS}
    with tempfile.TemporaryDirectory(prefix="bench-peers-") as tmp:
        root = Path(tmp)
        process = _start_sandbox(args, root / "sandbox")
        try:
            state = _wait_ready(process, root / "sandbox")
            control = httpx.Client(base_url=f"{state['base_url']}/_sandbox/", timeout=30)
            control.post("rate-limit", json={"limit": 1_000_000}).raise_for_status()
            admin = next(k for k in state["keys"] if k["name"] == "admin")
            flags = CredentialFlags(
                key_id=admin["key_id"],
                issuer_id=admin["issuer_id"],
                private_key_file=admin["private_key_file"],
            )
            creds = evaluate(gather_credentials(flags, environ={})).credentials
            assert creds is not None
            truth = asyncio.run(_truth(state["base_url"], TokenManager(creds)))
            bound = _lower_bound(truth)
            restricted = sum(1 for v in truth["members"].values() if not v[1])
            print(
                f"sandbox: {len(truth['members']):,} members ({restricted} restricted), "
                f"{len(truth['apps'])} apps, {len(truth['invitations'])} invitations, "
                f"{args.latency_ms} ms latency; lower bound {bound} requests\n"
            )
            print("| tool | requests | × bound | wall | peak RSS | complete |")
            print("|---|---|---|---|---|---|")
            for tool, _, program in PEERS:
                env = {
                    **{k: v for k, v in os.environ.items() if not k.startswith("ASC_")},
                    "BASE": state["base_url"],
                    "KEY_ID": admin["key_id"],
                    "ISSUER": admin["issuer_id"],
                    "KEY_FILE": admin["private_key_file"],
                    "HOME_DIR": str(root / f"home-{len(tool)}"),
                }
                control.post("stats/reset").raise_for_status()
                got, failure = _run(pythons[tool], program, env)
                served = int(control.get("stats").json()["requests"])
                if got is None:
                    print(f"| {tool} | {served} | {served / bound:.1f} | – | – | no ({failure}) |")
                    continue
                problems = _missing(got, truth)
                verdict = "yes" if not problems else "no: " + "; ".join(problems)
                notes = f" ({'; '.join(got['notes'])})" if got.get("notes") else ""
                print(
                    f"| {tool} | {served} | {served / bound:.1f} | {got['wall']:.2f} s | "
                    f"{got['rss_mb']:.0f} MB | {verdict}{notes} |"
                )
        finally:
            process.terminate()
            process.wait(timeout=30)


if __name__ == "__main__":
    main()
