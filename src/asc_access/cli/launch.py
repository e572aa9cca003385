"""How this program was started, and whether a port is free: for commands that print
commands to paste (``demo``, ``sandbox``) and commands that listen (``sandbox``, ``serve``).

A busy port exits with status 1 and one line naming the port (README, "Exit status").
"""

from __future__ import annotations

import errno
import ipaddress
import os
import shlex
import shutil
import socket
import sys
from pathlib import Path

__all__ = [
    "PORT_IN_USE_STATUS",
    "is_loopback",
    "port_in_use",
    "port_in_use_message",
    "program",
    "quoted",
]

#: Exit status of ``sandbox`` / ``serve`` when their port is taken.
PORT_IN_USE_STATUS = 1


def program(argv0: str | None = None, *, cwd: Path | None = None) -> str:
    """The shortest way to run this ``asc-access`` again, as typed in the current directory.

    ``asc-access`` when that name on the PATH is this program; otherwise the script's
    path relative to the current directory (``.venv/bin/asc-access`` after ``make demo``),
    or its absolute path.
    """
    script = Path(argv0 if argv0 is not None else sys.argv[0])
    if script.name != "asc-access":  # python -m, or a test runner: the venv's script
        script = Path(sys.executable).parent / "asc-access"
    resolved = script.resolve() if script.exists() else script.absolute()
    on_path = shutil.which("asc-access")
    if on_path is not None and Path(on_path).resolve() == resolved:
        return "asc-access"
    here = (cwd or Path.cwd()).resolve()
    try:
        relative = script.absolute().relative_to(here)
    except ValueError:
        return quoted(str(script.absolute()))
    return quoted(str(relative) if "/" in str(relative) else f"./{relative}")


def quoted(text: str) -> str:
    """``text`` quoted for a POSIX shell when it needs quoting."""
    return shlex.quote(text)


def port_in_use(host: str, port: int) -> bool:
    """Whether something already listens on ``host:port`` (port 0 is never in use)."""
    if port == 0:
        return False
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError:
        return False
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        if os.name != "nt":  # as uvicorn binds: a port in TIME_WAIT is free
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as error:
            return error.errno == errno.EADDRINUSE
    return False


def port_in_use_message(host: str, port: int, *, free_port_hint: bool) -> str:
    """The one line printed when the port is taken."""
    other = "--port N (--port 0 picks a free one)" if free_port_hint else "--port N"
    return (
        f"port {port} on {host} is already in use (is another copy running?): stop it, "
        f"or choose another port with {other}"
    )


def is_loopback(host: str) -> bool:
    """Whether ``host`` is this machine only (``localhost`` or a loopback address)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
