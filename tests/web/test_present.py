"""What the pages show: the texts in both languages, every key the templates
use, ages, score bars, threads and links."""
import re
from pathlib import Path

from moderation.domain import FLAG_REASONS, Comment, RuleAction, RuleKind, Status
from moderation.policy import Bands
from moderation.web.present import ago, query_url, score_bar, thread_rows, web_link
from moderation.web.texts import TEXTS, script_texts, text

TEMPLATES = Path(__file__).resolve().parents[2] / "moderation" / "web" / "templates"


def test_every_text_exists_in_french_and_english():
    for key, texts in TEXTS.items():
        assert set(texts) == {"fr", "en"}, key
        assert all(t.strip() for t in texts.values()), key
        assert set(re.findall(r"\{(\w+)\}", texts["fr"])) == set(re.findall(r"\{(\w+)\}", texts["en"])), key


def test_every_key_the_templates_use_exists():
    used = set()
    for template in TEMPLATES.glob("*.html"):
        used |= set(re.findall(r"""\bt\('([a-z_.]+[a-z])'[,)]""", template.read_text(encoding="utf-8")))
    assert used and used - set(TEXTS) == set()
    prefixes = set(re.findall(r"""\bt\('([a-z_]+\.)' ~""", "".join(
        p.read_text(encoding="utf-8") for p in TEMPLATES.glob("*.html"))))
    assert prefixes <= {"status.", "action.", "order.", "role.", "filters.", "outcome.", "comment.thresholds_",
                        "rule.", "rule.set_", "rule.kind_", "flag."}
    for action in RuleAction:   # what those prefixes are completed with on the author page
        assert {f"rule.{action.value}", f"rule.set_{action.value}"} <= set(TEXTS)
    assert {f"rule.kind_{kind.value}" for kind in RuleKind} <= set(TEXTS)
    assert {f"flag.{reason}" for reason in FLAG_REASONS} <= set(TEXTS)


def test_texts_fall_back_to_french_and_fill_placeholders():
    assert text("comment.conflict", "en", actor="paul", status="spam") == 'Already decided by paul: status "spam".'
    assert text("comment.conflict", "de", actor="paul", status="spam") == "Déjà traité par paul : statut « spam »."
    assert script_texts("fr")["conflict"] == "Déjà traité par {actor} : statut « {status} »."
    assert script_texts("en")["status-spam"] == "Spam"


def test_ages_are_coarse():
    assert ago(5, "fr") == "à l'instant"
    assert ago(600, "fr") == "il y a 10 min"
    assert ago(7200, "en") == "2 h ago"
    assert ago(3 * 86400, "en") == "3 d ago"


def test_a_score_is_drawn_against_the_thresholds():
    bar = score_bar(0.62, Bands(0.3, 0.8))
    assert (bar.score, bar.low, bar.high, bar.band) == (62.0, 30.0, 80.0, "review")
    assert score_bar(0.1, Bands(0.3, 0.8)).band == "ham"
    assert score_bar(0.8, Bands(0.3, 0.8)).band == "spam"
    assert score_bar(None, Bands(0.3, 0.8)).band == "none"
    unbanded = score_bar(0.5, None)
    assert (unbanded.low, unbanded.high, unbanded.band) == (None, None, "none")
    assert 0 <= score_bar(1.0, Bands(0.3, 0.8)).marker_x <= 98.4


def comment(comment_id, parent_id=None):
    return Comment(id=comment_id, site_id=1, thread_id="t", parent_id=parent_id, author_name="a",
                   author_email="", body="", language="en", spam_score=None, model_version=None,
                   status=Status.PENDING, reasons=(), ip_prefix="", user_agent="", referrer="",
                   created_at=0.0)


def test_threads_read_as_trees_with_replies_under_their_parent():
    rows = thread_rows([comment(5, 1), comment(1), comment(2), comment(7, 5), comment(9, 3)])
    assert [(r.comment.id, r.depth) for r in rows] == [(1, 0), (5, 1), (7, 2), (2, 0), (9, 0)]
    deep = [comment(1)] + [comment(n, n - 1) for n in range(2, 12)]
    assert max(r.depth for r in thread_rows(deep)) == 6


def test_links_are_http_only_and_queries_keep_the_other_filters():
    assert web_link("https://journal.example/a") == "https://journal.example/a"
    assert web_link("javascript:alert(1)") is None and web_link("") is None
    params = {"status": "spam", "thread": "a b", "cursor": "xyz", "language": ""}
    assert query_url("/moderate", params, cursor=None) == "/moderate?status=spam&thread=a+b"
    assert query_url("/moderate", params, status="pending", cursor=None, thread=None) == "/moderate?status=pending"
    assert query_url("/moderate", {}) == "/moderate"
