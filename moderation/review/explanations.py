"""Why the model scored a comment as it did, in words a moderator reads. Pure.

``ModelBundle.explain`` lists the features that moved a score most under the
model's internal names (``word:to me``, ``char:" fr"``, ``signal:has_link``,
``lang:en``) with their weights. ``readable_explanation`` turns a longer list
of them (ask ``explain`` for ``RAW_TOP`` items, more than are shown) into a few
reasons, each with a French and an English sentence:

- word n-grams and character n-grams become one ``words`` reason per
  direction: a character n-gram is credited to the word(s) of the comment that
  contain it (the text normalized as the model saw it: ``normalize_text``, then
  lower case; ``char:" fr"`` is a ``char_wb`` n-gram, its spaces mark the edges
  of a word). A word's weight is the sum of what its n-grams pushed, and the
  words pushing towards spam are listed apart from those pushing towards ham;
  adjacent words the model saw as a pair read as one phrase (``click here``);
- each signal becomes one sentence (``link_shortener`` -> "contains a shortened
  link"), said as present or absent, more or less than usual, from the
  comment's measured values when the caller gives them (``signal_measures``)
  and otherwise from the direction it pushed in; an unknown signal gets a
  generic sentence naming it. For a comment measured without any link, the
  link signals (``LINK_SIGNALS``) are said once, as "no link";
- the language indicator columns add up to one reason, "language: French",
  dropped when the net weight is under ``LANGUAGE_MIN_WEIGHT``.

Each reason is ``{"reason": code, "direction": "spam"|"ham", "weight": w,
"text": {"fr": ..., "en": ...}}`` (plus ``"words"`` for ``words``), strongest
first. Words come from the comment: show them as text, never as markup.
"""
from __future__ import annotations

import datetime
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..scoring.features import normalize_text

RAW_TOP = 40
"""How many raw features to ask ``explain`` for: several n-grams make one reason."""
LANGUAGE_MIN_WEIGHT = 0.05
"""The detected language is a reason only when it weighed at least this much."""
MAX_WORDS = 6
"""Words (or phrases) listed in one ``words`` reason; the weight counts them all."""
MAX_PHRASE_WORDS = 5
"""Adjacent words are read as one phrase up to this length."""
MAX_WORD_CHARS = 40
"""A longer word (a URL, a run of symbols) is cut, with an ellipsis."""
MIN_WEIGHT = 1e-4

SPAM, HAM = "spam", "ham"
WORDS = "words"
LANGUAGE = "language"
OTHER = "other"

_WORD = re.compile(r"(?u)\b\w\w+\b")
"""The word n-grams' tokens (scikit-learn's default ``token_pattern``)."""
_ANY_WORD = re.compile(r"\w+")
"""Every word, one letter included: a phrase shown must be read as such in the comment."""


@dataclass(frozen=True, slots=True)
class Measure:
    """A signal's value in one comment and, when known, its training average."""

    value: float
    usual: float | None = None


# -- signals ------------------------------------------------------------------
# Presence signals say "has it" / "has none"; level signals say "more" / "less"
# (than the training average when known). ``natural`` is the direction a present
# or high signal is expected to push in, used when no measure is given.

@dataclass(frozen=True, slots=True)
class _Signal:
    kind: str                      # "presence" or "level"
    yes: tuple[str, str]           # (fr, en) when present / high
    no: tuple[str, str]            # (fr, en) when absent / low
    natural: str = SPAM
    share_of: tuple[str, str] | None = None   # level as a percentage "of ..." (fr, en)


def _presence(yes_fr: str, yes_en: str, no_fr: str, no_en: str, natural: str = SPAM) -> _Signal:
    return _Signal("presence", (yes_fr, yes_en), (no_fr, no_en), natural)


def _level(yes_fr: str, yes_en: str, no_fr: str, no_en: str,
           share_of: tuple[str, str] | None = None) -> _Signal:
    return _Signal("level", (yes_fr, yes_en), (no_fr, no_en), SPAM, share_of)


_REFERENCE = _presence("cite une source connue (presse, encyclopédie, organisme public)",
                       "links to a known source (news, encyclopaedia, public body)",
                       "ne cite aucune source connue", "links to no known source", natural=HAM)

