"""Store contract for what a news desk changes after creating things, on SQLite
and PostgreSQL: a site's mode, language and thresholds, its key rotated with an
overlap, moderators listed, changed and revoked (sessions ending at once),
threads closed and pre-moderated, and every change in the admin log."""
from __future__ import annotations

from dataclasses import replace

from moderation.domain import Mode, Reason, Role, RuleAction, RuleKind, Status, ThreadRule
from moderation.store.base import DecisionRequest

from .conftest import T0, new_comment


async def test_a_site_changes_mode_language_and_thresholds_with_a_record(store, site):
    changed = await store.update_site(replace(site, mode=Mode.PRE, lang="fr", approve_below=0.1,
                                              reject_above=0.9), actor="ada", now=T0 + 5)
    assert (changed.mode, changed.lang, changed.approve_below, changed.reject_above) == (Mode.PRE, "fr", 0.1, 0.9)
    assert await store.site_by_name("journal") == changed
    back = await store.update_site(replace(changed, approve_below=None, reject_above=None),
                                   actor="cli", now=T0 + 6)
    assert (back.approve_below, back.reject_above) == (None, None)
    second, first = await store.admin_events(limit=10)
    assert (first.action, first.actor, first.site_id, first.target, first.at) == (
        "site.update", "ada", site.id, "journal", T0 + 5)
    assert first.detail == {
        "before": {"mode": "auto", "lang": "en", "approve_below": None, "reject_above": None},
        "after": {"mode": "pre", "lang": "fr", "approve_below": 0.1, "reject_above": 0.9}}
    assert second.detail["after"]["approve_below"] is None and second.actor == "cli"


async def test_a_rotated_key_works_with_the_old_one_until_the_overlap_ends(store, site):
    await store.rotate_site_key(site.id, key_hash="key-new", previous_until=T0 + 100, actor="ada", now=T0)
    assert (await store.site_by_key_hash("key-new", now=T0 + 500)).id == site.id
    assert (await store.site_by_key_hash("key-journal", now=T0 + 99)).id == site.id
    assert await store.site_by_key_hash("key-journal", now=T0 + 100) is None
    # a second rotation forgets the first key at once, keeps the second for its overlap
    await store.rotate_site_key(site.id, key_hash="key-third", previous_until=T0 + 50, actor="ada", now=T0 + 1)
    assert await store.site_by_key_hash("key-journal", now=T0 + 2) is None
    assert (await store.site_by_key_hash("key-new", now=T0 + 2)).id == site.id
    assert (await store.site_by_key_hash("key-third", now=T0 + 2)).id == site.id
    [latest, _] = await store.admin_events(limit=2)
    assert (latest.action, latest.detail) == ("site.key_rotated", {"previous_key_until": T0 + 50})


async def test_moderators_are_listed_changed_and_revoked_with_their_sessions(store, site):
    ada = await store.create_moderator(name="ada", role="admin", site_ids=[], token_hash="t-ada", now=T0)
    bob = await store.create_moderator(name="bob", role="moderator", site_ids=[site.id],
                                       token_hash="t-bob", now=T0)
    assert [(m.name, m.revoked) for m in await store.list_moderators()] == [("ada", False), ("bob", False)]
    changed = await store.update_moderator(bob.id, role="admin", site_ids=[], actor="ada", now=T0 + 1)
    assert (changed.role, changed.site_ids) == (Role.ADMIN, ())
    assert (await store.moderator_by_token_hash("t-bob")).role is Role.ADMIN
    await store.create_session(id_hash="s1", moderator_id=bob.id, now=T0, expires_at=T0 + 10_000)
    await store.create_session(id_hash="s2", moderator_id=bob.id, now=T0, expires_at=T0 + 10_000)
    await store.create_session(id_hash="s3", moderator_id=ada.id, now=T0, expires_at=T0 + 10_000)

    assert await store.revoke_moderator(bob.id, actor="ada", now=T0 + 2) == 2
    assert await store.moderator_by_token_hash("t-bob") is None
    assert await store.session_by_hash("s1", now=T0 + 3) is None
    assert (await store.session_by_hash("s3", now=T0 + 3)).moderator.name == "ada"
    assert (await store.moderator_by_name("bob")).revoked is True
    assert [(m.name, m.revoked) for m in await store.list_moderators()] == [("ada", False), ("bob", True)]
    revoked, updated = await store.admin_events(limit=2)
    assert (revoked.action, revoked.target, revoked.detail) == ("moderator.revoked", "bob", {"sessions_ended": 2})
    assert updated.detail == {"before": {"role": "moderator", "site_ids": [site.id]},
                              "after": {"role": "admin", "site_ids": []}}


