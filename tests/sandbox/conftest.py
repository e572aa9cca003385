"""Sandbox test helpers: an in-process sandbox (httpx.ASGITransport) and contract checks.

Contract: ``data/app-store-connect-subset.json`` is a copy of
``../shared/asc-openapi/app-store-connect-subset.json`` (SHA-256 3b631556…dbb, checked
below), kept beside the tests so they run anywhere. Schemas are checked "closed": an
object schema that lists properties accepts no others (except error ``links``, where
Apple sends ``see``), so an undocumented field in a sandbox document fails a test.
"""

from __future__ import annotations

import copy
import hashlib
import json
import time
from collections.abc import AsyncIterator, Callable
from functools import cache
from pathlib import Path
from typing import Any

import httpx
import pytest
from openapi_schema_validator import OAS30Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from _support.sandbox import SandboxKey, make_token
from asc_access.sandbox import Clock, Sandbox, SandboxOptions, create_app
from asc_access.sandbox.keys import IssuedKey

BASE = "http://sandbox.test"
SPEC_PATH = Path(__file__).parent / "data" / "app-store-connect-subset.json"
SPEC_SHA256 = "3b6315565d5215ba7dac3d87e55bb070e7959987dffb5377784b603a4682cdbb"
SPEC_URI = "urn:asc-openapi-subset"
_OPEN_SCHEMAS = {"ErrorLinks"}


def _close(node: Any) -> None:
    if isinstance(node, dict):
        if "properties" in node and "additionalProperties" not in node:
            node["additionalProperties"] = False
        for value in node.values():
            _close(value)
    elif isinstance(node, list):
        for value in node:
            _close(value)


@cache
def spec() -> dict[str, Any]:
    """The OpenAPI document."""
    raw = SPEC_PATH.read_bytes()
    assert hashlib.sha256(raw).hexdigest() == SPEC_SHA256, "the vendored spec was changed"
    document: dict[str, Any] = json.loads(raw)
    return document


@cache
def _registry() -> Registry:
    closed = copy.deepcopy(spec())
    for name, schema in closed["components"]["schemas"].items():
        if name not in _OPEN_SCHEMAS:
            _close(schema)
    resource = Resource.from_contents(closed, default_specification=DRAFT4)
    return Registry().with_resource(SPEC_URI, resource)


def validate(document: Any, schema_name: str) -> None:
    """Raise ``jsonschema.ValidationError`` unless ``document`` fits the component schema."""
    schema = {"$ref": f"{SPEC_URI}#/components/schemas/{schema_name}"}
    OAS30Validator(schema, registry=_registry()).validate(document)


def response_schema(method: str, template: str, status: int) -> str | None:
    """The component schema the spec documents for this operation and status."""
    operation = spec()["paths"][template][method.lower()]
    documented = operation["responses"].get(str(status))
    if documented is None:
        return None
    content = documented.get("content")
    if not content:
        return None
    ref: str = content["application/json"]["schema"]["$ref"]
    return ref.rsplit("/", 1)[1]


def check_response(response: httpx.Response, method: str, template: str) -> str:
    """Validate a response against its operation; returns the schema name used.

    A status the operation does not document must still carry an ErrorResponse.
    """
    name = response_schema(method, template, response.status_code)
    if response.status_code == 204:
        assert response.content == b""
        return "(no content)"
    assert response.headers["content-type"].startswith("application/json")
    validate(response.json(), name or "ErrorResponse")
    return name or "ErrorResponse"


class Contract:
    """The contract checks, as a fixture."""

    spec = staticmethod(spec)
    validate = staticmethod(validate)
    response_schema = staticmethod(response_schema)
    check_response = staticmethod(check_response)


@pytest.fixture
def contract() -> Contract:
    """Validate documents against Apple's schemas."""
    return Contract()


class FakeTime:
    """A settable time source for the sandbox clock."""

    def __init__(self) -> None:
        self.value = float(int(time.time()))

    def __call__(self) -> float:
        return self.value


class InProcess:
    """A sandbox model plus an async client talking to it without sockets."""

    def __init__(self, **options: Any) -> None:
        self.time = FakeTime()
        self.model = Sandbox(SandboxOptions(**options), clock=Clock(self.time))
        self.client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=create_app(self.model)), base_url=BASE
        )

    def key(self, name: str) -> SandboxKey:
        issued = self.model.named_keys.get(name) or self.model.keys.get(name)
        assert issued is not None, name
        return as_sandbox_key(issued, self.model.issuer_id)

    def token(self, name: str = "admin", **options: Any) -> str:
        options.setdefault("now", self.model.clock.now())
        return make_token(self.key(name), **options)

    def auth(self, name: str = "admin", **options: Any) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(name, **options)}"}

    async def get(self, url: str, key: str = "admin", **kwargs: Any) -> httpx.Response:
        return await self.client.get(url, headers=self.auth(key), **kwargs)

    async def send(
        self, method: str, url: str, body: Any = None, key: str = "admin", **kwargs: Any
    ) -> httpx.Response:
        return await self.client.request(method, url, json=body, headers=self.auth(key), **kwargs)

    async def all_pages(self, url: str, key: str = "admin") -> list[dict[str, Any]]:
        pages = []
        next_url: str | None = url
        while next_url:
            response = await self.get(next_url, key)
            assert response.status_code == 200, response.text
            pages.append(response.json())
            next_url = pages[-1]["links"].get("next")
        return pages

    def user_id(self, local_part: str) -> str:
        for user in self.model.world.users.values():
            if user.username.split("@")[0] == local_part:
                return user.id
        raise KeyError(local_part)

    def issue(self, key_type: str = "team", *, role: str = "ADMIN", user: str = "") -> str:
        if key_type == "team":
            return self.model.keys.issue_team(role).key_id
        return self.model.keys.issue_individual(user).key_id


def as_sandbox_key(issued: IssuedKey, issuer_id: str) -> SandboxKey:
    """A test-side view of an issued key."""
    return SandboxKey(
        name=issued.name or issued.key_id,
        key_id=issued.key_id,
        issuer_id=issuer_id if issued.key_type == "team" else None,
        key_type=issued.key_type,
        role=issued.role,
        user=issued.user_id,
        private_key_file=Path("/nonexistent"),
        private_key_pem=issued.private_key_pem,
    )


@pytest.fixture
async def in_process() -> AsyncIterator[Callable[..., InProcess]]:
    """Make in-process sandboxes with options; clients closed at teardown."""
    made: list[InProcess] = []

    def make(**options: Any) -> InProcess:
        made.append(InProcess(**options))
        return made[-1]

    yield make
    for running in made:
        await running.client.aclose()


@pytest.fixture
async def asc() -> AsyncIterator[InProcess]:
    """A demo sandbox in-process."""
    running = InProcess()
    async with running.client:
        yield running


@pytest.fixture
async def asc_big() -> AsyncIterator[InProcess]:
    """A generated team of 1,200 users, 130 apps, 60 invitations, in-process."""
    running = InProcess(seed="generated", users=1200, apps=130, invitations=60, random_seed=7)
    async with running.client:
        yield running