SIGNALS: dict[str, _Signal] = {
    "has_link": _presence("contient un lien", "contains a link", "aucun lien", "no link"),
    "link_count": _level("plus de liens que d'habitude", "more links than usual",
                         "moins de liens que d'habitude", "fewer links than usual"),
    "link_shortener": _presence("contient un lien raccourci", "contains a shortened link",
                                "aucun lien raccourci", "no shortened link"),
    "link_reference": _REFERENCE,
    "link_news": _REFERENCE,
    "link_other": _presence("contient un lien vers un site non répertorié",
                            "contains a link to an unlisted site",
                            "aucun lien vers un site non répertorié", "no link to an unlisted site"),
    "link_text_share": _level("beaucoup de texte en liens", "much of the text is links",
                              "peu ou pas de texte en liens", "little or none of the text is links",
                              share_of=("du texte", "of the text")),
    "email_count": _presence("contient une adresse e-mail", "contains an e-mail address",
                             "aucune adresse e-mail", "no e-mail address"),
    "phone_count": _presence("contient un numéro de téléphone", "contains a phone number",
                             "aucun numéro de téléphone", "no phone number"),
    "digit_ratio": _level("beaucoup de chiffres", "many digits", "peu de chiffres", "few digits",
                          share_of=("des caractères", "of characters")),
    "uppercase_ratio": _level("beaucoup de majuscules", "many capital letters",
                              "peu de majuscules", "few capital letters",
                              share_of=("des lettres", "of letters")),
    "symbol_ratio": _level("beaucoup de symboles ou d'émojis", "many symbols or emoji",
                           "peu de symboles ou d'émojis", "few symbols or emoji",
                           share_of=("des caractères", "of characters")),
    "repeated_char_runs": _presence("caractères répétés", "repeated characters",
                                    "aucun caractère répété", "no repeated characters"),
    "length": _level("commentaire plus long que d'habitude", "longer than usual",
                     "commentaire plus court que d'habitude", "shorter than usual"),
    "author_name_has_url": _presence("le nom de l'auteur contient une adresse web",
                                     "the author's name contains a web address",
                                     "nom d'auteur sans adresse web",
                                     "the author's name has no web address"),
    "author_name_has_digits": _presence("le nom de l'auteur contient des chiffres",
                                        "the author's name contains digits",
                                        "nom d'auteur sans chiffres", "the author's name has no digits"),
    "author_email_disposable": _presence("adresse e-mail jetable", "disposable e-mail address",
                                         "adresse e-mail non jetable",
                                         "the e-mail address is not disposable"),
    "engagement_bait": _presence("réclame des « j'aime » ou des abonnés",
                                 "asks for likes or subscribers",
                                 "ne réclame ni « j'aime » ni abonnés",
                                 "asks for no likes or subscribers"),
}
"""The signals of ``moderation.scoring.features.SIGNAL_NAMES`` (and ``link_news``), in words."""
LINK_SIGNALS = frozenset({"has_link", "link_count", "link_shortener", "link_reference", "link_news",
                          "link_other", "link_text_share"})
"""Said once, as "no link", for a comment without any."""
_RUN = re.compile(r"(.)\1{2,}")
MAX_RUNS_SHOWN = 2
MAX_RUN_CHARS = 10


def _runs(text: str) -> list[str]:
    """The first runs of one character repeated 3 times or more (``!!!``), each once."""
    found: list[str] = []
    for match in _RUN.finditer(normalize_text(text)):
        run = match.group()
        run = run if len(run) <= MAX_RUN_CHARS else run[:MAX_RUN_CHARS - 1] + "…"
        if run not in found:
            found.append(run)
        if len(found) == MAX_RUNS_SHOWN:
            break
    return found


def _percent(value: float) -> str:
    return f"{round(max(0.0, min(1.0, value)) * 100)}"


