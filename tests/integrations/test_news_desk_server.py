"""A news desk's day through `moderation serve --workers 2` and the command
line, on SQLite and PostgreSQL: a story turns ugly, so its thread is closed
from the CLI and the site switched to pre-moderation; its key leaked, so it is
rotated; a moderator leaves, so they are revoked; the admin log shows it all.
Then readers flag (the queue ordered by flags), an author edits and deletes
their comment, a regular earns the site's trust, a troll is banned.
Changes made in another process reach both workers (the caches are off)."""
import json
import subprocess
import sys

import pytest
import requests

from ..conftest import comment_payload
from ..server import cli, free_port, start_server
from ..store.conftest import postgres_server, postgres_url  # noqa: F401  (fixtures)
from ..toy_model import HAM_TEXT

pytestmark = pytest.mark.slow


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def env(request, server_env):
    if request.param == "postgres":
        server_env["MODERATION_DATABASE_URL"] = request.getfixturevalue("postgres_url")
    server_env.update(MODERATION_WORKERS="2", MODERATION_SITE_CACHE_SECONDS="0")
    return server_env


def open_desk(env):
    """A French site in auto mode and a moderator, made from the CLI, then the
    server: (site key, moderator token, port, server process)."""
    cli(env, "init")
    key = cli(env, "site", "add", "--name", "journal", "--url", "https://journal.example",
              "--lang", "fr", "--mode", "auto")
    token = cli(env, "moderator", "add", "bob")
    port = free_port()
    return key, token, port, start_server(env, port)


def post(port, key, *, thread="story", body=HAM_TEXT, language="fr"):
    """One comment on a new connection (either worker may take it)."""
    answer = requests.post(f"http://127.0.0.1:{port}/v1/comments", timeout=10,
                           headers={"Authorization": f"Bearer {key}", "Accept-Language": language,
                                    "Connection": "close"},
                           json=comment_payload(body=body, thread={"id": thread}))
    return answer.status_code, answer.json()


