"""The audit sample: a share of the model's own decisions goes to review with
reason ``audit``; nothing else is ever audited, and neither an Akismet check
nor a rescore draws one."""
import random
from collections import Counter

from moderation.domain import Reason
from moderation.keys import STORE
from moderation.services.intake import rescore

from ..conftest import add_site, auth, comment_payload
from ..integrations.conftest import separate_toy_bands
from ..review.conftest import seed
from ..toy_model import HAM_TEXT, SPAM_TEXT

NO_LIMITS = {"rate_limit_per_ip": 0, "rate_limit_per_email": 0, "duplicate_window_seconds": 0}


async def post(http, key, **overrides):
    response = await http.post("/v1/comments", json=comment_payload(**overrides), headers=auth(key))
    return response.status, await response.json()


async def test_the_audit_share_of_automatic_decisions_goes_to_review(app_client):
    client = await app_client(audit_share=0.2, **NO_LIMITS)
    key = await add_site(client, mode="auto", lang="en")
    random.seed(20260101)   # the handler draws from the module's generator: a reproducible run
    outcomes = Counter()
    for n in range(500):
        text = HAM_TEXT if n % 2 else SPAM_TEXT
        status, body = await post(client, key, body=f"{text} ({n})",
                                  author={"name": "R", "email": f"r{n}@example.org"})
        reasons = tuple(body["reasons"])
        if body["status"] == "pending" and reasons[-1:] == ("audit",):
            assert status == 202 and reasons in (("model_ham", "audit"), ("model_spam", "audit"))
            stored = await client.app[STORE].get_comment(body["id"])
            assert (stored.status.value, stored.reasons) == ("pending", reasons)
            outcomes[f"audited {reasons[0]}"] += 1
        elif (body["status"], reasons) in (("published", ("model_ham",)), ("spam", ("model_spam",))):
            outcomes[reasons[0]] += 1
        else:   # the toy left it borderline: not an automatic decision
            assert "audit" not in reasons
            outcomes["other"] += 1
    automatic = 500 - outcomes["other"]
    audited = outcomes["audited model_ham"] + outcomes["audited model_spam"]
    assert automatic >= 400, outcomes
    assert 0.14 <= audited / automatic <= 0.26, outcomes
    assert outcomes["audited model_ham"] and outcomes["audited model_spam"], outcomes


async def test_audit_never_applies_to_comments_already_pending_or_to_a_honeypot(app_client):
    client = await app_client(audit_share=1.0, site_cache_seconds=0, rate_limit_per_ip=0,
                              rate_limit_per_email=0)
    auto = await add_site(client, name="journal", mode="auto", lang="en")
    pre = await add_site(client, name="blog", mode="pre", lang="en")
    emails = iter(f"reader{n}@example.org" for n in range(100))

    async def reasons(key, body, **extra):
        email = next(emails)   # a text of its own too: the same text under two e-mails is duplicate_text
        status, answer = await post(client, key, body=f"{body} ({email.split('@')[0]})", **extra,
                                    author={"name": "R", "email": email})
        return answer["status"], answer["reasons"]

    assert await reasons(auto, HAM_TEXT) == ("pending", ["model_ham", "audit"])
    assert await reasons(auto, SPAM_TEXT) == ("pending", ["model_spam", "audit"])
    assert await reasons(pre, HAM_TEXT) == ("pending", ["model_ham", "pre_moderation"])
    assert await reasons(auto, HAM_TEXT, honeypot="http://bot.example") == ("spam", ["honeypot"])
    french = "Merci beaucoup pour cet excellent article sur le marché de Noël."
    assert await reasons(auto, french) == ("pending", ["language_unsupported"])
    twice = {"name": "R", "email": "twice@example.org"}
    await post(client, auto, body=HAM_TEXT + " twice", author=twice)
    status, answer = await post(client, auto, body=HAM_TEXT + " twice", author=twice)
    assert (answer["status"], answer["reasons"]) == ("pending", ["duplicate", "model_ham"])
    store = client.app[STORE]
    site = await store.site_by_name("journal")
    await store.set_site_thresholds(site.id, approve_below=0.0, reject_above=1.01)
    assert await reasons(auto, HAM_TEXT) == ("pending", ["model_uncertain"])


async def test_an_akismet_check_is_never_audited(app_client):
    client = await app_client(audit_share=1.0)
    key = await add_site(client, mode="auto", lang="en")
    await separate_toy_bands(client, key)
    for text, reasons in ((HAM_TEXT, "model_ham"), (SPAM_TEXT, "model_spam")):
        response = await client.post("/1.1/comment-check", data={
            "api_key": key, "blog": "https://journal.example", "user_ip": "203.0.113.7",
            "comment_content": text})
        assert response.headers["X-Moderation-Reasons"] == reasons


async def test_a_rescore_neither_audits_nor_moves_an_audited_comment(app_client, settings_for):
    client = await app_client()
    await add_site(client, mode="auto", lang="en")
    store = client.app[STORE]
    site = await store.site_by_name("journal")
    audited = await seed(store, site.id, score=0.01, body=HAM_TEXT,
                         reasons=(Reason.MODEL_HAM, Reason.AUDIT))
    unjudged = await seed(store, site.id, score=None, body=HAM_TEXT + " too", reasons=(Reason.NO_MODEL,))
    moved, total = await rescore(store, settings_for(audit_share=1.0), apply=True)
    assert (moved, total) == (1, 2)
    assert (await store.get_comment(unjudged)).reasons == ("model_ham",)
    kept = await store.get_comment(audited)
    assert (kept.status.value, kept.reasons) == ("pending", ("model_ham", "audit"))
