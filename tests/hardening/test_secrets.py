"""Secrets never leak: every command, with debug logging on, scanned for key material and tokens.

One scenario drives the whole product against a demo sandbox — every CLI
command (doctor in each credential form, connect, connections list / show /
rotate-key / remove, sync, the mirror views, every provisioning action with
``--dry-run`` and for real, plan / apply, audit, tokens, workers, demo) and
the service's REST API in-process — with the root logger at DEBUG (SQL
statements and their parameters included) into ``caplog`` and a log file.
Then stdout, stderr, every log record and the log file, every exception's
text, every API response, and the SQLite database files (``.db``, ``-wal``,
``-shm``) are scanned for:

- the private keys of every key handled (PEM body lines, the DER and its base64
  at every alignment, the raw and hex private scalar, the base64 of the PEM);
- the master key (its file text, raw bytes and their base64);
- the service's API tokens (admin and named), outside the one answer that
  shows a new token once;
- any JWT.

Finally ``connections remove`` is shown to leave no trace of the removed key:
neither its ciphertext nor anything else, after a WAL checkpoint and VACUUM.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import sqlite3
import stat
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from _support import keys
from _support.sandbox import RunningSandbox
from _support.service import lifespan
from asc_access.config import Settings
from asc_access.errors import SecretStoreError
from asc_access.runtime import vault_for
from asc_access.service import create_app
from hardening.support import Run, SecretScanner, apple_truth, cli

ADMIN_TOKEN = "svc-admin-0f1e2d3c4b5a69788796a5b4c3d2e1f0"
DOMAIN = "northwindlabs.example.com"


class Scenario:
    """Runs commands and keeps everything they produced, for the scan."""

    def __init__(self, home: Path, sandbox: RunningSandbox) -> None:
        self.home = home
        self.sandbox = sandbox
        self.runs: list[Run] = []
        self.responses: list[tuple[str, str]] = []  # (label, body)
        self.allowed: dict[str, str] = {}  # token -> the label of the one output that shows it
        self.exceptions: list[BaseException] = []

    def run(self, *args: str, ok: set[int] | None = None, **kwargs: Any) -> Run:
        result = cli(*args, **kwargs)
        self.runs.append(result)
        if result.exception is not None:
            self.exceptions.append(result.exception)
        expected = {0} if ok is None else ok
        assert result.exit_code in expected, (args, result.exit_code, result.stdout[-800:],
                                              result.stderr[-800:])  # fmt: skip
        return result

    def key_flags(self, name: str, *, issuer: bool = True) -> list[str]:
        key = self.sandbox.keys[name]
        flags = ["--key-id", key.key_id, "--private-key-file", str(key.private_key_file)]
        if issuer and key.issuer_id:
            flags += ["--issuer-id", key.issuer_id]
        return flags


def _cli_commands(s: Scenario, tmp: Path) -> None:
    url = ["--api-url", s.sandbox.base_url]
    admin = s.sandbox.keys["admin"]
    # doctor: every credential form, good and bad.
    s.run("doctor", *url, *s.key_flags("admin"))
    s.run("doctor", *url, *s.key_flags("admin"), "--json")
    env_forms = {
        "ASC_KEY_ID": admin.key_id,
        "ASC_ISSUER_ID": str(admin.issuer_id),
        "ASC_PRIVATE_KEY": admin.private_key_pem.replace("\n", "\\n"),
    }
    s.run("doctor", *url, "--json", env=env_forms)
    s.run("doctor", *url, "--json", env={
        "APP_STORE_CONNECT_KEY_IDENTIFIER": admin.key_id,
        "APP_STORE_CONNECT_ISSUER_ID": str(admin.issuer_id),
        "APP_STORE_CONNECT_PRIVATE_KEY": base64.b64encode(admin.private_key_pem.encode()).decode(),
    })  # fmt: skip
    fastlane = tmp / "api_key.json"
    fastlane.write_text(json.dumps({"key_id": admin.key_id, "issuer_id": admin.issuer_id,
                                    "key": admin.private_key_pem}))  # fmt: skip
    s.run("doctor", *url, "--api-key-json", str(fastlane), "--json")
    s.run("doctor", *url, "--key-id", admin.key_id, "--issuer-id", str(admin.issuer_id),
          "--private-key-file", "-", "--json", stdin=admin.private_key_pem)  # fmt: skip
    lines = admin.private_key_pem.splitlines()
    broken = keys.write_key_file(tmp, "\n".join([*lines[:2], lines[-1]]) + "\n")
    s.run("doctor", *url, "--key-id", admin.key_id, "--issuer-id", str(admin.issuer_id),
          "--private-key-file", str(broken), "--json", ok={101})  # fmt: skip
    s.run("doctor", *url, *s.key_flags("revoked"), "--json", ok={101})
    s.run("doctor", *url, *s.key_flags("developer"), ok={102})
    s.run("doctor", *url, *s.key_flags("individual-admin", issuer=False), "--individual")
    s.run(
        "doctor",
        *url,
        "--key-id",
        admin.key_id,
        "--issuer-id",
        str(admin.issuer_id),
        "--private-key-file",
        admin.private_key_pem,
        ok={2},
    )  # a key where a path belongs
    # connect and connections
    s.run("connect", "acme", *url, *s.key_flags("admin"))
    s.run("connect", "dev", *url, *s.key_flags("developer"), "--force", "--json", ok={0, 102})
    s.run("connect", "solo", *url, *s.key_flags("individual-admin", issuer=False),
          "--individual", "--json")  # fmt: skip
    s.run("connections")
    s.run("connections", "--json")
    s.run("connections", "show", "acme")
    s.run("connections", "show", "acme", "--json")
    s.run("doctor", "acme")
    s.run("doctor", "acme", "--json")
    # sync and the mirror views
    s.run("sync", "acme")
    s.run("sync", "solo", "--json")
    for view in ("users", "invitations", "apps", "changes"):
        s.run(view)
        s.run(view, "--json")
    s.run("export", "--format", "csv")
    s.run("export", "--format", "json")
    directory = tmp / "staff.csv"
    directory.write_text("email\n" + f"priya.raman@{DOMAIN}\n")
    s.run("review")
    s.run("review", "--json", "--directory", str(directory))
    # provisioning: every action, planned and for real
    new = f"new.hire@{DOMAIN}"
    invite = ("invite", new, "--first-name", "New", "--last-name", "Hire", "--role", "DEVELOPER",
              "--app", "com.northwindlabs.weather", "-c", "acme")  # fmt: skip
    s.run(*invite, "--dry-run")
    s.run(*invite, "--yes", "--json")
    s.run("set-roles", f"noah.williams@{DOMAIN}", "--role", "DEVELOPER", "-c", "acme", "--dry-run")
    s.run("set-roles", f"noah.williams@{DOMAIN}", "--role", "DEVELOPER", "-c", "acme", "--yes")
    s.run("set-apps", f"noah.williams@{DOMAIN}", "--add", "com.northwindlabs.ledger", "-c", "acme",
          "--yes", "--json")  # fmt: skip
    s.run("cancel-invitation", new, "-c", "acme", "--dry-run")
    s.run("cancel-invitation", new, "-c", "acme", "--yes")
    s.run("remove", f"kenji.watanabe@{DOMAIN}", "-c", "acme", "--dry-run", "--json")
    s.run("remove", f"kenji.watanabe@{DOMAIN}", "-c", "acme", "--yes")
    s.run("offboard", f"chloe.martin@{DOMAIN}", "--dry-run", ok={0, 102})
    s.run("offboard", f"chloe.martin@{DOMAIN}", "-c", "acme", "--yes", "--json")
    s.run("remove", f"ava.thompson@{DOMAIN}", "-c", "acme", "--yes", "--json", ok={1, 2, 105})
    # plan / apply a desired state: the team as it is, plus one invitation
    truth = apple_truth(s.sandbox)
    people = []
    for email, roles, all_apps, prov, apps in [*truth.users.values(), *truth.invitations.values()]:
        if "ACCOUNT_HOLDER" in roles:
            continue
        person: dict[str, Any] = {"email": email, "first_name": "F", "last_name": "L",
                                  "roles": list(roles), "provisioning": prov}  # fmt: skip
        person.update({"all_apps": True} if all_apps else {"apps": sorted(apps)})
        people.append(person)
    people.append({"email": f"desired@{DOMAIN}", "first_name": "D", "last_name": "S",
                   "roles": ["MARKETING"], "apps": sorted(truth.apps)[:1]})  # fmt: skip
    desired = tmp / "team.yaml"
    desired.write_text(yaml.safe_dump({"connections": {"acme": {"people": people}}}))
    s.run("plan", str(desired))
    s.run("plan", str(desired), "--json")
    s.run("apply", str(desired), "--dry-run")
    s.run("apply", str(desired), "--yes", "--json")
    s.run("audit")
    s.run("audit", "--json")
    s.run("audit", "--id", "1")
    # the service's named tokens, from the command line
    created = s.run("tokens", "create", "cli-reporting")
    token = next(w for w in created.stdout.split() if len(w) >= 32)
    s.allowed[token] = "tokens create cli-reporting"
    s.run("tokens", "list")
    s.run("tokens", "revoke", "cli-reporting")
    s.run("workers", ok={0, 1, 2})
    s.run("workers", "--json", ok={0, 1, 2})


def _rotation_and_failures(s: Scenario, monkeypatch: pytest.MonkeyPatch) -> SecretScanner:
    """Rotate acme's key, revoke the new one, then try a wrong master key."""
    scanner = SecretScanner()
    newer = s.sandbox.issue_key("team", role="ADMIN", name="newer")
    scanner.add_pem("rotated key", newer.private_key_pem)
    s.run("connections", "rotate-key", "acme", *s.key_flags("newer"), "--json")
    s.run("sync", "acme", "--json")
    s.sandbox.set_clock_offset(-400)
    s.run("doctor", "acme", "--json", ok={101})
    s.sandbox.set_clock_offset(0)
    s.sandbox.revoke_key(newer.key_id)
    s.run("doctor", "acme", "--json", ok={101})
    s.run("sync", "acme", "--json", ok={101})
    monkeypatch.setenv("ASC_ACCESS_MASTER_KEY", "a different master key, sadly")
    wrong = s.run("sync", "acme", "--json", ok={1})
    assert "cannot be decrypted" in wrong.stdout
    s.run("doctor", "acme", ok={1})
    monkeypatch.delenv("ASC_ACCESS_MASTER_KEY")
    return scanner


