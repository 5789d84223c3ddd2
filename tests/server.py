"""Run the real service as a subprocess, the way ops do."""
from __future__ import annotations

import json
import os
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


def wait_for_workers(process: subprocess.Popen, port: int, count: int, timeout: float = 60) -> set[int]:
    """Until *count* distinct workers have answered ``/healthz`` (each request
    on a new connection, which the kernel may give to any worker): a server
    started with ``start_server`` accepts once its first worker listens, while
    the others may still be loading their model. Needs the JSON access log
    (``MODERATION_LOG_FORMAT=json``, ``MODERATION_LOG_LEVEL=INFO``)."""
    deadline = time.monotonic() + timeout
    while True:
        assert process.poll() is None, "server exited"
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Request-Id: warm-up\r\nConnection: close\r\n\r\n")
            while sock.recv(65536):
                pass
        pids = {record["pid"] for line in read_log(process).splitlines()
                if line.startswith("{") and (record := json.loads(line)).get("request_id") == "warm-up"}
        if len(pids) >= count:
            return pids
        assert time.monotonic() < deadline, f"only {len(pids)} of {count} workers answered"
        time.sleep(0.05)


def read_log(process: subprocess.Popen) -> str:
    """The server's log so far, read without moving the file offset it shares
    with the server (which writes at that offset)."""
    fd = process.log.fileno()
    return os.pread(fd, os.fstat(fd).st_size, 0).decode(errors="replace")
