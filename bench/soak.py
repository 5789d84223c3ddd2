"""Soak: mixed traffic against a real ``moderation serve --workers 2`` while faults are injected.

    .venv/bin/python bench/soak.py [--minutes 3 | --seconds S] [--concurrency 16] [--rate 120]
                                   [--seed 1] [--fault-every 30] [--no-kill-group] [--no-kill-worker]
                                   [--no-write-lock] [--no-sigterm] [--reload-every 20]
                                   [--busy-timeout-ms 2000] [--json] [--json-out FILE] [--keep]

Creates a fresh SQLite database in a temporary directory, a site (``soak``, English,
``--mode auto``), a moderator and an admin through the CLI, and starts
``moderation serve --workers 2`` on a free port with the model shipped in ``models/``
(rate limits and the duplicate check off, as ``tests/conftest.py`` does). For the
time asked, ``--concurrency`` clients paced to ``--rate`` requests/s in all (so this
is not a saturation test) send a seeded mix of:

- comment intake: many authors, mostly plausible English and French ham, some
  spam-like, replies to earlier comments, and a share with an ``Idempotency-Key``
  that is replayed at once and retried after a connection error or a 503;
- public reads: thread pages, counts, top threads; a site's own ``GET /v1/comments/{id}``;
- the review queue (pending and spam folder, every order), a comment's detail, and
  moderator decisions (approve / reject / spam, one at a time and in bulk);
- bad requests (malformed JSON, missing and unknown fields, wrong content type,
  no key, bad decision, unknown query parameter), which must get a 4xx;
- every ``--reload-every`` seconds, a model reload, alternately through
  ``POST /v1/admin/model/reload`` and ``kill -HUP`` of the server.

Faults, one every ``--fault-every`` seconds, in turn (each can be switched off):
SIGKILL of one worker (the parent restarts it); another process holding SQLite's
write lock (``BEGIN IMMEDIATE``) for the server's busy timeout plus ``--lock-extra``
(``--busy-timeout-ms``, passed as ``MODERATION_SQLITE_BUSY_TIMEOUT_MS``); SIGKILL of
the whole process group, then a restart; SIGTERM, then a restart.

At the end the server is stopped with SIGTERM and the SQLite file is read directly:
every comment answered 201/202 must be there with the body sent, every keyed
comment there once, no comment refused with an HTTP error stored, and every
decision answered ``decided`` in the audit trail. Prints requests and answers per
kind, every 5xx with its code (and, for a 500, the server's log lines of that
request), p50/p99 per kind (also outside the fault windows), the server's memory
(RSS summed over its process tree, per server generation: restarts start afresh)
and open file descriptors at start and end, and a verdict
(``--json``: the same as one JSON object). Exit status 1 when an acknowledged
comment or decision is missing, a keyed comment is stored twice, a refused one
stored, or any 500 was answered; 2 when the server could not be (re)started.
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import random
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import unicodedata
from collections import Counter, defaultdict, deque
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SITE = "soak"
WORKERS = 2
STALE_SECONDS = 15.0   # moderation.services.model_changes: a dead worker's row counts this long in a reload

# -- what readers write --------------------------------------------------------------------------
FIRST = ("Anne", "Bernard", "Claire", "David", "Emma", "Fatima", "Gilles", "Hélène", "Ian", "Julie",
         "Karim", "Laura", "Marc", "Nadia", "Olivier", "Paul", "Rachel", "Sophie", "Thomas", "Yann")
LAST = ("Martin", "Dubois", "Smith", "Leroy", "Moreau", "Brown", "Garcia", "Lefebvre", "Wilson",
        "Roux", "Fournier", "Taylor", "Girard", "Morel", "Evans", "Mercier", "Blanc", "Nguyen")
EN_OPEN = ("Thanks for this article", "Good piece", "I read this twice", "Interesting report",
           "As a local resident", "Well written", "I mostly agree", "I am not convinced",
           "Fair analysis", "My neighbours and I talked about this")
EN_MIDDLE = ("the council should publish the full budget before the vote",
             "the new bus line will help people in the north of town",
             "the school figures deserve more attention",
             "the interview with the mayor left some questions open",
             "the photos of the market are lovely",
             "the renovation of the library took far too long",
             "the parking changes hurt the small shops on the high street",
             "the volunteers who cleaned the river deserve credit",
             "hospital waiting times are the real story here",
             "the bike lanes on Main Street are working well")
EN_CLOSE = ("", " Please follow up next month.", " Keep up the good work.",
            " I would like to see the numbers.", " Looking forward to the next part.", " Thank you.")
FR_OPEN = ("Merci pour cet article", "Bon papier", "Je l'ai lu deux fois", "Reportage intéressant",
           "En tant qu'habitante du quartier", "Bien écrit", "Je suis plutôt d'accord",
           "Je ne suis pas convaincu", "Analyse honnête")
FR_MIDDLE = ("le conseil municipal devrait publier le budget complet avant le vote",
             "la nouvelle ligne de bus aidera les habitants du nord de la ville",
             "les chiffres des écoles méritent plus d'attention",
             "l'entretien avec le maire laisse des questions ouvertes",
             "les photos du marché sont très belles",
             "la rénovation de la médiathèque a pris beaucoup trop de temps",
             "les bénévoles qui ont nettoyé la rivière méritent d'être salués",
             "les pistes cyclables de la rue principale fonctionnent bien")
FR_CLOSE = ("", " Merci de suivre ce dossier.", " Continuez comme ça.",
            " J'aimerais voir les chiffres.", " Vivement la suite.")
SHORT = ("Great article!", "Merci !", "Well said.", "Bravo pour ce travail.", "Totally agree.")
SPAM = ("Make $5000 a week working from home!!! Click here http://bit.ly/{x} now",
        "CHECK OUT MY CHANNEL for free giveaways http://youtu.be/{x} subscribe subscribe subscribe",
        "Cheap pills without prescription, best price, order at http://pharma-{x}.ru",
        "Gagnez de l'argent facilement depuis chez vous !!! Cliquez ici http://bit.ly/{x}",
        "Congratulations you won a free iPhone, claim your prize at http://win-{x}.top today",
        "Best SEO services, buy cheap followers and likes http://seo-{x}.biz call +1 555 0100")
SPAM_NAMES = ("Best SEO Services", "Free Money", "Cheap Pills Online", "Crypto King")
THREADS = [f"article-{i}" for i in range(1, 41)]
THREAD_WEIGHTS = [1.0 / (i + 1) for i in range(len(THREADS))]   # a few popular articles

KINDS = {   # weight per request kind drawn by each client
    "intake": 44, "thread_read": 18, "counts": 7, "top_threads": 2, "comment_status": 5,
    "review_queue": 8, "review_detail": 2, "decision": 6, "bulk_decision": 3, "bad_request": 3,
}
EXPECTED_503 = {"database_busy", "model_reload_incomplete", "shutting_down", "overloaded",
                "not_ready", "database_unavailable"}


# -- the server ----------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def cli(env: dict, *args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "moderation", *args], env=env, check=True,
                          capture_output=True, text=True, timeout=120, cwd=env["SOAK_WORKDIR"])
    return done.stdout.strip().splitlines()[-1]


def children(pid: int) -> list[int]:
    found = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with contextlib.suppress(OSError):
                found += [int(c) for c in Path(f"/proc/{pid}/task/{task}/children").read_text().split()]
    except OSError:
        pass
    return found


def tree(pid: int) -> list[int]:
    pids, pending = [], [pid]
    while pending:
        current = pending.pop()
        if Path(f"/proc/{current}").exists():
            pids.append(current)
            pending += children(current)
    return pids


def rss_kb(pid: int, field_name: str = "VmRSS") -> int:
    """A memory figure of /proc/<pid>/status, in kB: VmRSS (all resident), RssAnon (heap...)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field_name + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def fd_count(pid: int) -> int:
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return 0


