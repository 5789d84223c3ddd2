"""``moderation thresholds what-if``: what other thresholds would have done to a
site's labelled history, before anyone changes them (read-only; the numbers
come from :mod:`moderation.review.what_if`).

Exit codes: 0 with the table (or JSON) and a suggestion; 2 for bad arguments,
for labels lacking a class (nothing printed but one line on stderr), and for
too few labels to suggest thresholds (:data:`MIN_HAM_LABELS` ham,
:data:`MIN_SPAM_LABELS` spam: the table is printed, the suggestion refused on
stderr); 1 for no such site, an unusable model manifest or an unwritable plot.
"""
from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .config import model_dir
from .policy import Bands, site_bands
from .review.site_thresholds import MIN_HAM_LABELS, MIN_SPAM_LABELS, NotEnoughLabels, propose
from .review.what_if import Outcome, check_thresholds, proposed_bands, replay, sweep
from .scoring.model import ManifestError, ModelError, current_manifest_path

DEFAULT_MAX_HAM_TO_SPAM = 0.005
DEFAULT_MAX_SPAM_PUBLISHED = 0.02


def add_thresholds_parser(commands) -> None:
    thresholds = commands.add_parser(
        "thresholds", help="what other thresholds would do to a site's labelled history")
    sub = thresholds.add_subparsers(dest="thresholds_command", required=True)
    what_if = sub.add_parser(
        "what-if", help="replay the site's moderator labels through their stored scores: ham held "
                        "as spam, spam published and review share, for the thresholds in effect, "
                        "the ones given, and the ones that would meet the error budgets")
    what_if.add_argument("--site", required=True, help="the site's name")
    what_if.add_argument("--approve-below", type=float, help="proposed: publish below this score")
    what_if.add_argument("--reject-above", type=float,
                         help="proposed: hold as spam at or above this score")
    what_if.add_argument("--max-ham-to-spam", type=float, default=DEFAULT_MAX_HAM_TO_SPAM,
                         metavar="SHARE", help="budget of the suggestion (default 0.005)")
    what_if.add_argument("--max-spam-published", type=float, default=DEFAULT_MAX_SPAM_PUBLISHED,
                         metavar="SHARE", help="budget of the suggestion (default 0.02)")
    what_if.add_argument("--plot", type=Path, metavar="PNG", help="also draw the trade-off")
    what_if.add_argument("--json", action="store_true", help="print one JSON object")


def current_model_manifest(settings) -> dict:
    """The manifest of the model ``CURRENT`` names (the version servers load):
    read, not loaded, so neither the model file nor scikit-learn is needed."""
    path = current_manifest_path(model_dir(settings))
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
        Bands.checked(**manifest["thresholds"])
        for entry in manifest.get("per_language", {}).values():
            Bands.checked(**entry["thresholds"])
        if not isinstance(manifest["version"], str) or not isinstance(manifest["languages"], list):
            raise TypeError("version or languages")
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
        raise ManifestError(f"model manifest {path} is not usable: {error}") from None
    return manifest


def model_bands(manifest: dict) -> Callable[[str], Bands]:
    """The manifest's thresholds for a language (its own, else the model's)."""
    per_language = manifest.get("per_language", {})

    def bands_for(language: str) -> Bands:
        thresholds = per_language.get(language, manifest)["thresholds"]
        return Bands(thresholds["approve_below"], thresholds["reject_above"])
    return bands_for


@dataclass(frozen=True, slots=True)
class SiteLabels:
    """A site's labels as the model in service scored them, in the languages it
    decides (``left_out``: how many are in other languages), and the
    thresholds in effect for each language (the site's, else the model's)."""

    version: str
    in_effect: Callable[[str], Bands]
    labels: list
    left_out: int
    source: str   # of the thresholds in effect: "site" (its own) or "model"