async def test_threads_are_closed_reopened_and_premoderated(store, site):
    await store.insert_comment(new_comment(site.id, thread="story"), None)
    assert await store.thread_rules(site.id) == []
    closed = await store.set_thread_rule(site.id, "story", closed=True, premoderated=None, actor="bob", now=T0 + 1)
    assert closed == ThreadRule("story", T0 + 1, False) and closed.closed
    # a thread with no comment yet can be pre-moderated ahead of its story
    ahead = await store.set_thread_rule(site.id, "tomorrow", closed=None, premoderated=True, actor="bob",
                                        now=T0 + 2)
    assert ahead == ThreadRule("tomorrow", None, True)
    assert await store.thread_rules(site.id) == [closed, ahead]
    again = await store.set_thread_rule(site.id, "story", closed=True, premoderated=None, actor="bob", now=T0 + 9)
    assert again.closed_at == T0 + 1   # closing a closed thread keeps when it was closed
    await store.set_thread_rule(site.id, "story", closed=False, premoderated=None, actor="bob", now=T0 + 10)
    await store.set_thread_rule(site.id, "tomorrow", closed=None, premoderated=False, actor="bob", now=T0 + 11)
    assert await store.thread_rules(site.id) == []
    events = await store.admin_events(limit=10, site_id=site.id)
    assert [e.action for e in events] == ["thread.update"] * 5
    assert events[-1].detail == {"before": {"closed": False, "premoderated": False},
                                 "after": {"closed": True, "premoderated": False}}
    other = await store.create_site(name="other", url="https://other.example", lang="fr", mode="auto",
                                    key_hash="key-other", now=T0)
    assert await store.admin_events(limit=10, site_id=other.id) == []


async def test_author_rules_are_set_replaced_listed_and_removed(store, site):
    rule = await store.set_author_rule(site.id, kind="email", value="troll@example.org", action="ban",
                                       note="insults", expires_at=None, actor="claire", now=T0)
    assert (rule.kind, rule.value, rule.action, rule.note, rule.created_by) == (
        RuleKind.EMAIL, "troll@example.org", RuleAction.BAN, "insults", "claire")
    again = await store.set_author_rule(site.id, kind="email", value="troll@example.org", action="watch",
                                        note="", expires_at=T0 + 60, actor="bob", now=T0 + 1)
    assert again.id == rule.id and (again.action, again.expires_at) == (RuleAction.WATCH, T0 + 60)
    other = await store.set_author_rule(site.id, kind="ip", value="203.0.113.0/24", action="trust",
                                        note="newsroom", expires_at=None, actor="bob", now=T0 + 2)
    assert [r.id for r in await store.author_rules(site.id)] == [rule.id, other.id]
    assert (await store.remove_author_rule(rule.id, actor="bob", now=T0 + 3)).action is RuleAction.WATCH
    assert await store.remove_author_rule(rule.id, actor="bob", now=T0 + 4) is None
    assert await store.author_rules(site.id) == [other]
    actions = [(e.action, e.target) for e in await store.admin_events(limit=10, site_id=site.id)]
    assert actions == [("author.rule_removed", "email:troll@example.org"), ("author.rule_set", "ip:203.0.113.0/24"),
                       ("author.rule_set", "email:troll@example.org"), ("author.rule_set", "email:troll@example.org")]


async def test_an_authors_history_by_email_network_or_name_within_sites(store, site):
    other = await store.create_site(name="other", url="https://other.example", lang="fr", mode="auto",
                                    key_hash="key-other", now=T0)
    ids = []
    for n, (site_id, status) in enumerate([(site.id, Status.PUBLISHED), (site.id, Status.SPAM),
                                           (site.id, Status.PENDING), (other.id, Status.PUBLISHED)]):
        result = await store.insert_comment(new_comment(site_id, status=status, email="Casey@Example.org",
                                                        name="Casey", created_at=T0 + n), None)
        ids.append(result.comment_id)
    await store.insert_comment(new_comment(site.id, email="someone@example.org", name="Else", ip=""), None)
    counts, comments = await store.author_history(by="email", value="casey@example.org", site_ids=[site.id],
                                                  limit=2)
    assert counts == {"published": 1, "spam": 1, "pending": 1}
    assert [c.id for c in comments] == [ids[2], ids[1]]
    counts, comments = await store.author_history(by="email", value="casey@example.org", site_ids=None, limit=10)
    assert sum(counts.values()) == 4 and len(comments) == 4
    counts, _ = await store.author_history(by="ip", value="203.0.113.0/24", site_ids=[site.id], limit=10)
    assert sum(counts.values()) == 3
    counts, _ = await store.author_history(by="name", value="Casey", site_ids=[other.id], limit=10)
    assert counts == {"published": 1}
    assert await store.author_history(by="name", value="Casey", site_ids=[], limit=10) == ({}, [])