def _signal_text(name: str, direction: str, measure: Measure | None,
                 text: str) -> dict[str, str]:
    known = SIGNALS.get(name)
    if known is None:
        label = " ".join(name.replace("_", " ").split()) or "?"
        return {"fr": f"indice « {label} »", "en": f"cue \"{label}\""}
    if measure is not None and known.kind == "presence":
        high = measure.value > 0
    elif measure is not None and measure.usual is not None:
        high = measure.value > measure.usual
    else:
        high = direction == known.natural
    fr, en = known.yes if high else known.no
    if name == "length" and measure is None:
        # without a measure "longer/shorter than usual" would be a guess: state the length
        fr, en = "longueur du commentaire", "comment length"
    if name == "length" and text:
        characters = len(normalize_text(text))
        fr, en = f"{fr} ({characters} caractères)", f"{en} ({characters} characters)"
    elif name == "repeated_char_runs" and high and text:
        runs = _runs(text)
        if runs:
            fr = f"{fr} : {', '.join(f'« {r} »' for r in runs)}"
            en = f"{en}: {', '.join(f'{chr(34)}{r}{chr(34)}' for r in runs)}"
    elif known.share_of is not None and measure is not None and measure.value > 0:
        share = _percent(measure.value)
        fr, en = f"{fr} ({share} % {known.share_of[0]})", f"{en} ({share}% {known.share_of[1]})"
    return {"fr": fr, "en": en}


# -- languages ----------------------------------------------------------------

LANGUAGE_NAMES: dict[str, tuple[str, str]] = {
    "fr": ("français", "French"), "en": ("anglais", "English"), "es": ("espagnol", "Spanish"),
    "de": ("allemand", "German"), "it": ("italien", "Italian"), "pt": ("portugais", "Portuguese"),
    "nl": ("néerlandais", "Dutch"), "ca": ("catalan", "Catalan"), "ro": ("roumain", "Romanian"),
    "pl": ("polonais", "Polish"), "cs": ("tchèque", "Czech"), "sk": ("slovaque", "Slovak"),
    "hu": ("hongrois", "Hungarian"), "sv": ("suédois", "Swedish"), "da": ("danois", "Danish"),
    "no": ("norvégien", "Norwegian"), "fi": ("finnois", "Finnish"), "et": ("estonien", "Estonian"),
    "lv": ("letton", "Latvian"), "lt": ("lituanien", "Lithuanian"), "sl": ("slovène", "Slovenian"),
    "hr": ("croate", "Croatian"), "sq": ("albanais", "Albanian"), "el": ("grec", "Greek"),
    "tr": ("turc", "Turkish"), "ru": ("russe", "Russian"), "uk": ("ukrainien", "Ukrainian"),
    "bg": ("bulgare", "Bulgarian"), "mk": ("macédonien", "Macedonian"), "ar": ("arabe", "Arabic"),
    "fa": ("persan", "Persian"), "ur": ("ourdou", "Urdu"), "he": ("hébreu", "Hebrew"),
    "hi": ("hindi", "Hindi"), "bn": ("bengali", "Bengali"), "ta": ("tamoul", "Tamil"),
    "zh-cn": ("chinois", "Chinese"), "zh-tw": ("chinois", "Chinese"), "ja": ("japonais", "Japanese"),
    "ko": ("coréen", "Korean"), "vi": ("vietnamien", "Vietnamese"), "th": ("thaï", "Thai"),
    "id": ("indonésien", "Indonesian"), "tl": ("tagalog", "Tagalog"), "sw": ("swahili", "Swahili"),
    "so": ("somali", "Somali"), "af": ("afrikaans", "Afrikaans"), "cy": ("gallois", "Welsh"),
}


def _language_name(code: str) -> tuple[str, str]:
    return LANGUAGE_NAMES.get(code, (code, code))


def _language_text(code: str, own: bool, language: str) -> dict[str, str]:
    """``code`` is a column of the language indicator; ``own`` whether it is the comment's."""
    if code == "unknown":
        return ({"fr": "langue non reconnue", "en": "language not recognised"} if own else
                {"fr": "langue reconnue", "en": "language recognised"})
    if code == "other":
        if not own:
            return {"fr": "langue courante", "en": "a common language"}
        if language and language not in ("other", "unknown"):
            fr, en = _language_name(language)
            return {"fr": f"langue peu courante : {fr}", "en": f"uncommon language: {en}"}
        return {"fr": "langue peu courante", "en": "uncommon language"}
    fr, en = _language_name(code)
    if own:
        return {"fr": f"langue : {fr}", "en": f"language: {en}"}
    return {"fr": f"pas en {fr}", "en": f"not in {en}"}


# -- words ----------------------------------------------------------------------

def _shorten(word: str) -> str:
    return word if len(word) <= MAX_WORD_CHARS else word[:MAX_WORD_CHARS - 1] + "…"


