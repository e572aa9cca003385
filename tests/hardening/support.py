"""Shared helpers for the hardening tests: a secret scanner, the CLI, and two pictures.

- :class:`SecretScanner` knows every form a secret could leak in (PEM lines, the
  base64 of the DER at each alignment, the raw DER and private scalar, the
  master key in text, raw and base64 forms, API tokens) plus any JWT, and says
  where it found one (never printing more than a few characters of it).
- :func:`cli` runs ``asc-access`` in-process with typer's runner.
- :func:`apple_truth` reads a sandbox team with plain HTTP (independent of the
  product's client) and :func:`mirror_picture` reads the product's mirror, in
  the same shape, so tests can compare them.
"""

from __future__ import annotations

import base64
import json
import re
import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from typer.testing import CliRunner

from _support import keys
from _support.sandbox import RunningSandbox

__all__ = [
    "JWT",
    "Picture",
    "Run",
    "SecretScanner",
    "apple_truth",
    "cli",
    "dump_tables",
    "mirror_picture",
]

#: Any JSON Web Token (header.payload.signature, all base64url).
JWT = re.compile(rb"eyJ[\w-]+\.[\w-]+\.[\w-]+")
_MIN_FRAGMENT = 16


def _b64_fragments(raw: bytes, *, width: int = 24) -> set[bytes]:
    """Base64 (standard and url-safe) fragments of ``raw`` whatever its alignment in a stream.

    Base64 of a byte string depends on where it starts modulo 3; encoding the
    data from offsets 0, 1 and 2 and taking an inner slice of each gives text
    that appears in the base64 of any stream containing ``raw``.
    """
    out: set[bytes] = set()
    for offset in range(3):
        chunk = raw[offset:]
        chunk = chunk[: len(chunk) - len(chunk) % 3]
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            text = encode(chunk)
            if len(text) >= width + 8:
                out.add(text[4 : 4 + width])
                out.add(text[-4 - width : -4])
    return out


@dataclass
class SecretScanner:
    """Needles for every secret a test handled, and a scan over any bytes or text."""

    needles: dict[bytes, str] = field(default_factory=dict)

    def add_pem(self, label: str, pem: str) -> None:
        """A private key: PEM body lines, DER (raw, base64 at any alignment), scalar."""
        body = keys.pem_body(pem)
        for line in body.splitlines():
            if len(line) >= _MIN_FRAGMENT:
                self.needles[line.encode()] = f"{label}: PEM body line"
        der = keys.key_der(pem)
        self.needles[der[8:40]] = f"{label}: DER bytes"
        for fragment in _b64_fragments(der):
            self.needles[fragment] = f"{label}: base64 of the DER"
        key = serialization.load_pem_private_key(pem.encode(), password=None)
        if isinstance(key, ec.EllipticCurvePrivateKey):
            scalar = key.private_numbers().private_value.to_bytes(32, "big")
            self.needles[scalar] = f"{label}: private scalar (raw)"
            self.needles[scalar.hex().encode()] = f"{label}: private scalar (hex)"
            for fragment in _b64_fragments(scalar, width=16):
                self.needles[fragment] = f"{label}: private scalar (base64)"
        for fragment in _b64_fragments(pem.encode()):
            self.needles[fragment] = f"{label}: base64 of the whole PEM"

    def add_secret(self, label: str, value: str | bytes, *, raw: bytes | None = None) -> None:
        """Any other secret (master key, API token, blob); ``raw`` adds its decoded bytes."""
        data = value.encode() if isinstance(value, str) else value
        self.needles[data] = label
        if raw is not None:
            self.needles[raw] = f"{label} (raw bytes)"
            for fragment in _b64_fragments(raw, width=16):
                self.needles[fragment] = f"{label} (base64)"

    def findings(self, data: bytes | str, *, allow: Sequence[bytes] = ()) -> list[str]:
        """What leaked in ``data``: labels (and a JWT's first characters), empty when clean."""
        blob = data.encode("utf-8", "surrogateescape") if isinstance(data, str) else data
        found = sorted({label for needle, label in self.needles.items() if needle in blob})
        for match in JWT.finditer(blob):
            if match.group(0) not in allow:
                found.append(f"a JWT {match.group(0)[:10].decode()}...")
        return found


@dataclass(frozen=True)
class Run:
    """One in-process CLI invocation."""

    args: tuple[str, ...]
    exit_code: int
    stdout: str
    stderr: str
    exception: BaseException | None

    @property
    def doc(self) -> Any:
        """The JSON document on stdout."""
        return json.loads(self.stdout)


