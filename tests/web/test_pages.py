"""The moderators' pages through the real app (no browser): sign in and out,
sessions stored hashed, cookies, CSRF on every change, security headers,
escaping, scope, languages, and the JSON API opened by the session."""
import re
import time

import pytest
from yarl import URL

from moderation.credentials import hash_secret
from moderation.keys import TEMPLATES
from moderation.domain import Status
from moderation.middlewares import CONTENT_SECURITY_POLICY
from moderation.web.session import (SECURE_SESSION_COOKIE, SESSION_COOKIE, SIGNIN_COOKIE,
                                    csrf_token_for)
from moderation.web.texts import text

from ..conftest import add_moderator, auth
from ..review.test_detail import INTERNAL_TOKEN
from ..toy_model import SPAM_TEXT
from .conftest import csrf_in, seed, sign_in, signed_in_page

XSS_BODY = '<script>window.__xss=1</script><img src=x onerror="window.__xss=2"> fin'
EXPECTED_CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")


def assert_page_headers(response):
    assert response.headers["Content-Security-Policy"] == EXPECTED_CSP == CONTENT_SECURITY_POLICY
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def set_cookie_lines(response, name):
    return [v for v in response.headers.getall("Set-Cookie", []) if v.startswith(name + "=")]


async def session_rows(store):
    async with store._reader.execute("SELECT id_hash, moderator_id, expires_at FROM sessions") as cur:
        return list(await cur.fetchall())


# -- sign in
async def test_signin_page_carries_a_double_submit_token_and_the_security_headers(client):
    response = await client.get("/moderate/signin")
    assert response.status == 200 and response.content_type == "text/html"
    assert_page_headers(response)
    html = await response.text()
    [cookie] = set_cookie_lines(response, SIGNIN_COOKIE)
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/moderate/signin" in cookie
    assert "Secure" not in cookie
    field = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    assert field == response.cookies[SIGNIN_COOKIE].value
    assert "<script>" not in html and "style=" not in html      # no inline script or style


async def test_pages_without_a_session_send_the_browser_to_sign_in(desk):
    response = await desk.client.get("/moderate?status=spam", allow_redirects=False)
    assert response.status == 303
    location = URL(response.headers["Location"])
    assert (location.path, location.query["next"]) == ("/moderate/signin", "/moderate?status=spam")
    assert_page_headers(response)
    comment_id = await seed(desk.store, desk.site_id)
    response = await desk.client.post(f"/moderate/comments/{comment_id}/decision",
                                      data={"action": "approve", "expected_status": "pending"})
    assert response.status == 401 and response.content_type == "text/html"
    assert (await desk.store.get_comment(comment_id)).status is Status.PENDING


async def test_signing_in_opens_a_session_stored_only_as_a_hash(desk):
    answer = await sign_in(desk.client, desk.claire, next_path="/moderate?status=spam")
    assert answer.status == 303 and answer.headers["Location"] == "/moderate?status=spam"
    assert_page_headers(answer)
    [cookie] = set_cookie_lines(answer, SESSION_COOKIE)
    session_id = answer.cookies[SESSION_COOKIE].value
    assert len(session_id) >= 40
    for attribute in ("HttpOnly", "SameSite=Strict", "Path=/", "Max-Age=43200"):
        assert attribute in cookie, cookie
    assert "Secure" not in cookie                     # plain HTTP, no trusted proxy
    [(id_hash, moderator_id, expires_at)] = await session_rows(desk.store)
    assert id_hash == hash_secret(session_id) and session_id not in id_hash
    assert abs(expires_at - (time.time() + 12 * 3600)) < 60
    page = await desk.client.get("/moderate")
    html = await page.text()
    assert page.status == 200 and "claire" in html
    assert csrf_in(html) == csrf_token_for(session_id)


