"""Take the screenshot of the moderator page shown in the README.

    .venv/bin/python scripts/screenshot.py [--out docs/moderation-queue.png] [--lang fr|en]
        [--comment-out docs/comment-page.png] [--author-out docs/author-page.png]

Seeds a throw-away database with a few realistic comments in French and
English, starts the real service on a free port, signs in through the form
with Debian's Chromium (Playwright, headless) and saves the queue page. Uses
the model in ``models/`` when there is one, else trains the tests' toy model.
Leave it running with ``--serve`` to click around (it prints the URL and token).
"""
from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from moderation.credentials import MODERATOR_TOKEN_PREFIX, hash_secret, new_secret  # noqa: E402
from moderation.domain import NewComment, Reason, Status, ThreadIn  # noqa: E402
from moderation.guard import body_fingerprint, ip_prefix  # noqa: E402
from moderation.scoring.model import ModelHolder  # noqa: E402
from moderation.store.sqlite import SQLiteStore  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update", "--no-first-run"]

# (site, thread id, thread title, author, e-mail, language, score, reasons, minutes ago, body)
COMMENTS = [
    ("journal", "budget-2027", "Budget 2027 : ce que prévoit la ville", "Martine Leroy",
     "martine.leroy@example.fr", "fr", 0.46, (Reason.MODEL_UNCERTAIN, Reason.PRE_MODERATION), 14,
     "Merci pour cet article très clair. Dommage que les chiffres des écoles ne soient pas "
     "détaillés, ce serait utile pour comprendre les choix du conseil municipal."),
    ("journal", "budget-2027", "Budget 2027 : ce que prévoit la ville", "Promo Express",
     "offres@promo-express.example", "fr", 0.63, (Reason.MODEL_UNCERTAIN,), 9,
     "Gagnez 500 € par jour depuis chez vous !!! Cliquez ici : http://argent-facile.example "
     "et inscrivez-vous GRATUITEMENT"),
    ("blog", "night-trains", "The return of night trains", "Ian Forsyth",
     "ian.forsyth@example.co.uk", "en", 0.52, (Reason.MODEL_UNCERTAIN,), 35,
     "Took the Vienna sleeper last spring. Cheap tickets sell out fast, check out "
     "www.sleeper-deals.example for alerts."),
    ("blog", "night-trains", "The return of night trains", "Amélie Roux",
     "amelie.roux@example.org", "en", 0.31, (Reason.MODEL_UNCERTAIN,), 52,
     "Great piece. I disagree about the price comparison with flights, but the history "
     "section was fascinating."),
    ("journal", "festival-ete", "Le festival d'été affiche complet", "Paul Girard",
     "p.girard@example.fr", "fr", 0.18, (Reason.MODEL_HAM, Reason.PRE_MODERATION), 120,
     "J'y étais samedi, l'ambiance était formidable. Bravo aux bénévoles !"),
    ("blog", "city-bikes", "City bikes, one year on", "WinBig2027",
     "winbig@prizes.example", "en", 0.74, (Reason.MODEL_UNCERTAIN, Reason.DUPLICATE), 3,
     "CLICK HERE to WIN a FREE iPhone!!! Visit http://free-prizes.example/win now"),
    ("journal", "budget-2027", "Budget 2027 : ce que prévoit la ville", "<b>Jean</b>",
     "jean.dupont@example.fr", "fr", 0.12, (Reason.MODEL_HAM, Reason.READER_FLAGS), 240,
     "Le texte d'un commentaire s'affiche tel quel : <script>alert('x')</script> reste du texte."),
]


