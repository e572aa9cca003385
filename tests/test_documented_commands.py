"""Every command the README, docs/*.md and the demo tour print, run exactly as printed.

How it works:

- The working directory is a fresh temporary one holding a ``.venv`` link to this
  checkout's, so ``.venv/bin/asc-access …`` works as printed (as from the repository
  after ``make demo``) and ``--state-dir ./sandbox`` writes nowhere in the repository.
  Plain ``asc-access …`` lines run with ``.venv/bin`` first on PATH: the README's
  ``. .venv/bin/activate``.
- The demo's commands: the Makefile's ``demo`` recipe runs as written (its mktemp
  home), then every "Try next" line runs after it. The lines the tour narrates
  (``$ …``) are re-run while the tour's sandbox still serves (an in-process tour).
- The docs' commands: every line of a fenced code block that starts with
  ``asc-access `` or ``.venv/bin/asc-access`` (``\\`` continuations joined), in the home
  the tour set up, with ``ASC_ACCESS_API_URL`` at its live sandbox, as docs/sandbox.md
  says to export. Docs added later are covered without touching this file.
- Placeholders are substituted with real values (the ``toured`` fixture); a line
  still holding ``…`` must be in :data:`NOT_RUN` with a reason, or the test fails.
- Files a command reads (``--directory staff.csv``) are in :data:`INPUTS`.
- Each exits 0 unless :data:`EXPECTED` says otherwise (with the reason). Commands
  that keep running (``serve``, ``sandbox``) must start listening on their port, then
  stop with exit 0 on Ctrl+C; when another program holds their port, they are skipped.
"""

from __future__ import annotations

import io
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from asc_access.cli.demo_tour import run_tour
from asc_access.config import Settings
from asc_access.sandbox import Sandbox, SandboxOptions
from asc_access.sandbox.server import ThreadedServer

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
VENV_BIN = Path(sys.executable).parent
LEAVER = "sofia.rossi@northwindlabs.example.com"

#: Lines not run, each with why (matched with re.search against the line as printed).
NOT_RUN: tuple[tuple[str, str], ...] = (
    (
        r"&\s*(#.*)?$|sync --all --wait|workers status",
        (
            "docs/deploy.md's set-up: needs PostgreSQL, Redis and the shared master key "
            "(tests/workers run these against real services)"
        ),
    ),
)

#: (pattern, exit status, why) for lines that exit non-zero by design.
EXPECTED: tuple[tuple[str, int, str], ...] = (
    (
        r"doctor --key-id 2X9R4HXF34 ",
        101,
        (
            "Apple's sample Key ID: its AuthKey_2X9R4HXF34.p8 is not here, so APP-101 "
            "private_key_unreadable, as the doctor should say"
        ),
    ),
)

#: Files the documented commands read, written into the working directory first.
INPUTS: dict[str, str] = {
    "staff.csv": (
        "email\nava.thompson@northwindlabs.example.com\npriya.raman@northwindlabs.example.com\n"
    ),
}

#: Commands that keep running, with their default port.
LONG_RUNNING = {"serve": 8080, "sandbox": 8787}


@dataclass(frozen=True)
class Line:
    """One printed command and where it was printed."""

    where: str
    text: str


@dataclass
class World:
    """What the documented commands run in."""

    cwd: Path
    env: dict[str, str]
    substitutions: list[tuple[str, str]]
    extra_env: dict[str, dict[str, str]]


def documented_lines() -> list[Line]:
    """Every ``asc-access`` line of every fenced block of the README and docs/*.md."""
    found = []
    for path in DOCS:
        text = path.read_text(encoding="utf-8")
        for block in re.finditer(r"^```[^\n]*\n(.*?)^```", text, flags=re.DOTALL | re.MULTILINE):
            start = text.count("\n", 0, block.start(1)) + 1
            for offset, raw in enumerate(re.sub(r"\s*\\\n\s*", " ", block.group(1)).splitlines()):
                line = raw.strip()
                if line.startswith(("asc-access ", ".venv/bin/asc-access ")):
                    found.append(Line(f"{path.relative_to(ROOT)}:{start + offset}", line))
    return found


