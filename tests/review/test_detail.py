"""One comment in full, for the moderator deciding on it."""
import re

from moderation.keys import MODELS

from ..conftest import add_moderator, add_site, auth, comment_payload
from ..toy_model import HAM_TEXT, SPAM_TEXT
from .conftest import get_json, seed


INTERNAL_TOKEN = re.compile(r"\b(?:word|char|signal|lang):")


def assert_readable(readable):
    """What a moderator reads first: at most 6 reasons, strongest first, each a
    sentence in French and in English without the model's internal names."""
    assert 0 < len(readable) <= 6
    weights = [abs(r["weight"]) for r in readable]
    assert weights == sorted(weights, reverse=True)
    for reason in readable:
        assert reason["direction"] in ("spam", "ham")
        assert (reason["weight"] > 0) == (reason["direction"] == "spam")
        assert set(reason["text"]) == {"fr", "en"} and reason["text"]["fr"] != reason["text"]["en"]
        for sentence in reason["text"].values():
            assert sentence and not INTERNAL_TOKEN.search(sentence), sentence
        assert ("words" in reason) == (reason["reason"] == "words")


async def test_everything_a_moderator_needs(desk):
    client = desk.client
    parent = await client.post("/v1/comments", headers=auth(desk.key), json=comment_payload(body=HAM_TEXT))
    parent_id = (await parent.json())["id"]
    reply = await client.post("/v1/comments", headers=auth(desk.key), json=comment_payload(
        body=SPAM_TEXT, parent_id=parent_id,
        author={"name": "Winner", "email": "winner@example.com"},
        client={"ip": "198.51.100.23", "user_agent": "SpamBot/1.0"}))
    reply_id = (await reply.json())["id"]

    status, body = await get_json(client, f"/v1/review/comments/{reply_id}", desk.claire)
    assert status == 200, body
    assert body["status"] == "spam" and body["reasons"] == ["model_spam"]
    assert body["site"] == "journal"
    assert body["author"] == {"name": "Winner", "email": "winner@example.com"}
    assert body["client"]["ip_prefix"] == "198.51.100.0/24"      # truncated, never the full address
    assert "198.51.100.23" not in str(body)
    assert body["client"]["user_agent"] == "SpamBot/1.0"
    assert body["thread"]["id"] == "article-42" and body["thread"]["title"] == "Le marché"
    assert body["parent"]["id"] == parent_id and body["parent"]["status"] == "published"
    assert body["language"] == "en" and 0 <= body["spam_score"] <= 1
    assert body["thresholds"] == {"approve_below": 0.3, "reject_above": 0.8, "source": "model"}

    explanation = body["explanation"]
    assert explanation["model_version"] == body["model_version"] == explanation["comment_model_version"]
    assert explanation["same_model"] is True
    features = explanation["features"]
    assert 0 < len(features) <= 8
    assert all(set(f) == {"feature", "weight"} for f in features)
    weights = [abs(f["weight"]) for f in features]
    assert weights == sorted(weights, reverse=True)
    # Spam this blatant is pushed towards spam by its strongest features.
    assert sum(f["weight"] for f in features) > 0
    assert_readable(explanation["readable"])
    reasons = {(r["reason"], r["direction"]): r for r in explanation["readable"]}
    assert reasons[("has_link", "spam")]["text"] == {"fr": "contient un lien", "en": "contains a link"}
    words = reasons[("words", "spam")]
    assert words["text"]["fr"].startswith("mots : ") and words["text"]["en"].startswith("words: ")
    assert words["words"] and all(w.lower() in SPAM_TEXT.lower() for w in words["words"])
    assert max(explanation["readable"], key=lambda r: abs(r["weight"]))["direction"] == "spam"

    [event] = body["history"]
    assert (event["actor"], event["action"], event["from_status"], event["to_status"]) == (
        "intake", "submit", None, "spam")
    assert event["reason"] == "model_spam" and event["model_version"] == body["model_version"]


async def test_a_comment_scored_by_an_older_model_is_explained_by_the_current_one(desk):
    comment_id = await seed(desk.store, desk.site_id, model_version="spam-lr-20250101T000000Z")
    await desk.store.set_site_thresholds(desk.site_id, approve_below=0.2, reject_above=None)
    status, body = await get_json(desk.client, f"/v1/review/comments/{comment_id}", desk.claire)
    assert status == 200
    explanation = body["explanation"]
    assert explanation["same_model"] is False
    assert explanation["comment_model_version"] == "spam-lr-20250101T000000Z"
    assert explanation["model_version"] == desk.client.app[MODELS].bundle.version
    assert explanation["features"]
    assert_readable(explanation["readable"])
    assert body["thresholds"] == {"approve_below": 0.2, "reject_above": 0.8, "source": "site"}
    assert body["parent"] is None


async def test_without_a_model_the_page_still_answers(app_client, tmp_path):
    client = await app_client(model_dir=str(tmp_path / "no-models"))
    key = await add_site(client, mode="auto")
    token = await add_moderator(client)
    response = await client.post("/v1/comments", headers=auth(key), json=comment_payload())
    comment_id = (await response.json())["id"]
    status, body = await get_json(client, f"/v1/review/comments/{comment_id}", token)
    assert status == 200
    assert body["reasons"] == ["no_model"]
    assert body["explanation"] == {"model_version": None, "comment_model_version": None,
                                   "same_model": False, "readable": [], "features": [],
                                   "surge": None}   # not held for a thread's surge
    assert body["thresholds"] is None
    status, page = await get_json(client, "/v1/review/queue", token)
    assert [item["id"] for item in page["items"]] == [comment_id]