class _Text:
    """The comment as the model's n-grams saw it: normalized, lower case."""

    def __init__(self, text: str):
        self.lowered = normalize_text(text or "").lower()
        self.chunks = self.lowered.split()           # what char_wb pads with spaces
        self.sequence = f" {' '.join(_ANY_WORD.findall(self.lowered))} "

    def has_phrase(self, words: Sequence[str]) -> bool:
        return f" {' '.join(words)} " in self.sequence

    def words_with(self, ngram: str) -> list[str]:
        """The words whose letters make up ``ngram`` (a ``char_wb`` n-gram), in
        text order, each once; a chunk with no word in the n-gram (``!!!``) as
        itself."""
        found: list[str] = []
        for chunk in self.chunks:
            padded = f" {chunk} "
            start = padded.find(ngram)
            while start >= 0:
                # the n-gram's span inside the chunk (the padding spaces are outside it)
                low, high = max(0, start - 1), min(len(chunk), start - 1 + len(ngram))
                inside = [m.group() for m in _WORD.finditer(chunk) if m.start() < high and m.end() > low]
                for word in inside or [chunk]:
                    if word not in found:
                        found.append(word)
                start = padded.find(ngram, start + 1)
        return found


def _char_ngram(feature: str) -> str | None:
    """``char:" fr"`` -> `` fr``; None when it is not quoted as ``features`` writes it."""
    body = feature[len("char:"):]
    if len(body) >= 2 and body[0] == body[-1] == '"':
        return body[1:-1]
    return None


def _phrases(terms: Mapping[tuple[str, ...], float], text: _Text) -> list[tuple[str, ...]]:
    """The terms (words or word pairs) strongest first, adjacent ones joined
    into phrases that occur in the text, each word shown once."""
    phrases: list[tuple[str, ...]] = []
    for term in sorted(terms, key=lambda t: -abs(terms[t])):
        if any(_contains(phrase, term) for phrase in phrases):
            continue
        for index, phrase in enumerate(phrases):
            joined = _join(phrase, term, text)
            if joined is not None:
                phrases[index] = joined
                phrases = [p for i, p in enumerate(phrases) if i == index or not _contains(joined, p)]
                break
        else:
            phrases.append(term)
    return phrases


def _contains(phrase: tuple[str, ...], term: tuple[str, ...]) -> bool:
    size = len(term)
    return any(phrase[i:i + size] == term for i in range(len(phrase) - size + 1))


def _join(phrase: tuple[str, ...], term: tuple[str, ...], text: _Text) -> tuple[str, ...] | None:
    """``phrase`` and ``term`` as one phrase of the text, when they overlap or
    one holds the other; None otherwise."""
    candidates = []
    if _contains(term, phrase):
        candidates.append(term)
    for overlap in range(min(len(phrase), len(term)) - 1, 0, -1):
        if phrase[-overlap:] == term[:overlap]:
            candidates.append(phrase + term[overlap:])
        if term[-overlap:] == phrase[:overlap]:
            candidates.append(term + phrase[overlap:])
    for candidate in candidates:
        if len(candidate) <= MAX_PHRASE_WORDS and text.has_phrase(candidate):
            return candidate
    return None


def _words_reason(direction: str, weight: float, terms: Mapping[tuple[str, ...], float],
                  text: _Text) -> dict[str, Any]:
    phrases = _phrases(terms, text)
    shown = [_shorten(" ".join(p)) for p in phrases[:MAX_WORDS]]
    listed = ", ".join(shown) + (", …" if len(phrases) > MAX_WORDS else "")
    if not shown:
        sentence = {"fr": "des morceaux de mots", "en": "parts of words"}
    elif len(phrases) == 1 and " " not in shown[0]:
        # not "word: x", which would read like the model's own name for it
        sentence = {"fr": f"le mot « {listed} »", "en": f"the word \"{listed}\""}
    else:
        sentence = {"fr": f"mots : {listed}", "en": f"words: {listed}"}
    return {"reason": WORDS, "direction": direction, "weight": weight, "text": sentence,
            "words": shown}


# -- the whole explanation ----------------------------------------------------------

def _direction(weight: float) -> str:
    return SPAM if weight > 0 else HAM


