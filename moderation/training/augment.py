"""Ham with links, as news readers write it: training rows made from real ham.

The public training ham (YouTube comments, SMS) almost never carries a link,
so a model trained on it alone learns that any link means spam, and holds the
reader who cites an article. ``with_links`` copies a share of the ham rows and
adds one ordinary link to each copy, the way readers do: a source after an
argument, a reference in brackets, a "see ...". Half of the links go to
well-known newspapers and reference sites, half to ordinary unlisted sites
(a town hall, a club, a blog), so that the model learns that a link is not
spam by itself, without learning that an unlisted domain is.

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
"""About the share of news-site reader comments that cite a link; with it, held-out
ham with a link was published as often as ham without one (see the model card)."""

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
TEMPLATES = {
    "en": ("{text} Source: {url}", "{text} See {url}", "{text} ({url})", "{url} {text}",
           "{text} More here: {url}", "{text} The report is at {url}", "{text}\n{url}"),
    "fr": ("{text} Source : {url}", "{text} Voir {url}", "{text} ({url})", "{url} {text}",
           "{text} Plus d'infos : {url}", "{text} Le rapport est ici : {url}", "{text}\n{url}"),
}
_WORD = re.compile(r"[^\W\d_]{3,}")


def _slug(text: str, rng: random.Random) -> str:
    words = [word.lower() for word in _WORD.findall(text)][:12]
    rng.shuffle(words)
    slug = "-".join(words[: rng.randint(2, 6)]) or "article"
    return f"{rng.randint(2015, 2026)}/{rng.randint(1, 12):02d}/{slug}" if rng.random() < 0.5 else slug


def link_for(text: str, language: str, rng: random.Random) -> str:
    """One plausible link a reader might cite under ``text``."""
    language = language if language in REFERENCE_HOSTS else "en"
    hosts = REFERENCE_HOSTS[language] if rng.random() < 0.5 else ORDINARY_HOSTS[language]
    host = rng.choice(hosts)
    scheme = "https://" if rng.random() < 0.85 else ""
    path = "" if "?" in host else "/" + _slug(text, rng)
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
        body = template.format(text=item.body.strip(), url=link_for(item.body, language, rng))
        made.append(ScoringInput(body=body, author_name=item.author_name,
                                 author_email=item.author_email, language=item.language))
        origins.append(index)
    return made, origins
