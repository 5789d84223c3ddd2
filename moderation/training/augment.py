"""Ham with links, as news readers write it: training rows made from real ham.

The public training ham (YouTube comments, SMS) almost never carries a link,
so a model trained on it alone learns that any link means spam, and holds the
reader who cites an article. ``with_links`` copies a share of the ham rows and
adds one ordinary link to each copy, the way readers do: a source after an
argument, a reference in brackets, a "see ...", or a line of their own and the
link. 40 % of the links go to well-known newspapers and reference sites, 35 % to
ordinary unlisted sites (a town hall, a club, a blog) and 25 % to news-like
sites made up for the purpose, mostly ``.com`` as real ones are; paths take the
shapes news sites use (dated, numbered, ``.html``); schemes are ``https://``,
``http://`` or none. The model thus learns that a link is not spam by itself,
without learning that an unlisted domain is, nor a dozen hosts by heart.

Measured on real reader comments that cite a link (the Globe and Mail replies of
the UCC corpus, never trained on: 121 with a link), with the n-grams blind to
links' schemes: 34.7 % published and 6.6 % held as spam when the copies cited
26 hosts, with ``https://`` or no scheme, after the whole text; 48.8 % and
0.8 % with the copies made as above.

Contract: the same rows, share and seed give the same copies. The copies are
ham (label 0) and belong to the group and thread of the row they were made
from, so held-out evaluation keeps them with it.
"""
from __future__ import annotations

import random
import re
from collections.abc import Sequence

from moderation.scoring.features import ScoringInput

DEFAULT_LINK_SHARE = 0.15
"""About the share of news-site reader comments that cite a link (the model card
compares held-out ham with a link and without one)."""

REFERENCE_HOSTS = {
    "en": ("www.bbc.co.uk/news", "www.theguardian.com/world", "www.nytimes.com", "apnews.com/article",
           "www.reuters.com/world", "en.wikipedia.org/wiki", "www.npr.org/sections/news", "www.cbc.ca/news",
           "www.gov.uk/government/publications", "www.census.gov/library", "www.oregonlive.com/politics",
           "www.seattletimes.com/seattle-news", "theconversation.com", "www.washingtonpost.com/politics"),
    "fr": ("www.lemonde.fr/politique/article", "www.francetvinfo.fr/societe", "fr.wikipedia.org/wiki",
           "www.ouest-france.fr/bretagne", "www.liberation.fr/societe", "www.lefigaro.fr/actualite-france",
           "www.legifrance.gouv.fr/jorf/id", "www.insee.fr/fr/statistiques", "www.service-public.fr/particuliers",
           "www.sudouest.fr/gironde", "www.ladepeche.fr/article", "www.radiofrance.fr/franceinter",
           "www.senat.fr/rap", "www.lavoixdunord.fr/region"),
}
ORDINARY_HOSTS = {
    "en": ("www.springfieldcitycouncil.org/minutes", "riversidecyclingclub.org/news", "www.lakeviewschools.net",
           "medium.com/@jkellerman", "www.countyhistory.org/archive", "transitwatch.blogspot.com",
           "www.ourtownlibrary.org/events", "www.localfarmersmarket.com", "github.com/opendata-city",
           "www.youtube.com/watch?v=Jx8cR2lZ4aQ", "www.hillsidetenants.org", "docs.google.com/document/d"),
    "fr": ("www.mairie-saint-herblain.fr/actualites", "www.ville-rennes.fr/deliberations",
           "www.cyclistes-nantais.org/blog", "www.comite-quartier-nord.fr", "blog.jardins-partages.fr",
           "www.association-usagers-tram.fr", "www.bibliotheque-lannion.fr", "www.youtube.com/watch?v=Qm3dT7pXb1c",
           "www.asso-riverains-gare.org/compte-rendu", "www.paroisse-saint-pierre.fr", "www.marche-bio-vannes.fr",
           "framablog.org"),
}
SITE_NAME_PARTS = {
    "en": (("daily", "city", "valley", "national", "metro", "policy", "science", "history", "climate", "energy",
            "health", "market", "tech", "law", "capital", "northern", "coastal", "prairie", "civic", "world"),
           ("news", "times", "post", "review", "today", "report", "journal", "herald", "watch", "insider",
            "magazine", "tribune", "chronicle", "observer", "digest", "matters", "blog", "wire", "press", "facts")),
    "fr": (("actu", "info", "journal", "hebdo", "citoyen", "region", "quotidien", "echo", "courrier", "presse",
            "ville", "campagne", "sciences", "histoire", "climat", "sante", "eco", "droit", "terre", "monde"),
           ("infos", "actu", "hebdo", "matin", "soir", "direct", "magazine", "plus", "local", "express",
            "reporter", "decrypte", "mag", "revue", "dossiers", "regards", "libre", "nouvelles", "citoyenne", "web")),
}
SITE_ENDINGS = {
    "en": (".com",) * 6 + (".org", ".org", ".net", ".ca", ".co.uk", ".com.au"),
    "fr": (".fr",) * 5 + (".com", ".com", ".org", ".info", ".be", ".ch", ".ca"),
}
"""Unlisted sites are made up from these parts (``www.valleytimes.com``), so that the
model meets many unlisted news-like hosts, mostly ``.com`` as real ones are, and
learns that an unlisted host is not spam by itself, rather than learning a dozen."""
TEMPLATES = {
    "en": ("{text} Source: {url}", "{text} See {url}", "{text} ({url})", "{url} {text}",
           "{text} More here: {url}", "{text} The report is at {url}", "{text}\n{url}",
           "{lead} {url}", "{lead}: {url}", "From the article: {url} {lead}"),
    "fr": ("{text} Source : {url}", "{text} Voir {url}", "{text} ({url})", "{url} {text}",
           "{text} Plus d'infos : {url}", "{text} Le rapport est ici : {url}", "{text}\n{url}",
           "{lead} {url}", "{lead} : {url}", "Dans l'article : {url} {lead}"),
}
"""``{lead}`` is the first few words of the text: readers often post a link with
a line of their own, so the link is most of the comment."""
_WORD = re.compile(r"[^\W\d_]{3,}")


