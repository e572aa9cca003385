"""An ``apply`` killed with SIGKILL part-way: the audit log and the mirror agree with Apple.

Each round starts from the demo team (a fresh store, connected and synced),
writes a desired-state file with eight changes (three invitations, two
removals, two role/app changes, one cancelled invitation), runs
``asc-access apply FILE --yes --json`` as a subprocess against the sandbox
slowed to 150 ms per request, and kills it a seeded random time after its
first request. Then, person by person (read with plain HTTP from the sandbox,
and from the audit row with ``sqlite3``):

- a step the audit log records as finished (``done`` / ``already``) is what
  the sandbox holds, and the mirror shows it too;
- a step still ``pending`` never reached the sandbox, and the mirror shows the
  person as before;
- the one step that may be ``running`` (its write may or may not have reached
  Apple: the audit log says exactly that) is either before or after, and
  everyone else in the mirror is exactly what the sandbox holds;
- running ``apply`` again finishes the job (its plan has only what is left),
  a third plan is empty, and a sync leaves the mirror equal to the sandbox.

``ASC_HARDENING_SEED`` / ``ASC_HARDENING_APPLY_KILLS`` (default 5) change the run.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

from _support.sandbox import RunningSandbox, start_sandbox
from hardening.support import Picture, apple_truth, cli, mirror_picture

SEED = int(os.environ.get("ASC_HARDENING_SEED", "20260317"))
KILLS = int(os.environ.get("ASC_HARDENING_APPLY_KILLS", "5"))
ASC_ACCESS = Path(sys.executable).with_name("asc-access")
DOMAIN = "northwindlabs.example.com"
REMOVED = {f"kenji.watanabe@{DOMAIN}", f"chloe.martin@{DOMAIN}"}
CANCELLED = f"lucas.moreau@{DOMAIN}"
HOLDER = f"ava.thompson@{DOMAIN}"
NEW = [f"new{i}@{DOMAIN}" for i in range(3)]
Access = tuple[tuple[str, ...], bool, bool, frozenset[str]]


def _by_email(picture: Picture) -> dict[str, Access]:
    people = {**picture.users, **picture.invitations}
    return {p[0]: (p[1], p[2], p[3], p[4]) for p in people.values()}


def _desired(original: Picture) -> tuple[dict[str, Any], dict[str, Access]]:
    """The desired-state document, and each person's access it asks for."""
    apps = sorted(original.apps)
    want: dict[str, Access] = {}
    for email, access in _by_email(original).items():
        if email in REMOVED or email in (CANCELLED, HOLDER):
            continue
        want[email] = access
    noah, grace = f"noah.williams@{DOMAIN}", f"grace.kim@{DOMAIN}"
    want[noah] = (("DEVELOPER",), False, want[noah][2], frozenset(apps[:2]))
    want[grace] = (("SALES",), True, want[grace][2], frozenset())
    for i, email in enumerate(NEW):
        want[email] = (("DEVELOPER",), False, i % 2 == 0, frozenset(apps[i : i + 2]))
    people = []
    for email, (roles, all_apps, provisioning, app_ids) in sorted(want.items()):
        local = email.split("@")[0]
        first, _, last = local.partition(".")
        person: dict[str, Any] = {
            "email": email,
            "first_name": first.title(),
            "last_name": last.title() or "Hire",
            "roles": list(roles),
            "provisioning": provisioning,
        }
        if all_apps:
            person["all_apps"] = True
        else:
            person["apps"] = sorted(app_ids)
        people.append(person)
    return {"remove_unlisted": True, "connections": {"acme": {"people": people}}}, want


def _audit(database: Path) -> list[dict[str, Any]]:
    with sqlite3.connect(database) as conn:
        rows = conn.execute("SELECT id, status, steps FROM audit_entries ORDER BY id").fetchall()
    return [{"id": r[0], "status": r[1], "steps": json.loads(r[2])} for r in rows]


def _mirror(home: Path) -> Picture:
    from asc_access.store.db import make_engine

    engine = make_engine(f"sqlite:///{home / 'asc-access.db'}")
    try:
        with sqlite3.connect(home / "asc-access.db") as conn:
            (connection_id,) = conn.execute("SELECT id FROM connections").fetchone()
        return mirror_picture(engine, connection_id)
    finally:
        engine.dispose()


