"""GET /metrics: requests by route name and status, latency, decisions by
source and band, queue depth, the model in service, scoring batches, and the
optional token. Metrics are process-wide, so each test compares before and after."""
from prometheus_client.parser import text_string_to_metric_families

from moderation.domain import Reason
from moderation.keys import MODELS
from moderation.telemetry import intake_band, score_band
from moderation.policy import Bands

from .conftest import add_moderator, add_site, auth, comment_payload
from .toy_model import HAM_TEXT, SPAM_TEXT, TOY_VERSION


async def scrape(client, **headers) -> dict:
    """{(sample name, frozenset(labels)): value} of one scrape."""
    response = await client.get("/metrics", headers=headers)
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(await response.text()):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples


def value(samples, name, **labels) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def total(samples, name, **labels) -> float:
    """The sum over the samples of *name* that carry *labels* (and maybe others)."""
    wanted = set(labels.items())
    return sum(v for (sample, have), v in samples.items() if sample == name and wanted <= have)


async def test_requests_are_counted_by_route_name_and_status(client):
    before = await scrape(client)
    for _ in range(3):
        assert (await client.get("/healthz")).status == 200
    assert (await client.get("/v1/comments/12345")).status == 401        # a route with a parameter
    assert (await client.get("/no/such/page")).status == 404
    after = await scrape(client)
    requests = "moderation_http_requests_total"
    assert value(after, requests, route="healthz", method="GET", status="200") - \
        value(before, requests, route="healthz", method="GET", status="200") == 3
    assert value(after, requests, route="get_comment", method="GET", status="401") - \
        value(before, requests, route="get_comment", method="GET", status="401") == 1
    assert value(after, requests, route="unmatched", method="GET", status="404") - \
        value(before, requests, route="unmatched", method="GET", status="404") == 1
    assert not any("12345" in str(labels) for _, labels in after), "raw paths never become labels"
    latency = "moderation_http_request_duration_seconds_count"
    assert value(after, latency, route="healthz", method="GET") - \
        value(before, latency, route="healthz", method="GET") == 3


async def test_decisions_are_counted_by_source_status_and_band(client):
    key = await add_site(client, name="journal", mode="auto", lang="en")
    admin = await add_moderator(client, name="ada", role="admin")
    before = await scrape(client)
    answers = []
    for i, text in enumerate([HAM_TEXT, SPAM_TEXT]):
        response = await client.post("/v1/comments", headers=auth(key), json=comment_payload(
            body=text, author={"name": "R", "email": f"r{i}@example.org"}))
        answers.append(await response.json())
    decided = await client.post(f"/v1/review/comments/{answers[0]['id']}/decision", headers=auth(admin),
                                json={"action": "spam", "expected_status": answers[0]["status"]})
    assert decided.status == 200
    after = await scrape(client)
    decisions = "moderation_decisions_total"
    for answer in answers:
        band = intake_band([Reason(r) for r in answer["reasons"]])
        labels = {"source": "intake", "status": answer["status"], "band": band}
        assert value(after, decisions, **labels) - value(before, decisions, **labels) >= 1
    assert total(after, decisions, source="moderator", status="spam") - \
        total(before, decisions, source="moderator", status="spam") == 1


def test_bands():
    assert intake_band([Reason.MODEL_HAM]) == "ham"
    assert intake_band([Reason.DUPLICATE, Reason.MODEL_HAM]) == "ham"
    assert intake_band([Reason.MODEL_UNCERTAIN]) == "review"
    assert intake_band([Reason.MODEL_SPAM]) == "spam"
    assert intake_band([Reason.HONEYPOT]) == "none"
    assert intake_band([Reason.NO_MODEL]) == "none"
    bands = Bands(approve_below=0.2, reject_above=0.8)
    assert [score_band(s, bands) for s in (0.1, 0.2, 0.79, 0.8, None)] == ["ham", "review", "review", "spam", "none"]
    assert score_band(0.5, None) == "none"


async def test_queue_depth_model_and_batches(client):
    key = await add_site(client, name="gazette", mode="pre", lang="en")
    before = await scrape(client)
    for i in range(2):
        response = await client.post("/v1/comments", headers=auth(key), json=comment_payload(
            body=f"{HAM_TEXT} {i}", author={"name": "R", "email": f"q{i}@example.org"}))
        assert (await response.json())["status"] == "pending"     # a pre-moderated site
    after = await scrape(client)
    assert value(after, "moderation_queue_depth", site="gazette", status="pending") == 2
    assert value(after, "moderation_queue_depth", site="gazette", status="spam") == 0
    assert value(after, "moderation_queue_oldest_pending_age_seconds", site="gazette") >= 0
    assert ("moderation_queue_oldest_pending_age_seconds", frozenset({("site", "gazette")})) in after
    assert value(after, "moderation_model_info", version=TOY_VERSION) == 1
    assert value(after, "moderation_model_load_duration_seconds") > 0
    assert value(after, "moderation_model_loaded_timestamp_seconds") > 1.7e9
    assert value(after, "moderation_scoring_batch_size_count") - \
        value(before, "moderation_scoring_batch_size_count") == 2
    assert value(after, "moderation_scoring_batch_size_sum") - \
        value(before, "moderation_scoring_batch_size_sum") == 2     # one text per batch, one at a time
    assert value(after, "moderation_scoring_batch_duration_seconds_count") > 0


async def test_a_failed_model_load_is_counted(app_client, tmp_path):
    client = await app_client()
    admin = await add_moderator(client, name="ada", role="admin")
    before = await scrape(client)
    client.app[MODELS].models_dir = tmp_path   # no CURRENT here
    response = await client.post("/v1/admin/model/reload", headers=auth(admin))
    assert response.status == 409
    after = await scrape(client)
    assert value(after, "moderation_model_load_failures_total") - \
        value(before, "moderation_model_load_failures_total") == 1
    assert value(after, "moderation_model_info", version=TOY_VERSION) == 1   # the old model serves on


async def test_the_token_setting_guards_metrics(app_client):
    client = await app_client(metrics_token="scrape-me")
    assert (await client.get("/metrics")).status == 401
    assert (await client.get("/metrics", headers=auth("wrong"))).status == 401
    samples = await scrape(client, **auth("scrape-me"))
    assert any(name == "moderation_http_requests_total" for name, _ in samples)


async def test_openmetrics_when_asked(client):
    response = await client.get("/metrics", headers={"Accept": "application/openmetrics-text; version=1.0.0"})
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("application/openmetrics-text")
    assert (await response.text()).rstrip().endswith("# EOF")
