"""Surge mode through the app (aiohttp test client, toy model): the intake's
answers, the review API (queue badge, a comment's surge history and why it
waits), the /moderate pages in French and English, a pre-moderated site,
rescoring, and the switch that turns it off."""
import asyncio
import time

from moderation.domain import Reason, Status
from moderation.keys import SETTINGS, STORE
from moderation.openapi import build_document
from moderation.services.intake import rescore

from ..conftest import add_moderator, add_site, auth, comment_payload
from .test_openapi import validator
from ..review.conftest import seed
from ..toy_model import HAM_TEXT, SPAM_TEXT
from ..web.conftest import signed_in_page

UNSURE_TEXT = "Well written. Subscribe now for free gift cards"   # the toy model: between its bands
# No history: the threshold is the floor, 5 comments in 30 s.
SURGE = {"surge_factor": 4.0, "surge_window_seconds": 30.0, "surge_min_comments": 5,
         "surge_seconds": 60.0, "rate_limit_per_ip": 0}


async def post(client, key, thread, body, email, **extra):
    response = await client.post("/v1/comments", headers={**auth(key), **extra}, json=comment_payload(
        thread={"id": thread, "url": f"https://journal.example/{thread}", "title": thread.title()},
        body=body, author={"name": "R", "email": email}))
    return await response.json()


async def burst(client, key, thread="hot", n=6):
    """*n* new authors' clear ham on *thread*: the 5th starts the surge."""
    return [await post(client, key, thread, f"{HAM_TEXT} ({thread} {i})", f"{thread}{i}@example.org")
            for i in range(n)]


async def test_the_answers_say_surge_and_other_threads_are_unaffected(app_client):
    client = await app_client(**SURGE)
    key = await add_site(client, mode="auto", lang="en")
    answers = await burst(client, key)
    assert [a["reasons"] for a in answers] == [["model_ham"]] * 4 + [["model_ham", "surge"]] * 2
    assert [a["status"] for a in answers] == ["published"] * 4 + ["pending"] * 2
    assert answers[4]["message"] == "Thank you for your comment. It will be visible soon, subject to validation."
    unsure = await post(client, key, "hot", UNSURE_TEXT, "unsure@example.org")
    assert unsure["reasons"] == ["model_uncertain", "surge"]
    known = await post(client, key, "hot", f"{HAM_TEXT} (known)", "HOT0@example.org")
    assert (known["status"], known["reasons"]) == ("published", ["model_ham"])
    spam = await post(client, key, "hot", SPAM_TEXT, "spam@example.org")
    assert (spam["status"], spam["reasons"]) == ("spam", ["model_spam"])
    calm = await post(client, key, "calm", f"{HAM_TEXT} (calm)", "calm@example.org")
    assert (calm["status"], calm["reasons"]) == ("published", ["model_ham"])
    stored = await client.app[STORE].get_comment(answers[5]["id"])
    assert (stored.status, stored.reasons) == (Status.PENDING, ("model_ham", "surge"))
    [event] = await client.app[STORE].audit_trail(stored.id)
    assert (event.action, event.to_status, event.reason) == ("submit", "pending", "model_ham,surge")


async def test_the_history_of_the_site_sets_the_bar(app_client):
    """Ten threads that each got 3 comments in one window: the baseline is 3,
    the threshold 4 x 3 = 12, above the floor of 5."""
    client = await app_client(**SURGE, surge_baseline_min_windows=10)
    key = await add_site(client, mode="auto", lang="en")
    site = await client.app[STORE].site_by_name("journal")
    start = (time.time() - 7200) // 30 * 30
    for k in range(10):
        for i in range(3):
            await seed(client.app[STORE], site.id, thread=f"old{k}", created_at=start - k * 300 + i,
                       status=Status.PUBLISHED, reasons=(Reason.MODEL_HAM,), score=0.05)
    answers = await burst(client, key, n=12)
    assert [a["reasons"][-1] for a in answers] == ["model_ham"] * 11 + ["surge"]
    [surge] = await client.app[STORE].thread_surges(site.id, "hot")
    assert (surge.comments, surge.threshold, surge.baseline) == (12, 12, 3.0)