def listening_sockets(port: int) -> int:
    """Sockets listening on 127.0.0.1:*port* (one per worker: SO_REUSEPORT)."""
    count = 0
    try:
        lines = Path("/proc/net/tcp").read_text().splitlines()[1:]
    except OSError:
        return 0
    for line in lines:
        parts = line.split()
        if parts[3] == "0A" and int(parts[1].rsplit(":", 1)[1], 16) == port:
            count += 1
    return count


class Server:
    """``moderation serve --workers 2`` in its own process group, its log appended to one file."""

    def __init__(self, env: dict, port: int, log_path: Path) -> None:
        self.env, self.port, self.log_path = env, port, log_path
        self.process: subprocess.Popen | None = None
        self.generation = 0
        self.started_at = 0.0
        self.up = False

    def start(self) -> None:
        self.generation += 1
        with open(self.log_path, "ab") as log:
            log.write(f'{{"soak": "server generation {self.generation} starting"}}\n'.encode())
            log.flush()
            self.process = subprocess.Popen(
                [sys.executable, "-m", "moderation", "serve", "--port", str(self.port),
                 "--workers", str(WORKERS)], env=self.env, cwd=self.env["SOAK_WORKDIR"],
                stdout=subprocess.DEVNULL, stderr=log, start_new_session=True)
        self.started_at = time.monotonic()

    @property
    def pid(self) -> int:
        return self.process.pid

    def workers(self) -> list[int]:
        found = []
        for child in children(self.pid):
            with contextlib.suppress(OSError):
                if b"spawn_main" in Path(f"/proc/{child}/cmdline").read_bytes():
                    found.append(child)
        return found

    async def wait_ready(self, session: aiohttp.ClientSession, timeout: float = 90) -> dict:
        """Wait until every worker listens and /readyz answers 200. Returns the seconds
        from the start to the first listening worker, to all, and to ready."""
        started = time.monotonic()
        stages: dict = {}
        while time.monotonic() - started < timeout:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited with {self.process.returncode} while starting")
            listening = listening_sockets(self.port)
            if listening:
                stages.setdefault("first_listening_s", round(time.monotonic() - started, 2))
            if listening >= WORKERS:
                stages.setdefault("all_listening_s", round(time.monotonic() - started, 2))
                with contextlib.suppress(aiohttp.ClientError, asyncio.TimeoutError):
                    async with session.get(f"http://127.0.0.1:{self.port}/readyz",
                                           timeout=aiohttp.ClientTimeout(total=2)) as response:
                        if response.status == 200:
                            self.up = True
                            stages["ready_s"] = round(time.monotonic() - started, 2)
                            return stages
                        stages["readyz_" + str(response.status)] = stages.get("readyz_" + str(response.status), 0) + 1
            await asyncio.sleep(0.05)
        raise RuntimeError(f"server not ready within {timeout:.0f} s: {stages}")

    def resources(self) -> dict:
        pids = tree(self.pid) if self.process and self.process.poll() is None else []
        return {"processes": len(pids), "rss_kb": sum(rss_kb(p) for p in pids),
                "rss_anon_kb": sum(rss_kb(p, "RssAnon") for p in pids),
                "rss_kb_by_pid": {p: rss_kb(p) for p in pids},
                "fds": sum(fd_count(p) for p in pids), "generation": self.generation,
                "uptime_s": round(time.monotonic() - self.started_at, 1)}

    async def kill_group(self) -> None:
        self.up = False
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, signal.SIGKILL)
        await asyncio.to_thread(self.process.wait)
        deadline = time.monotonic() + 10
        while listening_sockets(self.port) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)

    async def terminate(self, timeout: float = 30) -> tuple[int | None, float]:
        """SIGTERM; (exit code, seconds to stop). A server still there after *timeout* is killed."""
        self.up = False
        started = time.monotonic()
        self.process.send_signal(signal.SIGTERM)
        try:
            code = await asyncio.to_thread(self.process.wait, timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.pid, signal.SIGKILL)
            await asyncio.to_thread(self.process.wait)
            code = None
        stopped = time.monotonic() - started
        with contextlib.suppress(ProcessLookupError):   # nothing of it may outlive it
            os.killpg(self.pid, signal.SIGKILL)
        return code, stopped


# -- what happened -------------------------------------------------------------------------------
@dataclass
class Stats:
    started: float = field(default_factory=time.monotonic)
    sent: Counter = field(default_factory=Counter)                  # kind -> requests
    status: Counter = field(default_factory=Counter)                # (kind, status) -> n
    codes: Counter = field(default_factory=Counter)                 # (kind, status, code) -> n
    conn_errors: list = field(default_factory=list)                 # (t, kind, exception name)
    latency: dict = field(default_factory=lambda: defaultdict(list))  # kind -> [(t answered, ms)]
    fivexx: list = field(default_factory=list)                      # details of every 5xx
    answers_503: list = field(default_factory=list)                 # (t, kind, code)
    bad_not_4xx: list = field(default_factory=list)
    windows: list = field(default_factory=list)                     # (start, end, fault)
    faults: list = field(default_factory=list)
    reloads: list = field(default_factory=list)
    samples: list = field(default_factory=list)
    notes: list = field(default_factory=list)

    def now(self) -> float:
        return time.monotonic() - self.started

    def in_window(self, t: float) -> str | None:
        for start, end, name in self.windows:
            if start <= t <= (end if end is not None else float("inf")):
                return name
        return None


@dataclass
class Sent:
    """One comment the client meant to post (its body is unique: it ends with its number)."""
    number: int
    body: str
    key: str | None
    outcomes: list = field(default_factory=list)   # "ack:<id>", "http:<status>:<code>", "conn:<name>"


class ConnectionFailed(Exception):
    pass


