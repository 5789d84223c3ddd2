"""Machine translation of training texts with Debian's Apertium, offline.

Contract:

- ``translate(texts, target)`` returns one translation per text, in order, for
  a ``target`` in ``PIVOTS`` (``fr``: English -> Catalan -> French, the two
  Apertium pairs Debian ships; there is no direct English-French pair).
- Links, e-mail addresses and phone numbers are the spam's payload and must come
  out unchanged: each is replaced by a placeholder Apertium leaves alone, then
  put back. Requests for likes or subscribers (where
  ``engagement.asks_for_engagement`` sees one) are put back in the French a
  commenter writes (``ENGAGEMENT_GLOSSARY``): Apertium renders "Like this
  comment" as « Ainsi commentaire », which loses the request and would teach
  the French model nothing of it. The words that make spam spam ("you have
  won", "free", "check out my channel") are put in the French spam uses
  (``terminology.TERMS``) instead of Apertium's wrong senses of them. Everything
  else is translated word by word as Apertium does (unknown words kept as they
  are, ``-u``).
- Texts are normalized with ``normalize_text`` first (one line each, no HTML).
- Results are cached in ``cache_dir``, one JSON-lines file per target and
  Apertium data version, so a retrain translates only texts it has not seen. A
  text a glossary applies to is keyed by what Apertium reads and what its
  placeholders become: changing a glossary translates again only the texts it
  touches. Apertium reads
  across lines (its tagger and anaphora resolution): a text's translation can
  differ by a word or two with the texts batched around it (826 of 11,010
  training texts between batches of 500 and 2,000 lines). Texts are therefore
  batched in one fixed order (sorted by cache key, ``CHUNK_LINES`` per batch), so
  a run from an empty cache always gives the same translations; a warm cache
  keeps each text's first translation, and a model trained with it is
  reproduced with the same cache file. Batches run through
  ``apertium.translate_batches``: Apertium's own translation of each batch,
  with its generators started once per CPU rather than once per batch.
- ``on_progress(done, total)``, when given, is called with 0 before Apertium
  starts and as batches progress, counting the texts not found in the cache.
- ``ApertiumMissing`` says how to install it when a pair is not installed.
  Nothing here runs at serving time.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
from collections.abc import Callable, Sequence
from pathlib import Path

from moderation.scoring.engagement import (
    GIVE_A_LIKE, LIKE_AND_SUBSCRIBE, LIKE_VERBS, SUB_FOR_SUB, asks_for_engagement,
)
from moderation.scoring.features import normalize_text
from moderation.training.apertium import translate_batches
from moderation.training.terminology import NUMBER_TERMS, TERMS

PIVOTS: dict[str, tuple[str, ...]] = {"fr": ("eng-cat", "cat-fra")}
"""Apertium modes chained for each target language."""
PACKAGES: dict[str, tuple[str, ...]] = {"fr": ("apertium", "apertium-eng-cat", "apertium-fra-cat")}
CHUNK_LINES = 500
DEFAULT_CACHE_DIR = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "moderation" / "translations"

_PROTECTED = re.compile(
    r"(?:https?://|www\.)\S+"                                 # links
    r"|[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}"             # e-mail addresses
    r"|\b[a-z0-9][a-z0-9-]*(?:\.[a-z0-9-]+)*\.(?:com|net|org|info|biz|io|co|me|ly|uk|fr|ru|de|eu)\b(?:/\S*)?"
    r"|\+?\(?\d[\d ().-]{5,}\d",                               # phone numbers and long digit runs
    re.IGNORECASE,
)
ENGAGEMENT_GLOSSARY: dict[str, tuple[tuple[re.Pattern, str], ...]] = {"fr": tuple(
    (re.compile(pattern, re.IGNORECASE), french) for pattern, french in (
        (LIKE_VERBS + r"\s+this\s+(?:comment|post|reply)\b", "likez ce commentaire"),
        (LIKE_VERBS + r"\s+my\s+(?:comment|post|reply)\b", "likez mon commentaire"),
        (GIVE_A_LIKE, "mettez un like"),
        (SUB_FOR_SUB, "sub 4 sub"),
        (LIKE_AND_SUBSCRIBE, "mettez un like et abonnez-vous"),
        (r"\bsubscribe\s+to\s+(?:my\s+channel|me)\b", "abonnez-vous à ma chaîne"),
        (r"\bsubscribe\s+to\s+my\b", "abonnez-vous à ma"),
    ))}
"""Per target, English requests for likes or subscribers and their translation."""
_PLACEHOLDER = "ZQX{}QXZ"
_PLACEHOLDER_BACK = re.compile(r"ZQX(\d+)QXZ")


class ApertiumMissing(RuntimeError):
    """Apertium or a language pair it needs is not installed."""


def data_version(target: str) -> str:
    """The installed Apertium packages for ``target``, as recorded in the manifest."""
    packages = PACKAGES[target]
    try:
        listed = subprocess.run(["dpkg-query", "-W", "-f=${Package}=${Version}\\n", *packages],
                                capture_output=True, text=True, check=False).stdout.split()
    except OSError:
        listed = []
    return " ".join(listed) or "unknown"


def check_available(target: str) -> None:
    if target not in PIVOTS:
        raise ValueError(f"no translation into {target!r}; available: {', '.join(sorted(PIVOTS))}")
    if shutil.which("apertium") is None:
        raise ApertiumMissing(
            f"translating into {target} needs Apertium: apt-get install {' '.join(PACKAGES[target])}")
    listed = subprocess.run(["apertium", "-l"], capture_output=True, text=True, check=False).stdout.split()
    missing = [mode for mode in PIVOTS[target] if mode not in listed]
    if missing:
        raise ApertiumMissing(
            f"Apertium lacks {', '.join(missing)}: apt-get install {' '.join(PACKAGES[target])}")


def protect(text: str, target: str = "fr") -> tuple[str, list[str]]:
    """``text`` with links, e-mails and phone numbers replaced by placeholders, and
    what each placeholder stands for: the original, or for a request for likes
    or a term of ``terminology.TERMS``, its translation into ``target``. Terms are
    looked for after links are held, so a link keeps its words."""
    held, kept, _ = _protect(text, target)
    return held, kept


def _protect(text: str, target: str) -> tuple[str, list[str], bool]:
    """``protect``'s answer, and whether a glossary (requests for likes, terms) applied."""
    kept: list[str] = []
    glossed = False

    def hold(match: re.Match, replacement: str | None = None) -> str:
        nonlocal glossed
        kept.append(match.group() if replacement is None else replacement)
        glossed = glossed or replacement is not None
        return _PLACEHOLDER.format(len(kept) - 1)

    if asks_for_engagement(text):
        for pattern, translation in ENGAGEMENT_GLOSSARY.get(target, ()):
            text = pattern.sub(lambda match: hold(match, translation), text)
    for pattern, translation in NUMBER_TERMS.get(target, ()):
        text = pattern.sub(lambda match: hold(match, translation), text)
    text = _PROTECTED.sub(hold, text)
    for pattern, translation in TERMS.get(target, ()):
        text = pattern.sub(lambda match: hold(match, translation), text)
    return text, kept, glossed


