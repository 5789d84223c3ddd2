"""What an e-mail's domain says about its author, offline.

- :func:`is_disposable`: a throw-away mailbox domain (the
  ``disposable-email-domains`` list, shipped inside that package).
- :func:`confusable_with`: the well-known mail provider a domain imitates, or
  None: one edit away from it (``gmial.com``, ``gmaill.com``, ``hotmai.fr``),
  or the same once look-alike characters are folded (``gmaiI.com``,
  ``rn`` for ``m``, Cyrillic ``о`` for ``o``), never the provider itself.

Neither holds a comment as spam on its own: the guard gives the reasons
``disposable_email`` and ``confusable_email``, and the policy sends what it
would have published to review.
"""
from __future__ import annotations

import functools
import unicodedata

from disposable_email_domains import blocklist as _disposable

#: Mail providers readers of French and English sites use most.
PROVIDERS = frozenset({
    "gmail.com", "googlemail.com", "yahoo.com", "yahoo.fr", "hotmail.com", "hotmail.fr", "outlook.com",
    "outlook.fr", "live.com", "live.fr", "msn.com", "icloud.com", "me.com", "aol.com", "protonmail.com",
    "proton.me", "orange.fr", "wanadoo.fr", "free.fr", "sfr.fr", "laposte.net", "neuf.fr", "bbox.fr",
    "gmx.fr", "gmx.com", "gmx.de", "web.de", "yandex.com", "mail.com", "comcast.net", "verizon.net",
    "btinternet.com", "sky.com", "videotron.ca", "sympatico.ca", "shaw.ca", "rogers.com", "telenet.be",
    "skynet.be", "bluewin.ch",
})
MIN_NAME_FOR_EDITS = 5
"""One edit from a short name (``free``, ``gmx``, ``me``) is often another real
domain: only names of five letters or more are compared that way."""
_LOOKALIKE = str.maketrans({"0": "o", "1": "l", "I": "l", "|": "l", "а": "a", "е": "e", "о": "o", "р": "p",
                            "с": "c", "х": "x", "у": "y", "і": "i", "ј": "j", "ӏ": "l", "ԁ": "d", "ɡ": "g"})


def _domain(email: str) -> str:
    domain = email.rpartition("@")[2].strip().rstrip(".")
    if domain.startswith("xn--") or ".xn--" in domain:
        try:
            domain = domain.encode("ascii").decode("idna")
        except UnicodeError:
            pass
    return domain


def is_disposable(email: str) -> bool:
    domain = _domain(email).lower()
    return bool(domain) and domain in _disposable


def _folded(domain: str) -> str:
    text = unicodedata.normalize("NFKC", domain).translate(_LOOKALIKE).lower()
    return text.replace("rn", "m").replace("vv", "w")


def _one_edit_apart(a: str, b: str) -> bool:
    """One insertion, deletion, substitution or swap of neighbours turns *a* into *b*."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i, (x, y) in enumerate(zip(a, b)) if x != y]
        return len(diff) == 1 or (len(diff) == 2 and diff[1] == diff[0] + 1
                                  and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]])
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    i = next((k for k, (x, y) in enumerate(zip(short, long_)) if x != y), len(short))
    return short[i:] == long_[i + 1:]


def confusable_with(email: str) -> str | None:
    return _imitated(_domain(email))


@functools.lru_cache(maxsize=8192)
def _imitated(domain: str) -> str | None:
    """The provider *domain* imitates (remembered: a site's readers use few domains)."""
    lowered = domain.lower()
    if not lowered or lowered in PROVIDERS:
        return None
    folded = _folded(domain)
    for provider in PROVIDERS:
        if folded == provider:
            return provider
        if len(provider.partition(".")[0]) >= MIN_NAME_FOR_EDITS and _one_edit_apart(lowered, provider):
            return provider
    return None
