"""Load benchmarks against a real server on 127.0.0.1, read as ratios to a bare
aiohttp hello-world measured in the same run (first and last; the mean is used).

    .venv/bin/python bench/run.py [--seconds 10] [--database-url URL] [--workers N]
                                  [--public-cache-seconds S]

Needs ``wrk`` (Debian: ``apt-get install wrk``). Starts its own servers on free
ports with a fresh database (SQLite in a temporary directory unless
--database-url names one), rate limits switched off, and prints a Markdown
table: requests/s, p50, p99, errors, the server's CPU, and the ratio to the
hello-world. Every run is bounded by --seconds per scenario, after a 2 s warm-up.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

HERE = Path(__file__).resolve().parent
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server exited: {process.stderr.read().decode() if process.stderr else ''}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise SystemExit("server did not start")


def process_tree_cpu_seconds(pid: int) -> float:
    """utime + stime of *pid* and its descendants, in seconds."""
    total = 0.0
    pending = [pid]
    while pending:
        current = pending.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        pending.extend(int(c) for c in children)
    return total


def wrk(url: str, connections: int, seconds: int, script: str, env: dict) -> dict:
    command = ["wrk", "-t", "2", "-c", str(connections), "-d", f"{seconds}s", "--latency",
               "-s", str(HERE / script), url]
    output = subprocess.run(command, env=env, capture_output=True, text=True, check=True).stdout
    for line in output.splitlines():
        if line.startswith("WRKJSON "):
            return json.loads(line[len("WRKJSON "):])
    raise SystemExit(f"wrk printed no summary:\n{output}")


WARMUP_SECONDS = 2
"""Each scenario first runs this long unmeasured: connections open, caches fill."""


def measure(name: str, pid: int, url: str, connections: int, seconds: int, script: str,
            env: dict) -> dict:
    wrk(url, connections, WARMUP_SECONDS, script, env)
    cpu_before, wall_before = process_tree_cpu_seconds(pid), time.monotonic()
    result = wrk(url, connections, seconds, script, env)
    cpu = (process_tree_cpu_seconds(pid) - cpu_before) / (time.monotonic() - wall_before)
    result.update(name=name, connections=connections, rps=result["requests"] / result["seconds"],
                  cpu_percent=100 * cpu)
    print(f"  {name:<28} c={connections:<3} {result['rps']:>8.0f} req/s  p50 {result['p50_ms']:6.2f} ms  "
          f"p99 {result['p99_ms']:7.2f} ms  errors {result['errors']}  server CPU {result['cpu_percent']:.0f}%",
          file=sys.stderr, flush=True)
    return result


def cli(env: dict, *args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "moderation", *args], env=env, check=True,
                          capture_output=True, text=True)
    return done.stdout.strip().splitlines()[-1]


async def seed_thread(port: int, key: str, token: str, n: int) -> None:
    """*n* published comments in thread ``seeded``: posted as English ham on an
    auto site, then those the model sent to review approved by a moderator, so
    the public read returns a full page whatever the model's thresholds."""
    texts = ["Thank you for this clear article about the new library, the photos are lovely.",
             "I enjoyed the interview with the mayor and hope you follow up next month.",
             "Good analysis of the budget, the school figures deserve more attention though."]
    base = f"http://127.0.0.1:{port}"
    held = []
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {key}"}) as session:
        for i in range(n):
            payload = {"thread": {"id": "seeded", "url": "https://blog.example/seeded", "title": "Seeded"},
                       "author": {"name": f"Reader {i}", "email": f"seed{i}@example.org"},
                       "body": f"{texts[i % 3]} ({i})", "client": {"ip": f"198.{18 + i // 250}.{i % 250}.7"}}
            async with session.post(f"{base}/v1/comments", json=payload) as response:
                response.raise_for_status()
                answer = await response.json()
                if answer["status"] != "published":
                    held.append(answer["id"])
    if held:
        async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {token}"}) as session:
            async with session.post(f"{base}/v1/review/decisions", json={
                    "ids": held, "action": "approve", "expected_status": "pending"}) as response:
                response.raise_for_status()
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{base}/v1/sites/blog/threads/seeded/comments?limit={n}") as response:
            published = len((await response.json())["items"])
    if published != n:
        raise SystemExit(f"seeding left {published} of {n} comments published")


CANDIDATE = "bench-candidate"