async def site_labels(store, settings, site) -> SiteLabels:
    """Raises :class:`~moderation.scoring.model.ModelError` when the model's
    manifest is not usable."""
    manifest = current_model_manifest(settings)
    by_model = model_bands(manifest)

    def in_effect(language: str) -> Bands:
        return site_bands(site, by_model(language))

    every = await store.scored_labels(site.id, model_version=manifest["version"])
    labels = [row for row in every if row.language in set(manifest["languages"])]
    overridden = site.approve_below is not None or site.reject_above is not None
    return SiteLabels(manifest["version"], in_effect, labels, len(every) - len(labels),
                      "site" if overridden else "model")


async def thresholds_command(store, settings, args: argparse.Namespace) -> int:
    site = await store.site_by_name(args.site)
    if site is None:
        print(f"moderation: no site named {args.site!r}", file=sys.stderr)
        return 1
    if not (0 <= args.max_ham_to_spam < 1 and 0 <= args.max_spam_published < 1):
        print("moderation: the budgets are shares in [0, 1)", file=sys.stderr)
        return 2
    try:
        found = await site_labels(store, settings, site)
    except ModelError as error:
        print(f"moderation: {error}", file=sys.stderr)
        return 1
    version, in_effect, labels = found.version, found.in_effect, found.labels
    languages = sorted({row.language for row in labels})
    problem = check_thresholds(args.approve_below, args.reject_above, in_effect, languages)
    if problem:
        print(f"moderation: {problem}", file=sys.stderr)
        return 2
    ham = sum(row.label == "ham" for row in labels)
    spam = len(labels) - ham
    if not ham or not spam:
        print(f"moderation: site {site.name} has {ham} ham and {spam} spam labels scored by model "
              f"{version} in the languages it decides; the what-if needs at least 1 of each "
              f"({MIN_HAM_LABELS} ham and {MIN_SPAM_LABELS} spam to suggest thresholds): decide "
              "comments in the queue first", file=sys.stderr)
        return 2
    proposing = args.approve_below is not None or args.reject_above is not None
    rows: list[tuple[str, Callable[[str], Bands], Outcome]] = [
        (f"in effect ({found.source})", in_effect, replay(labels, in_effect))]
    if proposing:
        proposed = proposed_bands(in_effect, args.approve_below, args.reject_above)
        rows.append(("proposed", proposed, replay(labels, proposed)))
    suggestion = None
    try:
        chosen = propose(labels, in_effect, max_ham_to_spam=args.max_ham_to_spam,
                         max_spam_published=args.max_spam_published).chosen
        rows.append(("meets the budgets", lambda _: chosen, replay(labels, lambda _: chosen)))
        suggestion = chosen
    except NotEnoughLabels:
        pass
    audited = [row for row in labels if row.audited]
    audit_rows = [(name, replay(audited, bands_for)) for name, bands_for, _ in rows] if audited else []
    summary = {"site": site.name, "model": version, "labels": len(labels), "ham": ham,
               "spam": spam, "audited": len(audited), "from_review": len(labels) - len(audited),
               "left_out": found.left_out,
               "budgets": {"max_ham_to_spam": args.max_ham_to_spam,
                           "max_spam_published": args.max_spam_published},
               "suggestion_needs": {"ham": MIN_HAM_LABELS, "spam": MIN_SPAM_LABELS}}
    if args.plot is not None:
        from .review.what_if_plot import PlotUnavailable, write_what_if_plot
        # Thresholds that differ by language are marked at the most common language's.
        main = Counter(row.language for row in labels).most_common(1)[0][0]
        marks = [(name if _single(bands_for, languages) else f"{name} ({main})",
                  _single(bands_for, languages) or bands_for(main), outcome.review.rate)
                 for name, bands_for, outcome in rows]
        anchor = _single(in_effect, languages) or in_effect(main)
        try:
            write_what_if_plot(sweep(labels, anchor), marks, f"site {site.name}, model {version}: "
                               f"{ham} ham, {spam} spam labels", args.plot)
        except PlotUnavailable as missing:
            print(f"moderation: {missing}", file=sys.stderr)
            return 1
        except OSError as error:
            print(f"moderation: cannot write the plot {args.plot}: {error.strerror or error}",
                  file=sys.stderr)
            return 1
    if args.json:
        print(json.dumps({**summary, "thresholds": [
            {"name": name, **_bands_dict(bands_for, languages), **outcome.as_dict()}
            for name, bands_for, outcome in rows],
            "suggested": None if suggestion is None else {
                "approve_below": suggestion.approve_below, "reject_above": suggestion.reject_above},
            "audit_sample": [{"name": name, **outcome.as_dict()} for name, outcome in audit_rows]},
            indent=1))
    else:
        _print_table(summary, rows, audit_rows, languages, suggestion is not None, args)
    if suggestion is None:
        sys.stdout.flush()   # the table first, then why it stops short
        print(f"moderation: no thresholds suggested for site {site.name}: {ham} ham and {spam} "
              f"spam labels, at least {MIN_HAM_LABELS} ham and {MIN_SPAM_LABELS} spam are needed "
              f"({_missing(ham, spam)})", file=sys.stderr)
        return 2
    return 0