async def test_a_wrong_token_is_refused_and_repeated_failures_are_slowed_down(app_client):
    client = await app_client(signin_failures_per_minute=3)
    good = await add_moderator(client, name="claire")
    for _ in range(3):
        answer = await sign_in(client, "mod_wrong")
        assert answer.status == 401
        assert "Jeton inconnu ou désactivé." in await answer.text()
        assert not set_cookie_lines(answer, SESSION_COOKIE)
    for token in ("mod_wrong", good):                 # even the right token waits now
        answer = await sign_in(client, token)
        assert answer.status == 429 and int(answer.headers["Retry-After"]) > 0
        assert not set_cookie_lines(answer, SESSION_COOKIE)


async def test_a_site_key_is_not_a_moderator_token(desk):
    answer = await sign_in(desk.client, desk.key)
    assert answer.status == 401


async def test_the_signin_form_needs_its_token(desk):
    response = await desk.client.post("/moderate/signin", data={"token": desk.claire},
                                      allow_redirects=False)
    assert response.status == 403
    assert 'data-code="csrf_failed"' in await response.text()
    await desk.client.get("/moderate/signin")                     # cookie set, wrong field
    response = await desk.client.post("/moderate/signin", allow_redirects=False,
                                      data={"token": desk.claire, "csrf_token": "forged"})
    assert response.status == 403
    assert await session_rows(desk.store) == []


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example", "/moderatex",
                                    "/\\evil.example", "/v1/review/queue"])
async def test_after_signing_in_the_browser_never_leaves_the_pages(desk, target):
    answer = await sign_in(desk.client, desk.claire, next_path=target)
    assert answer.headers["Location"] == "/moderate"


async def test_over_https_the_cookie_is_secure_with_the_host_prefix(app_client):
    trusting = await app_client(trust_forwarded_proto=True)
    token = await add_moderator(trusting, name="claire")
    https = {"X-Forwarded-Proto": "https"}
    page = await trusting.get("/moderate/signin", headers=https)
    [signin_cookie] = set_cookie_lines(page, SIGNIN_COOKIE)
    assert "Secure" in signin_cookie
    value = page.cookies[SIGNIN_COOKIE].value
    # (the test client, on plain HTTP, would not send a Secure cookie: send it by hand)
    answer = await trusting.post("/moderate/signin", allow_redirects=False,
                                 data={"csrf_token": value, "token": token},
                                 headers={**https, "Cookie": f"{SIGNIN_COOKIE}={value}"})
    assert answer.status == 303
    [cookie] = set_cookie_lines(answer, SECURE_SESSION_COOKIE)
    assert "Secure" in cookie and "Path=/" in cookie and "HttpOnly" in cookie
    assert "SameSite=Strict" in cookie and "Domain" not in cookie
    assert not set_cookie_lines(answer, SESSION_COOKIE)
    session_id = answer.cookies[SECURE_SESSION_COOKIE].value
    queue = await trusting.get("/moderate", allow_redirects=False,
                               headers={**https, "Cookie": f"{SECURE_SESSION_COOKIE}={session_id}"})
    assert queue.status == 200
    # the same cookie under the plain name, or over plain HTTP, opens nothing
    plain = await trusting.get("/moderate", allow_redirects=False,
                               headers={"Cookie": f"{SECURE_SESSION_COOKIE}={session_id}"})
    assert plain.status == 303


async def test_forwarded_proto_is_ignored_unless_trusted(desk):
    answer = await sign_in(desk.client, desk.claire, headers={"X-Forwarded-Proto": "https"})
    [cookie] = set_cookie_lines(answer, SESSION_COOKIE)
    assert "Secure" not in cookie


# -- sign out, expiry
async def test_signing_out_needs_the_csrf_token_and_ends_the_session(desk):
    html, csrf = await signed_in_page(desk.client, desk.claire)
    refused = await desk.client.post("/moderate/signout", allow_redirects=False)
    assert refused.status == 403 and "csrf_failed" in await refused.text()
    assert_page_headers(refused)
    assert len(await session_rows(desk.store)) == 1
    assert (await desk.client.get("/moderate", allow_redirects=False)).status == 200

    answer = await desk.client.post("/moderate/signout", data={"csrf_token": csrf},
                                    allow_redirects=False)
    assert answer.status == 303 and answer.headers["Location"] == "/moderate/signin?signed_out=1"
    [cookie] = set_cookie_lines(answer, SESSION_COOKIE)
    assert "Max-Age=0" in cookie
    assert await session_rows(desk.store) == []
    assert (await desk.client.get("/moderate", allow_redirects=False)).status == 303
    page = await desk.client.get("/moderate/signin?signed_out=1")
    assert "Vous êtes déconnecté·e." in await page.text()


