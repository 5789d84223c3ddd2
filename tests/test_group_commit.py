"""Group commit on SQLite: concurrent inserts share a transaction, yet each
stands or falls alone and each caller resumes only once its comment is durable."""
import asyncio
import sqlite3
import time


from moderation.domain import NewComment, Reason, Status, ThreadIn
from moderation.store.sqlite import SQLiteStore


def new_comment(site_id, n):
    return NewComment(
        site_id=site_id, thread=ThreadIn(id=f"t{n % 3}"), parent_id=None, author_name=f"R{n}",
        author_email=f"r{n}@example.org", body=f"Comment {n}", body_hash=f"h{n}", language="en",
        spam_score=0.1, model_version="v", status=Status.PUBLISHED, reasons=(Reason.MODEL_HAM,),
        ip_prefix="192.0.2.0/24", ip_full="192.0.2.1", user_agent="", referrer="", created_at=time.time())


async def test_concurrent_inserts_all_land_and_a_bad_one_fails_alone(tmp_path):
    path = tmp_path / "g.db"
    async with SQLiteStore(path) as store:
        site = await store.create_site(name="s", url="https://s.example", lang="en", mode="auto",
                                       key_hash="k", now=time.time())
        comments = [new_comment(site.id, n) for n in range(40)]
        comments[17] = new_comment(site_id=9999, n=17)   # no such site: a foreign key fails
        results = await asyncio.gather(*[store.insert_comment(c) for c in comments],
                                       return_exceptions=True)
    failures = [r for r in results if isinstance(r, Exception)]
    assert len(failures) == 1 and results[17] is failures[0]
    ids = [r.comment_id for r in results if not isinstance(r, Exception)]
    assert len(set(ids)) == 39
    # Read back with a plain connection: everything acknowledged is on disk.
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT COUNT(*) FROM comments").fetchone() == (39,)
        assert db.execute("SELECT COUNT(*) FROM audit_events").fetchone() == (39,)


async def test_close_waits_for_inserts_in_flight(tmp_path):
    path = tmp_path / "c.db"
    store = SQLiteStore(path)
    await store.open()
    site = await store.create_site(name="s", url="https://s.example", lang="en", mode="auto",
                                   key_hash="k", now=time.time())
    tasks = [asyncio.ensure_future(store.insert_comment(new_comment(site.id, n))) for n in range(10)]
    await asyncio.sleep(0)
    await store.close()
    assert all(t.done() and not t.exception() for t in tasks)
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT COUNT(*) FROM comments").fetchone() == (10,)