def _bash(line: str, world: World, *, extra: dict[str, str] | None = None) -> Any:
    return subprocess.run(
        ["bash", "-c", line],
        cwd=world.cwd,
        env={**world.env, **(extra or {})},
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def _run_long(line: str, world: World, extra: dict[str, str]) -> tuple[int | None, str]:
    """Start a server command, wait until it listens, Ctrl+C it: (status, output)."""
    command = _subcommand(line)
    found = re.search(r"--port (\d+)", line)
    port = int(found.group(1)) if found else LONG_RUNNING[command]
    if _listening(port):
        return None, f"port {port} is taken by another program on this machine"
    process = subprocess.Popen(
        ["bash", "-c", f"exec {line}"],
        cwd=world.cwd,
        env={**world.env, **extra},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + 60
    while not _listening(port) and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    listened = _listening(port)
    process.send_signal(signal.SIGINT)
    try:
        output, _ = process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
    status = process.returncode if listened else -1
    return status, output


def _expected(line: str) -> tuple[int, str]:
    for pattern, status, why in EXPECTED:
        if re.search(pattern, line):
            return status, why
    return 0, "documented as working"


def _subcommand(line: str) -> str:
    """``users`` in ``ASC_ACCESS_HOME=/x .venv/bin/asc-access users --role ADMIN``."""
    words = [w for w in shlex.split(line, comments=True) if not re.match(r"^[A-Z_]+=", w)]
    return words[1] if len(words) > 1 else ""


def _not_run(line: str) -> str | None:
    for pattern, why in NOT_RUN:
        if re.search(pattern, line):
            return why
    return None


def check_lines(lines: list[Line], world: World) -> list[str]:
    """Run ``lines`` in order; the failures, one message each (skips are printed)."""
    failures = []
    for line in lines:
        text = line.text
        for placeholder, value in world.substitutions:
            text = text.replace(placeholder, value)
        why_not = _not_run(line.text)
        if why_not is not None:
            print(f"not run: {line.where}: {line.text}\n  because {why_not}")
            continue
        if "…" in text:
            failures.append(f"{line.where}: a template nobody fills in: {line.text}")
            continue
        extra = next((e for key, e in world.extra_env.items() if key in line.text), {})
        want, why = _expected(line.text)
        if _subcommand(text) in LONG_RUNNING:
            status, output = _run_long(text, world, extra)
            if status is None:
                print(f"skipped: {line.where}: {output}")
                continue
        else:
            done = _bash(text, world, extra=extra)
            status, output = done.returncode, done.stdout + done.stderr
        if status != want:
            failures.append(
                f"{line.where}: `{text}` exited {status}, expected {want} ({why}):\n"
                + output[-1500:]
            )
    return failures


# --------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def workdir() -> Iterator[Path]:
    """A fresh working directory whose ``.venv`` is this checkout's."""
    with tempfile.TemporaryDirectory(prefix="asc-docs-") as directory:
        path = Path(directory)
        (path / ".venv").symlink_to(VENV_BIN.parent)
        yield path


def _base_env(home: Path | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASC_ACCESS_")}
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
    env["COLUMNS"] = "300"  # long lines stay whole in the tour's output
    if home is not None:
        env["ASC_ACCESS_HOME"] = str(home)
    return env


def _try_next(output: str) -> list[Line]:
    tail = output.split("Try next", 1)[1]
    return [
        Line("demo tour, Try next", line.strip())
        for line in tail.splitlines()
        if line.strip().startswith((".venv/bin/asc-access", "asc-access", "ASC_ACCESS_HOME="))
    ]


def test_make_demo_recipe_then_every_try_next_line(workdir: Path) -> None:
    recipe = re.search(r"^demo:.*\n\t(.+)$", (ROOT / "Makefile").read_text(), flags=re.MULTILINE)
    assert recipe is not None
    command = recipe.group(1).replace("$$", "$").replace("$(BIN)", ".venv/bin")
    world = World(workdir, _base_env(None), [], {})
    done = _bash(command, world)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = _try_next(done.stdout)
    assert len(lines) >= 4, done.stdout
    home = re.search(r"ASC_ACCESS_HOME=(\S+)", lines[0].text)
    assert home is not None
    try:
        assert check_lines(lines, world) == []
    finally:
        shutil.rmtree(home.group(1), ignore_errors=True)


@pytest.fixture(scope="module")
def toured(workdir: Path) -> Iterator[tuple[World, str]]:
    """A fresh home after the demo's set-up, its sandbox still serving."""
    home = workdir / "home"
    env = _base_env(home)
    model = Sandbox(SandboxOptions(seed="demo"))
    other = Sandbox(SandboxOptions(seed="generated", users=5, apps=2, random_seed=3))
    saved_argv, saved_cwd = sys.argv[0], Path.cwd()
    with ThreadedServer(model) as server, ThreadedServer(other) as second:
        model.write_state_dir(home / "demo-sandbox", server.base_url)
        other.write_state_dir(workdir / "acme-sandbox", second.base_url)
        output = io.StringIO()
        sys.argv[0] = ".venv/bin/asc-access"
        os.chdir(workdir)
        try:
            status = run_tour(
                Settings.from_env(env),
                home / "demo-sandbox" / "sandbox.json",
                console=Console(file=output, width=300, soft_wrap=True),
            )
        finally:
            sys.argv[0] = saved_argv
            os.chdir(saved_cwd)
        assert status == 0, output.getvalue()
        admin, acme = model.named_keys["admin"], other.named_keys["admin"]
        substitutions = [
            ("http://127.0.0.1:8787", server.base_url),
            ("leaver@example.com", LEAVER),
            (
                "--private-key-file …/sandbox/AuthKey_….p8",
                f"--private-key-file {home / 'demo-sandbox' / f'AuthKey_{admin.key_id}.p8'}",
            ),
            (
                "--key-id … --issuer-id … --private-key-file …",
                (
                    f"--key-id {acme.key_id} --issuer-id {other.issuer_id} "
                    f"--private-key-file {workdir / 'acme-sandbox' / f'AuthKey_{acme.key_id}.p8'}"
                ),
            ),
            ("--key-id …", f"--key-id {admin.key_id}"),
            ("--issuer-id …", f"--issuer-id {model.issuer_id}"),
        ]
        world = World(
            workdir,
            {**env, "ASC_ACCESS_API_URL": server.base_url},
            substitutions,
            # acme is another team: connecting it must not look like saving northwind twice.
            {"connect acme": {"ASC_ACCESS_API_URL": second.base_url}},
        )
        yield world, output.getvalue()


def test_every_line_the_tour_narrates(toured: tuple[World, str]) -> None:
    world, output = toured
    narrated = [
        Line("demo tour, narrated", line.strip()[2:])
        for line in output.splitlines()
        if line.strip().startswith("$ ")
    ]
    assert len(narrated) >= 7, output
    statuses = [0, 102, 101]  # the good key, the Developer key, the revoked key
    failures = []
    for line in narrated:
        if " doctor " in line.text:
            want = statuses.pop(0)
        elif " connect " in line.text:
            want = 2  # the tour saved it a moment ago: saving it again is refused (usage)
        else:
            want = 0
        done = _bash(line.text, world)
        if done.returncode != want:
            failures.append(f"`{line.text}` exited {done.returncode}, expected {want}")
    assert failures == []


def test_every_documented_command(toured: tuple[World, str]) -> None:
    world, _ = toured
    for name, content in INPUTS.items():
        (world.cwd / name).write_text(content, encoding="utf-8")
    lines = documented_lines()
    assert any(line.where.startswith("README.md") for line in lines)
    assert any(line.where.startswith("docs/sandbox.md") for line in lines)
    assert check_lines(lines, world) == []


def test_the_extraction_finds_what_a_reader_sees() -> None:
    lines = {line.text for line in documented_lines()}
    assert (
        "asc-access doctor --key-id 2X9R4HXF34 --issuer-id 57246542-96fe-1a63-e053-0824d011072a "
        "--private-key-file AuthKey_2X9R4HXF34.p8          # what is wrong, exactly"
    ) in lines
    assert not [line for line in lines if line.count("asc-access ") > 1 and "#" not in line]
