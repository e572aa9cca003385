"""Start-up benchmark: ``--help`` and the doctor's first request, against ``python -c pass``.

Each figure is the median of ``--runs`` fresh processes, all in this one run:

- ``python -c pass``: the interpreter alone (the floor of any Python command);
- ``asc-access --help``: the whole process, start to exit;
- ``asc-access doctor`` with flags: from the process's start to the moment its first
  HTTP request reaches a local listener (which answers 401, so the doctor ends
  quickly), and the process's peak RSS.

    .venv/bin/python benchmarks/bench_startup.py [--runs 7]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

BIN = Path(sys.executable).parent


class _FirstRequest(BaseHTTPRequestHandler):
    arrivals: list[float] = []  # noqa: RUF012 - shared by the handler threads on purpose

    def do_GET(self) -> None:
        _FirstRequest.arrivals.append(time.monotonic())
        body = b'{"errors":[{"status":"401","code":"NOT_AUTHORIZED","title":"no"}]}'
        self.send_response(401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002, ARG002
        return


def _timed(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one process."""
    started = time.monotonic()
    done = subprocess.run(
        ["/usr/bin/time", "-f", "%M", *command],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        check=False,
    )
    wall = time.monotonic() - started
    rss = int(done.stderr.strip().splitlines()[-1]) / 1024
    return wall, rss


def _key_file(directory: Path) -> Path:
    key = ec.generate_private_key(ec.SECP256R1())
    path = directory / "AuthKey_BENCH12345.p8"
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return path


def _doctor_first_request(
    url: str, key: Path, env: dict[str, str], runs: int
) -> tuple[list[float], list[float]]:
    command = [
        str(BIN / "asc-access"),
        "doctor",
        "--key-id",
        "BENCH12345",
        "--issuer-id",
        "57246542-96fe-1a63-e053-0824d011072a",
        "--private-key-file",
        str(key),
        "--api-url",
        url,
    ]
    firsts: list[float] = []
    rss: list[float] = []
    for _ in range(runs):
        _FirstRequest.arrivals.clear()
        started = time.monotonic()
        _, peak = _timed(command, env)
        firsts.append(_FirstRequest.arrivals[0] - started)
        rss.append(peak)
    return firsts, rss


def main() -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FirstRequest)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    with tempfile.TemporaryDirectory(prefix="bench-startup-") as tmp:
        env = {**os.environ, "ASC_ACCESS_HOME": str(Path(tmp) / "home")}
        key = _key_file(Path(tmp))
        pass_runs = [_timed([sys.executable, "-c", "pass"], env) for _ in range(args.runs)]
        help_runs = [_timed([str(BIN / "asc-access"), "--help"], env) for _ in range(args.runs)]
        firsts, doctor_rss = _doctor_first_request(url, key, env, args.runs)
    server.shutdown()
    floor = statistics.median(w for w, _ in pass_runs)
    help_wall = statistics.median(w for w, _ in help_runs)
    first = statistics.median(firsts)
    print(f"median of {args.runs} fresh processes each")
    print(
        f"  python -c pass                {floor:.3f} s   "
        f"{statistics.median(r for _, r in pass_runs):.0f} MB"
    )
    print(
        f"  asc-access --help             {help_wall:.3f} s   "
        f"{statistics.median(r for _, r in help_runs):.0f} MB   "
        f"(+{help_wall - floor:.3f} s over python; target <= 0.15 s)"
    )
    print(
        f"  doctor: first request after   {first:.3f} s   "
        f"{statistics.median(doctor_rss):.0f} MB   "
        f"(+{first - floor:.3f} s over python; target <= 0.3 s)"
    )


if __name__ == "__main__":
    main()