async def test_an_expired_session_or_a_disabled_moderator_opens_nothing(desk):
    answer = await sign_in(desk.client, desk.claire)
    session_id = answer.cookies[SESSION_COOKIE].value
    async with desk.store._transaction() as db:
        await db.execute("UPDATE sessions SET expires_at = ?", (time.time() - 1,))
    assert (await desk.client.get("/moderate", allow_redirects=False)).status == 303
    assert (await desk.client.get("/v1/review/queue")).status == 401
    assert await desk.store.session_by_hash(hash_secret(session_id), now=time.time()) is None

    await sign_in(desk.client, desk.claire)
    assert (await desk.client.get("/moderate", allow_redirects=False)).status == 200
    async with desk.store._transaction() as db:
        await db.execute("UPDATE moderators SET disabled = 1 WHERE name = 'claire'")
    assert (await desk.client.get("/moderate", allow_redirects=False)).status == 303


async def test_signing_in_from_a_second_tab_replaces_the_session(desk):
    first_tab = await desk.client.get("/moderate/signin")
    signin_token = first_tab.cookies[SIGNIN_COOKIE].value
    assert (await sign_in(desk.client, desk.claire)).status == 303
    desk.client.session.cookie_jar.update_cookies({SIGNIN_COOKIE: signin_token})
    answer = await desk.client.post("/moderate/signin", allow_redirects=False,
                                    data={"csrf_token": signin_token, "token": desk.admin})
    assert answer.status == 303
    [(_, moderator_id, _)] = await session_rows(desk.store)   # claire's session is gone
    page = await desk.client.get("/moderate")
    assert "ada" in await page.text()


# -- the queue page
async def test_the_queue_shows_what_a_moderator_needs_and_html_stays_text(desk):
    await desk.store.set_site_thresholds(desk.site_id, approve_below=0.25, reject_above=0.75)
    comment_id = await seed(desk.store, desk.site_id, score=0.62, body=XSS_BODY,
                            name="<b>Mallory</b>", email="mallory@example.com", thread="article-7",
                            language="fr")
    await seed(desk.store, desk.site_id, status=Status.SPAM, score=0.97)
    await seed(desk.store, desk.other_site_id, body="Not claire's site")
    html, csrf = await signed_in_page(desk.client, desk.claire)
    # text, never markup
    assert "<script>window" not in html and "<img src=x" not in html and "<b>Mallory" not in html
    assert "&lt;script&gt;window.__xss=1&lt;/script&gt;&lt;img src=x onerror=" in html
    assert "&lt;b&gt;Mallory&lt;/b&gt;" in html
    # what the moderator decides with
    assert "mallory@example.com" in html and "Article-7" in html and "journal" in html
    assert 'class="chip lang"' in html and ">fr<" in html
    assert "modèle incertain" in html                       # the reason code, in words
    assert "0.62" in html and 'aria-label="Score de spam 0.62 ; publié sous 0.25, spam à partir de 0.75"' in html
    assert 'data-count-for="pending">1<' in html and 'data-count-for="spam">1<' in html
    assert "Not claire&#39;s site" not in html and "Not claire's site" not in html
    assert f'data-id="{comment_id}"' in html
    assert "CE QUI A PESÉ".lower() in html.lower() or "Ce qui a pesé" in html
    # keys on the page
    for key in ("<kbd>j</kbd>", "<kbd>k</kbd>", "<kbd>a</kbd>", "<kbd>r</kbd>", "<kbd>s</kbd>",
                "<kbd>x</kbd>"):
        assert key in html