def cli(*args: str, stdin: str | bytes | None = None, env: Mapping[str, str] | None = None) -> Run:
    """Run ``asc-access ARGS`` in-process (exceptions other than SystemExit are kept)."""
    result = CliRunner().invoke(_app(), list(args), input=stdin, env=dict(env or {}))
    exception = None if isinstance(result.exception, SystemExit) else result.exception
    return Run(tuple(args), result.exit_code, result.stdout, result.stderr, exception)


def _app() -> Any:
    from asc_access.cli.main import app

    return app


# -- pictures of a team: Apple's (the sandbox's) and the mirror's ----------------------

Person = tuple[str, tuple[str, ...], bool, bool, frozenset[str]]


@dataclass(frozen=True)
class Picture:
    """A team by id: members and invitations (e-mail, roles, all apps, provisioning, apps)."""

    users: dict[str, Person]
    invitations: dict[str, Person]
    apps: frozenset[str]


def _person(attrs: Mapping[str, Any], email_key: str, app_ids: set[str]) -> Person:
    all_apps = bool(attrs.get("allAppsVisible"))
    return (
        str(attrs[email_key]).strip().lower(),
        tuple(sorted(set(attrs.get("roles") or ()))),
        all_apps,
        bool(attrs.get("provisioningAllowed")),
        frozenset() if all_apps else frozenset(app_ids),
    )


def _pages(http: httpx.Client, path: str, params: dict[str, str]) -> list[dict[str, Any]]:
    documents = []
    url: str | None = path
    query: dict[str, str] | None = params
    while url:
        response = http.get(url, params=query)
        response.raise_for_status()
        document = response.json()
        documents.append(document)
        url, query = document.get("links", {}).get("next"), None
    return documents


def _linked_ids(http: httpx.Client, path: str) -> set[str]:
    ids: set[str] = set()
    for document in _pages(http, path, {"limit": "200"}):
        ids.update(item["id"] for item in document["data"])
    return ids


def apple_truth(running: RunningSandbox, key: str = "admin") -> Picture:
    """The sandbox's team as Apple's API shows it, read with plain HTTP (complete app lists)."""
    with httpx.Client(
        base_url=running.base_url, headers=running.headers(key), timeout=30.0
    ) as http:
        include = {"limit": "200", "include": "visibleApps", "limit[visibleApps]": "50"}
        users: dict[str, Person] = {}
        for document in _pages(http, "/v1/users", include):
            for item in document["data"]:
                rel = item.get("relationships", {}).get("visibleApps", {})
                ids = {d["id"] for d in rel.get("data") or ()}
                total = rel.get("meta", {}).get("paging", {}).get("total")
                if total is not None and total > len(ids):
                    ids = _linked_ids(http, f"/v1/users/{item['id']}/relationships/visibleApps")
                users[item["id"]] = _person(item["attributes"], "username", ids)
        invitations: dict[str, Person] = {}
        for document in _pages(http, "/v1/userInvitations", include):
            for item in document["data"]:
                rel = item.get("relationships", {}).get("visibleApps", {})
                ids = {d["id"] for d in rel.get("data") or ()}
                total = rel.get("meta", {}).get("paging", {}).get("total")
                if total is not None and total > len(ids):
                    ids = _linked_ids(http, f"/v1/userInvitations/{item['id']}/visibleApps")
                invitations[item["id"]] = _person(item["attributes"], "email", ids)
        apps = frozenset(
            item["id"]
            for document in _pages(http, "/v1/apps", {"limit": "200"})
            for item in document["data"]
        )
    return Picture(users, invitations, apps)


def mirror_picture(engine: Any, connection_id: int) -> Picture:
    """The product's mirror of one connection, in :class:`Picture`'s shape."""
    from asc_access.store.mirror import load_snapshot

    with engine.connect() as conn:
        snap = load_snapshot(conn, connection_id)
    users = {
        u.user_id: (
            u.username,
            tuple(sorted(u.roles)),
            u.all_apps_visible,
            u.provisioning_allowed,
            frozenset() if u.all_apps_visible else frozenset(u.app_ids),
        )
        for u in snap.users.values()
    }
    invitations = {
        i.invitation_id: (
            i.email,
            tuple(sorted(i.roles)),
            i.all_apps_visible,
            i.provisioning_allowed,
            frozenset() if i.all_apps_visible else frozenset(i.app_ids),
        )
        for i in snap.invitations.values()
    }
    return Picture(users, invitations, frozenset(snap.apps))


_MIRROR_TABLES = ("users", "user_apps", "invitations", "invitation_apps", "apps", "changes")


def dump_tables(database: Path, tables: Sequence[str] = _MIRROR_TABLES) -> dict[str, list[Any]]:
    """Every row of ``tables`` (sorted), read with the sqlite3 module, not the product."""
    out: dict[str, list[Any]] = {}
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as conn:
        for table in tables:
            rows = conn.execute(f"SELECT * FROM {table}").fetchall()
            out[table] = sorted(rows, key=repr)
    return out
