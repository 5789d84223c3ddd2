"""A moderator closes a comment's thread from its page, pre-moderates it, and
reopens it: the page says the thread's state, the intake follows at once in
this worker, another site's moderator cannot, and the form needs its CSRF token."""
from ..conftest import auth, comment_payload
from ..toy_model import HAM_TEXT
from .conftest import seed, signed_in_page


async def test_a_moderator_closes_and_reopens_a_thread_from_the_comment_page(desk):
    comment_id = await seed(desk.store, desk.site_id)
    thread = (await desk.store.get_comment(comment_id)).thread_id
    page = f"/moderate/comments/{comment_id}"
    html, csrf = await signed_in_page(desk.client, desk.claire, page)
    assert "Comments open." in html or "Commentaires ouverts." in html

    answer = await desk.client.post(f"{page}/thread", data={"csrf_token": csrf, "closed": "true"},
                                    allow_redirects=False)
    assert (answer.status, answer.headers["Location"]) == (303, f"{page}?thread=1")
    html = await (await desk.client.get(f"{page}?thread=1", headers={"Accept-Language": "en"})).text()
    assert "Comments closed since" in html and "Reopen comments" in html and "Thread changed." in html
    refused = await desk.client.post("/v1/comments", headers=auth(desk.key),
                                     json=comment_payload(body=HAM_TEXT, thread={"id": thread}))
    assert (refused.status, (await refused.json())["error"]["code"]) == (409, "thread_closed")

    await desk.client.post(f"{page}/thread", data={"csrf_token": csrf, "closed": "false", "premoderated": "true"},
                           allow_redirects=False)
    html = await (await desk.client.get(page, headers={"Accept-Language": "fr"})).text()
    assert "Commentaires ouverts." in html and "Pré-modéré" in html and "Arrêter la pré-modération" in html
    held = await desk.client.post("/v1/comments", headers=auth(desk.key),
                                  json=comment_payload(body=HAM_TEXT, thread={"id": thread}))
    assert (held.status, (await held.json())["reasons"][-1]) == (202, "pre_moderation")
    [event, *_] = await desk.store.admin_events(limit=5)
    assert (event.actor, event.action, event.target) == ("claire", "thread.update", thread)


async def test_the_thread_form_checks_its_token_scope_and_values(desk):
    comment_id = await seed(desk.store, desk.site_id)
    page = f"/moderate/comments/{comment_id}"
    _, csrf = await signed_in_page(desk.client, desk.claire, page)
    assert (await desk.client.post(f"{page}/thread", data={"closed": "true"})).status == 403
    bad = await desk.client.post(f"{page}/thread", data={"csrf_token": csrf, "closed": "maybe"})
    assert bad.status == 422 and bad.content_type == "text/html"
    assert await desk.store.thread_rules(desk.site_id) == []
    await desk.client.post("/moderate/signout", data={"csrf_token": csrf}, allow_redirects=False)
    _, other_csrf = await signed_in_page(desk.client, desk.paul, "/moderate")
    answer = await desk.client.post(f"{page}/thread", data={"csrf_token": other_csrf, "closed": "true"})
    assert answer.status in (403, 404)
    assert await desk.store.thread_rules(desk.site_id) == []
