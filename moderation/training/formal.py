"""French machine translations addressed with « vous » instead of « tu ».

Apertium renders every English "you" as « tu », « te », « toi », « ton »
(English -> Catalan picks the familiar singular), while French readers and
spammers alike mostly write « vous » (« vous avez raison », « merci à vous »,
« vous avez gagné »). Trained on Apertium's French alone, a model sees « vous »
almost only where the spam terminology put it (``terminology.TERMS``:
« vous avez gagné », « abonnez-vous ») and learns it as a spam word.

Contract: ``to_vous(text)`` is ``text`` with the familiar second person turned
formal: subject « tu » and the verb after it (« tu as » -> « vous avez », « tu
ne peux pas » -> « vous ne pouvez pas », « tu penses » -> « vous pensez »,
« as-tu » -> « avez-vous »), « te »/« t' »/« toi » -> « vous », « ton »/« ta » ->
« votre », « tes » -> « vos », « le tien » -> « le vôtre ». Verbs it cannot
conjugate are left as they are. ``addressed_formally(source)`` says whether the
translation of the English ``source`` gets ``to_vous``: half of them
(``FORMAL_SHARE``, by sha256 of the source), so both « tu » and « vous » appear
in ham and in spam, as in French comments. Pure; nothing here runs at serving
time.
"""
from __future__ import annotations

import hashlib
import re

LANGUAGE = "fr"
"""The translations ``to_vous`` applies to."""
FORMAL_SHARE = 0.5

_IRREGULAR = {
    "es": "êtes", "as": "avez", "vas": "allez", "fais": "faites", "dis": "dites",
    "peux": "pouvez", "veux": "voulez", "sais": "savez", "dois": "devez", "vois": "voyez",
    "viens": "venez", "reviens": "revenez", "tiens": "tenez", "prends": "prenez",
    "comprends": "comprenez", "apprends": "apprenez", "mets": "mettez", "crois": "croyez",
    "reçois": "recevez", "connais": "connaissez", "sens": "sentez", "pars": "partez",
    "sors": "sortez", "dors": "dormez", "écris": "écrivez", "lis": "lisez", "bois": "buvez",
    "vis": "vivez", "suis": "suivez", "aies": "ayez", "sois": "soyez", "conviens": "convenez",
    "deviens": "devenez", "obtiens": "obtenez", "finis": "finissez", "choisis": "choisissez",
    "réfléchis": "réfléchissez", "réussis": "réussissez", "fuis": "fuyez", "cours": "courez",
    "ris": "riez", "meurs": "mourez", "perds": "perdez", "attends": "attendez",
    "entends": "entendez", "réponds": "répondez", "vends": "vendez", "défends": "défendez",
}
_PRONOUNS = {"toi": "vous", "te": "vous", "ton": "votre", "ta": "votre", "tes": "vos",
             "tien": "vôtre", "tienne": "vôtre", "tiens": "vôtres", "tiennes": "vôtres"}
_OBJECTS = r"(?:(?:me|m'|le|la|l'|les|lui|leur|nous|en|y|t'|te)\s*)*"
_SUBJECT = re.compile(r"(?<!-)\btu(\s+)((?:ne\s+|n')?)(" + _OBJECTS + r")([\w’-]+)", re.IGNORECASE)
_INVERTED = re.compile(r"\b(\w+)-tu\b", re.IGNORECASE)
_ELIDED = re.compile(r"\bt'(?=\w)", re.IGNORECASE)
_POSSESSIVE_AFTER_ARTICLE = re.compile(r"\b(le|la|les)\s+(tien|tienne|tiens|tiennes)\b", re.IGNORECASE)
_WORD = re.compile(r"\b(?:toi|te|ta|tes)\b|(?<!le )(?<!un )(?<!du )(?<!ce )\bton\b", re.IGNORECASE)
"""The other familiar words; « ton » after an article is the noun (« le ton »)."""


def conjugate(verb: str) -> str:
    """The second person plural of a verb given in the second person singular;
    ``verb`` itself when it is not one this module knows how to change."""
    lower = verb.lower()
    if lower in _IRREGULAR:
        return _case_like(verb, _IRREGULAR[lower])
    if len(lower) > 4 and lower.endswith("ais"):            # imperfect, conditional: étais, pourrais
        return verb[:-3] + "iez"
    if len(lower) > 4 and lower.endswith("ras"):            # future: seras, auras
        return verb[:-3] + "rez"
    if len(lower) > 3 and lower.endswith("es"):             # present of -er verbs: penses
        return verb[:-2] + "ez"
    return verb


def _case_like(model: str, word: str) -> str:
    return word.capitalize() if model[:1].isupper() else word


def _objects(objects: str) -> str:
    """Object pronouns after the subject, « te »/« t' » turned to « vous »."""
    objects = re.sub(r"\bte\b", "vous", objects, flags=re.IGNORECASE)
    return re.sub(r"\bt'", "vous ", objects, flags=re.IGNORECASE)


def to_vous(text: str) -> str:
    """``text`` addressed with « vous » (see module doc)."""
    def subject(match: re.Match) -> str:
        space, negation, objects, verb = match.groups()
        vous = _case_like(match.group()[:2], "vous")
        if negation.lower() == "n'":
            negation = "n'"
        return f"{vous}{space}{negation}{_objects(objects)}{conjugate(verb)}"

    text = _INVERTED.sub(lambda match: f"{conjugate(match.group(1))}-vous", text)
    text = _SUBJECT.sub(subject, text)
    text = _ELIDED.sub("vous ", text)
    text = _POSSESSIVE_AFTER_ARTICLE.sub(
        lambda m: f"{m.group(1)} {_PRONOUNS[m.group(2).lower()]}", text)
    return _WORD.sub(lambda m: _case_like(m.group(), _PRONOUNS[m.group().lower()]), text)


def addressed_formally(source: str) -> bool:
    """Whether the translation of ``source`` is turned to « vous » (see module doc)."""
    return hashlib.sha256(source.encode("utf-8")).digest()[0] < 256 * FORMAL_SHARE
