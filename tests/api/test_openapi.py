"""The OpenAPI document says what the app does: every route is in it and
nothing else, it is valid OpenAPI 3.1, it is what /openapi.json serves, and
real answers fit its schemas (schemathesis checks far more in
test_schemathesis.py)."""
import jsonschema_rs
import pytest
from openapi_spec_validator import validate

from moderation.app import create_app
from moderation.keys import SETTINGS
from moderation.openapi import build_document

from ..conftest import add_moderator, add_site, auth, comment_payload

HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


def app_operations(app) -> set[tuple[str, str]]:
    """(method, path template) of every route the app's router holds. HEAD is
    left out where GET is there (aiohttp adds it to every GET route)."""
    found = set()
    for resource in app.router.resources():
        info = resource.get_info()
        path = info.get("formatter") or info.get("path") or info["prefix"] + "/{filename}"
        methods = {route.method.lower() for route in resource}
        if "get" in methods:
            methods.discard("head")
        found |= {(method, path) for method in methods}
    return found


def documented_operations(document) -> set[tuple[str, str]]:
    return {(method, path) for path, item in document["paths"].items() for method in item
            if method in HTTP_METHODS}


def test_every_route_is_documented_and_nothing_else(settings_for):
    settings = settings_for()
    document = build_document(settings)
    routes = app_operations(create_app(settings))
    documented = documented_operations(document)
    assert routes - documented == set(), "routes missing from moderation/openapi.py"
    assert documented - routes == set(), "documented operations the app lacks"


@pytest.mark.parametrize("overrides", [{}, {"metrics_token": "scraper-secret", "max_body_chars": 100}])
def test_the_document_is_valid_openapi_3_1(settings_for, overrides):
    document = build_document(settings_for(**overrides))
    assert document["openapi"].startswith("3.1")
    validate(document)


def test_operation_ids_are_the_route_names(settings_for):
    settings = settings_for()
    names = {route.name for route in create_app(settings).router.routes() if route.name}
    ids = [op["operationId"] for item in build_document(settings)["paths"].values()
           for method, op in item.items() if method in HTTP_METHODS]
    assert len(ids) == len(set(ids))
    assert set(ids) <= names


async def test_served_document_is_built_for_this_server(app_client):
    client = await app_client(max_body_chars=123, metrics_token="t0ken")
    response = await client.get("/openapi.json")
    assert response.status == 200
    assert response.content_type == "application/json"
    document = await response.json()
    assert document == build_document(client.app[SETTINGS])
    assert document["components"]["schemas"]["CommentIn"]["properties"]["body"]["maxLength"] == 123
    assert document["paths"]["/metrics"]["get"]["security"] == [{"metricsToken": []}]


def validator(document, name):
    return jsonschema_rs.validator_for({"$schema": "https://json-schema.org/draft/2020-12/schema",
                                        "$ref": f"#/components/schemas/{name}",
                                        "components": document["components"]})


async def test_real_answers_fit_the_schemas(client, settings_for):
    document = build_document(settings_for())
    key = await add_site(client, mode="auto", lang="en")
    admin = await add_moderator(client, name="ada", role="admin")
    created = await client.post("/v1/comments", json=comment_payload(), headers=auth(key))
    validator(document, "CommentAccepted").validate(await created.json())
    comment_id = (await created.json())["id"]
    read = await client.get(f"/v1/comments/{comment_id}", headers=auth(key))
    validator(document, "SiteComment").validate(await read.json())
    detail = await client.get(f"/v1/review/comments/{comment_id}", headers=auth(admin))
    validator(document, "CommentDetail").validate(await detail.json())
    status = (await detail.json())["status"]
    action = "reject" if status != "rejected" else "spam"
    decided = await client.post(f"/v1/review/comments/{comment_id}/decision", headers=auth(admin),
                                json={"action": action, "expected_status": status})
    validator(document, "Decided").validate(await decided.json())
    conflict = await client.post(f"/v1/review/comments/{comment_id}/decision", headers=auth(admin),
                                 json={"action": action, "expected_status": status})
    assert conflict.status == 409
    validator(document, "ConflictError").validate(await conflict.json())
    validator(document, "Error").validate(await conflict.json())
    invalid = await client.post("/v1/comments", json={"body": 1, "surprise": True}, headers=auth(key))
    assert invalid.status == 422
    validator(document, "Error").validate(await invalid.json())
    stats = await client.get("/v1/review/stats", headers=auth(admin))
    validator(document, "Stats").validate(await stats.json())


CLOSED_BODIES = [
    ("/v1/comments", "site", comment_payload()),
    ("/v1/review/comments/{id}/decision", "admin", {"action": "spam", "expected_status": "pending"}),
    ("/v1/review/decisions", "admin", {"ids": [1], "action": "spam"}),
    ("/v1/admin/people/export", "admin", {"email": "a@example.org"}),
    ("/v1/admin/people/erase", "admin", {"email": "a@example.org"}),
]


@pytest.mark.parametrize("path, who, body", CLOSED_BODIES)
async def test_closed_bodies_refuse_unknown_fields(client, settings_for, path, who, body):
    """Where the document says additionalProperties: false, an unknown field gets 422 naming it."""
    document = build_document(settings_for())
    operation = document["paths"][path.replace("{id}", "{comment_id}")]["post"]
    schema_name = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    assert document["components"]["schemas"][schema_name]["additionalProperties"] is False
    key = await add_site(client, mode="auto", lang="en")
    token = key if who == "site" else await add_moderator(client, name="ada", role="admin")
    created = await client.post("/v1/comments", json=comment_payload(), headers=auth(key))
    response = await client.post(path.replace("{id}", str((await created.json())["id"])),
                                 json={**body, "surprise": 1}, headers=auth(token))
    assert response.status == 422
    fields = (await response.json())["error"]["fields"]
    assert ("surprise", "unknown_field") in [(f["field"], f["code"]) for f in fields]
