"""The moderator page in a real browser: Debian's Chromium, headless, driven by
Playwright against the real service started as a subprocess.

Each test signs in through the form in a fresh browser context and works on
comments of its own thread (the queue filtered by ``thread``). Console errors
are collected: a Content-Security-Policy violation (an inline script or style)
would show there and fail the test.
"""
from __future__ import annotations

import asyncio
import json
import os
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from moderation.credentials import MODERATOR_TOKEN_PREFIX, SITE_KEY_PREFIX, hash_secret, new_secret
from moderation.domain import NewComment, Reason, Status, ThreadIn
from moderation.guard import body_fingerprint
from moderation.store.sqlite import SQLiteStore

from ..server import free_port, start_server

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update", "--no-first-run"]
XSS_BODY = '<script>window.__xss = 1</script><img src=x onerror="window.__xss = 2"> still text'
XSS_NAME = '<img src=y onerror="window.__xss = 3">Mallory'

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(),
                       reason="needs Debian's Chromium at /usr/bin/chromium (apt-get install chromium)"),
]
sync_api = pytest.importorskip("playwright.sync_api", reason="needs the playwright package (dev extra)")
expect = sync_api.expect


def run_async(coroutine):
    """Run a coroutine to its end from sync code, even while Playwright's own
    event loop is current in this thread."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


class Live:
    """The running service, its database and the people in it."""

    def __init__(self, base: str, database: Path, site_id: int, tokens: dict[str, str]) -> None:
        self.base = base
        self.database = database
        self.site_id = site_id
        self.tokens = tokens

    def seed(self, thread: str, count: int = 1, **fields) -> list[int]:
        """Write comments straight to the database, oldest first."""
        return run_async(self._seed(thread, count, fields))

    async def _seed(self, thread, count, fields) -> list[int]:
        ids = []
        async with SQLiteStore(self.database) as store:
            for n in range(count):
                body = fields.get("body") or f"Comment {n + 1} on {thread}: thanks for the article."
                result = await store.insert_comment(NewComment(
                    site_id=self.site_id, thread=ThreadIn(id=thread, url=f"https://journal.example/{thread}",
                                                          title=f"Article {thread}"),
                    parent_id=None, author_name=fields.get("name", f"Reader {n + 1}"),
                    author_email=fields.get("email", f"reader{n + 1}@example.org"), body=body,
                    body_hash=body_fingerprint(body), language="en", spam_score=0.4 + n / 100,
                    model_version="toy", status=Status.PENDING, reasons=(Reason.MODEL_UNCERTAIN,),
                    ip_prefix="203.0.113.0/24", ip_full="203.0.113.9", user_agent="Mozilla/5.0",
                    referrer="", created_at=time.time() - 600 + n))
                ids.append(result.comment_id)
        return ids

    def api(self, method: str, path: str, token: str, body: dict | None = None) -> tuple[int, dict]:
        request = urllib.request.Request(
            self.base + path, method=method, data=None if body is None else json.dumps(body).encode(),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, json.load(response)
        except urllib.error.HTTPError as error:
            return error.code, json.load(error)

    def status_of(self, comment_id: int) -> str:
        status, body = self.api("GET", f"/v1/review/comments/{comment_id}", self.tokens["ada"])
        assert status == 200, body
        return body["status"]

    def history_of(self, comment_id: int) -> list[tuple[str, str]]:
        _, body = self.api("GET", f"/v1/review/comments/{comment_id}", self.tokens["ada"])
        return [(e["actor"], e["action"]) for e in body["history"]]


async def _setup(database: Path) -> tuple[int, dict[str, str]]:
    async with SQLiteStore(database) as store:
        site = await store.create_site(name="journal", url="https://journal.example", lang="en",
                                       mode="pre", key_hash=hash_secret(new_secret(SITE_KEY_PREFIX)),
                                       now=time.time())
        tokens = {}
        for name, role in (("claire", "moderator"), ("paul", "moderator"), ("ada", "admin")):
            tokens[name] = new_secret(MODERATOR_TOKEN_PREFIX)
            await store.create_moderator(name=name, role=role, site_ids=[],
                                         token_hash=hash_secret(tokens[name]), now=time.time())
    return site.id, tokens


@pytest.fixture(scope="module")
def live(tmp_path_factory, toy_models_dir):
    workdir = tmp_path_factory.mktemp("browser")
    database = workdir / "moderation.db"
    site_id, tokens = run_async(_setup(database))
    env = dict(os.environ, MODERATION_DATABASE_URL=f"sqlite:///{database}",
               MODERATION_MODEL_DIR=str(toy_models_dir), MODERATION_WORKERS="1",
               MODERATION_LOG_LEVEL="WARNING")
    port = free_port()
    server = start_server(env, port)
    try:
        yield Live(f"http://127.0.0.1:{port}", database, site_id, tokens)
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                              args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class Tab:
    """A page in its own browser context, with the console errors it logged."""

    def __init__(self, browser, live: Live, locale: str) -> None:
        self.context = browser.new_context(locale=locale, viewport={"width": 1280, "height": 900})
        self.page = self.context.new_page()
        self.live = live
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))

        def on_dialog(dialog):
            self.dialogs.append(dialog.message)
            dialog.dismiss()
        self.page.on("dialog", on_dialog)

    def _console(self, message) -> None:
        """Script errors and CSP refusals; not the 4xx answers tests ask for."""
        if message.type == "error" and not message.text.startswith(
                "Failed to load resource: the server responded with a status of 4"):
            self.errors.append(message.text)

    def sign_in(self, who: str = "claire", then: str = "/moderate"):
        page = self.page
        page.goto(self.live.base + then)
        expect(page.locator("#token")).to_be_visible()          # sent to sign in first
        page.fill("#token", self.live.tokens[who])
        page.click("form.stack button[type=submit]")
        expect(page).to_have_url(self.live.base + then)
        page.wait_for_load_state("load")                       # keys need the script in place
        return page

    def close(self):
        self.context.close()


@pytest.fixture
def tab(browser, live):
    opened = []

    def open_tab(locale: str = "fr-FR") -> Tab:
        opened.append(Tab(browser, live, locale))
        return opened[-1]
    yield open_tab
    for t in opened:
        t.close()


def item(page, comment_id):
    return page.locator(f"#c{comment_id}")


def test_sign_in_then_sign_out(live, tab):
    t = tab()
    page = t.page
    page.goto(live.base + "/moderate")
    expect(page.locator("h1")).to_have_text("Connexion")
    page.fill("#token", "mod_not-a-token")
    page.click("form.stack button[type=submit]")
    expect(page.locator("#signin-error")).to_have_text("Jeton inconnu ou désactivé.")
    page.fill("#token", live.tokens["claire"])
    page.click("form.stack button[type=submit]")
    expect(page).to_have_url(live.base + "/moderate")
    expect(page.locator(".who-name")).to_have_text("Connecté·e : claire")
    cookies = {c["name"]: c for c in t.context.cookies()}
    session = cookies["moderation_session"]
    assert session["httpOnly"] and session["sameSite"] == "Strict" and session["path"] == "/"
    assert page.evaluate("document.cookie") == ""               # out of the script's reach

    page.click("form.signout button")
    expect(page).to_have_url(live.base + "/moderate/signin?signed_out=1")
    expect(page.locator(".notice")).to_have_text("Vous êtes déconnecté·e.")
    assert "moderation_session" not in {c["name"] for c in t.context.cookies()}
    page.goto(live.base + "/moderate")
    expect(page.locator("h1")).to_have_text("Connexion")
    assert t.errors == [] and t.dialogs == []


def test_approve_with_the_keyboard_without_reloading(live, tab):
    first, second, third = live.seed("kbd", 3)
    t = tab()
    page = t.sign_in(then="/moderate?thread=kbd&order=oldest")
    expect(page.locator(".item")).to_have_count(3)
    expect(page.locator(".item.current")).to_have_attribute("data-id", str(first))
    expect(page.locator('[data-count-for="pending"]')).to_have_text("3")
    page.evaluate("window.__still_here = true")                  # gone if the page reloads

    page.keyboard.press("j")
    expect(page.locator(".item.current")).to_have_attribute("data-id", str(second))
    page.keyboard.press("a")
    expect(item(page, second)).to_have_count(0)
    expect(page.locator('[data-count-for="pending"]')).to_have_text("2")
    expect(page.locator(".item.current")).to_have_attribute("data-id", str(third))
    expect(page.locator("#announce")).to_have_text(f"N° {second} approuvé.")
    assert page.evaluate("window.__still_here") is True
    assert live.status_of(second) == "published"
    assert live.history_of(second)[-1] == ("claire", "approve")
    assert {live.status_of(first), live.status_of(third)} == {"pending"}

    page.keyboard.press("k")
    expect(page.locator(".item.current")).to_have_attribute("data-id", str(first))
    page.keyboard.press("s")
    expect(item(page, first)).to_have_count(0)
    assert live.status_of(first) == "spam"
    assert t.errors == []


def test_select_with_x_then_bulk_reject(live, tab):
    first, second, third = live.seed("bulk", 3)
    t = tab()
    page = t.sign_in(then="/moderate?thread=bulk&order=oldest")
    page.keyboard.press("x")
    page.keyboard.press("j")
    page.keyboard.press("x")
    expect(page.locator("#selected-count")).to_have_text("2")
    expect(page.locator(".item.selected")).to_have_count(2)
    page.click("#bulk button[value=reject]")
    expect(item(page, first)).to_have_count(0)
    expect(item(page, second)).to_have_count(0)
    expect(page.locator(".item")).to_have_count(1)
    expect(page.locator("#selected-count")).to_have_text("0")
    expect(page.locator('[data-count-for="pending"]')).to_have_text("1")
    assert [live.status_of(i) for i in (first, second, third)] == ["rejected", "rejected", "pending"]
    assert live.history_of(first)[-1] == ("claire", "reject")
    assert t.errors == []


def test_someone_else_deciding_first_is_said_plainly(live, tab):
    [comment_id] = live.seed("conflict")
    t = tab(locale="en-GB")
    page = t.sign_in(then="/moderate?thread=conflict")
    expect(page.locator("h1")).to_have_text("Review queue")
    status, _ = live.api("POST", f"/v1/review/comments/{comment_id}/decision", live.tokens["paul"],
                         {"action": "spam", "expected_status": "pending"})
    assert status == 200
    page.keyboard.press("a")
    message = item(page, comment_id).locator(".item-message")
    expect(message).to_have_text('Already decided by paul: status "Spam".')
    expect(item(page, comment_id)).to_have_class("item current conflict")
    expect(item(page, comment_id).locator("button[value=approve]")).to_be_disabled()
    assert live.status_of(comment_id) == "spam"
    assert t.errors == []


def test_open_a_comment_with_its_history_and_thread(live, tab):
    parent, reply = live.seed("history", 2)
    t = tab()
    page = t.sign_in(then="/moderate?thread=history&order=oldest")
    page.keyboard.press("j")
    page.keyboard.press("o")
    expect(page).to_have_url(live.base + f"/moderate/comments/{reply}")
    page.wait_for_load_state("load")
    expect(page.locator("h1")).to_have_text(f"Commentaire n° {reply}")
    rows = page.locator("#history tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("intake")
    thread = page.locator("#thread .thread-row")
    expect(thread).to_have_count(2)
    expect(page.locator('#thread [aria-current="true"]')).to_contain_text(f"#{reply}")

    page.fill("#d-reason", "hors sujet")
    page.locator("#d-reason").blur()
    page.keyboard.press("r")
    expect(page.locator(".notice")).to_have_text("Décision enregistrée : Rejeté.")
    expect(rows).to_have_count(2)
    expect(rows.nth(1)).to_contain_text("claire")
    expect(rows.nth(1)).to_contain_text("hors sujet")
    assert live.status_of(reply) == "rejected" and live.status_of(parent) == "pending"
    assert t.errors == []


def test_from_a_comment_to_its_authors_history_then_a_ban(live, tab):
    first, second = live.seed("author", 2, email="casey.browser@example.org")
    t = tab("en-GB")
    page = t.sign_in(then=f"/moderate/comments/{second}")
    page.click("#author-link")
    expect(page.locator("#author-title")).to_contain_text("casey.browser@example.org")
    expect(page.locator("#author-comments .thread-row")).to_have_count(2)
    expect(page.locator("#author-counts")).to_contain_text("2")
    expect(page.locator("#author-rules")).to_have_count(0)

    page.fill("#r-note", "link farm")
    page.select_option("#r-key", "email:casey.browser@example.org")
    page.click("#rule-ban")
    expect(page.locator(".notice")).to_have_text("Rules changed.")
    expect(page.locator("#author-rules .rule-ban")).to_contain_text("Banned")
    expect(page.locator("#author-rules .rule-ban")).to_contain_text("link farm")
    status, rules = live.api("GET", "/v1/review/sites/journal/authors/rules", live.tokens["ada"])
    assert status == 200 and [(r["action"], r["value"], r["created_by"]) for r in rules["rules"]] == [
        ("ban", "casey.browser@example.org", "claire")]

    page.click("#author-rules .rule-ban button")
    expect(page.locator("#author-rules")).to_have_count(0)
    assert live.api("GET", "/v1/review/sites/journal/authors/rules", live.tokens["ada"])[1]["rules"] == []
    assert t.errors == []


def test_html_in_a_comment_is_shown_as_text_and_never_runs(live, tab):
    [comment_id] = live.seed("xss", body=XSS_BODY, name=XSS_NAME)
    t = tab()
    page = t.sign_in(then="/moderate?thread=xss")
    shown = item(page, comment_id)
    expect(shown.locator(".text")).to_have_text(XSS_BODY)
    expect(shown.locator(".author-name")).to_have_text(XSS_NAME)
    assert shown.locator("img, script").count() == 0
    page.goto(live.base + f"/moderate/comments/{comment_id}")
    expect(page.locator("#comment-text")).to_have_text(XSS_BODY)
    assert page.locator("#comment-text img, #thread img, .author img").count() == 0
    page.wait_for_timeout(200)
    assert page.evaluate("window.__xss") is None
    assert t.dialogs == [] and t.errors == []


def test_a_form_posted_without_its_csrf_token_is_refused(live, tab):
    t = tab()
    page = t.sign_in()
    page.evaluate("document.querySelector('form.signout input[name=csrf_token]').remove()")
    with page.expect_navigation() as navigation:
        page.click("form.signout button")
    assert navigation.value.status == 403
    expect(page.locator(".alert")).to_contain_text("Jeton anti-CSRF absent ou invalide")
    page.goto(live.base + "/moderate")
    expect(page).to_have_url(live.base + "/moderate")            # still signed in
    expect(page.locator(".who-name")).to_have_text("Connecté·e : claire")
    assert t.errors == []
