"""Engagement bait: a comment that asks readers for likes, shares or subscribers.

Contract: ``asks_for_engagement(text)`` is true when a normalized comment asks
for likes on itself ("Like this comment if...", « likez ce commentaire »), for
subscribers ("sub 4 sub", "subscribe to my channel", « abonnez-vous à ma
chaîne »), or to like and subscribe. Saying one likes a comment or an article
("I like this comment"), or asking readers what they think, is not bait.

Why a hand-written pattern: in the YouTube Spam Collection this kind of spam
is common in one video (17 of the 18 "like this comment" posts are in LMFAO)
and rare in the others, so a model that has not seen that video learns it from
too few rows and publishes it; no ham row of the public data (YouTube, Civil
Comments, the Globe and Mail and Grand Débat comments) matches the pattern.
"""
from __future__ import annotations

import re

LIKE_VERBS = r"\b(?:like|thumbs?[ -]?up|upvote)"
GIVE_A_LIKE = r"\b(?:give|leave|drop)\s+(?:it|this|me|my comment|this comment)\s+an?\s+" + LIKE_VERBS + r"\b"
SUB_FOR_SUB = r"\bsub(?:scribe)?\s*(?:4|for|2)\s*sub\b"
LIKE_AND_SUBSCRIBE = r"\blike\s*(?:and|&|n)\s*subscribe\b"
"""English requests for likes or subscribers; ``translate.py``'s glossary reuses them."""
_LIKES = LIKE_VERBS + r"\s+(?:this|my)\s+(?:comment|post|reply)"
_BAIT = re.compile(
    # an order, at the start of a sentence: "Like this comment for no reason", "👍 like my post"
    r"(?:^|[.!?:;)\n]|\bplease)[^\w]*" + _LIKES + r"\b"
    # a condition, anywhere: "... like this comment if you agree"
    r"|" + _LIKES + r"\s+if\b"
    r"|" + GIVE_A_LIKE +
    r"|" + SUB_FOR_SUB +
    r"|\bsubscribe\s+to\s+(?:me|my)\b"
    r"|" + LIKE_AND_SUBSCRIBE +
    r"|\blikez\s+(?:ce|mon)\s+(?:commentaire|message|post)\b"
    r"|(?:^|[.!?:;)\n])[^\w]*like\s+(?:ce|mon)\s+(?:commentaire|message|post)\b"
    r"|\bmett(?:ez|re)\s+un\s+(?:like|pouce)\b"
    r"|\babonne(?:z-vous|-toi)\s+(?:à|a)\s+(?:ma|mon)\b",
    re.IGNORECASE,
)
_CUES = ("like", "sub", "thumb", "upvote", "abonn", "pouce")
"""One of these appears in every match: most comments are ruled out without the regex."""


def asks_for_engagement(text: str) -> bool:
    lowered = text.lower()
    return any(cue in lowered for cue in _CUES) and _BAIT.search(text) is not None
