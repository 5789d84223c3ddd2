"""`moderation serve --workers 2`: /metrics covers both workers whichever one
answers the scrape, the JSON access log says which worker took each request,
and the metrics directory goes away with the server."""
import itertools
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from .server import free_port
from .test_workers import worker_pids

pytestmark = pytest.mark.slow

REQUESTS = 60


def healthz_count(text: str) -> float:
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "moderation_http_requests_total" and sample.labels == {
                    "route": "healthz", "method": "GET", "status": "200"}:
                return sample.value
    return 0.0


def wait_for_port(server, port):
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert server.poll() is None, "server exited"
        try:
            if requests.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return
        except requests.ConnectionError:
            time.sleep(0.1)
    raise AssertionError("server did not become ready")


def access_records(log_path, prefix):
    lines = [json.loads(line) for line in log_path.read_text().splitlines() if line.startswith("{")]
    return [r for r in lines if r.get("logger") == "aiohttp.access"
            and str(r.get("request_id", "")).startswith(prefix)]


def wait_for_both_workers(port, log_path, workers):
    """Until each worker has answered a request (the second may still be loading its model)."""
    deadline = time.monotonic() + 30
    for i in itertools.count():
        requests.get(f"http://127.0.0.1:{port}/readyz", headers={"X-Request-Id": f"warm-{i}",
                                                                "Connection": "close"}, timeout=5)
        if {r["pid"] for r in access_records(log_path, "warm-")} >= set(workers):
            return
        assert time.monotonic() < deadline, "a worker never answered"
        time.sleep(0.05)


def test_metrics_add_up_across_workers(server_env, tmp_path):
    server_env.update(MODERATION_WORKERS="2", MODERATION_LOG_LEVEL="INFO", MODERATION_LOG_FORMAT="json")
    server_env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    port = free_port()
    log_path = tmp_path / "server.log"
    with open(log_path, "wb") as log:
        server = subprocess.Popen([sys.executable, "-m", "moderation", "serve", "--port", str(port)],
                                  env=server_env, stdout=subprocess.DEVNULL, stderr=log)
    try:
        wait_for_port(server, port)
        workers = worker_pids(server.pid)
        assert len(workers) == 2
        dirs = {dict(item.split("=", 1) for item in Path(f"/proc/{pid}/environ").read_text().split("\0")
                     if "=" in item).get("PROMETHEUS_MULTIPROC_DIR") for pid in workers}
        [metrics_dir] = dirs
        assert metrics_dir and Path(metrics_dir).is_dir()
        wait_for_both_workers(port, log_path, workers)
        before = healthz_count(requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text)
        assert before == 0

        for i in range(REQUESTS):   # a new connection each time: the kernel picks the worker
            response = requests.get(f"http://127.0.0.1:{port}/healthz",
                                    headers={"X-Request-Id": f"count-{i}", "Connection": "close"}, timeout=5)
            assert response.status_code == 200
        # Every scrape sees all of them, whichever worker answers it.
        counts = {healthz_count(requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5,
                                             headers={"Connection": "close"}).text) for _ in range(6)}
        assert counts == {REQUESTS}

        time.sleep(0.5)   # let the access log lines reach the file
        access = access_records(log_path, "count-")
        assert len(access) == REQUESTS
        by_worker = {pid: sum(1 for r in access if r["pid"] == pid) for pid in workers}
        assert all(by_worker.values()), f"one worker took every request: {by_worker}"
        assert sum(by_worker.values()) == REQUESTS
        assert all(r["route"] == "healthz" and r["status"] == 200 for r in access)

        # A worker that dies is replaced; what it counted stays counted.
        os.kill(workers[0], signal.SIGKILL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and len(set(worker_pids(server.pid)) - {workers[0]}) < 2:
            time.sleep(0.2)
        wait_for_port(server, port)
        scraped = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
        assert healthz_count(scraped) == REQUESTS
        assert f'pid="{workers[0]}"' not in scraped, "the dead worker's live gauges are gone"

        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=30) == 0
        assert not Path(metrics_dir).exists()
    finally:
        if server.poll() is None:
            server.kill()
