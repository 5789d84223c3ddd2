"""The model card: a Markdown page generated from a model manifest.

Contract: ``render_model_card(manifest)`` uses only the manifest (so a card can
be regenerated for any shipped model) and states intended use, data with its
citations, held-out metrics, thresholds with their measured rates, and limits.
"""

from __future__ import annotations

from typing import Any

from moderation.training.report import metrics_table, table

CITATIONS = {
    "youtube": (
        "YouTube Spam Collection v1 (UCI Machine Learning Repository, dataset 380, CC BY 4.0). "
        'T. C. Alberto, J. V. Lochter, T. A. Almeida, "TubeSpam: Comment Spam Filtering on '
        'YouTube", Proc. 14th IEEE ICMLA, 2015, pp. 138-143.'
    ),
    "sms": (
        "SMS Spam Collection v.1 (UCI Machine Learning Repository, dataset 228, CC BY 4.0; "
        'copyright Almeida & Gomez Hidalgo, no warranty). T. A. Almeida, J. M. Gomez Hidalgo, '
        'A. Yamakami, "Contributions to the Study of SMS Spam Filtering: New Collection and '
        'Results", Proc. ACM DocEng 2011.'
    ),
    "csv": "Labelled comments supplied by the operator (CSV); provenance as recorded by them.",
    "jsonl": "Labelled comments supplied by the operator or exported from moderators' decisions (JSON lines).",
}


def _percent(value: float | None, digits: int = 2) -> str:
    return "n/a" if value is None else f"{value:.{digits}%}"


def language_table(per_language: dict[str, Any]) -> str:
    """Per language and source: thresholds and the three band rates on held-out rows."""
    rows = []
    for language, entry in per_language.items():
        if "thresholds" not in entry:
            continue
        t = entry["thresholds"]
        parts = {"all": entry["metrics"], **entry["per_source"]}
        for source, m in parts.items():
            rows.append([
                language if source == "all" else "",
                f"**{source}**" if source == "all" else source,
                ("yes" if entry["supported"] else "no") if source == "all" else "",
                f"{t['approve_below']:.3f} / {t['reject_above']:.3f}" if source == "all" else "",
                str(m["n_ham"]), str(m["n_spam"]),
                _percent(1 - m["ham_to_spam_rate"] - m["ham_to_review_rate"], 1) if m["n_ham"] else "n/a",
                _percent(m["ham_to_spam_rate"]) if m["n_ham"] else "n/a",
                _percent(m["spam_to_published_rate"]) if m["n_spam"] else "n/a",
                _percent(m["review_rate"], 1),
            ])
    return table(["language", "source", "supported", "approve / spam at", "ham", "spam", "ham published",
                  "ham held as spam", "spam published", "review"], rows)


def link_table(per_language: dict[str, Any]) -> str:
    """Held-out ham with a link against ham without one, per language."""
    rows = []
    for language, entry in per_language.items():
        for name, label in (("ham_without_link", "ham without a link"), ("ham_with_link", "ham with a link"),
                            ("spam_with_link", "spam with a link")):
            m = entry.get("links", {}).get(name, {"n": 0})
            if m["n"]:
                rows.append([language, label, str(m["n"]), _percent(m["published_rate"], 1),
                             _percent(m["review_rate"], 1), _percent(m["spam_rate"])])
    return table(["language", "held-out rows", "n", "published", "review", "held as spam"], rows)


def _data_section(manifest: dict[str, Any]) -> list[str]:
    data = manifest["data"]
    files = table(
        ["file", "format", "rows read", "bad rows", "sha256"],
        [[f["path"], f["format"], str(f["rows"]), str(f["bad_rows"]), f["sha256"][:16] + "..."] for f in data["files"]],
    )
    groups = table(
        ["group (source)", "rows after dedup", "spam", "ham", "role"],
        [
            [name, str(g["rows"]), str(g["spam"]), str(g["ham"]),
             f"training only, weight {g['weight']}" if g["auxiliary"] else "training + held-out evaluation"]
            for name, g in data["groups"].items()
        ],
    )
    formats = sorted({f["format"] for f in data["files"]})
    citations = [f"- {CITATIONS[fmt]}" for fmt in formats if fmt in CITATIONS]
    return [
        "## Data",
        "",
        files,
        "",
        f"{data['rows_read']} rows read; {data['duplicates_removed']} exact duplicates (same text after "
        f"normalization) and {data['conflicting_removed']} rows whose copies disagree on the label were "
        f"removed before any split; {data['rows_used']} rows used. DATE columns and comment ids are never read.",
        "",
        groups,
        "",
        "Sources and citations:",
        "",
        *citations,
        "",
    ]