def _raw_items(raw: Iterable[Any]) -> list[tuple[str, float]]:
    """``(feature, weight)`` of the well-formed items of an ``explain`` answer."""
    items = []
    for entry in raw or ():
        if not isinstance(entry, Mapping):
            continue
        feature, weight = entry.get("feature"), entry.get("weight")
        if not isinstance(feature, str) or isinstance(weight, bool) \
                or not isinstance(weight, (int, float)) or not math.isfinite(weight):
            continue
        items.append((feature, float(weight)))
    return items


def readable_explanation(raw: Sequence[Mapping[str, Any]], text: str, language: str, top: int,
                         *, signals: Mapping[str, Measure] | None = None) -> list[dict[str, Any]]:
    """At most ``top`` reasons a moderator reads, strongest first (see the module doc).

    ``raw`` is ``ModelBundle.explain(item, RAW_TOP)``; ``text`` the comment's
    body and ``language`` its detected language; ``signals`` (optional) the
    comment's signal values and their training averages (``signal_measures``).
    """
    if top <= 0:
        return []
    items = _raw_items(raw)
    seen = _Text(text)
    signals = signals or {}
    reasons: list[dict[str, Any]] = []
    terms: dict[tuple[str, ...], float] = {}        # word or word pair -> net weight
    unplaced = {SPAM: 0.0, HAM: 0.0}                # char n-grams found in no word
    language_codes = {f[len("lang:"):] for f, _ in items if f.startswith("lang:")}
    language_weight = 0.0
    for feature, weight in items:
        kind, _, name = feature.partition(":")
        if kind == "word" and name.strip():
            key = tuple(name.split())
            # "win free" from "win a free": the model skips one-letter words, a phrase shown may not
            keys = [key] if len(key) == 1 or seen.has_phrase(key) else [(w,) for w in key]
            for key in keys:
                terms[key] = terms.get(key, 0.0) + weight / len(keys)
        elif kind == "char":
            ngram = _char_ngram(feature)
            words = seen.words_with(ngram) if ngram else []
            if not words:
                unplaced[_direction(weight)] += weight
            for word in words:
                terms[(word,)] = terms.get((word,), 0.0) + weight / len(words)
        elif kind == "signal":
            direction = _direction(weight)
            reasons.append({"reason": name or OTHER, "direction": direction, "weight": weight,
                            "text": _signal_text(name, direction, signals.get(name), text)})
        elif kind == "lang":
            language_weight += weight
        else:
            label = feature.strip() or "?"
            reasons.append({"reason": OTHER, "direction": _direction(weight), "weight": weight,
                            "text": {"fr": f"autre indice : {label}", "en": f"other cue: {label}"}})
    has_link = signals.get("has_link")
    if has_link is not None and has_link.value <= 0:
        reasons = _fold_links(reasons)
    if abs(language_weight) >= LANGUAGE_MIN_WEIGHT:
        # One net reason: the indicator columns of a comment add up (not French and English
        # pull against each other for a French comment); alone, each would mislead.
        own = language if language in language_codes else "other"
        reasons.append({"reason": LANGUAGE, "direction": _direction(language_weight), "weight": language_weight,
                        "text": _language_text(own, True, language)})
    for direction in (SPAM, HAM):
        chosen = {t: w for t, w in terms.items() if abs(w) >= MIN_WEIGHT and _direction(w) == direction}
        total = sum(chosen.values()) + unplaced[direction]
        if abs(total) >= MIN_WEIGHT:
            reasons.append(_words_reason(direction, total, chosen, seen))
    reasons = [r for r in reasons if abs(r["weight"]) >= MIN_WEIGHT]
    reasons.sort(key=lambda r: -abs(r["weight"]))
    for reason in reasons:
        reason["weight"] = round(reason["weight"], 4)
    return reasons[:top]