async def test_readers_flags_send_a_published_comment_back_to_review_once(store, site):
    published = (await store.insert_comment(new_comment(site.id, status=Status.PUBLISHED,
                                                        reasons=(Reason.MODEL_HAM,)), None)).comment_id
    first = await store.flag_comment(published, reader="r1", reason="spam", now=T0, threshold=2)
    assert (first.flags, first.new, first.sent_to_review, first.status) == (1, True, False, "published")
    again = await store.flag_comment(published, reader="r1", reason="abuse", now=T0 + 1, threshold=2)
    assert (again.flags, again.new, again.sent_to_review) == (1, False, False)
    second = await store.flag_comment(published, reader="r2", reason="abuse", now=T0 + 2, threshold=2)
    assert (second.flags, second.sent_to_review, second.status) == (2, True, "pending")
    comment = await store.get_comment(published)
    assert (comment.status, comment.reasons) == (Status.PENDING, (Reason.MODEL_HAM, Reason.READER_FLAGS))
    [*_, event] = await store.audit_trail(published)
    assert (event.actor, event.action, event.from_status, event.to_status, event.reason) == (
        "readers", "flag", "published", "pending", "reader_flags")
    # a moderator publishes it again: more flags past the threshold do not move it
    await store.apply_decisions([DecisionRequest(comment_id=published, expected_status="pending",
                                                 new_status="published", actor="claire", action="approve")],
                                now=T0 + 3)
    third = await store.flag_comment(published, reader="r3", reason="spam", now=T0 + 4, threshold=2)
    assert (third.flags, third.sent_to_review, third.status) == (3, False, "published")
    assert await store.comment_flags(published) == {"abuse": 1, "spam": 2}
    assert await store.flag_comment(99999, reader="r1", reason="spam", now=T0, threshold=2) is None


async def test_the_guard_read_sees_the_same_text_from_another_email(store, site):
    body = "Buy cheap watches at the best price, visit our shop today for deals"
    await store.insert_comment(new_comment(site.id, email="one@example.org", body=body, created_at=T0), None)
    from moderation.guard import body_fingerprint
    read = dict(site_id=site.id, ip_prefix="198.51.100.0/24", body_hash=body_fingerprint(body),
                rate_since=T0 - 60, duplicate_since=T0 - 60)
    other = await store.recent_activity(email="two@example.org", **read)
    assert (other.duplicate, other.duplicate_text) == (False, True)
    same = await store.recent_activity(email="ONE@example.org", **read)
    assert (same.duplicate, same.duplicate_text) == (True, False)
    later = await store.recent_activity(email="two@example.org", **{**read, "duplicate_since": T0 + 1})
    assert later.duplicate_text is False
    with_thread = await store.recent_activity(email="two@example.org", thread_ext_id="article-1",
                                              thread_since=T0 - 60, thread_cap=10, **read)
    assert (with_thread.duplicate_text, with_thread.thread_count) == (True, 1)


async def test_an_author_edits_then_deletes_their_comment_guarded_by_status(store, site):
    result = await store.insert_comment(replace(new_comment(site.id, status=Status.PUBLISHED),
                                                author_token_hash="ab" * 32))
    comment_id = result.comment_id
    assert await store.author_token(comment_id) == ("ab" * 32, False)
    assert await store.author_token(comment_id + 99) is None
    edit = dict(body="A better text", body_hash="h2", language="en", spam_score=0.1, model_version="toy-2",
                status="published", reasons=["model_ham"], now=T0 + 5)
    assert not await store.edit_comment(comment_id, expected_status="pending", **edit)   # not pending: no change
    assert await store.edit_comment(comment_id, expected_status="published", **edit)
    comment = await store.get_comment(comment_id)
    assert (comment.body, comment.spam_score, comment.model_version, comment.status) == (
        "A better text", 0.1, "toy-2", Status.PUBLISHED)
    assert await store.delete_by_author(comment_id, now=T0 + 6) == "published"
    comment = await store.get_comment(comment_id)
    assert (comment.status, comment.body, comment.reasons[-1]) == (Status.REJECTED, "", "author_deleted")
    assert await store.delete_by_author(comment_id, now=T0 + 7) == "rejected"   # nothing more done
    events = [(e.actor, e.action, e.from_status, e.to_status) for e in await store.audit_trail(comment_id)]
    assert events[1:] == [("author", "edit", "published", "published"), ("author", "delete", "published", "rejected")]
    await store.apply_decisions([DecisionRequest(comment_id, "rejected", "spam", "claire", "spam")], now=T0 + 8)
    assert (await store.author_token(comment_id))[1] is True   # a moderator decided it


async def test_an_authors_record_counts_moderators_verdicts_and_a_site_keeps_its_auto_trust(store, site):
    approved = [await store.insert_comment(new_comment(site.id, email=email, created_at=T0 + n))
                for n, email in enumerate(["casey@example.org", "Casey@Example.org", "casey@example.org",
                                           "other@example.org"])]
    ids = [r.comment_id for r in approved]
    await store.apply_decisions([DecisionRequest(ids[0], "pending", "published", "claire", "approve"),
                                 DecisionRequest(ids[1], "pending", "published", "claire", "approve"),
                                 DecisionRequest(ids[2], "pending", "spam", "claire", "spam"),
                                 DecisionRequest(ids[3], "pending", "published", "claire", "approve")],
                                now=T0 + 10)
    assert await store.author_record(site.id, "CASEY@example.org") == (2, 1)
    assert await store.author_record(site.id, "nobody@example.org") == (0, 0)
    changed = await store.update_site(replace(site, auto_trust_after=3), actor="ada", now=T0 + 11)
    assert changed.auto_trust_after == 3 == (await store.site_by_name("journal")).auto_trust_after
    event = (await store.admin_events(limit=1))[0]
    assert (event.detail["before"]["auto_trust_after"], event.detail["after"]["auto_trust_after"]) == (0, 3)