def _evaluation_section(manifest: dict[str, Any]) -> list[str]:
    evaluation = manifest["evaluation"]
    rows = {name: metrics for name, metrics in evaluation["per_group"].items()}
    rows["all held-out (pooled)"] = evaluation["pooled"]
    transfer = table(
        ["held out", "approve below", "spam at or above", "ham->spam", "spam->published", "review"],
        [
            [name, f"{m['transfer']['approve_below']:.4f}", f"{m['transfer']['reject_above']:.4f}",
             _percent(m["transfer"]["ham_to_spam_rate"]), _percent(m["transfer"]["spam_to_published_rate"]),
             _percent(m["transfer"]["review_rate"], 1)]
            for name, m in evaluation["per_group"].items()
            if "transfer" in m
        ],
    )
    calibration = evaluation["calibration"]
    lines = [
        "## Evaluation (held out by source, never by random row)",
        "",
        f"Method: {evaluation['method']}. Each held-out group is scored by a model trained without it; "
        "F1 and MCC are for the decision P(spam) >= 0.5; band rates use the shipped thresholds.",
        "",
        metrics_table(rows),
        "",
        f"Probabilities are Platt-calibrated on these out-of-group scores "
        f"(slope {calibration['slope']:.3f}, intercept {calibration['intercept']:.3f}).",
        "",
    ]
    if evaluation["per_group"] and any("transfer" in m for m in evaluation["per_group"].values()):
        lines += [
            "How thresholds transfer to an unseen source: for each group, thresholds chosen on the other "
            "groups only, applied to it (this is what a new site should expect before its own labels "
            "re-tune them):",
            "",
            transfer,
            "",
        ]
    return lines


def render_model_card(manifest: dict[str, Any]) -> str:
    thresholds = manifest["thresholds"]
    budgets = manifest["budgets"]
    pooled = manifest["evaluation"]["pooled"]
    languages = ", ".join(manifest["languages"]) or "none"
    plots = manifest.get("plots", [])
    pipeline = manifest["pipeline"]
    word, char = pipeline["word_ngrams"], pipeline["char_ngrams"]
    lines = [
        f"# Model card: {manifest['version']}",
        "",
        f"Created {manifest['created_at']}; feature version {manifest['feature_version']}; "
        f"scikit-learn {manifest['libraries']['scikit-learn']}; file `{manifest['model_file']}` "
        f"(sha256 `{manifest['sha256']}`). Generated from `{manifest['version']}.json`.",
        "",
        "## Intended use",
        "",
        "Scores comments posted to a news site or blog with a calibrated probability of being spam, "
        "for the moderation service: below the lower threshold a comment is published, at or above the "
        "upper one it is held as spam (kept, never shown), in between it goes to a human moderator. "
        "It is not meant to judge toxicity, misinformation or legality, nor to score languages it was not "
        f"trained on (training languages: {languages}; the service sends other languages to review).",
        "",
        "## Model",
        "",
        "Text normalized (HTML tags stripped, entities decoded, NFKC, invisible characters removed); "
        f"binary TF-IDF word {word[0]}-{word[1]}-grams ({pipeline['vocabulary']['word']} kept) and character "
        f"{char[0]}-{char[1]}-grams within words ({pipeline['vocabulary']['char']} kept), each seen in at least "
        f"{pipeline['min_document_frequency']} training texts, plus signals that carry "
        "across sites and languages: links and their count, e-mail addresses and phone numbers in the "
        "body, digit / uppercase / symbol ratios, repeated characters, length, author name with a URL or "
        f"digits, disposable e-mail domain, detected language. One {pipeline['classifier']} "
        f"(C {pipeline['C']}, block weights {pipeline['block_weights']}, seed {manifest['seed']}): the "
        "margin is mapped to P(spam) by the sigmoid fitted on held-out margins.",
        "",
        *_data_section(manifest),
        *_evaluation_section(manifest),
        "## Thresholds",
        "",
        f"Chosen on the pooled held-out scores to meet the budgets ham held as spam <= "
        f"{_percent(budgets['max_ham_to_spam'])} of ham and spam published <= "
        f"{_percent(budgets['max_spam_published'])} of spam, with the smallest review band:",
        "",
        table(
            ["threshold", "value", "measured on held-out rows"],
            [
                ["approve below", f"{thresholds['approve_below']:.4f}",
                 f"spam published {_percent(pooled['spam_to_published_rate'])}"],
                ["spam at or above", f"{thresholds['reject_above']:.4f}",
                 f"ham held as spam {_percent(pooled['ham_to_spam_rate'])}"],
                ["review band", "between", f"{_percent(pooled['review_rate'], 1)} of all comments"],
            ],
        ),
        "",
        "## Limits",
        "",
        "- The public data is English (YouTube comments from 2013-2015 and SMS messages). French, or any "
        "other language, quality can only come from a site's own labelled comments: export the moderators' "
        "decisions and retrain.",
        "- Thresholds measured on one source do not transfer exactly to another (see the transfer table); "
        "re-tune them on a site's own labels as they accumulate, or override them per site.",
        "- Probabilities are calibrated to the spam share of the held-out data "
        f"({pooled['n_spam']} spam in {pooled['n']} comments); a site with much less spam will see fewer "
        "true spams above a given score. The final model is fitted on all rows, so its scores are slightly "
        "more confident than the held-out ones the thresholds were chosen on.",
        "- YouTube labels reflect that platform's notion of spam (self-promotion, \"like this comment\" "
        "bait); the SMS collection is another medium and is down-weighted.",
        "- The model sees text, author name and e-mail only: no IP, timing or account history.",
        "",
    ]
    if plots:
        lines += ["## Plots", "", *(f"![{p}]({p})" for p in plots), ""]
    lines += [
        "## Reproduce",
        "",
        f"`{manifest['training']['command']}` (training took {manifest['training']['seconds']:.1f} s on "
        f"{manifest['training']['cpus']} CPUs). The same data and seed give the same metrics.",
        "",
    ]
    return "\n".join(lines)