class Soak:
    def __init__(self, args, env: dict, server: Server, key: str, token: str, admin: str) -> None:
        self.args, self.env, self.server = args, env, server
        self.base = f"http://127.0.0.1:{server.port}"
        self.key, self.token, self.admin = key, token, admin
        self.stats = Stats()
        self.numbers = itertools.count(1)
        self.sent: dict[str, Sent] = {}                       # NFC body -> what was sent
        self.acked: dict[int, dict] = {}                      # comment id -> first acknowledgement
        self.id_collisions: list = []
        self.by_thread: dict[str, deque] = defaultdict(lambda: deque(maxlen=50))
        self.candidates: dict[str, deque] = {"pending": deque(maxlen=400), "spam": deque(maxlen=200)}
        self.decided: list = []                               # (id, action, from, to)
        self.lost_via_api: list = []
        self.request_ids = itertools.count(1)
        self.deadline = 0.0
        self.aborted: str | None = None   # why the run stopped early (the server would not start)

    # -- one HTTP request, recorded
    async def call(self, session, kind: str, method: str, path: str, *, payload=None, data=None,
                   headers=None, timeout: float = 30) -> tuple[int, object, dict]:
        request_id = f"soak-{self.args.seed}-{next(self.request_ids)}"
        headers = {"X-Request-Id": request_id, **(headers or {})}
        self.stats.sent[kind] += 1
        started = time.monotonic()
        try:
            async with session.request(method, self.base + path, json=payload, data=data,
                                       headers=headers,
                                       timeout=aiohttp.ClientTimeout(total=timeout, connect=5)) as response:
                raw = await response.read()
                status, answer_headers = response.status, dict(response.headers)
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
            name = "Timeout" if isinstance(exc, asyncio.TimeoutError) else type(exc).__name__
            self.stats.conn_errors.append((round(self.stats.now(), 3), kind, name))
            raise ConnectionFailed(name) from None
        elapsed_ms = (time.monotonic() - started) * 1000
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw[:200].decode(errors="replace")
        code = body.get("error", {}).get("code") if isinstance(body, dict) and status >= 400 else None
        self.stats.status[(kind, status)] += 1
        self.stats.latency[kind].append((round(self.stats.now(), 3), elapsed_ms))
        if status >= 400:
            self.stats.codes[(kind, status, code)] += 1
        if status >= 500:
            t = round(self.stats.now(), 3)
            if status == 503:
                self.stats.answers_503.append((t, kind, code))
            if status != 503 or code not in EXPECTED_503 or len(self.stats.fivexx) < 2000:
                self.stats.fivexx.append({
                    "t": t, "kind": kind, "method": method, "path": path, "status": status,
                    "code": code, "request_id": request_id, "during": self.stats.in_window(t),
                    "request": payload if payload is not None else (data[:200].decode(errors="replace")
                                                                    if isinstance(data, bytes) else data),
                    "answer": body})
        return status, body, answer_headers

    # -- traffic
    def site_headers(self, extra=None) -> dict:
        return {"Authorization": f"Bearer {self.key}", **(extra or {})}

    def mod_headers(self, admin: bool = False) -> dict:
        return {"Authorization": f"Bearer {self.admin if admin else self.token}"}

    def comment(self, rng: random.Random) -> tuple[dict, Sent, str]:
        number = next(self.numbers)
        roll = rng.random()
        author = rng.randrange(600)
        name = f"{FIRST[author % len(FIRST)]} {LAST[author // len(FIRST) % len(LAST)]}"
        email = f"reader{author}@mail{author % 7}.example.org"
        if roll < 0.13:
            kind = "spam"
            text = rng.choice(SPAM).format(x=rng.randrange(10**6))
            if rng.random() < 0.4:
                name = rng.choice(SPAM_NAMES)
        elif roll < 0.18:
            kind, text = "short", rng.choice(SHORT)
        elif roll < 0.45:
            kind = "fr"
            text = f"{rng.choice(FR_OPEN)} : {rng.choice(FR_MIDDLE)}.{rng.choice(FR_CLOSE)}"
        else:
            kind = "en"
            text = f"{rng.choice(EN_OPEN)}: {rng.choice(EN_MIDDLE)}.{rng.choice(EN_CLOSE)}"
        body = unicodedata.normalize("NFC", f"{text} ({number})")
        thread = rng.choices(THREADS, THREAD_WEIGHTS)[0]
        payload = {"thread": {"id": thread, "url": f"https://soak.example/{thread}",
                              "title": f"Article {thread[8:]}"},
                   "author": {"name": name, "email": email}, "body": body,
                   "client": {"ip": f"198.51.{author // 250}.{author % 250 + 1}",
                              "user_agent": "Mozilla/5.0 (soak)"}}
        if kind != "spam" and self.by_thread[thread] and rng.random() < 0.2:
            payload["parent_id"] = rng.choice(self.by_thread[thread])
        key = f"soak-{self.args.seed}-{number}" if rng.random() < 0.15 else None
        sent = Sent(number, body, key)
        self.sent[body] = sent
        return payload, sent, kind

    def acknowledge(self, sent: Sent, status: int, answer: dict, payload: dict, kind: str) -> None:
        comment_id = answer["id"]
        sent.outcomes.append(f"ack:{comment_id}")
        known = self.acked.get(comment_id)
        if known is None:
            self.acked[comment_id] = {"body": sent.body, "status": status, "answer_status": answer["status"],
                                      "kind": kind, "thread": payload["thread"]["id"], "key": sent.key}
            if answer["status"] in ("published", "pending"):
                self.by_thread[payload["thread"]["id"]].append(comment_id)
        elif known["body"] != sent.body:
            self.id_collisions.append({"id": comment_id, "first": known["body"], "again": sent.body})

    async def intake(self, session, rng: random.Random) -> None:
        payload, sent, text_kind = self.comment(rng)
        headers = self.site_headers({"Idempotency-Key": sent.key} if sent.key else None)
        kind = "intake"
        for attempt in range(12):
            try:
                status, answer, answer_headers = await self.call(session, kind, "POST", "/v1/comments",
                                                                 payload=payload, headers=headers)
            except ConnectionFailed as failed:
                sent.outcomes.append(f"conn:{failed}")
                status, answer, answer_headers = None, None, {}
            if status in (201, 202):
                self.acknowledge(sent, status, answer, payload, text_kind)
                if sent.key and rng.random() < 0.5 and kind == "intake":   # a client retrying anyway
                    try:
                        again, replay, replay_headers = await self.call(
                            session, "intake_replay", "POST", "/v1/comments", payload=payload, headers=headers)
                    except ConnectionFailed as failed:
                        sent.outcomes.append(f"conn:{failed}")
                        return
                    if again in (201, 202):
                        if replay.get("id") != answer["id"] or again != status \
                                or replay_headers.get("Idempotent-Replayed") != "true":
                            self.stats.notes.append(f"idempotent replay differs: first {status} {answer}, "
                                                    f"replay {again} {replay} {replay_headers.get('Idempotent-Replayed')}")
                        self.acknowledge(sent, again, replay, payload, text_kind)
                    else:
                        sent.outcomes.append(f"http:{again}:{(replay or {}).get('error', {}).get('code')}")
                return
            if status is not None:
                code = answer.get("error", {}).get("code") if isinstance(answer, dict) else None
                sent.outcomes.append(f"http:{status}:{code}")
                if 400 <= status < 500 and status not in (408, 429):
                    if not (status == 422 and "parent_id" in payload):
                        self.stats.notes.append(f"intake refused {status} {code}: {answer}")
                    return
            # a connection error or a 503 (408/429): only a keyed comment is sent again
            if not sent.key or time.monotonic() > self.deadline + 20:
                return
            try:
                retry_after = float(answer_headers.get("Retry-After", "0.5"))
            except ValueError:
                retry_after = 0.5
            await asyncio.sleep(min(2.0, max(0.3, retry_after)) * (1 + rng.random()))
            kind = "intake_retry"

    async def thread_read(self, session, rng):
        thread = rng.choices(THREADS, THREAD_WEIGHTS)[0]
        limit = rng.choice((20, 50, 50, 100))
        status, answer, _ = await self.call(session, "thread_read", "GET",
                                            f"/v1/sites/{SITE}/threads/{thread}/comments?limit={limit}")
        if status == 200 and answer.get("next") and rng.random() < 0.5:
            await self.call(session, "thread_read", "GET",
                            f"/v1/sites/{SITE}/threads/{thread}/comments?limit={limit}&after={answer['next']}")

    async def counts(self, session, rng):
        threads = rng.sample(THREADS, rng.randint(1, 6))
        await self.call(session, "counts", "GET",
                        f"/v1/sites/{SITE}/counts?" + "&".join(f"thread={t}" for t in threads))

    async def top_threads(self, session, rng):
        await self.call(session, "top_threads", "GET",
                        f"/v1/sites/{SITE}/threads/top?days={rng.choice((1, 7, 30))}&limit=10")

    async def comment_status(self, session, rng):
        if not self.acked:
            return await self.counts(session, rng)
        comment_id = rng.choice(list(itertools.islice(reversed(self.acked), 500)))
        status, answer, _ = await self.call(session, "comment_status", "GET", f"/v1/comments/{comment_id}",
                                            headers=self.site_headers())
        if status == 404:
            self.lost_via_api.append(comment_id)
        elif status == 200 and unicodedata.normalize("NFC", answer.get("body", "")) != self.acked[comment_id]["body"]:
            self.id_collisions.append({"id": comment_id, "first": self.acked[comment_id]["body"],
                                       "api": answer.get("body")})

    async def review_queue(self, session, rng):
        folder = "spam" if rng.random() < 0.2 else "pending"
        order = rng.choice(("uncertain", "oldest", "score", "safest"))
        query = f"status={folder}&order={order}&limit={rng.choice((20, 50))}"
        if rng.random() < 0.2:
            query += f"&thread={rng.choices(THREADS, THREAD_WEIGHTS)[0]}"
        status, answer, _ = await self.call(session, "review_queue", "GET", f"/v1/review/queue?{query}",
                                            headers=self.mod_headers())
        if status == 200:
            for item in answer["items"]:
                self.candidates[item["status"]].append(item["id"])

    async def review_detail(self, session, rng):
        pool = self.candidates["pending"] or self.candidates["spam"]
        if not pool:
            return await self.review_queue(session, rng)
        await self.call(session, "review_detail", "GET", f"/v1/review/comments/{rng.choice(pool)}",
                        headers=self.mod_headers())

    def _action(self, rng, folder: str) -> str:
        if folder == "spam":
            return rng.choice(("approve", "approve", "reject"))
        return rng.choices(("approve", "reject", "spam"), (5, 2, 3))[0]

    async def decision(self, session, rng):
        folder = "spam" if self.candidates["spam"] and rng.random() < 0.2 else "pending"
        if not self.candidates[folder]:
            return await self.review_queue(session, rng)
        comment_id = self.candidates[folder].popleft()
        action = self._action(rng, folder)
        status, answer, _ = await self.call(
            session, "decision", "POST", f"/v1/review/comments/{comment_id}/decision",
            payload={"action": action, "expected_status": folder, "reason": "soak"},
            headers=self.mod_headers())
        if status == 200 and answer.get("outcome") == "decided":
            self.decided.append((comment_id, action, answer["previous_status"], answer["status"]))

    async def bulk_decision(self, session, rng):
        folder = "spam" if self.candidates["spam"] and rng.random() < 0.2 else "pending"
        pool = self.candidates[folder]
        if not pool:
            return await self.review_queue(session, rng)
        ids = list(dict.fromkeys(pool.popleft() for _ in range(min(len(pool), rng.randint(2, 10)))))
        action = self._action(rng, folder)
        status, answer, _ = await self.call(
            session, "bulk_decision", "POST", "/v1/review/decisions",
            payload={"ids": ids, "action": action, "expected_status": folder, "note": "soak bulk"},
            headers=self.mod_headers())
        if status == 200:
            for result in answer["results"]:
                if result["outcome"] == "decided":
                    self.decided.append((result["id"], action, result["previous_status"], result["status"]))

    async def bad_request(self, session, rng):
        which = rng.randrange(8)
        json_headers = self.site_headers({"Content-Type": "application/json"})
        if which == 0:
            args = ("POST", "/v1/comments"), dict(data=b'{"thread": {"id": "article-1",', headers=json_headers)
        elif which == 1:
            args = ("POST", "/v1/comments"), dict(payload={"thread": {"id": "article-1"}, "body": "Hello"},
                                                  headers=self.site_headers())
        elif which == 2:
            args = ("POST", "/v1/comments"), dict(payload={
                "thread": {"id": "article-2"}, "author": {"name": "A", "email": "a@example.org"},
                "body": "Unknown field here.", "rating": 5}, headers=self.site_headers())
        elif which == 3:
            args = ("POST", "/v1/comments"), dict(data=b"body=hello", headers=self.site_headers(
                {"Content-Type": "text/plain"}))
        elif which == 4:
            args = ("POST", "/v1/comments"), dict(payload={"thread": {"id": "article-1"}, "body": "x"})
        elif which == 5:
            args = ("POST", "/v1/review/comments/1/decision"), dict(
                payload={"action": "delete", "expected_status": "pending"}, headers=self.mod_headers())
        elif which == 6:
            args = ("GET", "/v1/review/queue?colour=red"), dict(headers=self.mod_headers())
        else:
            args = ("GET", f"/v1/sites/{SITE}/counts"), {}
        (method, path), kwargs = args
        status, answer, _ = await self.call(session, "bad_request", method, path, **kwargs)
        if not 400 <= status < 500:
            self.stats.bad_not_4xx.append({"t": round(self.stats.now(), 3), "variant": which, "path": path,
                                           "status": status, "answer": answer})

    async def client(self, session, index: int) -> None:
        rng = random.Random(f"{self.args.seed}-client-{index}")
        kinds, weights = list(KINDS), list(KINDS.values())
        interval = self.args.concurrency / self.args.rate
        next_at = time.monotonic() + rng.random() * interval
        while True:
            now = time.monotonic()
            if now >= self.deadline:
                return
            if next_at > now:
                await asyncio.sleep(next_at - now)
            next_at = max(time.monotonic(), next_at + interval * (0.5 + rng.random()))
            kind = rng.choices(kinds, weights)[0]
            try:
                await getattr(self, kind)(session, rng)
            except ConnectionFailed:
                await asyncio.sleep(0.2 + 0.2 * rng.random())   # the server is away: do not spin

    # -- model reloads, on a schedule
    async def reloads(self, session) -> None:
        every = self.args.reload_every
        if every <= 0:
            return
        turn = 0
        while True:
            await asyncio.sleep(every)
            if time.monotonic() >= self.deadline - 2:
                return
            if not self.server.up:
                continue
            t = round(self.stats.now(), 1)
            if turn % 2 == 0:
                try:
                    status, answer, _ = await self.call(session, "admin_reload", "POST", "/v1/admin/model/reload",
                                                        headers=self.mod_headers(admin=True), timeout=40)
                    answer = answer if isinstance(answer, dict) else {}
                    code = answer.get("error", {}).get("code") if status >= 400 else None
                    workers = (answer if status == 200 else answer.get("error", {})).get("workers", [])
                    self.stats.reloads.append({"t": t, "via": "api", "status": status, "code": code,
                                               "workers": [f"{w['worker']} {w['status']}" for w in workers]})
                except ConnectionFailed as failed:
                    self.stats.reloads.append({"t": t, "via": "api", "status": None, "code": str(failed)})
            else:
                self.stats.sent["sighup"] += 1
                with contextlib.suppress(ProcessLookupError):
                    os.kill(self.server.pid, signal.SIGHUP)
                self.stats.reloads.append({"t": t, "via": "SIGHUP", "pid": self.server.pid})
            turn += 1

    # -- resources, on a schedule
    async def sampler(self) -> None:
        while time.monotonic() < self.deadline:
            await asyncio.sleep(5)
            if self.server.up:
                self.stats.samples.append({"t": round(self.stats.now(), 1), **self.server.resources()})

    # -- faults
    async def fault_kill_worker(self, session, record: dict) -> None:
        workers = sorted(self.server.workers())
        if not workers:
            record["error"] = "no worker found"
            return
        victim = random.Random(f"{self.args.seed}-victim-{len(self.stats.faults)}").choice(workers)
        record["pid"] = victim
        start = self.stats.now()
        self.stats.windows.append([start, None, "kill-worker"])
        os.kill(victim, signal.SIGKILL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            now_workers = self.server.workers()
            if (victim not in now_workers and len(now_workers) >= WORKERS
                    and listening_sockets(self.server.port) >= WORKERS):
                break
            await asyncio.sleep(0.05)
        else:
            record["error"] = "worker not replaced within 60 s"
        record["replaced_in_s"] = round(self.stats.now() - start, 2)
        record["new_workers"] = sorted(self.server.workers())
        self.stats.windows[-1][1] = self.stats.now() + 1.0

    async def fault_write_lock(self, session, record: dict) -> None:
        hold = self.args.busy_timeout_ms / 1000 + self.args.lock_extra
        record["hold_s"] = hold
        path = self.env["MODERATION_DATABASE_URL"][len("sqlite:///"):]

        def hold_lock() -> float:
            db = sqlite3.connect(path, timeout=30, isolation_level=None)
            try:
                started = time.monotonic()
                db.execute("BEGIN IMMEDIATE")
                waited = time.monotonic() - started
                self.stats.windows.append([self.stats.now(), None, "write-lock"])
                time.sleep(hold)
                db.execute("ROLLBACK")
                return waited
            finally:
                db.close()

        record["waited_for_lock_s"] = round(await asyncio.to_thread(hold_lock), 3)
        self.stats.windows[-1][1] = self.stats.now() + 1.0 + self.args.busy_timeout_ms / 1000

    async def _restart(self, session, record: dict, start: float) -> None:
        self.server.start()
        try:
            stages = await self.server.wait_ready(session)
            record["ready_in_s"] = stages.pop("ready_s")
            record["startup"] = stages
        except RuntimeError as exc:
            record["error"] = str(exc)
            raise
        record["outage_s"] = round(self.stats.now() - start, 2)
        self.stats.windows[-1][1] = self.stats.now() + 1.0

    async def fault_kill_group(self, session, record: dict) -> None:
        start = self.stats.now()
        self.stats.windows.append([start, None, "kill-group"])
        record["pids"] = tree(self.server.pid)
        await self.server.kill_group()
        await self._restart(session, record, start)

    async def fault_sigterm(self, session, record: dict) -> None:
        start = self.stats.now()
        self.stats.windows.append([start, None, "sigterm"])
        code, stopped = await self.server.terminate()
        record["exit_code"], record["stopped_in_s"] = code, round(stopped, 2)
        if code != 0:
            self.stats.notes.append(f"SIGTERM at t={start:.1f}: exit code {code} after {stopped:.1f} s")
        await self._restart(session, record, start)

    async def faults(self, session) -> None:
        order = [name for name, on in (("kill-worker", self.args.kill_worker),
                                       ("write-lock", self.args.write_lock),
                                       ("kill-group", self.args.kill_group),
                                       ("sigterm", self.args.sigterm)) if on]
        if not order or self.args.fault_every <= 0:
            return
        run = {"kill-worker": self.fault_kill_worker, "write-lock": self.fault_write_lock,
               "kill-group": self.fault_kill_group, "sigterm": self.fault_sigterm}
        duration = self.deadline - self.start_wall
        at = self.args.fault_every / 2
        for index in itertools.count():
            if at > duration - self.args.quiet_tail:
                return
            await asyncio.sleep(max(0.0, self.start_wall + at - time.monotonic()))
            name = order[index % len(order)]
            record = {"fault": name, "t": round(self.stats.now(), 1)}
            self.stats.faults.append(record)
            print(f"  t={record['t']:6.1f}s  {name} ...", file=sys.stderr, flush=True)
            try:
                await run[name](session, record)
            except RuntimeError as exc:   # the server did not come back: stop here, check what we have
                self.aborted = f"t={self.stats.now():.1f}s after {name}: {exc}"
                print(f"  t={self.stats.now():6.1f}s  ABORT: {self.aborted}", file=sys.stderr, flush=True)
                self.deadline = time.monotonic()
                return
            print(f"  t={self.stats.now():6.1f}s  {name} done: "
                  + ", ".join(f"{k} {v}" for k, v in record.items() if k not in ("fault", "t")),
                  file=sys.stderr, flush=True)
            at = max(at + self.args.fault_every, time.monotonic() - self.start_wall + 3)

    async def run(self) -> None:
        connector = aiohttp.TCPConnector(limit=self.args.concurrency + 8)
        async with aiohttp.ClientSession(connector=connector) as session:
            await self.server.wait_ready(session)
            self.start_wall = self.stats.started = time.monotonic()
            self.deadline = self.start_wall + self.args.duration
            self.stats.samples.append({"t": 0.0, **self.server.resources()})
            clients = [asyncio.create_task(self.client(session, i)) for i in range(self.args.concurrency)]
            helpers = [asyncio.create_task(self.reloads(session)), asyncio.create_task(self.sampler())]
            faults = asyncio.create_task(self.faults(session))
            await asyncio.gather(*clients, faults)
            for task in helpers:
                task.cancel()
            await asyncio.gather(*helpers, return_exceptions=True)
            self.elapsed = time.monotonic() - self.start_wall
            await asyncio.sleep(1.5)   # the last answers' effects settle; then the end state
            if self.server.up:
                self.end_sample = {"t": round(self.stats.now(), 1), **self.server.resources()}
                self.stats.samples.append(self.end_sample)
            else:
                self.end_sample = self.stats.samples[-1]


# -- the verdict ---------------------------------------------------------------------------------
def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def check_database(path: str, soak: Soak) -> dict:
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        quick_check = db.execute("PRAGMA quick_check").fetchone()[0]
        rows = db.execute("SELECT id, body, status FROM comments").fetchall()
        events = Counter(db.execute(
            "SELECT comment_id, action, from_status, to_status FROM audit_events WHERE actor = 'soak-mod'"))
    finally:
        db.close()
    stored = {comment_id: (body, status) for comment_id, body, status in rows}
    ids_by_body = defaultdict(list)
    for comment_id, body, _ in rows:
        ids_by_body[body].append(comment_id)
    missing = sorted(i for i in soak.acked if i not in stored)
    mismatched = sorted(i for i, a in soak.acked.items() if i in stored and stored[i][0] != a["body"])
    duplicates, refused_stored, unacked_stored = [], [], []
    for body, sent in soak.sent.items():
        ids = ids_by_body.get(body, [])
        if len(ids) > 1:
            duplicates.append({"number": sent.number, "key": sent.key, "ids": ids, "outcomes": sent.outcomes})
        acked = any(o.startswith("ack:") for o in sent.outcomes)
        if ids and not acked:
            if any(o.startswith("conn:") for o in sent.outcomes) or not sent.outcomes:
                unacked_stored.append({"number": sent.number, "ids": ids, "outcomes": sent.outcomes})
            else:
                refused_stored.append({"number": sent.number, "ids": ids, "outcomes": sent.outcomes})
    keyed = [s for s in soak.sent.values() if s.key]
    keyed_ids = {s.key: {o for o in s.outcomes if o.startswith("ack:")} for s in keyed}
    decided = Counter(soak.decided)
    decisions_missing = [{"id": k[0], "action": k[1], "from": k[2], "to": k[3], "answered": n,
                          "in_audit": events.get(k, 0)} for k, n in decided.items() if events.get(k, 0) < n]
    return {
        "quick_check": quick_check,
        "comments_in_database": len(rows),
        "status_in_database": dict(Counter(status for _, _, status in rows)),
        "acknowledged": len(soak.acked),
        "acknowledged_201": sum(1 for a in soak.acked.values() if a["status"] == 201),
        "acknowledged_202": sum(1 for a in soak.acked.values() if a["status"] == 202),
        "acknowledged_found": len(soak.acked) - len(missing),
        "acknowledged_missing": missing,
        "body_mismatches": mismatched,
        "id_collisions": soak.id_collisions,
        "lost_via_api": soak.lost_via_api,
        "keyed_comments": len(keyed),
        "keyed_answered_two_ids": sorted(k for k, ids in keyed_ids.items() if len(ids) > 1),
        "keyed_retried_after_error": sum(1 for s in keyed if any(not o.startswith("ack:") for o in s.outcomes)),
        "duplicates": duplicates,
        "refused_yet_stored": refused_stored,
        "stored_never_acknowledged": len(unacked_stored),
        "stored_never_acknowledged_examples": unacked_stored[:10],
        "never_stored_never_acknowledged": sum(
            1 for b, s in soak.sent.items() if b not in ids_by_body
            and not any(o.startswith("ack:") for o in s.outcomes)),
        "decisions_decided": len(soak.decided),
        "decisions_missing": decisions_missing,
    }


def server_log(path: Path, request_ids: set[str]) -> dict:
    levels, errors, lines_for = Counter(), Counter(), defaultdict(list)
    tracebacks = 0
    with open(path, "rb") as log:
        for raw in log:
            line = raw.decode(errors="replace").rstrip("\n")
            try:
                record = json.loads(line)
            except ValueError:
                levels["(not json)"] += 1
                if "Traceback" in line:
                    tracebacks += 1
                errors[line[:160]] += 1
                continue
            if not isinstance(record, dict) or "soak" in record:
                continue
            level = record.get("level", "?")
            levels[level] += 1
            if record.get("exception"):
                tracebacks += 1
            if level in ("ERROR", "CRITICAL", "WARNING"):
                last = str(record.get("exception") or "").strip().splitlines()[-1:] or [""]
                text = re.sub(r"\d{3,}", "N", str(record.get("message")))[:140]
                errors[f"{level} {record.get('logger')}: {text}" + (f" [{last[0][:160]}]" if last[0] else "")] += 1
            if record.get("request_id") in request_ids:
                lines_for[record["request_id"]].append(line[:4000])
    return {"levels": dict(levels), "tracebacks": tracebacks,
            "errors": [{"message": m, "count": n} for m, n in errors.most_common(25)],
            "lines_for_5xx": dict(lines_for)}


def machine() -> str:
    model = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    memory = ""
    with contextlib.suppress(OSError):
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f", {kb / 1024 / 1024:.0f} GiB"
    return f"{os.cpu_count()} cores{', ' + model if model else ''}{memory}"


def build_report(soak: Soak, args, database: dict, log: dict, final_stop: dict, model: str) -> dict:
    stats = soak.stats
    kinds = sorted(set(stats.sent) | {k for k, _ in stats.status})
    conn_by_kind = Counter(kind for _, kind, _ in stats.conn_errors)
    table = []
    for kind in kinds:
        answered = {s: n for (k, s), n in stats.status.items() if k == kind}
        timed = stats.latency.get(kind, [])
        lat = [ms for _, ms in timed]
        calm = [ms for t, ms in timed if not stats.in_window(t)]
        table.append({
            "kind": kind, "sent": stats.sent[kind],
            "2xx": sum(n for s, n in answered.items() if 200 <= s < 300),
            "4xx": sum(n for s, n in answered.items() if 400 <= s < 500),
            "5xx": sum(n for s, n in answered.items() if s >= 500),
            "503": answered.get(503, 0),
            "connection_errors": conn_by_kind[kind],
            "p50_ms": round(percentile(lat, 0.50), 1) if lat else None,
            "p99_ms": round(percentile(lat, 0.99), 1) if lat else None,
            "p99_ms_outside_faults": round(percentile(calm, 0.99), 1) if calm else None,
            "max_ms_outside_faults": round(max(calm), 1) if calm else None,
            "4xx_codes": {f"{s} {c}": n for (k, s, c), n in sorted(stats.codes.items(), key=str)
                          if k == kind and 400 <= s < 500},
        })
    status_classes = Counter()
    for (_, status), n in stats.status.items():
        status_classes[f"{status // 100}xx"] += n
    conn_during = [e for e in stats.conn_errors if stats.in_window(e[0])]
    conn_outside = [e for e in stats.conn_errors if not stats.in_window(e[0])]
    fivexx_codes = Counter()
    for (kind, status, code), n in stats.codes.items():
        if status >= 500:
            fivexx_codes[(status, code, kind)] += n
    internal = [e for e in stats.fivexx if e["status"] != 503]
    unexpected_503 = [e for e in stats.fivexx if e["status"] == 503 and e["code"] not in EXPECTED_503]
    outside_503 = [e for e in stats.answers_503 if not stats.in_window(e[0])
                   and not (e[1] == "admin_reload" and e[2] == "model_reload_incomplete")]
    first, last = stats.samples[0], soak.end_sample
    peak = max(stats.samples, key=lambda s: s["rss_kb"])
    generations = {}
    for sample in stats.samples:
        generations.setdefault(sample["generation"], []).append(sample)
    per_generation = [{"generation": g, "first": ss[0], "last": ss[-1]} for g, ss in generations.items()]
    failures = []
    if database["acknowledged_missing"]:
        failures.append(f"{len(database['acknowledged_missing'])} acknowledged comments missing")
    if database["body_mismatches"] or database["id_collisions"]:
        failures.append("acknowledged ids hold other bodies")
    if database["duplicates"] or database["keyed_answered_two_ids"]:
        failures.append("a keyed comment stored or answered twice")
    if database["refused_yet_stored"]:
        failures.append(f"{len(database['refused_yet_stored'])} refused comments stored")
    if database["decisions_missing"]:
        failures.append(f"{len(database['decisions_missing'])} acknowledged decisions missing")
    if soak.lost_via_api:
        failures.append(f"{len(soak.lost_via_api)} acknowledged comments answered 404")
    if internal:
        failures.append(f"{len(internal)} answers 5xx other than 503 "
                        f"({', '.join(sorted({str(e['code']) for e in internal}))})")
    if database["quick_check"] != "ok":
        failures.append(f"quick_check: {database['quick_check']}")
    remarks = []
    if stats.bad_not_4xx:
        remarks.append(f"{len(stats.bad_not_4xx)} bad requests not answered 4xx")
    if unexpected_503:
        remarks.append(f"{len(unexpected_503)} 503 with unexpected codes")
    if conn_outside:
        remarks.append(f"{len(conn_outside)} connection errors outside fault windows")
    if outside_503:
        remarks.append(f"{len(outside_503)} 503 outside fault windows")
    if final_stop.get("exit_code") != 0 and not soak.aborted:
        remarks.append(f"final SIGTERM exit code {final_stop.get('exit_code')}")
    if soak.aborted:
        failures.append(f"ABORTED, the server did not restart ({soak.aborted})")
    verdict = ("FAIL: " + "; ".join(failures) if failures else
               f"PASS: all {database['acknowledged']} acknowledged comments and {database['decisions_decided']} "
               f"decisions on disk, no 500, {len(stats.faults)} faults survived") \
        + (" (" + "; ".join(remarks) + ")" if remarks else "")
    return {
        "command": "bench/soak.py " + " ".join(sys.argv[1:]),
        "machine": machine(),
        "model": model,
        "seed": args.seed, "concurrency": args.concurrency, "target_rate": args.rate,
        "busy_timeout_ms": args.busy_timeout_ms,
        "minutes": round(soak.elapsed / 60, 2),
        "requests": sum(stats.sent.values()),
        "requests_per_second": round(sum(stats.sent.values()) / soak.elapsed, 1),
        "kinds": table,
        "status_classes": dict(status_classes),
        "connection_errors": {"total": len(stats.conn_errors), "during_faults": len(conn_during),
                              "outside_faults": len(conn_outside),
                              "by_exception": dict(Counter(e[2] for e in stats.conn_errors)),
                              "outside_examples": conn_outside[:20]},
        "fivexx_by_code": [{"status": s, "code": c, "kind": k, "count": n}
                           for (s, c, k), n in sorted(fivexx_codes.items(), key=lambda x: (x[0][0], str(x[0][1]), x[0][2]))],
        "internal_errors": internal,
        "unexpected_503": unexpected_503[:50],
        "503_outside_faults": outside_503[:50],
        "bad_requests_not_4xx": stats.bad_not_4xx,
        "faults": stats.faults,
        "reloads": stats.reloads,
        "database": database,
        "resources": {"start": first, "end": last, "peak": peak, "per_generation": per_generation,
                      "samples": stats.samples},
        "final_stop": final_stop,
        "server_log": log,
        "notes": stats.notes[:50],
        "verdict": verdict,
        "exit_code": 2 if soak.aborted else 1 if failures else 0,
    }


def print_report(r: dict) -> None:
    mib = lambda kb: f"{kb / 1024:.0f} MiB"   # noqa: E731
    print(f"soak: {r['minutes']:.2f} minutes, moderation serve --workers {WORKERS}, SQLite, model {r['model']}")
    print(f"machine: {r['machine']}; seed {r['seed']}, {r['concurrency']} clients paced to {r['target_rate']} req/s "
          f"(got {r['requests_per_second']}/s); busy_timeout {r['busy_timeout_ms']} ms")
    print(f"\nfaults ({len(r['faults'])}):")
    for f in r["faults"]:
        detail = ", ".join(f"{k} {v}" for k, v in f.items() if k not in ("fault", "t", "pids", "new_workers"))
        print(f"  t={f['t']:6.1f}s  {f['fault']:<12} {detail}")
    reloads = r["reloads"]
    api = Counter(f"{x['status']}{' ' + x['code'] if x.get('code') else ''}" for x in reloads if x["via"] == "api")
    print(f"model reloads: {sum(1 for x in reloads if x['via'] == 'SIGHUP')} SIGHUP, "
          f"{sum(api.values())} through the API ({', '.join(f'{k}: {n}' for k, n in sorted(api.items())) or '-'})")
    print(f"\nrequests by kind ({r['requests']} in all):")
    print(f"  {'kind':<15} {'sent':>7} {'2xx':>7} {'4xx':>6} {'5xx':>5} {'503':>5} {'conn err':>8} "
          f"{'p50 ms':>8} {'p99 ms':>8} {'p99 calm':>9}")
    fmt = lambda v: "-" if v is None else f"{v:.1f}"   # noqa: E731
    for k in r["kinds"]:
        print(f"  {k['kind']:<15} {k['sent']:>7} {k['2xx']:>7} {k['4xx']:>6} {k['5xx']:>5} {k['503']:>5} "
              f"{k['connection_errors']:>8} {fmt(k['p50_ms']):>8} {fmt(k['p99_ms']):>8} "
              f"{fmt(k['p99_ms_outside_faults']):>9}")
    print("  (p99 calm: answers outside the fault windows, each from the fault to 1 s after recovery)")
    fourxx = [f"{k['kind']} {code} x{n}" for k in r["kinds"] for code, n in k["4xx_codes"].items()]
    print("4xx by code: " + (", ".join(fourxx) or "none"))
    sc, ce = r["status_classes"], r["connection_errors"]
    print(f"\nanswers: 2xx {sc.get('2xx', 0)}, 4xx {sc.get('4xx', 0)}, 5xx {sc.get('5xx', 0)} "
          f"(503: {sum(k['503'] for k in r['kinds'])}); connection errors {ce['total']} "
          f"({ce['during_faults']} during faults, {ce['outside_faults']} outside; "
          f"{', '.join(f'{k} {n}' for k, n in sorted(ce['by_exception'].items())) or '-'})")
    print("5xx by code:" + ("" if r["fivexx_by_code"] else " none"))
    for e in r["fivexx_by_code"]:
        print(f"  {e['status']} {e['code']:<24} {e['kind']:<15} {e['count']}")
    if r["internal_errors"]:
        print("5xx other than 503 (each):")
        for e in r["internal_errors"]:
            print(f"  t={e['t']}s {e['method']} {e['path']} -> {e['status']} {e['code']} "
                  f"request {e['request_id']} during {e['during']}")
            print(f"    request: {json.dumps(e['request'], ensure_ascii=False)[:300]}")
            print(f"    answer:  {json.dumps(e['answer'], ensure_ascii=False)[:300]}")
            for line in r["server_log"]["lines_for_5xx"].get(e["request_id"], [])[:5]:
                try:
                    record = json.loads(line)
                except ValueError:
                    print(f"    log: {line[:300]}")
                    continue
                last = str(record.get("exception") or "").strip().splitlines()[-1:] or [""]
                print(f"    log: {record.get('time')} {record.get('level')} pid {record.get('pid')} "
                      f"{record.get('message')} {last[0]}")
    if r["503_outside_faults"]:
        print(f"503 outside fault windows: {len(r['503_outside_faults'])}, e.g. {r['503_outside_faults'][:3]}")
    if r["bad_requests_not_4xx"]:
        print(f"bad requests not answered 4xx: {len(r['bad_requests_not_4xx'])}, e.g. {r['bad_requests_not_4xx'][:3]}")
    d = r["database"]
    print(f"\ncomments: acknowledged {d['acknowledged']} (201: {d['acknowledged_201']}, 202: {d['acknowledged_202']}), "
          f"found in the database {d['acknowledged_found']}, acknowledged missing {len(d['acknowledged_missing'])}"
          f"{' ' + str(d['acknowledged_missing'][:20]) if d['acknowledged_missing'] else ''}; "
          f"body mismatches {len(d['body_mismatches'])}, 404 on GET {len(d['lost_via_api'])}")
    print(f"  database: {d['comments_in_database']} comments "
          f"({', '.join(f'{k} {n}' for k, n in sorted(d['status_in_database'].items()))}), quick_check {d['quick_check']}; "
          f"stored but never acknowledged (in flight at a kill) {d['stored_never_acknowledged']}, "
          f"refused yet stored {len(d['refused_yet_stored'])}")
    print(f"  Idempotency-Key: {d['keyed_comments']} keyed comments, {d['keyed_retried_after_error']} retried after "
          f"an error, stored twice {len(d['duplicates'])}, answered with two ids {len(d['keyed_answered_two_ids'])}")
    print(f"  decisions: {d['decisions_decided']} answered decided, missing from the audit trail "
          f"{len(d['decisions_missing'])}")
    res = r["resources"]
    s, e, p = res["start"], res["end"], res["peak"]
    print(f"\nserver: RSS {mib(s['rss_kb'])} at start ({s['processes']} processes), {mib(e['rss_kb'])} at end "
          f"({e['processes']} processes, generation {e['generation']}, up {e['uptime_s']} s), peak "
          f"{mib(p['rss_kb'])}; open fds {s['fds']} at start, {e['fds']} at end")
    fs = r["final_stop"]
    for g in res["per_generation"]:
        a, b = g["first"], g["last"]
        print(f"  generation {g['generation']}: RSS {mib(a['rss_kb'])} -> {mib(b['rss_kb'])}, fds {a['fds']} -> "
              f"{b['fds']} from up {a['uptime_s']} s to up {b['uptime_s']} s")
    print(f"final SIGTERM: exit code {fs.get('exit_code')} in {fs.get('stopped_in_s')} s")
    log = r["server_log"]
    print(f"server log: {', '.join(f'{k} {n}' for k, n in sorted(log['levels'].items()))}; tracebacks {log['tracebacks']}")
    for entry in log["errors"][:15]:
        print(f"  {entry['count']:>5} x {entry['message']}")
    for note in r["notes"][:10]:
        print(f"note: {note}")
    print(f"\nverdict: {r['verdict']}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=3.0)
    parser.add_argument("--seconds", type=float, help="run this long instead (short runs)")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rate", type=float, default=120.0, help="requests/s aimed at, all clients together")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--fault-every", type=float, default=30.0, help="seconds between faults (0: none)")
    parser.add_argument("--quiet-tail", type=float, default=15.0, help="no fault starts in the last seconds")
    parser.add_argument("--reload-every", type=float, default=20.0,
                        help="seconds between model reloads, API and SIGHUP in turn (0: none)")
    parser.add_argument("--busy-timeout-ms", type=int, default=2000,
                        help="MODERATION_SQLITE_BUSY_TIMEOUT_MS for the server (default 2000, not 10000: "
                             "the write-lock fault then lasts seconds, not tens)")
    parser.add_argument("--lock-extra", type=float, default=3.0,
                        help="the write lock is held busy timeout + this many seconds")
    for name in ("kill-group", "kill-worker", "write-lock", "sigterm"):
        parser.add_argument(f"--no-{name}", dest=name.replace("-", "_"), action="store_false",
                            help=f"no {name} fault")
    parser.add_argument("--log-level", default="WARNING", help="MODERATION_LOG_LEVEL of the server")
    parser.add_argument("--json", action="store_true", help="print the report as one JSON object")
    parser.add_argument("--json-out", type=Path, metavar="FILE", help="also write the JSON report to FILE")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (database, log)")
    args = parser.parse_args()
    args.duration = args.seconds if args.seconds is not None else args.minutes * 60

    workdir = Path(tempfile.mkdtemp(prefix="moderation-soak-"))
    database = workdir / "soak.db"
    env = dict(os.environ, SOAK_WORKDIR=str(workdir), TMPDIR=str(workdir),
               MODERATION_DATABASE_URL=f"sqlite:///{database}", MODERATION_MODEL_DIR=str(ROOT / "models"),
               MODERATION_RATE_LIMIT_PER_IP="0", MODERATION_RATE_LIMIT_PER_EMAIL="0",
               MODERATION_DUPLICATE_WINDOW_SECONDS="0", MODERATION_LOG_LEVEL=args.log_level,
               MODERATION_SQLITE_BUSY_TIMEOUT_MS=str(args.busy_timeout_ms), MODERATION_WORKERS=str(WORKERS))
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    model = (ROOT / "models" / "CURRENT").read_text().strip()
    print(f"soak: {args.duration:.0f} s, work directory {workdir}", file=sys.stderr, flush=True)
    cli(env, "init")
    key = cli(env, "site", "add", "--name", SITE, "--url", "https://soak.example", "--lang", "en", "--mode", "auto")
    token = cli(env, "moderator", "add", "soak-mod", "--role", "moderator", "--site", SITE)
    admin = cli(env, "moderator", "add", "soak-admin", "--role", "admin")
    server = Server(env, free_port(), workdir / "server.log")
    soak = Soak(args, env, server, key, token, admin)
    final_stop: dict = {}
    code = 2
    try:
        server.start()
        try:
            asyncio.run(soak.run())
        except RuntimeError as exc:
            print(f"soak: the server could not be (re)started: {exc}", file=sys.stderr)
            with contextlib.suppress(OSError):
                print(Path(server.log_path).read_text()[-4000:], file=sys.stderr)
            return 2
        if server.process.poll() is None:
            exit_code, stopped = asyncio.run(server.terminate())
            final_stop = {"exit_code": exit_code, "stopped_in_s": round(stopped, 2)}
        else:
            final_stop = {"exit_code": server.process.returncode, "stopped_in_s": None}
        db_report = check_database(str(database), soak)
        request_ids = {e["request_id"] for e in soak.stats.fivexx if e["status"] != 503 or e["code"] not in EXPECTED_503}
        log = server_log(server.log_path, request_ids)
        report = build_report(soak, args, db_report, log, final_stop, model)
        if args.json_out:
            args.json_out.write_text(json.dumps(report, indent=2, ensure_ascii=False, default=str) + "\n")
        if args.json:
            print(json.dumps(report, indent=2, ensure_ascii=False, default=str))
        else:
            print_report(report)
        code = report["exit_code"]
        return code
    finally:
        if server.process is not None and server.process.poll() is None:
            asyncio.run(server.terminate())
        if server.process is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(server.pid, signal.SIGKILL)
        if args.keep or code != 0:
            print(f"soak: kept {workdir} (database, server.log)", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