def candidate_beside_shipped(folder: Path) -> Path:
    """A models folder with the shipped model, live, and the same model under the
    version ``bench-candidate`` (its manifest copied, the model file shared): a
    candidate exactly as costly to score as the live model."""
    shutil.copytree(HERE.parent / "models", folder)
    live = (folder / "CURRENT").read_text().strip()
    manifest = json.loads((folder / f"{live}.json").read_text())
    manifest["version"] = CANDIDATE
    (folder / f"{CANDIDATE}.json").write_text(json.dumps(manifest))
    return folder


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10, help="duration of each scenario")
    parser.add_argument("--database-url", help="default: a fresh SQLite file")
    parser.add_argument("--workers", type=int, default=None, help="passed to `moderation serve --workers`")
    parser.add_argument("--public-cache-seconds", type=float, default=None,
                        help="MODERATION_PUBLIC_CACHE_SECONDS (default: the service's, 1 s; 0 reads the "
                             "database on every public request)")
    parser.add_argument("--rate-limits", action="store_true",
                        help="keep the service's default rate limits and duplicate check (10 a "
                             "minute per IP prefix, 5 per e-mail), counted in the insert's "
                             "transaction; bench/comments.lua sends one e-mail and IP per request, "
                             "so this measures their cost, not refusals")
    parser.add_argument("--shadow", action="store_true",
                        help="shadow a candidate (a copy of the shipped model under another "
                             "version) while measuring: every comment is scored by both models")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (apt-get install wrk)")
    workdir = Path(tempfile.mkdtemp(prefix="moderation-bench-"))
    env = dict(os.environ, MODERATION_DATABASE_URL=args.database_url or f"sqlite:///{workdir / 'bench.db'}",
               MODERATION_LOG_LEVEL="WARNING")
    if not args.rate_limits:
        env.update(MODERATION_RATE_LIMIT_PER_IP="0", MODERATION_RATE_LIMIT_PER_EMAIL="0",
                   MODERATION_DUPLICATE_WINDOW_SECONDS="0")
    if args.public_cache_seconds is not None:
        env["MODERATION_PUBLIC_CACHE_SECONDS"] = str(args.public_cache_seconds)
    if args.shadow:
        env["MODERATION_MODEL_DIR"] = str(candidate_beside_shipped(workdir / "models"))
    cli(env, "init")   # the CLI creates a database only on init (or serve)
    key_fr = cli(env, "site", "add", "--name", "journal", "--url", "https://journal.example",
                 "--lang", "fr", "--mode", "auto")
    key_en = cli(env, "site", "add", "--name", "blog", "--url", "https://blog.example",
                 "--lang", "en", "--mode", "auto")
    token = cli(env, "moderator", "add", "bench", "--role", "admin")

    hello_port = free_port()
    hello = subprocess.Popen([sys.executable, str(HERE / "hello.py"), str(hello_port)],
                             stderr=subprocess.PIPE)
    port = free_port()
    serve = [sys.executable, "-m", "moderation", "serve", "--port", str(port)]
    if args.workers:
        serve += ["--workers", str(args.workers)]
    server = subprocess.Popen(serve, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    results = []
    try:
        wait_for_port(hello_port, hello)
        wait_for_port(port, server)
        if args.shadow:
            print(cli(env, "model", "shadow", CANDIDATE), file=sys.stderr)
        asyncio.run(seed_thread(port, key_en, token, 50))
        base = f"http://127.0.0.1:{port}"
        s = args.seconds
        print(f"benchmark: {s}s per scenario, database {env['MODERATION_DATABASE_URL']}, public cache "
              f"{env.get('MODERATION_PUBLIC_CACHE_SECONDS', 'default')}", file=sys.stderr)
        hello_url = f"http://127.0.0.1:{hello_port}/"
        results.append(measure("hello-world (bare aiohttp), first", hello.pid, hello_url, 64, s, "get.lua", env))
        results.append(measure("intake POST /v1/comments", server.pid, base, 16, s, "comments.lua",
                               dict(env, KEY=key_fr, START="0")))
        results.append(measure("intake POST /v1/comments", server.pid, base, 64, s, "comments.lua",
                               dict(env, KEY=key_fr, START="100000000")))
        results.append(measure("public thread read", server.pid, f"{base}/v1/sites/blog/threads/seeded/comments", 64, s, "get.lua", env))
        results.append(measure("counts (3 threads)", server.pid, f"{base}/v1/sites/blog/counts?thread=seeded&thread=article-1&thread=article-2", 64, s, "get.lua", env))
        results.append(measure("review queue listing", server.pid, f"{base}/v1/review/queue?limit=50", 16, s, "get.lua", dict(env, TOKEN=token)))
        # The machine's speed drifts: the yardstick is the mean of a run before and after.
        results.append(measure("hello-world (bare aiohttp), last", hello.pid, hello_url, 64, s, "get.lua", env))
    finally:
        for process in (server, hello):
            process.terminate()
            process.wait(timeout=30)
        shutil.rmtree(workdir, ignore_errors=True)
    hello_rps = sum(r["rps"] for r in results if r["name"].startswith("hello-world")) / 2
    print(f"hello-world mean: {hello_rps:.0f} requests/s")
    print("| scenario | connections | requests/s | p50 ms | p99 ms | errors | server CPU | vs hello-world |")
    print("|---|---|---|---|---|---|---|---|")
    for r in results:
        print(f"| {r['name']} | {r['connections']} | {r['rps']:.0f} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} | "
              f"{r['errors']} | {r['cpu_percent']:.0f}% | {r['rps'] / hello_rps:.2f}x |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