async def test_filters_and_orders_of_the_api_apply_and_empty_fields_are_ignored(desk):
    first = await seed(desk.store, desk.site_id, thread="a", score=0.4)
    second = await seed(desk.store, desk.site_id, thread="b", score=0.9)
    html, _ = await signed_in_page(
        desk.client, desk.claire,
        "/moderate?thread=b&language=&reason=&min_score=&max_score=&order=score&site=journal&limit=20")
    assert f'data-id="{second}"' in html and f'data-id="{first}"' not in html
    assert '<option value="score" selected>' in html
    response = await desk.client.get("/moderate?min_score=2&colour=blue")
    assert response.status == 400
    text = await response.text()
    assert "min_score" in text and "colour" in text


async def test_the_spam_folder_offers_no_spam_button(desk):
    await seed(desk.store, desk.site_id, status=Status.SPAM, score=0.97)
    html, _ = await signed_in_page(desk.client, desk.claire, "/moderate?status=spam")
    assert 'name="action" value="approve"' in html and 'name="action" value="spam"' not in html


async def test_pages_follow_the_browsers_language_french_first(desk):
    html, _ = await signed_in_page(desk.client, desk.claire)
    assert '<html lang="fr">' in html and "File d&#39;attente" in html
    page = await desk.client.get("/moderate", headers={"Accept-Language": "en-GB,en;q=0.9,fr;q=0.5"})
    html = await page.text()
    assert '<html lang="en">' in html and "Review queue" in html and "Keyboard" in html
    page = await desk.client.get("/moderate", headers={"Accept-Language": "de-DE"})
    assert '<html lang="fr">' in await page.text()


# -- the JSON API with the session
async def test_the_review_api_accepts_the_session_with_its_csrf_header(desk):
    comment_id = await seed(desk.store, desk.site_id)
    _, csrf = await signed_in_page(desk.client, desk.claire)
    listed = await desk.client.get("/v1/review/queue")
    assert listed.status == 200 and [i["id"] for i in (await listed.json())["items"]] == [comment_id]
    body = {"action": "approve", "expected_status": "pending"}
    for headers in ({}, {"X-CSRF-Token": "forged"}, {"X-CSRF-Token": csrf_token_for("another")}):
        refused = await desk.client.post(f"/v1/review/comments/{comment_id}/decision", json=body,
                                         headers=headers)
        assert refused.status == 403
        error = (await refused.json())["error"]
        assert error["code"] == "csrf_failed" and error["fields"] == [] and error["message"]
    bulk = await desk.client.post("/v1/review/decisions", json={"ids": [comment_id], "action": "spam"})
    assert bulk.status == 403
    assert (await desk.store.get_comment(comment_id)).status is Status.PENDING
    done = await desk.client.post(f"/v1/review/comments/{comment_id}/decision", json=body,
                                  headers={"X-CSRF-Token": csrf})
    assert done.status == 200 and (await done.json())["event"]["actor"] == "claire"


async def test_a_bearer_header_is_judged_alone(desk):
    await signed_in_page(desk.client, desk.claire)
    response = await desk.client.get("/v1/review/queue", headers=auth("mod_not-a-real-token"))
    assert response.status == 401
    response = await desk.client.get("/v1/review/queue", headers=auth(desk.paul))
    assert response.status == 200


async def test_the_session_keeps_the_moderators_scope(desk):
    theirs = await seed(desk.store, desk.other_site_id)
    _, csrf = await signed_in_page(desk.client, desk.claire)
    page = await desk.client.get(f"/moderate/comments/{theirs}")
    assert page.status == 403 and page.content_type == "text/html"
    assert_page_headers(page)
    api = await desk.client.post(f"/v1/review/comments/{theirs}/decision",
                                 json={"action": "approve", "expected_status": "pending"},
                                 headers={"X-CSRF-Token": csrf})
    assert api.status == 403 and (await api.json())["error"]["code"] == "forbidden"


