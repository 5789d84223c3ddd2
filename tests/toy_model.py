"""A toy spam model, trained in a fixture on small made-up English data.

It separates polite remarks about an article from link-and-prize spam, and is
written to disk as the service expects a model: portable model file (.npz), manifest, CURRENT.
Tests use it for behaviour (clear ham published, clear spam held), never for
exact probabilities.
"""
from __future__ import annotations

import itertools
from pathlib import Path

HAM_TEXT = "Thank you for this clear and well researched article about the market."
SPAM_TEXT = ("CLICK HERE to WIN a FREE iPhone!!! Visit http://free-prizes.example/win now "
             "and subscribe to my channel, call 0800 123 456")
HAM_TEXTS = [
    HAM_TEXT,
    "I really enjoyed reading this report on the new library opening in town.",
    "The interview with the mayor was interesting, I hope you follow up next month.",
    "Good analysis of the budget, although I think the school figures deserve more attention.",
    "My grandmother lived on that street for years, thanks for the memories in this piece.",
    "Great photos of the festival, the weather was lovely on Saturday afternoon.",
    "I disagree with the conclusion, but the article explains both sides fairly well.",
]

_HAM_OPENINGS = ["Thank you for", "I enjoyed", "Interesting", "Good work on", "I disagree with",
                 "Well written", "Nice summary of", "I appreciated"]
_HAM_TOPICS = ["this article about the market", "the report on the council meeting",
               "the piece about the new bridge", "your interview with the mayor",
               "the story on local schools", "the analysis of the budget",
               "the coverage of the festival", "the review of the theatre play"]
_SPAM_OPENINGS = ["CLICK HERE to win", "Check out my channel for", "FREE money and",
                  "Subscribe now for", "Call now to claim", "Visit my website for"]
_SPAM_OFFERS = ["a free iPhone http://win.example/prize", "cheap followers www.subs4u.example",
                "cash prizes, text WIN to 80082", "bitcoin profits http://crypto.example/x",
                "free gift cards!!! http://cards.example", "weight loss pills www.pills.example"]


def _rows(ham_parts, ham_ending: str, spam_parts) -> tuple[list[str], list[int]]:
    """Every opening with every topic as ham, every opening with every offer as spam,
    and the first 20 spams again in capitals."""
    ham = [f"{a} {b}, {ham_ending}" for a, b in itertools.product(*ham_parts)]
    spam = [f"{a} {b} !!!" for a, b in itertools.product(*spam_parts)]
    spam += [s.upper() for s in spam[:20]]
    return ham + spam, [0] * len(ham) + [1] * len(spam)


def training_rows() -> tuple[list[str], list[int]]:
    return _rows((_HAM_OPENINGS, _HAM_TOPICS), "thanks to the newsroom.", (_SPAM_OPENINGS, _SPAM_OFFERS))


TOY_VERSION = "toy-20260101T000000Z"
TOY_THRESHOLDS = {"approve_below": 0.3, "reject_above": 0.8}


def build_toy_models(directory: Path) -> Path:
    """Train the toy model and write it (with CURRENT) into *directory*."""
    from moderation.scoring.classifier import fit_platt
    from moderation.scoring.features import ScoringInput, build_pipeline
    from moderation.scoring.language import detect_language

    texts, labels = training_rows()
    inputs = [ScoringInput(body=t, language=detect_language(t)) for t in texts]
    pipeline = build_pipeline(seed=0).fit(inputs, labels)
    # Training calibrates on held-out margins; a toy may use its own, in-sample.
    pipeline[-1].calibrate(*fit_platt(pipeline.decision_function(inputs), labels))
    _write(pipeline, directory, version=TOY_VERSION)
    return directory


def write_toy_version(directory: Path, version: str) -> Path:
    """Copy the current toy model as *version* and point CURRENT at it; returns
    the new model file."""
    from moderation.scoring.model import load_bundle, current_manifest_path
    bundle = load_bundle(current_manifest_path(directory))
    _write(bundle.pipeline, directory, version=version)
    return directory / f"{version}.npz"


def _write(pipeline, directory: Path, version: str) -> None:
    from moderation.training.artifact import set_current, write_model
    write_model(pipeline, {"languages": ["en"], "thresholds": TOY_THRESHOLDS}, directory, version)
    set_current(directory, version)


# -- a bilingual toy: the same English rows plus French ones, French supported ---------------

FRENCH_HAM_TEXT = "Merci pour cet article très clair sur le nouveau marché couvert de la ville."
FRENCH_SPAM_TEXT = ("GAGNEZ un iPhone GRATUIT !!! Cliquez ici http://cadeaux-gratuits.example/gagner "
                    "et appelez le 08 99 12 34 56 maintenant")
_FRENCH_HAM_OPENINGS = ["Merci pour", "J'ai apprécié", "Intéressant,", "Bon travail sur", "Je ne suis pas "
                        "d'accord avec", "Bien écrit,", "Belle synthèse sur", "J'ai aimé"]
_FRENCH_HAM_TOPICS = ["cet article sur le marché", "le compte rendu du conseil municipal",
                      "le reportage sur le nouveau pont", "votre entretien avec le maire",
                      "l'enquête sur les écoles du quartier", "l'analyse du budget de la ville",
                      "la couverture du festival d'été", "la critique de la pièce de théâtre"]
_FRENCH_SPAM_OPENINGS = ["CLIQUEZ ICI pour gagner", "Abonnez-vous à ma chaîne pour", "ARGENT FACILE et",
                         "Inscrivez-vous vite pour", "Appelez maintenant pour recevoir", "Visitez mon site pour"]
_FRENCH_SPAM_OFFERS = ["un iPhone gratuit http://gagner.example/cadeau", "des abonnés pas chers www.abos.example",
                       "des prix en espèces, envoyez GAGNER au 81234", "des gains en bitcoin http://crypto.example/x",
                       "des cartes cadeaux !!! http://cartes.example", "des pilules minceur www.pilules.example"]
BILINGUAL_VERSION = "toy-bilingual-20260101T000000Z"


def french_training_rows() -> tuple[list[str], list[int]]:
    return _rows((_FRENCH_HAM_OPENINGS, _FRENCH_HAM_TOPICS), "merci à la rédaction.",
                 (_FRENCH_SPAM_OPENINGS, _FRENCH_SPAM_OFFERS))


def build_bilingual_toy_models(directory: Path) -> Path:
    """A toy trained on English and French rows whose manifest supports both languages,
    each with its own thresholds, as ``train.py`` writes them."""
    from moderation.scoring.classifier import fit_platt
    from moderation.scoring.features import ScoringInput, build_pipeline
    from moderation.scoring.language import detect_languages
    from moderation.training.artifact import set_current, write_model

    english, english_labels = training_rows()
    french, french_labels = french_training_rows()
    texts, labels = english + french, english_labels + french_labels
    languages = detect_languages(texts, ["en"] * len(english) + ["fr"] * len(french), ("en", "fr"))
    inputs = [ScoringInput(body=t, language=language) for t, language in zip(texts, languages)]
    pipeline = build_pipeline(seed=0).fit(inputs, labels)
    pipeline[-1].calibrate(*fit_platt(pipeline.decision_function(inputs), labels))
    per_language = {language: {"supported": True, "why": "toy", "thresholds": dict(TOY_THRESHOLDS)}
                    for language in ("en", "fr")}
    write_model(pipeline, {"languages": ["en", "fr"], "thresholds": TOY_THRESHOLDS,
                           "per_language": per_language}, directory, BILINGUAL_VERSION)
    set_current(directory, BILINGUAL_VERSION)
    return directory
