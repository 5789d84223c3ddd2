"""Time to submit: a site signs when it rendered its form; a comment sent
sooner than MODERATION_MIN_SUBMIT_SECONDS after it waits for review
(too_fast), a forged or future stamp is refused, an old one is fine."""
import time

from moderation.credentials import hash_secret
from moderation.form_stamp import signature

from .conftest import add_site, auth, comment_payload
from .toy_model import HAM_TEXT


async def test_a_signed_form_time_tells_a_bot_from_a_reader(app_client):
    client = await app_client(site_cache_seconds=0, rate_limit_per_ip=0, rate_limit_per_email=0,
                              duplicate_window_seconds=0, audit_share=0, min_submit_seconds=3)
    key = await add_site(client, name="journal", lang="en", mode="auto")
    n = iter(range(100))

    async def post(rendered_at, sign_with=key, tamper=False):
        stamp = signature(hash_secret(sign_with), rendered_at)
        body = comment_payload(body=f"{HAM_TEXT} ({next(n)})",
                               form={"rendered_at": rendered_at + (1 if tamper else 0), "signature": stamp})
        answer = await client.post("/v1/comments", headers=auth(key), json=body)
        return answer.status, await answer.json()

    now = int(time.time())
    status, fast = await post(now - 1)
    assert (status, fast["status"], fast["reasons"]) == (202, "pending", ["too_fast", "model_ham"])
    status, human = await post(now - 40)
    assert (status, human["reasons"]) == (201, ["model_ham"])
    assert (await post(now - 86400 * 3))[0] == 201          # a tab left open for days
    for forged in (await post(now - 40, tamper=True), await post(now - 40, sign_with="msk_other")):
        assert forged[0] == 422 and forged[1]["error"]["fields"][0]["field"] == "form.signature"
    status, future = await post(now + 3600)
    assert (status, future["error"]["fields"][0]["field"]) == (422, "form.rendered_at")
    bad = await client.post("/v1/comments", headers=auth(key), json=comment_payload(
        form={"rendered_at": "yesterday", "signature": "x"}))
    assert bad.status == 422