async def _service_calls(s: Scenario, settings: Settings) -> None:
    app = create_app(settings, scheduler=False)
    auth = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    async with (
        lifespan(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://svc") as http,
    ):

        async def call(method: str, path: str, *, expect: set[int], **kwargs: Any) -> Any:
            kwargs.setdefault("headers", auth)
            response = await http.request(method, path, **kwargs)
            assert response.status_code in expect, (method, path, response.text[:500])
            s.responses.append((f"{method} {path}", response.text))
            return response

        await call("GET", "/api/v1/me", expect={200})
        made = (await call("POST", "/api/v1/tokens", json={"name": "api-ci"}, expect={201})).json()
        s.allowed[made["token"]] = "POST /api/v1/tokens"
        s.responses[-1] = ("POST /api/v1/tokens", "(shows the new token once, by design)")
        await call("GET", "/api/v1/tokens", expect={200})
        reader = {"Authorization": f"Bearer {made['token']}"}
        await call("GET", "/api/v1/users", headers=reader, expect={200})
        await call("GET", "/api/v1/users", headers={"Authorization": "Bearer nope"}, expect={401})
        dev = s.sandbox.keys["developer"]
        await call("POST", "/api/v1/connections", expect={201}, json={
            "name": "svc-json", "key_id": dev.key_id, "issuer_id": dev.issuer_id,
            "api_url": s.sandbox.base_url, "private_key": dev.private_key_pem, "force": True,
        })  # fmt: skip
        lines = dev.private_key_pem.splitlines()
        await call("POST", "/api/v1/connections", expect={422}, json={
            "name": "svc-broken", "key_id": dev.key_id, "issuer_id": dev.issuer_id,
            "api_url": s.sandbox.base_url, "private_key": "\n".join([*lines[:2], lines[-1]]),
        })  # fmt: skip
        solo = s.sandbox.keys["individual-developer"]
        await call("POST", "/api/v1/connections", expect={201, 422}, data={
            "name": "svc-upload", "key_id": solo.key_id, "individual": "true",
            "api_url": s.sandbox.base_url, "force": "true",
        }, files={"private_key": ("AuthKey.p8", solo.private_key_pem.encode())})  # fmt: skip
        await call("GET", "/api/v1/connections", expect={200})
        await call("GET", "/api/v1/connections/acme", expect={200})
        await call("POST", "/api/v1/connections/acme/doctor", expect={200})
        rotated = s.sandbox.issue_key("team", role="ADMIN", name="svc-rotated")
        await call("PUT", "/api/v1/connections/acme/key", expect={200}, json={
            "key_id": rotated.key_id, "issuer_id": rotated.issuer_id,
            "private_key": rotated.private_key_pem,
        })  # fmt: skip
        await call("POST", "/api/v1/connections/acme/sync", expect={200, 201, 202})
        for _ in range(200):
            runs = (await call("GET", "/api/v1/sync/runs?connection=acme", expect={200})).json()
            if runs["items"] and runs["items"][0]["status"] != "running":
                break
            await asyncio.sleep(0.05)
        await call("GET", "/api/v1/sync/progress", expect={200})
        for path in ("users", "people", "invitations", "apps", "changes", "review", "audit",
                     "export?format=json", "export?format=csv"):  # fmt: skip
            await call("GET", f"/api/v1/{path}", expect={200})
        await call("POST", "/api/v1/review", json={"emails": [f"priya.raman@{DOMAIN}"]},
                   expect={200})  # fmt: skip
        plan = (await call("POST", "/api/v1/actions/plans", expect={201}, json={
            "action": "set-roles", "connection": "acme", "email": f"grace.kim@{DOMAIN}",
            "roles": ["SALES"],
        })).json()  # fmt: skip
        await call("GET", f"/api/v1/actions/plans/{plan['plan_id']}", expect={200})
        await call("POST", f"/api/v1/actions/plans/{plan['plan_id']}/confirm", expect={200})
        await call("GET", "/api/v1/audit/1", expect={200})
        await call("DELETE", "/api/v1/connections/svc-json", expect={200})
        await call("DELETE", "/api/v1/tokens/api-ci", expect={200})
        await call("GET", "/api/v1/users", headers=reader, expect={401})


def _database_bytes(home: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(home.glob("asc-access.db*")))


def _compact(database: Path) -> None:
    with sqlite3.connect(database) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn = sqlite3.connect(database)
    try:
        conn.execute("VACUUM")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()


@pytest.mark.slow
def test_no_secret_in_any_output_log_exception_response_or_database(
    sandbox: RunningSandbox,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
    _isolated_env: Path,  # noqa: PT019 - its value is the home directory
) -> None:
    home = _isolated_env
    caplog.set_level(logging.DEBUG)
    logging.getLogger("sqlalchemy.engine").setLevel(logging.DEBUG)  # statements and parameters
    log_file = tmp_path / "debug.log"
    file_handler = logging.FileHandler(log_file)
    file_handler.setLevel(logging.DEBUG)
    logging.getLogger().addHandler(file_handler)
    monkeypatch.setenv("ASC_ACCESS_API_TOKEN", ADMIN_TOKEN)
    monkeypatch.setenv("ASC_ACCESS_ALLOWED_API_URLS", sandbox.base_url)
    scenario = Scenario(home, sandbox)
    try:
        _cli_commands(scenario, tmp_path)
        rotation = _rotation_and_failures(scenario, monkeypatch)
        asyncio.run(_service_calls(scenario, Settings.from_env()))
        demo_home = tmp_path / "demo-home"
        scenario.run("demo", env={"ASC_ACCESS_HOME": str(demo_home)})
    finally:
        logging.getLogger().removeHandler(file_handler)
        file_handler.close()
        logging.getLogger("sqlalchemy.engine").setLevel(logging.NOTSET)

    # What must never leak.
    scanner = SecretScanner(dict(rotation.needles))
    for name, key in sandbox.keys.items():
        scanner.add_pem(f"key {name}", key.private_key_pem)
    master_file = home / "master.key"
    assert stat.S_IMODE(master_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(home.stat().st_mode) & 0o077 == 0
    master_text = master_file.read_text().strip()
    scanner.add_secret("the master key", master_text, raw=base64.urlsafe_b64decode(master_text))
    demo_master = (demo_home / "master.key").read_text().strip()
    scanner.add_secret("the demo's master key", demo_master)
    scanner.add_secret("the admin API token", ADMIN_TOKEN)
    for token, label in scenario.allowed.items():
        scanner.add_secret(f"the API token shown by {label}", token)

    # The scanner finds what it looks for (else a clean scan proves nothing).
    assert scanner.findings(sandbox.keys["admin"].private_key_file.read_bytes())
    assert scanner.findings(keys.key_der(sandbox.keys["admin"].private_key_pem))
    assert scanner.findings(master_file.read_bytes())
    assert scanner.findings(f"Authorization: Bearer {ADMIN_TOKEN}")

    leaks: dict[str, list[str]] = {}
    for run in scenario.runs:
        shown_once = {
            f"the API token shown by {label}"
            for label in scenario.allowed.values()
            if label == " ".join(run.args[:3])
        }
        for stream, text in (("stdout", run.stdout), ("stderr", run.stderr)):
            found = [f for f in scanner.findings(text) if f not in shown_once]
            if found:
                leaks[f"{' '.join(run.args)[:60]} ({stream})"] = found
    for label, body in scenario.responses:
        if scanner.findings(body):
            leaks[f"response {label}"] = scanner.findings(body)
    for record in caplog.records:
        text = record.getMessage() + (record.exc_text or "")
        if record.exc_info and record.exc_info[1] is not None:
            text += repr(record.exc_info[1])
        if scanner.findings(text):
            leaks[f"log record {record.name}:{record.lineno}"] = scanner.findings(text)
    if scanner.findings(log_file.read_bytes()):
        leaks["the debug log file"] = scanner.findings(log_file.read_bytes())
    for error in scenario.exceptions:
        text = f"{error!s} {error!r} {error.__cause__!s} {error.__context__!s}"
        if scanner.findings(text):
            leaks[f"exception {type(error).__name__}"] = scanner.findings(text)
    database = _database_bytes(home)
    if scanner.findings(database):
        leaks["the database files"] = scanner.findings(database)
    others = [p for p in home.rglob("*") if p.is_file() and p.name != "master.key"]
    for path in others:
        if "asc-access.db" not in path.name and scanner.findings(path.read_bytes()):
            leaks[f"file {path.name}"] = scanner.findings(path.read_bytes())
    assert leaks == {}, json.dumps(leaks, indent=1)

    # It all really happened: lots of output, debug records, SQL, API answers.
    assert sum(len(r.stdout) for r in scenario.runs) > 20_000
    assert len(caplog.records) > 500
    assert any(r.name.startswith("sqlalchemy.engine") for r in caplog.records)
    assert any(r.name == "asc_access.api" for r in caplog.records)
    assert len(scenario.responses) > 30
    assert len(scenario.runs) > 60
    print(
        f"\nsecret scan: {len(scenario.runs)} commands, {len(scenario.responses)} API answers, "
        f"{len(caplog.records)} log records, {len(database)} database bytes, "
        f"{len(scanner.needles)} needles: clean"
    )


@pytest.mark.slow
def test_connections_remove_leaves_no_key_material_behind(sandbox: RunningSandbox) -> None:
    home = Settings.from_env().home
    database = home / "asc-access.db"
    scanner = SecretScanner()
    for name in ("admin", "individual-admin"):
        scanner.add_pem(name, sandbox.keys[name].private_key_pem)
    url = ["--api-url", sandbox.base_url]
    admin, solo = sandbox.keys["admin"], sandbox.keys["individual-admin"]
    for name, key, extra in (("keep", admin, ["--issuer-id", str(admin.issuer_id)]),
                             ("gone", solo, ["--individual"])):  # fmt: skip
        connected = cli("connect", name, *url, "--key-id", key.key_id,
                        "--private-key-file", str(key.private_key_file), *extra)  # fmt: skip
        assert connected.exit_code == 0, connected.stdout + connected.stderr
    assert cli("sync", "--all").exit_code == 0
    with sqlite3.connect(database) as conn:
        blobs = dict(conn.execute("SELECT name, encrypted_private_key FROM connections"))
    assert set(blobs) == {"keep", "gone"}
    vault = vault_for(Settings.from_env())
    assert vault.decrypt(blobs["gone"]) == solo.private_key_pem.encode()
    for name, blob in blobs.items():
        scanner.add_secret(f"the ciphertext of {name}", blob)
    before = _database_bytes(home)
    assert blobs["gone"] in before  # the scan can see it while it is there
    assert "the ciphertext of gone" in scanner.findings(before)

    removed = cli("connections", "remove", "gone", "--yes", "--json")
    assert removed.exit_code == 0, removed.stdout
    # Right after the remove (WAL and all), then after a checkpoint and a VACUUM.
    for moment in ("after remove", "after checkpoint and VACUUM"):
        if moment != "after remove":
            _compact(database)
        found = scanner.findings(_database_bytes(home))
        assert "the ciphertext of keep" in found, moment  # the other key is still stored
        assert [f for f in found if "keep" not in f and "admin" not in f] == [], moment
    with sqlite3.connect(database) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        left = conn.execute(
            "SELECT count(*) FROM users WHERE connection_id NOT IN (SELECT id FROM connections)"
        ).fetchone()[0]
    assert left == 0
    assert cli("connections", "show", "gone").exit_code == 2
    assert cli("sync", "keep", "--json").exit_code == 0


def test_a_wrong_master_key_is_a_clear_error_never_garbage(sandbox: RunningSandbox) -> None:
    admin = sandbox.keys["admin"]
    connected = cli("connect", "acme", "--api-url", sandbox.base_url, "--key-id", admin.key_id,
                    "--issuer-id", str(admin.issuer_id), "--private-key-file",
                    str(admin.private_key_file))  # fmt: skip
    assert connected.exit_code == 0
    home = Settings.from_env().home
    for other in ("another passphrase entirely", base64.urlsafe_b64encode(b"k" * 32).decode()):
        result = cli("sync", "acme", "--json", env={"ASC_ACCESS_MASTER_KEY": other})
        assert result.exit_code == 1
        assert result.exception is None
        assert "cannot be decrypted with ASC_ACCESS_MASTER_KEY" in result.doc["error"]
        assert "master key differs" in result.doc["error"]
    # A damaged blob is detected too (authenticated encryption), and named.
    with sqlite3.connect(home / "asc-access.db") as conn:
        (blob,) = conn.execute("SELECT encrypted_private_key FROM connections").fetchone()
        flipped = bytearray(blob)
        flipped[-5] ^= 0x01
        conn.execute("UPDATE connections SET encrypted_private_key = ?", (bytes(flipped),))
    damaged = cli("doctor", "acme", "--json")
    assert damaged.exit_code == 1
    assert "altered" in damaged.stdout + damaged.stderr
    with pytest.raises(SecretStoreError, match="cannot be decrypted"):
        vault_for(Settings.from_env()).decrypt(bytes(flipped))
    # The master key file is refused when others can read it.
    (home / "master.key").chmod(0o644)
    loose = cli("sync", "acme", "--json")
    assert loose.exit_code == 1
    assert "chmod 600" in loose.stdout