# -- decisions posted as forms (the pages without script)
async def test_a_form_decision_needs_the_csrf_token_then_goes_back(desk):
    comment_id = await seed(desk.store, desk.site_id)
    _, csrf = await signed_in_page(desk.client, desk.claire)
    form = {"action": "approve", "expected_status": "pending", "next": "/moderate?order=oldest"}
    refused = await desk.client.post(f"/moderate/comments/{comment_id}/decision", data=form,
                                     allow_redirects=False)
    assert refused.status == 403 and 'data-code="csrf_failed"' in await refused.text()
    assert (await desk.store.get_comment(comment_id)).status is Status.PENDING
    done = await desk.client.post(f"/moderate/comments/{comment_id}/decision",
                                  data={**form, "csrf_token": csrf, "reason": "on topic"},
                                  allow_redirects=False)
    assert done.status == 303 and done.headers["Location"] == "/moderate?order=oldest"
    assert (await desk.store.get_comment(comment_id)).status is Status.PUBLISHED
    [_, event] = await desk.store.audit_trail(comment_id)
    assert (event.actor, event.action, event.reason) == ("claire", "approve", "on topic")


async def test_a_form_decision_that_comes_second_says_who_came_first(desk):
    comment_id = await seed(desk.store, desk.site_id)
    _, csrf = await signed_in_page(desk.client, desk.claire)
    first = await desk.client.post(f"/v1/review/comments/{comment_id}/decision", headers=auth(desk.admin),
                                   json={"action": "spam", "expected_status": "pending"})
    assert first.status == 200
    late = await desk.client.post(f"/moderate/comments/{comment_id}/decision",
                                  data={"action": "approve", "expected_status": "pending",
                                        "csrf_token": csrf})
    assert late.status == 409
    html = await late.text()
    assert "Déjà traité par ada : statut « Spam »." in html
    assert (await desk.store.get_comment(comment_id)).status is Status.SPAM


async def test_a_bulk_form_reports_each_comment(desk):
    ids = [await seed(desk.store, desk.site_id) for _ in range(3)]
    await desk.client.post(f"/v1/review/comments/{ids[1]}/decision", headers=auth(desk.admin),
                           json={"action": "approve", "expected_status": "pending"})
    _, csrf = await signed_in_page(desk.client, desk.claire)
    refused = await desk.client.post("/moderate/decisions",
                                     data=[("ids", str(i)) for i in ids] + [("action", "reject")])
    assert refused.status == 403
    answer = await desk.client.post(
        "/moderate/decisions",
        data=[("ids", str(i)) for i in ids] + [("action", "reject"), ("expected_status", "pending"),
                                                ("csrf_token", csrf), ("next", "/moderate")])
    html = await answer.text()
    assert answer.status == 200, html
    assert html.count("décidé : Rejeté") == 2 and "Déjà traité par ada" in html
    statuses = [(await desk.store.get_comment(i)).status for i in ids]
    assert statuses == [Status.REJECTED, Status.PUBLISHED, Status.REJECTED]


# -- one comment
async def test_a_comments_page_shows_its_history_and_its_place_in_the_thread(desk):
    parent = await seed(desk.store, desk.site_id, thread="t", status=Status.PUBLISHED, name="Alice",
                        body="The first comment")
    reply = await seed(desk.store, desk.site_id, thread="t", parent_id=parent, name="Bob",
                       body="A reply <i>with tags</i>", email="bob@example.org")
    other = await seed(desk.store, desk.site_id, thread="t", name="Carol", body="Another")
    _, csrf = await signed_in_page(desk.client, desk.claire)
    await desk.client.post(f"/v1/review/comments/{reply}/decision", headers={"X-CSRF-Token": csrf},
                           json={"action": "reject", "expected_status": "pending",
                                 "reason": "off topic", "note": "second warning"})
    page = await desk.client.get(f"/moderate/comments/{reply}")
    assert page.status == 200
    assert_page_headers(page)
    html = await page.text()
    history = html[html.index('id="history"'):html.index("</table>")]
    assert history.count("<tr>") == 3                          # header, submit, reject
    assert "intake" in history and "claire" in history and "off topic" in history
    assert "second warning" in history and "En attente → Rejeté" in history
    thread = html[html.index('id="thread"'):]
    assert thread.index(f"#{parent}<") < thread.index(f"#{reply}<") < thread.index(f"#{other}<")
    assert 'class="thread-row depth-1 this" aria-current="true"' in thread
    assert "A reply &lt;i&gt;with tags&lt;/i&gt;" in html and "<i>with" not in html
    assert "bob@example.org" in html and "203.0.113.0/24" in html
    assert "En réponse à Alice" in html