async def seed(database: Path, model_version: str | None) -> str:
    async with SQLiteStore(database) as store:
        sites = {}
        for name, url, lang, mode, low, high in (
                ("journal", "https://journal.example", "fr", "pre", 0.3, 0.8),
                ("blog", "https://blog.example", "en", "auto", 0.25, 0.75)):
            sites[name] = await store.create_site(name=name, url=url, lang=lang, mode=mode,
                                                  key_hash=hash_secret(new_secret("msk_")),
                                                  now=time.time())
            await store.set_site_thresholds(sites[name].id, approve_below=low, reject_above=high)
        token = new_secret(MODERATOR_TOKEN_PREFIX)
        await store.create_moderator(name="claire", role="moderator", site_ids=[],
                                     token_hash=hash_secret(token), now=time.time())
        now = time.time()
        for index, (site, thread, title, author, email, lang, score, reasons, minutes,
                    body) in enumerate(COMMENTS):
            host = sites[site].url
            address = f"203.0.113.{10 + index}"
            await store.insert_comment(NewComment(
                site_id=sites[site].id, thread=ThreadIn(id=thread, url=f"{host}/{thread}", title=title),
                parent_id=None, author_name=author, author_email=email, body=body,
                body_hash=body_fingerprint(body), language=lang, spam_score=score,
                model_version=model_version if score is not None else None,
                status=Status.PENDING, reasons=reasons, ip_prefix=ip_prefix(address),
                ip_full=address, user_agent="Mozilla/5.0", referrer=f"{host}/{thread}",
                created_at=now - minutes * 60))
        return token


def model_directory(workdir: Path) -> Path:
    shipped = ROOT / "models"
    if (shipped / "CURRENT").is_file():
        return shipped
    from tests.toy_model import build_toy_models
    return build_toy_models(workdir / "models")


def free_port() -> int:
    import socket
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "docs" / "moderation-queue.png"))
    parser.add_argument("--lang", default="fr", choices=("fr", "en"))
    parser.add_argument("--serve", action="store_true", help="keep the server running afterwards")
    parser.add_argument("--comment-out", help="also save the first comment's page there")
    parser.add_argument("--author-out", help="also save the page of the first comment's author there")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        models = model_directory(workdir)
        bundle = ModelHolder(models).reload()
        token = asyncio.run(seed(workdir / "demo.db", bundle.version))
        port = free_port()
        env = dict(os.environ, MODERATION_DATABASE_URL=f"sqlite:///{workdir / 'demo.db'}",
                   MODERATION_MODEL_DIR=str(models), MODERATION_WORKERS="1",
                   MODERATION_LOG_LEVEL="WARNING")
        from tests.server import start_server
        server = start_server(env, port)
        try:
            shoot(f"http://127.0.0.1:{port}", token, args.out, args.lang, args.comment_out, args.author_out)
            print(f"wrote {args.out}")
            if args.serve:
                print(f"http://127.0.0.1:{port}/moderate  token: {token}  (Ctrl-C to stop)")
                server.wait()
        except KeyboardInterrupt:
            pass
        finally:
            server.terminate()
            server.wait(timeout=10)
    return 0


def shoot(base: str, token: str, out: str, lang: str, comment_out: str | None,
          author_out: str | None = None) -> None:
    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                             args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1440, "height": 1180},
                                      device_scale_factor=1,
                                      locale="fr-FR" if lang == "fr" else "en-GB")
        page = context.new_page()
        page.goto(f"{base}/moderate")
        page.fill("#token", token)
        page.click("button[type=submit]")
        page.wait_for_url(f"{base}/moderate")
        page.keyboard.press("j")
        page.keyboard.press("x")
        page.keyboard.press("k")
        page.mouse.move(0, 0)
        page.screenshot(path=out)
        if comment_out:
            page.goto(f"{base}/moderate/comments/1")
            page.screenshot(path=comment_out, full_page=True)
        if author_out:
            page.goto(f"{base}/moderate/comments/1")
            page.click("#author-link")
            page.fill("#r-note", "liens promotionnels" if lang == "fr" else "promotional links")
            page.click("#rule-watch")
            page.wait_for_selector("#author-rules")
            page.screenshot(path=author_out, full_page=True)
        browser.close()


if __name__ == "__main__":
    sys.exit(main())
