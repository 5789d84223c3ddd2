"""Spam's vocabulary, put into French the way French spam says it, for Apertium.

Contract: ``NUMBER_TERMS[target]`` and ``TERMS[target]`` list English words and
phrases (compiled, case insensitive) with the French a commenter would write for
them; ``translate.py`` runs each list in order, a match being held out of the
next patterns at once, and puts each match in the translation as that French
instead of Apertium's. ``NUMBER_TERMS`` read the phone number or short code that
follows them, so they run before numbers and links are held out of translation;
``TERMS`` run after, so no link loses its words. ``term_count(target)`` counts both.

Why: Apertium goes English -> Catalan -> French, and on comment spam it picks the
wrong sense of the words that make spam spam: "you have won" comes out « tu as
vaincu », "free" « libre », "check out my channel" « constater mon canal »,
"subscribe" « souscrire », "gift card" « carte de don », "claim" « affirmer ».
A model trained on that learns « constate » and « canal » as French spam and has
never seen « gagné », « gratuit », « chaîne » or « abonnez-vous ». Each entry
below was written from Apertium's output on the English spam of the training
data (YouTube and SMS collections). Patterns are narrow where the English word
has a common ordinary sense that Apertium gets right ("free speech", "I don't
subscribe to that", "won't"); elsewhere the French is right for ham too ("win the
election" -> « gagner », "a TV channel" -> « chaîne »).
"""
from __future__ import annotations

import re

_NOT_FREE = (r"speech|markets?|press|trade|will|world|countr(?:y|ies)|society|people|nations?|"
             r"enterprise|elections?|agents?|range|thinking|thought|time|state|men|women|man|"
             r"spirit|floating|rein|hand|to|from|of|and|or")
"""What follows "free" where it means « libre », which Apertium already says."""

_FRENCH: tuple[tuple[str, str], ...] = (
    # prizes and money
    (r"\byou(?:'ve|\s+have)\s+(?:just\s+)?won\b|\byou\s+won\b", "vous avez gagné"),
    (r"\bI\s+(?:have\s+|'ve\s+)?won\b", "j'ai gagné"),
    (r"\b(?:has|have|had)\s+(?:just\s+)?won\b|\bwon\b(?!['’]t)", "a gagné"),
    (r"\bwin\b", "gagner"),
    (r"\bwinners?\b|\bwinning\b", "gagnant"),
    (r"\bgift\s*cards?\b", "carte cadeau"),
    (r"\b(?:gift\s+)?vouchers?\b", "bon d'achat"),
    (r"\bgifts?\b", "cadeau"),
    (r"\bfree\s+of\s+charge\b|\bfor\s+free\b", "gratuitement"),
    (r"\bfeel\s+free\b", "n'hésitez pas"),
    (r"(?<![-\w])free\b(?![-\s]+(?:" + _NOT_FREE + r")\b)", "gratuit"),
    (r"\bto\s+claim\b", "pour réclamer"),
    (r"\bclaim\b(?=\s+(?:your|ur|yr|now|it|a|the|this|free|prize|reward|code|\w*\d))", "réclamez"),
    (r"\burgent\b", "urgent"),
    (r"\bringtones?\b", "sonnerie"),
    # calls to action
    (r"\bcheck\s+(?:(?:it|me|us|them|this)\s+)?out\b", "allez voir"),
    (r"\bclick\b", "cliquez"),
    (r"\breply\b(?=\s+(?:yes|no|stop|now|with)\b)", "répondez"),
    (r"\bvisit\s+my\b", "visitez mon"),
    (r"\bvisit\s+our\b", "visitez notre"),
    (r"\bwatch\s+(?:my|our)\s+(?:new\s+)?videos?\b", "regardez ma vidéo"),
    (r"\bwatch\s+this\s+videos?\b", "regardez cette vidéo"),
    (r"\bfollow\s+me\b", "suivez-moi"),
    (r"\b(?:hi|hey|hello)\s+guys\b", "salut les gars"),
    # subscriptions and channels (in this order: a match is replaced before the next pattern runs)
    (r"\bsubscribers\b|\bsubs\b", "abonnés"),
    (r"\bsubscriber\b|\bsubscribed\b", "abonné"),
    (r"\bsubscriptions?\b", "abonnement"),
    (r"\bsubscribe\b(?=\s*(?:to\s+(?:my|me|our|us|him|her|them|this\s+channel)\b|[!.,?]|$"
     r"|(?:and|&|pls|please|plz|for|back|now|guys)\b))", "abonnez-vous"),
    (r"\bchannels\b", "chaînes"),
    (r"\bchannel\b", "chaîne"),
)

_FRENCH_BEFORE_NUMBERS: tuple[tuple[str, str], ...] = (
    (r"\bcall\b(?=\s+(?:now\s+|us\s+|me\s+)?(?:on\s+)?[+(]?\d)", "appelez le"),
    (r"\b(?:text|txt|send)\b(?=\s+\S+\s+to\s+\d{4,}\b)", "envoyez"),
    (r"\bto\b(?=\s+\d{5,}\b)", "au"),
)


def _compiled(entries: tuple[tuple[str, str], ...]) -> tuple[tuple[re.Pattern, str], ...]:
    return tuple((re.compile(pattern, re.IGNORECASE), french) for pattern, french in entries)


NUMBER_TERMS: dict[str, tuple[tuple[re.Pattern, str], ...]] = {"fr": _compiled(_FRENCH_BEFORE_NUMBERS)}
TERMS: dict[str, tuple[tuple[re.Pattern, str], ...]] = {"fr": _compiled(_FRENCH)}


def term_count(target: str) -> int:
    """How many English words and phrases are put into ``target`` this way."""
    return len(NUMBER_TERMS.get(target, ())) + len(TERMS.get(target, ()))