def test_a_news_desk_closes_a_thread_switches_mode_rotates_a_key_and_revokes(env):
    key, token, port, server = open_desk(env)
    try:
        base = f"http://127.0.0.1:{port}"
        assert post(port, key)[1]["status"] == "published"

        cli(env, "thread", "close", "journal", "story")
        for n in range(4):   # both workers refuse it
            status, refused = post(port, key, body=f"{HAM_TEXT} ({n})")
            assert (status, refused["error"]["code"]) == (409, "thread_closed")
            assert refused["error"]["message"] == "Les commentaires sont fermés pour cet article."
        cli(env, "thread", "reopen", "journal", "story")
        assert post(port, key, body=f"{HAM_TEXT} (reopened)")[0] == 201

        cli(env, "site", "set", "journal", "--mode", "pre")
        for n in range(3):
            status, held = post(port, key, thread="other", body=f"{HAM_TEXT} (pre {n})")
            assert (status, held["reasons"]) == (202, ["model_ham", "pre_moderation"])
        cli(env, "site", "set", "journal", "--mode", "auto")

        new_key = cli(env, "site", "rotate-key", "journal", "--overlap-hours", "0")
        assert post(port, key, body=f"{HAM_TEXT} (old key)")[0] == 401
        assert post(port, new_key, body=f"{HAM_TEXT} (new key)")[0] == 201

        queue = f"{base}/v1/review/queue"
        bob = {"Authorization": f"Bearer {token}", "Connection": "close"}
        assert requests.get(queue, headers=bob, timeout=10).status_code == 200
        assert cli(env, "moderator", "revoke", "bob") == "moderator bob revoked; 0 session(s) ended"
        assert {requests.get(queue, headers=bob, timeout=10).status_code for _ in range(4)} == {401}
        assert cli(env, "moderator", "list").split("\t")[-1] == "revoked"

        log = [line.split("\t") for line in cli_lines(env, "events")]
        assert [(actor, action, target) for _, actor, action, target, _ in log] == [
            ("cli", "thread.update", "story"), ("cli", "thread.update", "story"),
            ("cli", "site.update", "journal"), ("cli", "site.update", "journal"),
            ("cli", "site.key_rotated", "journal"), ("cli", "moderator.revoked", "bob")]
        assert json.loads(log[2][4]) == {"before": {"approve_below": None, "lang": "fr", "mode": "auto",
                                                    "reject_above": None},
                                         "after": {"approve_below": None, "lang": "fr", "mode": "pre",
                                                   "reject_above": None}}
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_readers_flag_authors_edit_and_delete_and_a_banned_author_is_held(env):
    """Through both workers: a ban set from the CLI, readers' flags, an
    author's edit and deletion with their token, the placeholder it leaves."""
    env.update(MODERATION_FLAGS_TO_REVIEW="2", MODERATION_PUBLIC_CACHE_SECONDS="0")
    key, token, port, server = open_desk(env)
    try:
        base = f"http://127.0.0.1:{port}"
        site = {"Authorization": f"Bearer {key}", "Connection": "close"}
        status, parent = post(port, key)
        assert status == 201
        reply = requests.post(f"{base}/v1/comments", headers=site, timeout=10, json=comment_payload(
            body=f"{HAM_TEXT} (reply)", thread={"id": "story"}, parent_id=parent["id"],
            author={"name": "Other", "email": "other@example.org"})).json()
        assert reply["status"] == "published"

        as_author = {**site, "Author-Token": parent["author_token"]}
        edited = requests.patch(f"{base}/v1/comments/{parent['id']}", headers=as_author, timeout=10,
                                json={"body": f"{HAM_TEXT} (edited)"})
        assert (edited.status_code, edited.json()["status"]) == (200, "published")
        for _ in range(2):   # either worker, the same answer
            assert requests.delete(f"{base}/v1/comments/{parent['id']}", headers=as_author,
                                   timeout=10).status_code == 200
        page = requests.get(f"{base}/v1/sites/journal/threads/story/comments", timeout=10).json()
        assert [(i["id"], i["removed"], i["replies"]) for i in page["items"]] == [
            (parent["id"], True, 1), (reply["id"], False, 0)]

        flags = f"{base}/v1/comments/{reply['id']}/flags"
        counted = [requests.post(flags, headers=site, timeout=10, json={"reason": "abuse", "reader": f"r{n}"}).json()
                   for n in range(2)]
        assert [c["sent_to_review"] for c in counted] == [False, True]
        page = requests.get(f"{base}/v1/sites/journal/threads/story/comments", timeout=10).json()
        assert page["items"] == []   # the placeholder went with its last published reply
        bob = {"Authorization": f"Bearer {token}", "Connection": "close"}
        queue = requests.get(f"{base}/v1/review/queue?order=flags", headers=bob, timeout=10).json()
        assert [(i["id"], i["reasons"][-1]) for i in queue["items"]] == [(reply["id"], "reader_flags")]

        # a regular earns the site's trust: pre-moderation no longer holds them
        cli(env, "site", "set", "journal", "--mode", "pre", "--auto-trust-after", "1")
        status, first = post(port, key, thread="regulars", body=f"{HAM_TEXT} (regular 1)")
        assert (status, first["reasons"]) == (202, ["model_ham", "pre_moderation"])
        approved = requests.post(f"{base}/v1/review/comments/{first['id']}/decision", headers=bob,
                                 timeout=10, json={"action": "approve", "expected_status": "pending"})
        assert approved.status_code == 200
        for n in range(3):   # either worker
            status, trusted = post(port, key, thread="regulars", body=f"{HAM_TEXT} (regular {n + 2})")
            assert (status, trusted["reasons"][-1]) == (201, "author_trusted")
        cli(env, "site", "set", "journal", "--mode", "auto", "--auto-trust-after", "0")

        cli(env, "author", "ban", "journal", "--email", "JEAN.Dupont@example.fr", "--note", "troll")
        for n in range(3):
            status, held = post(port, key, body=f"{HAM_TEXT} (banned {n})")
            assert (status, held["status"], held["reasons"][-1]) == (202, "spam", "author_banned")
    finally:
        server.terminate()
        server.wait(timeout=30)


def cli_lines(env, *args):
    done = subprocess.run([sys.executable, "-m", "moderation", *args], env=env, check=True,
                          capture_output=True, text=True, timeout=60)
    return done.stdout.strip().splitlines()