async def test_the_review_api_shows_the_badge_the_history_and_why(app_client):
    client = await app_client(**SURGE)
    key = await add_site(client, mode="auto", lang="en")
    token = await add_moderator(client, name="ada", role="admin")
    answers = await burst(client, key)
    unsure = await post(client, key, "calm", UNSURE_TEXT, "unsure@example.org")
    response = await client.get("/v1/review/queue", headers=auth(token))
    queue = {item["id"]: item for item in (await response.json())["items"]}
    held = answers[4]["id"]
    assert set(queue[held]["surge"]) == {"started_at", "until"}
    assert queue[unsure["id"]]["surge"] is None
    detail = await (await client.get(f"/v1/review/comments/{held}", headers=auth(token))).json()
    assert detail["surge"] == queue[held]["surge"]
    [surge] = detail["surges"]
    assert (surge["active"], surge["ended_at"], surge["comments"], surge["threshold"],
            surge["baseline"], surge["window_seconds"], surge["extensions"]) == (True, None, 5, 5, None, 30.0, 0)
    why = detail["explanation"]["surge"]
    assert why["reason"] == "surge" and why["text"] == surge["text"]
    assert why["text"]["en"].startswith("Surge on this thread: 5 comments in 30 s (threshold 5; the site "
                                        "had too little history yet for a usual rate). Until ")
    assert why["text"]["fr"].startswith("Afflux sur ce fil : 5 commentaires en 30 s (seuil 5 ; le site "
                                        "n'avait pas encore assez d'historique")
    published = await (await client.get(f"/v1/review/comments/{answers[0]['id']}",
                                         headers=auth(token))).json()
    assert published["explanation"]["surge"] is None and len(published["surges"]) == 1
    # the answers fit the OpenAPI document
    document = build_document(client.app[SETTINGS])
    validator(document, "CommentDetail").validate(detail)
    validator(document, "CommentDetail").validate(published)
    validator(document, "CommentAccepted").validate(answers[4])
    validator(document, "QueuePage").validate(await (await client.get(
        "/v1/review/queue", headers=auth(token))).json())
    # a filter on the reason finds them
    response = await client.get("/v1/review/queue", params={"reason": "surge"}, headers=auth(token))
    assert {i["id"] for i in (await response.json())["items"]} == {held, answers[5]["id"]}


async def test_the_pages_show_the_badge_and_the_surge_in_french_and_english(app_client):
    client = await app_client(**SURGE)
    key = await add_site(client, mode="auto", lang="en")
    token = await add_moderator(client, name="ada", role="admin")
    answers = await burst(client, key)
    calm = await post(client, key, "calm", UNSURE_TEXT, "unsure@example.org")
    html, _ = await signed_in_page(client, token)
    hot_item = html[html.index(f'id="c{answers[4]["id"]}"'):]
    hot_item = hot_item[:hot_item.index("</li>")]
    assert 'class="chip surge"' in hot_item and "Fil en afflux" in hot_item
    assert "décisions plus strictes jusqu&#39;à" in hot_item and "afflux sur le fil" in hot_item
    calm_item = html[html.index(f'id="c{calm["id"]}"'):]
    calm_item = calm_item[:calm_item.index("</li>")]
    assert "chip surge" not in calm_item
    page = await client.get("/moderate", headers={"Accept-Language": "en"})
    english = await page.text()
    assert "Thread surging" in english and "Comment surge: stricter decisions until" in english
    assert "thread surge" in english            # the reason chip
    for language, words in (("fr", ("Fil en afflux", "Afflux sur ce fil :", "attendent un modérateur")),
                            ("en", ("Thread surging", "Surge on this thread:", "wait for a moderator"))):
        page = await client.get(f"/moderate/comments/{answers[4]['id']}",
                                headers={"Accept-Language": language})
        html = await page.text()
        assert page.status == 200 and 'id="surge-badge"' in html and 'id="surges"' in html
        assert all(w in html for w in words)
    page = await client.get(f"/moderate/comments/{calm['id']}")
    html = await page.text()
    assert 'id="surge-badge"' not in html and 'id="surges"' not in html


async def test_a_pre_moderated_site_holds_as_always_and_says_surge_for_new_authors(app_client):
    client = await app_client(**SURGE)
    key = await add_site(client, mode="pre", lang="en")
    answers = await burst(client, key)
    assert [a["reasons"] for a in answers] == (
        [["model_ham", "pre_moderation"]] * 4 + [["model_ham", "pre_moderation", "surge"]] * 2)


async def test_a_comment_held_for_a_surge_waits_for_a_moderator_after_a_rescore(app_client, settings_for):
    client = await app_client(**SURGE)
    key = await add_site(client, mode="auto", lang="en")
    held = (await burst(client, key))[4]["id"]
    moved, total = await rescore(client.app[STORE], settings_for(), apply=True)
    assert (moved, total) == (0, 2)
    assert (await client.app[STORE].get_comment(held)).status is Status.PENDING


async def test_surge_mode_off(app_client):
    client = await app_client(rate_limit_per_ip=0)   # the suite's default: MODERATION_SURGE_FACTOR=0
    key = await add_site(client, mode="auto", lang="en")
    answers = await burst(client, key, n=40)
    assert {tuple(a["reasons"]) for a in answers} == {("model_ham",)}
    site = await client.app[STORE].site_by_name("journal")
    assert await client.app[STORE].thread_surges(site.id, "hot") == []


async def test_the_end_is_recorded_by_each_worker_s_sweep(app_client):
    client = await app_client(**{**SURGE, "surge_seconds": 1.0})
    key = await add_site(client, mode="auto", lang="en")
    await burst(client, key, n=5)
    site = await client.app[STORE].site_by_name("journal")
    for _ in range(40):
        [surge] = await client.app[STORE].thread_surges(site.id, "hot")
        if surge.ended_at is not None:
            break
        await asyncio.sleep(0.1)
    assert surge.ended_at == surge.until