def _fresh_store(home: Path, running: RunningSandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASC_ACCESS_HOME", str(home))
    key = running.keys["admin"]
    connected = cli(
        "connect", "acme", "--key-id", key.key_id, "--issuer-id", str(key.issuer_id),
        "--private-key-file", str(key.private_key_file), "--api-url", running.base_url,
    )  # fmt: skip
    assert connected.exit_code == 0, connected.stdout + connected.stderr
    synced = cli("sync", "acme", "--json")
    assert synced.exit_code == 0, synced.stdout + synced.stderr


def _kill_apply(running: RunningSandbox, plan_file: Path, home: Path, delay: float) -> bool:
    with (home / "apply.out").open("wb") as out:
        process = subprocess.Popen(
            [str(ASC_ACCESS), "apply", str(plan_file), "--yes", "--json"],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=os.environ.copy(),
        )
    deadline = time.monotonic() + 120
    while running.stats()["requests"] == 0:
        assert process.poll() is None, (home / "apply.out").read_text()
        assert time.monotonic() < deadline
        time.sleep(0.005)
    end = time.monotonic() + delay
    while time.monotonic() < end and process.poll() is None:
        time.sleep(0.005)
    if process.poll() is not None:
        return False
    process.send_signal(signal.SIGKILL)
    process.wait(30)
    return True


def _check_after_kill(
    original: dict[str, Access],
    want: dict[str, Access],
    apple: dict[str, Access],
    mirror: dict[str, Access],
    entries: list[dict[str, Any]],
) -> str:
    """Assert the invariants; returns how far the execution got (for the report)."""
    everyone = set(original) | set(want) | set(apple) | set(mirror)
    if not entries:
        # Killed while planning: nothing was sent, nothing recorded.
        assert apple == original
        assert mirror == original
        return "killed while planning"
    (entry,) = entries
    assert entry["status"] in {"running", "done", "partial"}
    in_flight: set[str] = set()
    states: Counter[str] = Counter()
    for step in entry["steps"]:
        email, state = step["email"], step["state"]
        states[state] += 1
        if state == "finished":
            assert step["outcome"] in {"done", "already"}, step
            assert apple.get(email) == want.get(email), (step["summary"], apple.get(email))
        elif state == "pending":
            assert apple.get(email) == original.get(email), step["summary"]
        else:
            assert state == "running", step
            in_flight.add(email)
            assert apple.get(email) in (original.get(email), want.get(email)), step["summary"]
    assert len(in_flight) <= 1
    for email in everyone - in_flight:
        assert mirror.get(email) == apple.get(email), email
    for email in in_flight:
        assert mirror.get(email) in (original.get(email), apple.get(email)), email
    if entry["status"] != "running":
        return "finished before the kill"
    return f"killed with {states['finished']} finished, {states['running']} running"


@pytest.mark.slow
def test_apply_killed_part_way_leaves_audit_mirror_and_apple_in_agreement(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = random.Random(SEED)
    outcomes: Counter[str] = Counter()
    with start_sandbox() as running:
        original_picture = apple_truth(running)
        document, want = _desired(original_picture)
        original = _by_email(original_picture)
        plan_file = tmp_path / "team.yaml"
        plan_file.write_text(yaml.safe_dump(document))
        for kill in range(KILLS):
            running.reset(seed="demo")
            home = tmp_path / f"home-{kill}"
            _fresh_store(home, running, monkeypatch)
            running.add_fault(latency_ms=150)
            running.reset_stats()
            killed = _kill_apply(running, plan_file, home, rng.uniform(0.4, 5.5))
            running.clear_faults()
            apple = _by_email(apple_truth(running))
            mirror = _by_email(_mirror(home))
            entries = _audit(home / "asc-access.db")
            reached = _check_after_kill(original, want, apple, mirror, entries)
            outcomes[reached if killed else "finished before the kill"] += 1

            # Apply again: it finishes what is left and says so; then nothing is left.
            again = cli("apply", str(plan_file), "--yes", "--json")
            assert again.exit_code == 0, again.stdout + again.stderr
            assert _by_email(apple_truth(running)) == want | {HOLDER: original[HOLDER]}
            empty = cli("plan", str(plan_file), "--json")
            assert empty.exit_code == 0, empty.stdout + empty.stderr
            assert empty.doc["plan"]["steps"] == []
            synced = cli("sync", "acme", "--json")
            assert synced.exit_code == 0, synced.stdout
            assert _mirror(home) == apple_truth(running)
    print(f"\napply crash loop (seed {SEED}, {KILLS} kills): {dict(outcomes)}")