def _fold_links(reasons: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """For a comment without any link: its link signals as the one reason "no link"."""
    links = [r for r in reasons if r["reason"] in LINK_SIGNALS]
    if all(r["reason"] == "has_link" for r in links):    # nothing to fold
        return reasons
    weight = sum(r["weight"] for r in links)
    folded = {"reason": "has_link", "direction": _direction(weight), "weight": weight,
              "text": {"fr": SIGNALS["has_link"].no[0], "en": SIGNALS["has_link"].no[1]}}
    return [r for r in reasons if r["reason"] not in LINK_SIGNALS] + [folded]


def signal_measures(pipeline: Any, item: Any) -> dict[str, Measure]:
    """The signal values of ``item`` (a ``ScoringInput``) in a fitted scoring
    pipeline, with their training averages; empty when the pipeline has no
    ``signal`` block of the usual shape (the explanation then goes by direction)."""
    try:
        blocks = dict(pipeline.named_steps["features"].transformer_list)
        block = blocks["signal"]
        normalized = pipeline.named_steps["normalize"].transform([item])
        values = block.transform(normalized).toarray()[0]
        names = list(block.get_feature_names_out())
        usual = list(getattr(block, "means_", [None] * len(names)))
    except Exception:   # another layout: no measures, never a failed explanation
        return {}
    if not (len(names) == len(values) == len(usual)):
        return {}
    return {str(name): Measure(float(value), None if mean is None else float(mean))
            for name, value, mean in zip(names, values, usual)}


# -- surge mode (moderation.surge) ----------------------------------------------------

SURGE = "surge"
"""The reason code of a comment held because its thread was in surge mode."""


def _utc(at: float) -> str:
    return datetime.datetime.fromtimestamp(at, datetime.timezone.utc).strftime("%Y-%m-%d %H:%M")


def _span(seconds: float) -> tuple[str, str]:
    """A window's length, (fr, en): ``10 min``, ``45 s``, ``2 h``."""
    if seconds >= 3600 and seconds % 3600 == 0:
        value = f"{seconds / 3600:g} h"
    elif seconds >= 60 and seconds % 60 == 0:
        value = f"{seconds / 60:g} min"
    else:
        value = f"{seconds:g} s"
    return value, value


def surge_explanation(surge: Any, *, now: float) -> dict[str, Any]:
    """Why a comment with reason ``surge`` waits, in French and English:
    ``{"reason": "surge", "text": {"fr": ..., "en": ...}}``. *surge* is the
    thread's :class:`~moderation.surge.ThreadSurge` the comment came in (or one
    of its rows, for a thread's history); None when it is no longer known."""
    if surge is None:
        return {"reason": SURGE, "text": {
            "fr": "Ce fil était en afflux à l'arrivée de ce commentaire : les commentaires dont le "
                  "modèle n'est pas sûr et ceux des auteurs sans commentaire publié sur le site "
                  "attendent un modérateur.",
            "en": "This thread was in surge mode when this comment came: comments the model is "
                  "unsure of and comments from authors with no published comment on the site wait "
                  "for a moderator."}}
    window_fr, window_en = _span(surge.window_seconds)
    if surge.baseline is None:
        usual_fr = (f"seuil {surge.threshold} ; le site n'avait pas encore assez d'historique "
                    "pour un rythme habituel")
        usual_en = (f"threshold {surge.threshold}; the site had too little history yet for a "
                    "usual rate")
    else:
        usual_fr = (f"les fils animés du site en reçoivent d'habitude {surge.baseline:g} ; "
                    f"seuil {surge.threshold}")
        usual_en = f"the site's busy threads usually get {surge.baseline:g}; threshold {surge.threshold}"
    figures_fr = f"{surge.comments} commentaires en {window_fr} ({usual_fr})"
    figures_en = f"{surge.comments} comments in {window_en} ({usual_en})"
    ended = surge.ended(now)
    if ended is None:
        fr = (f"Afflux sur ce fil : {figures_fr}. Jusqu'à {_utc(surge.until)} UTC, les commentaires "
              "dont le modèle n'est pas sûr et ceux des auteurs sans commentaire publié sur le site "
              "attendent un modérateur.")
        en = (f"Surge on this thread: {figures_en}. Until {_utc(surge.until)} UTC, comments the "
              "model is unsure of and comments from authors with no published comment on the site "
              "wait for a moderator.")
    else:
        fr = (f"Afflux sur ce fil du {_utc(surge.started_at)} au {_utc(ended)} UTC : {figures_fr}. "
              "Pendant ce temps, les commentaires dont le modèle n'était pas sûr et ceux des auteurs "
              "sans commentaire publié sur le site ont attendu un modérateur.")
        en = (f"Surge on this thread from {_utc(surge.started_at)} to {_utc(ended)} UTC: "
              f"{figures_en}. Meanwhile, comments the model was unsure of and comments from authors "
              "with no published comment on the site waited for a moderator.")
    return {"reason": SURGE, "text": {"fr": fr, "en": en}}
