"""scim2-tester's full ``check_server`` against a running ``asc-access serve`` and the sandbox.

The tester fills every attribute with random values. Apple accepts only real
e-mail addresses, its own role names and the team's bundle ids, so the client
is given the bridge's models with example values of those kinds (the tester
draws from a field's examples); everything else stays random. ``roles`` and
``visibleApps`` get one example each: the tester adds a value to a list it
filled a moment before and expects only the added value back, where RFC 7644
§3.5.2.1 appends — with one example, the add repeats the value already there.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, Union

import httpx
import httpx2
import pytest
from pydantic import Field
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_models import (
    URN,
    EnterpriseUser,
    Extension,
    Group,
    Mutability,
    Required,
    ResourceType,
    ScimProvider,
    Uniqueness,
    User,
)
from scim2_models.resources.resource import AnyExtension
from scim2_tester import Status, check_server

from _support.sandbox import RunningSandbox
from _support.service import free_port
from scim.conftest import ADMIN_TOKEN, ASC, cli_json, connect

DOCS = Path(__file__).resolve().parents[2] / "docs" / "scim.md"
BEGIN, END = "<!-- scim2-tester:begin -->", "<!-- scim2-tester:end -->"
_ADDRESSES = [f"conformance-{i}@example.org" for i in range(50_000)]


class ExampleUser(User[AnyExtension]):
    __schema__ = URN("urn:ietf:params:scim:schemas:core:2.0:User")
    user_name: Annotated[str | None, Uniqueness.server, Required.true, Mutability.immutable] = (
        Field(None, examples=_ADDRESSES)
    )


class ExampleAccess(Extension):
    __schema__ = URN(ASC)
    roles: list[str] | None = Field(None, examples=["APP_MANAGER"])
    all_apps_visible: bool | None = None
    visible_apps: list[str] | None = Field(None, examples=["com.northwindlabs.ledger"])
    provisioning_allowed: bool | None = None


def _provider() -> ScimProvider:
    user = ExampleUser[Union[EnterpriseUser, ExampleAccess]]  # noqa: UP007
    return ScimProvider(
        models=[ExampleUser, EnterpriseUser, ExampleAccess, Group],
        resource_types=[ResourceType.from_resource(user), ResourceType.from_resource(Group)],
    )


@pytest.fixture
def served(
    sandbox: RunningSandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[str, str]]:
    """``asc-access serve`` as a process; its SCIM base URL and a SCIM token."""
    monkeypatch.setenv("ASC_ACCESS_API_TOKEN", ADMIN_TOKEN)
    monkeypatch.setenv("ASC_ACCESS_ALLOWED_API_URLS", sandbox.base_url)
    connect(sandbox)
    token = cli_json("tokens", "create", "conformance", "--scim", "northwind")["token"]
    port = free_port()
    env = dict(os.environ)
    command = Path(sys.executable).parent / "asc-access"
    log = (tmp_path / "serve.log").open("w")
    process = subprocess.Popen(
        [str(command), "serve", "--port", str(port), "--no-scheduler"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}/scim/v2"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/ServiceProviderConfig").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None, (tmp_path / "serve.log").read_text()
            assert time.monotonic() < deadline, "serve did not start"
            time.sleep(0.1)
        yield base, token
    finally:
        process.terminate()
        process.wait(timeout=15)
        log.close()


def _table(results: list[Any]) -> str:
    counts: dict[tuple[str, str], dict[str, int]] = {}
    for r in results:
        kind = r.resource_type or "(service)"
        row = counts.setdefault((kind, r.title), {})
        row[r.status.name] = row.get(r.status.name, 0) + 1
    lines = ["| resource type | check | results |", "|---|---|---|"]
    for (kind, title), statuses in sorted(counts.items()):
        text = ", ".join(f"{n} {s}" for s, n in sorted(statuses.items()))
        lines.append(f"| {kind} | `{title}` | {text} |")
    return "\n".join(lines)


def test_check_server_finds_no_error(served: tuple[str, str]) -> None:
    base, token = served
    random.seed(20261202)
    with httpx2.Client(
        base_url=f"{base}/", headers={"Authorization": f"Bearer {token}"}, timeout=60
    ) as http:
        results = check_server(SyncSCIMClient(http, provider=_provider()))
    bad = [
        f"{r.status.name} {r.resource_type} {r.title}: {r.reason}"
        for r in results
        if r.status in (Status.ERROR, Status.CRITICAL)
    ]
    assert not bad, "\n".join(bad)
    checked = {r.resource_type for r in results if r.status is Status.SUCCESS}
    assert {"User", "Group"} <= checked, "every resource type checked"
    table = _table(results)
    if os.environ.get("ASC_ACCESS_WRITE_SCIM_TABLE") == "1":
        text = DOCS.read_text()
        head, rest = text.split(BEGIN, 1)
        _, tail = rest.split(END, 1)
        DOCS.write_text(f"{head}{BEGIN}\n{table}\n{END}{tail}")
