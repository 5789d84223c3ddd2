"""Run the real service as a subprocess, the way ops do."""
from __future__ import annotations

import socket
import subprocess
import sys
import tempfile
import time


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def cli(env, *args) -> str:
    done = subprocess.run([sys.executable, "-m", "moderation", *args], env=env, check=True,
                          capture_output=True, text=True, timeout=60)
    return done.stdout.strip().splitlines()[-1]


def start_server(env, port) -> subprocess.Popen:
    """Start ``moderation serve`` and return once it accepts connections. Its
    log goes to a temporary file (``process.log``): an undrained pipe could
    fill and block the server."""
    log = tempfile.TemporaryFile()
    process = subprocess.Popen([sys.executable, "-m", "moderation", "serve", "--port", str(port)],
                               env=env, stdout=subprocess.DEVNULL, stderr=log)
    process.log = log
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log.seek(0)
            raise RuntimeError(log.read().decode(errors="replace"))
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return process
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise RuntimeError("server did not start")