def _why(html, start):
    """The explanation block of a page, from *start* to the end of its list."""
    section = html[html.index(start):]
    return section[:section.index("</ul>")]


async def test_the_pages_explain_a_score_in_the_pages_language(desk):
    comment_id = await seed(desk.store, desk.site_id, body=SPAM_TEXT, score=0.97, status=Status.SPAM)
    html, _ = await signed_in_page(desk.client, desk.claire, "/moderate?status=spam")
    why = _why(html, 'class="why"')
    assert "contient un lien" in why and "mots : " in why and "pousse vers spam," in why
    assert not INTERNAL_TOKEN.search(why) and "contains a link" not in why
    assert why.count('<li class="feature') <= 4
    page = await desk.client.get("/moderate?status=spam", headers={"Accept-Language": "en"})
    why = _why(await page.text(), 'class="why"')
    assert "contains a link" in why and "words: " in why and "contient" not in why

    page = await desk.client.get(f"/moderate/comments/{comment_id}", headers={"Accept-Language": "en"})
    html = await page.text()
    why = _why(html, 'id="why-title"')
    assert "contains a link" in why and 'data-reason="has_link"' in why and not INTERNAL_TOKEN.search(why)
    # the model's own features stay available, folded, for experts
    expert = html[html.index('<details class="expert">'):html.index("</details>")]
    assert "For experts" in expert and "signal:has_link" in expert


def test_words_quoted_from_a_comment_stay_text_in_an_explanation(desk):
    macros = desk.client.app[TEMPLATES].get_template("_macros.html").make_module(
        {"t": lambda key, **params: text(key, "fr", **params), "lang": "fr"})
    html = str(macros.explanation([{
        "reason": "words", "direction": "spam", "weight": 0.5, "words": ['"><img src=x>'],
        "text": {"fr": 'mots : "><img src=x>', "en": 'words: "><img src=x>'}}]))
    assert "<img" not in html and "mots : &#34;&gt;&lt;img src=x&gt;" in html


async def test_errors_on_the_pages_are_pages_with_the_same_status(desk):
    await signed_in_page(desk.client, desk.claire)
    for path in ("/moderate/comments/999999", "/moderate/comments/abc", "/moderate/nothing"):
        response = await desk.client.get(path)
        assert response.status == 404 and response.content_type == "text/html", path
        assert_page_headers(response)
        assert "Ressource introuvable." in await response.text()
    response = await desk.client.put("/moderate")
    assert response.status == 405 and response.content_type == "text/html"


async def test_static_files_are_served_with_the_same_headers(client):
    for name, kind in (("moderate.css", "text/css"), ("moderate.js", "text/javascript")):
        response = await client.get(f"/moderate/static/{name}")
        assert response.status == 200 and response.content_type in (kind, "application/javascript")
        assert_page_headers(response)
    assert (await client.get("/moderate/static/../session.py")).status in (403, 404)
    missing = await client.get("/moderate/static/nothing.js")
    assert missing.status == 404 and missing.content_type == "text/html"
    assert_page_headers(missing)
    assert "Ressource introuvable." in await missing.text()


async def test_json_errors_elsewhere_keep_their_shape(client):
    response = await client.get("/v1/nothing")
    assert response.status == 404 and (await response.json())["error"]["code"] == "not_found"
    assert "Content-Security-Policy" not in response.headers