def restore(text: str, kept: Sequence[str]) -> str:
    return _PLACEHOLDER_BACK.sub(
        lambda m: kept[int(m.group(1))] if int(m.group(1)) < len(kept) else m.group(), text)


def _cache_path(cache_dir: Path, target: str) -> Path:
    tag = hashlib.sha256(data_version(target).encode()).hexdigest()[:12]
    return cache_dir / f"en-{target}-{tag}.jsonl"


def _key(text: str, target: str, protection: tuple[str, list[str], bool] | None = None) -> str:
    """The cache key of ``text``: its sha256, or where a glossary changes what
    Apertium reads, that of what it reads and of what each placeholder becomes
    (``protection``: ``_protect(text, target)`` when already computed)."""
    held, kept, glossed = protection or _protect(text, target)
    if glossed:
        text = "\x00".join(["glossed", held, *kept])
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def translate(texts: Sequence[str], target: str = "fr", cache_dir: Path | None = DEFAULT_CACHE_DIR,
              on_progress: Callable[[int, int], None] | None = None) -> list[str]:
    """Translations of English ``texts`` into ``target`` (see module doc)."""
    check_available(target)
    normalized = [normalize_text(text) for text in texts]
    cache: dict[str, str] = {}
    path = _cache_path(cache_dir, target) if cache_dir is not None else None
    if path is not None and path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                entry = json.loads(line)
                cache[entry["k"]] = entry["t"]
            except (ValueError, KeyError, TypeError):
                continue
    protections = [_protect(text, target) for text in normalized]
    keys = [_key(text, target, protection) for text, protection in zip(normalized, protections)]
    todo = sorted({key: protection[:2] for key, protection in zip(keys, protections)
                   if key not in cache}.items())
    if todo:
        protected = [protection for _, protection in todo]
        chunks = [[held for held, _ in protected[i:i + CHUNK_LINES]]
                  for i in range(0, len(protected), CHUNK_LINES)]
        report = on_progress or (lambda done, total: None)
        report(0, len(todo))
        outputs = translate_batches(chunks, PIVOTS[target], workers=min(len(chunks), os.cpu_count() or 1),
                                    on_progress=report)
        lines = [line for output in outputs for line in output]
        fresh = {key: " ".join(restore(line, kept).split())
                 for (key, _), (_, kept), line in zip(todo, protected, lines)}
        cache.update(fresh)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("a", encoding="utf-8") as handle:
                for key, translation in fresh.items():
                    handle.write(json.dumps({"k": key, "t": translation}, ensure_ascii=False) + "\n")
    return [cache[key] for key in keys]