def _slug(text: str, rng: random.Random) -> str:
    words = [word.lower() for word in _WORD.findall(text)][:12]
    rng.shuffle(words)
    slug = "-".join(words[: rng.randint(2, 6)]) or "article"
    return f"{rng.randint(2015, 2026)}/{rng.randint(1, 12):02d}/{slug}" if rng.random() < 0.5 else slug


def _site(language: str, rng: random.Random) -> str:
    first, second = SITE_NAME_PARTS[language]
    name = rng.choice(first) + rng.choice(("", "-")) + rng.choice(second)
    return ("www." if rng.random() < 0.7 else "") + name + rng.choice(SITE_ENDINGS[language])


def _path(text: str, rng: random.Random) -> str:
    """A path as news sites write them: dated, numbered, ``.html``, sections."""
    slug = _slug(text, rng)
    shape = rng.random()
    if shape < 0.25:
        return f"/{slug}"
    if shape < 0.45:
        section = rng.choice(("news", "politics", "world", "opinion", "local", "article"))
        return f"/{section}/{slug}-{rng.randint(1000, 99999999)}"
    if shape < 0.65:
        return f"/{slug}.html"
    if shape < 0.8:
        return f"/{slug}/article{rng.randint(10000, 39999999)}/"
    return f"/{slug}?id={rng.randint(100, 999999)}"


def link_for(text: str, language: str, rng: random.Random) -> str:
    """One plausible link a reader might cite under ``text``."""
    language = language if language in REFERENCE_HOSTS else "en"
    kind = rng.random()
    if kind < 0.4:
        host = rng.choice(REFERENCE_HOSTS[language])
    elif kind < 0.75:
        host = rng.choice(ORDINARY_HOSTS[language])
    else:
        host = _site(language, rng)
    scheme = rng.random()
    scheme = "https://" if scheme < 0.55 else "http://" if scheme < 0.85 else ""
    if not scheme and not host.startswith("www."):
        scheme = "https://"    # without either, "apnews.com/x" is a link but "cbc.ca/x" is not
    path = "" if "?" in host else _path(text, rng)
    return f"{scheme}{host}{path}"


def with_links(inputs: Sequence[ScoringInput], labels: Sequence[int], share: float,
               seed: int = 0) -> tuple[list[ScoringInput], list[int]]:
    """Copies of about ``share`` of the ham rows, each with one link added:
    ``(new inputs, index of the row each was made from)``."""
    rng = random.Random(seed)
    made: list[ScoringInput] = []
    origins: list[int] = []
    for index, (item, label) in enumerate(zip(inputs, labels)):
        if label != 0 or rng.random() >= share:
            continue
        language = item.language if item.language in TEMPLATES else "en"
        template = rng.choice(TEMPLATES[language])
        lead = " ".join(item.body.split()[: rng.randint(3, 8)])
        body = template.format(text=item.body.strip(), lead=lead, url=link_for(item.body, language, rng))
        made.append(ScoringInput(body=body, author_name=item.author_name,
                                 author_email=item.author_email, language=item.language))
        origins.append(index)
    return made, origins
