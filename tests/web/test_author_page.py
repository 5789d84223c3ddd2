"""A moderator opens a comment's author from its page: their comments on the
moderator's sites by status, then bans them with a note; the rule shows, the
intake holds their next comment as spam, and removing it lets them back."""
from urllib.parse import quote

from ..conftest import auth, comment_payload
from ..toy_model import HAM_TEXT
from .conftest import seed, signed_in_page


async def test_from_a_comment_to_its_authors_history_then_a_ban_and_back(desk):
    ids = [await seed(desk.store, desk.site_id, email="casey@example.org") for _ in range(2)]
    await seed(desk.store, desk.other_site_id, email="casey@example.org")   # not claire's site
    html, csrf = await signed_in_page(desk.client, desk.claire, f"/moderate/comments/{ids[0]}",
                                      headers={"Accept-Language": "en"})
    link = f"/moderate/authors?email={quote('casey@example.org')}"
    assert 'id="author-link"' in html
    page = await desk.client.get(link, headers={"Accept-Language": "en"})
    html = await page.text()
    assert page.status == 200 and "All their comments" not in html
    assert all(f"#{i}" in html for i in ids) and html.count('class="thread-row"') == 2
    assert "No rule." in html and 'value="email:casey@example.org"' in html

    answer = await desk.client.post("/moderate/authors/rules", allow_redirects=False, data={
        "csrf_token": csrf, "site": "journal", "key": "email:casey@example.org", "action": "ban",
        "note": "spam links", "days": "7", "next": link})
    assert (answer.status, answer.headers["Location"]) == (303, link + "&changed=1")
    html = await (await desk.client.get(link + "&changed=1", headers={"Accept-Language": "en"})).text()
    assert "Rules changed." in html and "Banned" in html and "spam links" in html and "until" in html
    posted = await desk.client.post("/v1/comments", headers=auth(desk.key), json=comment_payload(
        body=HAM_TEXT, author={"name": "Casey", "email": "Casey@example.org"}))
    assert (await posted.json())["reasons"][-1] == "author_banned"

    [rule] = await desk.store.author_rules(desk.site_id)
    await desk.client.post("/moderate/authors/rules/remove", allow_redirects=False, data={
        "csrf_token": csrf, "site": "journal", "rule_id": str(rule.id), "next": link})
    assert await desk.store.author_rules(desk.site_id) == []
    refused = await desk.client.post("/moderate/authors/rules", data={
        "csrf_token": csrf, "site": "blog", "key": "email:casey@example.org", "action": "ban", "next": link})
    assert refused.status == 403 and await desk.store.author_rules(desk.other_site_id) == []
    assert (await desk.client.get("/moderate/authors")).status == 422
