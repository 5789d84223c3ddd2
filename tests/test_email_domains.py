"""Disposable and look-alike e-mail domains, offline, and what the intake does
with them: review at worst, never spam on its own."""
import pytest

from moderation.email_domains import confusable_with, is_disposable

from .conftest import add_site, auth, comment_payload
from .toy_model import HAM_TEXT, SPAM_TEXT


def test_throwaway_mailboxes_are_known():
    assert is_disposable("someone@mailinator.com") and is_disposable("x@YOPMAIL.COM")
    assert not is_disposable("someone@gmail.com") and not is_disposable("lecteur@orange.fr")
    assert not is_disposable("no-at-sign")


@pytest.mark.parametrize("address, provider", [
    ("a@gmial.com", "gmail.com"), ("a@gmaill.com", "gmail.com"), ("a@gmai.com", "gmail.com"),
    ("a@gmaiI.com", "gmail.com"), ("a@hotrnail.com", "hotmail.com"), ("a@wanad00.fr", "wanadoo.fr"),
    ("a@xn--gmil-6na.com", "gmail.com"), ("a@gmаil.com", "gmail.com"),   # Cyrillic а
    ("a@laposte.nett", "laposte.net"),
])
def test_domains_imitating_a_provider_are_told_apart(address, provider):
    assert confusable_with(address) == provider


@pytest.mark.parametrize("address", ["a@gmail.com", "a@orange.fr", "a@free.fr", "a@fre.fr", "a@gmx.es",
                                     "a@lemonde.fr", "a@example.org", "a@me.com", "a@mc.com", ""])
def test_real_domains_and_short_names_are_left_alone(address):
    assert confusable_with(address) is None


async def test_the_intake_sends_such_authors_clear_ham_to_review_never_to_spam(app_client):
    client = await app_client(site_cache_seconds=0, rate_limit_per_ip=0, rate_limit_per_email=0,
                              duplicate_window_seconds=0, audit_share=0)
    key = await add_site(client, name="journal", lang="en", mode="auto")

    async def post(email, body=HAM_TEXT):
        answer = await client.post("/v1/comments", headers=auth(key), json=comment_payload(
            body=body, author={"name": "R", "email": email}))
        return (await answer.json())["status"], (await answer.json())["reasons"]

    assert await post("reader@gmail.com") == ("published", ["model_ham"])
    assert await post("reader@mailinator.com", f"{HAM_TEXT} 2") == ("pending", ["disposable_email", "model_ham"])
    assert await post("reader@gmaill.com", f"{HAM_TEXT} 3") == ("pending", ["confusable_email", "model_ham"])
    assert (await post("reader@gmaill.com", SPAM_TEXT))[0] == "spam"
    off = await app_client(site_cache_seconds=0, rate_limit_per_ip=0, rate_limit_per_email=0,
                           duplicate_window_seconds=0, audit_share=0, email_domain_check=False)
    key_off = await add_site(off, name="blog", lang="en", mode="auto", url="https://blog.example")
    answer = await off.post("/v1/comments", headers=auth(key_off), json=comment_payload(
        body=HAM_TEXT, author={"name": "R", "email": "reader@mailinator.com"}))
    assert (await answer.json())["status"] == "published"
