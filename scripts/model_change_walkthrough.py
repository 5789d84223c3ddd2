"""The README's model-change walkthrough, run for real and printed as it goes.

    .venv/bin/python scripts/model_change_walkthrough.py --candidate-dir ~/models-trial \\
        --traffic ../shared/data/youtube-spam-collection/Youtube03-LMFAO.csv

A scratch folder gets a copy of ``models/`` (the shipped model, live) and the
candidate's files from ``--candidate-dir`` (a ``train.py train --out`` folder).
``moderation serve --workers 2`` runs on a fresh SQLite database; the candidate
is shadowed; every row of ``--traffic`` (a YouTube Spam Collection CSV) is
posted as a comment; the comments that wait for review are decided as the
file's labels say (standing in for moderators); then compare, what-if,
promote and rollback, each command and its output printed.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def moderation(env, *args, show=True) -> str:
    done = subprocess.run([sys.executable, "-m", "moderation", *args], env=env, capture_output=True,
                          text=True, timeout=300)
    if show:
        print(f"$ moderation {' '.join(args)}")
        print((done.stdout + done.stderr).rstrip())
        print()
    return done.stdout.strip()


def call(port, method, path, token, body=None):
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=method,
                                     data=None if body is None else json.dumps(body).encode(),
                                     headers={"Authorization": f"Bearer {token}",
                                              "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--candidate-dir", type=Path, required=True)
    parser.add_argument("--traffic", type=Path, required=True)
    parser.add_argument("--plot", type=Path, help="where the what-if writes its PNG")
    parser.add_argument("--approve-below", default="0.2", help="the threshold the what-if proposes")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="moderation-walkthrough-"))
    models = work / "models"
    shutil.copytree(ROOT / "models", models)
    candidate = (args.candidate_dir / "CURRENT").read_text().strip()
    for path in args.candidate_dir.glob(f"{candidate}*"):
        (shutil.copytree if path.is_dir() else shutil.copy)(path, models / path.name)
    env = dict(os.environ, MODERATION_DATABASE_URL=f"sqlite:///{work / 'walkthrough.db'}",
               MODERATION_MODEL_DIR=str(models), MODERATION_RATE_LIMIT_PER_IP="0",
               MODERATION_RATE_LIMIT_PER_EMAIL="0", MODERATION_LOG_LEVEL="WARNING")
    moderation(env, "init", show=False)
    key = moderation(env, "site", "add", "--name", "journal", "--url", "https://journal.example",
                     "--lang", "en", "--mode", "auto", show=False).splitlines()[-1]
    token = moderation(env, "moderator", "add", "ops", "--role", "admin", show=False).splitlines()[-1]
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "moderation", "serve", "--port", str(port),
                               "--workers", "2"], env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        moderation(env, "model", "shadow", str(models / f"{candidate}.json"))
        with args.traffic.open(encoding="utf-8") as rows:
            traffic = [(row["CONTENT"], int(row["CLASS"])) for row in csv.DictReader(rows)]
        labels, statuses = {}, {}
        for i, (text, label) in enumerate(traffic):
            status, answer = call(port, "POST", "/v1/comments", key, {
                "thread": {"id": f"video-{i % 20}"}, "body": text,
                "author": {"name": f"Viewer {i}", "email": f"viewer{i}@example.org"}})
            if status in (201, 202):
                labels[answer["id"]] = label
                statuses[answer["status"]] = statuses.get(answer["status"], 0) + 1
        print(f"posted {len(traffic)} comments of {args.traffic.name}: {statuses}")
        decided = 0
        for comment_id, label in labels.items():
            status, answer = call(port, "POST", f"/v1/review/comments/{comment_id}/decision", token,
                                  {"action": "spam" if label else "approve", "expected_status": "pending"})
            decided += status == 200
        print(f"moderators decided the {decided} comments waiting for review (as the file labels them)\n")
        moderation(env, "model", "compare")
        what_if = ["thresholds", "what-if", "--site", "journal", "--approve-below", args.approve_below]
        moderation(env, *what_if, *(["--plot", str(args.plot)] if args.plot else []))
        moderation(env, "model", "promote")
        moderation(env, "model", "status")
        moderation(env, "model", "rollback")
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
