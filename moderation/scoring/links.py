"""What kind of link a comment carries. Pure; shared by training and serving.

News readers cite sources: a link to a newspaper, an encyclopaedia or a public
body is what an argued reply looks like, while spam links hide behind URL
shorteners or point at the spammer's own page. ``classify_hosts`` sorts the
hosts of a comment's links into those kinds; the model learns what each kind
weighs, instead of learning that any ``http`` means spam (its YouTube and SMS
training ham almost never had one).

The lists are deliberately short and conservative: a domain is listed as a
reference only when it is a well-known newspaper, public broadcaster,
encyclopaedia or government domain in English or French. An unlisted domain is
neither good nor bad here; the words around it decide.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

SHORTENERS = frozenset({
    "bit.ly", "goo.gl", "tinyurl.com", "t.co", "ow.ly", "is.gd", "buff.ly", "adf.ly", "bit.do",
    "cutt.ly", "rebrand.ly", "tiny.cc", "shorturl.at", "rb.gy", "t.ly", "v.gd", "x.co", "lnkd.in",
    "soo.gd", "s.id", "qr.ae", "shorte.st", "bc.vc", "ouo.io", "linktr.ee", "tr.im", "snip.ly",
    "youtu.be", "amzn.to", "clck.ru", "urlz.fr", "frama.link",
})
"""Hosts whose only purpose is to hide where a link goes (``youtu.be`` included: it is
how YouTube spam pointed at channels)."""

REFERENCE_DOMAINS = frozenset({
    # encyclopaedias, public bodies, international organisations
    "wikipedia.org", "wikimedia.org", "wiktionary.org", "europa.eu", "un.org", "who.int",
    "oecd.org", "imf.org", "worldbank.org", "legifrance.gouv.fr", "service-public.fr",
    "insee.fr", "senat.fr", "assemblee-nationale.fr", "conseil-constitutionnel.fr", "data.gouv.fr",
    "parliament.uk", "legislation.gov.uk", "ons.gov.uk", "census.gov", "congress.gov",
    "supremecourt.gov", "nih.gov", "cdc.gov", "nasa.gov", "noaa.gov", "arxiv.org", "doi.org",
    "nature.com", "science.org", "thelancet.com", "pubmed.ncbi.nlm.nih.gov", "archive.org",
    # English-language news
    "bbc.co.uk", "bbc.com", "theguardian.com", "nytimes.com", "washingtonpost.com", "reuters.com",
    "apnews.com", "npr.org", "cnn.com", "nbcnews.com", "cbsnews.com", "abcnews.go.com", "ft.com",
    "economist.com", "wsj.com", "bloomberg.com", "latimes.com", "usatoday.com", "politico.com",
    "theatlantic.com", "newyorker.com", "time.com", "independent.co.uk", "telegraph.co.uk",
    "thetimes.co.uk", "cbc.ca", "theglobeandmail.com", "abc.net.au", "smh.com.au", "aljazeera.com",
    "pbs.org", "propublica.org", "theconversation.com", "oregonlive.com", "seattletimes.com",
    "sfchronicle.com", "chicagotribune.com", "bostonglobe.com", "denverpost.com", "adn.com",
    "hawaiinewsnow.com", "civilbeat.org", "staradvertiser.com", "thestar.com", "nationalpost.com",
    # French-language news and public broadcasting
    "lemonde.fr", "lefigaro.fr", "liberation.fr", "francetvinfo.fr", "francetelevisions.fr",
    "radiofrance.fr", "franceinter.fr", "franceculture.fr", "rfi.fr", "france24.com",
    "ouest-france.fr", "sudouest.fr", "ladepeche.fr", "lavoixdunord.fr", "leparisien.fr",
    "lesechos.fr", "latribune.fr", "lexpress.fr", "lepoint.fr", "nouvelobs.com", "humanite.fr",
    "la-croix.com", "mediapart.fr", "20minutes.fr", "bfmtv.com", "tf1info.fr", "lci.fr",
    "afp.com", "letemps.ch", "rts.ch", "lesoir.be", "rtbf.be", "ledevoir.com", "lapresse.ca",
    "radio-canada.ca", "courrierinternational.com", "arte.tv", "dna.fr", "estrepublicain.fr",
    "leprogres.fr", "ledauphine.com", "nicematin.com", "midilibre.fr", "letelegramme.fr",
    "lamontagne.fr", "paris-normandie.fr", "republicain-lorrain.fr", "lindependant.fr",
})
PUBLIC_SUFFIXES = (".gov", ".gouv.fr", ".gov.uk", ".gc.ca", ".edu", ".ac.uk", ".europa.eu", ".int")
"""Host endings reserved to public bodies and universities."""

_HOST = re.compile(r"^(?:[a-z][a-z0-9+.-]*://)?(?:[^/@\s]*@)?([^/:?#\s]+)", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class LinkKinds:
    shortener: int = 0
    reference: int = 0
    other: int = 0


def link_host(link: str) -> str:
    """The lower-case host of a link as found in text (``www.`` removed, trailing dots gone)."""
    match = _HOST.match(link.strip())
    host = match.group(1).lower().rstrip(".,;:!?)]}'\"") if match else ""
    return host[4:] if host.startswith("www.") else host


def _within(host: str, domains: frozenset[str]) -> bool:
    """``host`` is one of ``domains`` or a subdomain of one."""
    parts = host.split(".")
    return any(".".join(parts[i:]) in domains for i in range(len(parts) - 1))


def host_kind(host: str) -> str:
    """``shortener``, ``reference`` or ``other``."""
    if host in SHORTENERS:
        return "shortener"
    if _within(host, REFERENCE_DOMAINS) or host.endswith(PUBLIC_SUFFIXES):
        return "reference"
    return "other"


def classify_links(links: Iterable[str]) -> LinkKinds:
    counts = {"shortener": 0, "reference": 0, "other": 0}
    for link in links:
        counts[host_kind(link_host(link))] += 1
    return LinkKinds(**counts)
