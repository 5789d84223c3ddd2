"""The same text from several e-mails on one site, within the duplicate window,
is never published without a moderator (reason duplicate_text); a short stock
reply ("Merci pour l'article !") written by two readers is not such a text."""
from ..conftest import add_site, auth, comment_payload
from ..toy_model import HAM_TEXT

SETTINGS = {"site_cache_seconds": 0, "rate_limit_per_ip": 0, "rate_limit_per_email": 0,
            "duplicate_window_seconds": 600, "audit_share": 0}


async def post(client, key, email, body):
    answer = await client.post("/v1/comments", headers=auth(key), json=comment_payload(
        body=body, author={"name": "R", "email": email}))
    return await answer.json()


async def test_one_text_under_several_emails_waits_for_a_moderator(app_client):
    client = await app_client(**SETTINGS)
    key = await add_site(client, name="journal", lang="en", mode="auto")
    other = await add_site(client, name="blog", lang="en", mode="auto", url="https://blog.example")
    assert len(HAM_TEXT) >= 40
    assert (await post(client, key, "a@example.org", HAM_TEXT))["status"] == "published"
    second = await post(client, key, "b@example.org", f"  {HAM_TEXT.upper()} ")
    assert (second["status"], second["reasons"]) == ("pending", ["duplicate_text", "model_ham"])
    assert (await post(client, other, "b@example.org", HAM_TEXT))["status"] == "published"   # another site
    short = "Great article!"
    assert (await post(client, key, "c@example.org", short))["reasons"] == \
        (await post(client, key, "d@example.org", short))["reasons"]