def _missing(ham: int, spam: int) -> str:
    """``"197 more ham and 49 more spam"``: what the suggestion still lacks."""
    short = [f"{need - have} more {kind}" for kind, have, need in
             (("ham", ham, MIN_HAM_LABELS), ("spam", spam, MIN_SPAM_LABELS)) if have < need]
    return " and ".join(short)


def _single(bands_for: Callable[[str], Bands], languages: list[str]) -> Bands | None:
    """The thresholds, when every language of the labels has the same ones."""
    distinct = {bands_for(language) for language in languages}
    return distinct.pop() if len(distinct) == 1 else None


def _bands_dict(bands_for, languages) -> dict:
    return {"per_language": {language: {"approve_below": bands_for(language).approve_below,
                                        "reject_above": bands_for(language).reject_above}
                             for language in languages}}


def _print_table(summary: dict, rows, audit_rows, languages, suggested: bool, args) -> None:
    print(f"site {summary['site']}: {summary['labels']} labels scored by model {summary['model']} "
          f"({summary['ham']} ham, {summary['spam']} spam; {summary['audited']} from the audit "
          f"sample, {summary['from_review']} from review)"
          + (f"; {summary['left_out']} in languages the model does not decide, left out"
             if summary["left_out"] else ""))
    print("Most labels are comments the model was unsure of: their rates describe those, not all "
          "traffic; the audit sample (below, when there is one) estimates all automatic decisions.")
    print("rates: share, (count/total), [95 % Wilson interval]\n")
    _table(rows, languages)
    if suggested:
        print(f"\nbudgets: ham held as spam <= {args.max_ham_to_spam:.2%}, spam published <= "
              f"{args.max_spam_published:.2%}; to apply: moderation site thresholds "
              f"{summary['site']} --from-labels")
    if audit_rows:
        print(f"\naudit sample alone ({summary['audited']} labels):")
        _table([(name, bands, outcome) for (name, outcome), (_, bands, _) in zip(audit_rows, rows)],
               languages)
    if args.plot is not None:
        print(f"\nplot: {args.plot}")


def _table(rows, languages) -> None:
    print(f"{'':20}{'approve<':>9}{'reject>=':>9}  {'ham held as spam':<28}{'spam published':<28}"
          "review")
    by_language = []
    for name, bands_for, outcome in rows:
        bands = _single(bands_for, languages)
        low = f"{bands.approve_below:.4f}" if bands else "by lang."
        high = f"{bands.reject_above:.4f}" if bands else "by lang."
        print(f"{name:20}{low:>9}{high:>9}  {outcome.ham_held.describe():<28}"
              f"{outcome.spam_published.describe():<28}{outcome.review.describe()}")
        if bands is None:
            by_language.append(f"  {name}: " + ", ".join(
                f"{language} {bands_for(language).approve_below:.4f} / "
                f"{bands_for(language).reject_above:.4f}" for language in languages))
    for line in by_language:
        print(line)
