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
    "civil-comments": (
        "Civil Comments (CC0 1.0): reader comments from about 50 English-language news sites, 2015-2017, "
        "as sampled in the Toxic Spans dataset (J. Pavlopoulos et al., \"SemEval-2021 Task 5: Toxic Spans "
        "Detection\", SemEval 2021; repository ipavlopoulos/toxic_spans, CC0); underlying data: D. Borkan et "
        "al., \"Nuanced Metrics for Measuring Unintended Bias with Real Data for Text Classification\", "
        "WWW 2019. All ham: the sample holds posts raters found toxic, which teaches that rude is not spam."
    ),
    "fr_an_consultation": (
        "Assemblée nationale, consultation citoyenne « Égalité femmes-hommes » (2016): citizens' free-text "
        "contributions, open data of the Assemblée nationale (Licence Ouverte / Etalab), as republished by "
        "Regards Citoyens (regardscitoyens/consultation_an, ODbL; both licences allow a model trained on "
        "the texts with attribution). All ham, real French."
    ),
    "csv": "Labelled comments supplied by the operator (CSV); provenance as recorded by them.",
    "jsonl": "Labelled comments supplied by the operator or exported from moderators' decisions (JSON lines).",
}


def _percent(value: float | None, digits: int = 2) -> str:
    return "n/a" if value is None else f"{value:.{digits}%}"


TABLE_MIN_ROWS = 100
"""Languages with fewer held-out rows (detection noise on short texts: ``af``, ``tl``...)
are left out of the tables unless supported; their reason is still listed."""


def _shown(entry: dict[str, Any]) -> bool:
    return "thresholds" in entry and (entry["supported"] or entry["metrics"]["n"] >= TABLE_MIN_ROWS)


def language_table(per_language: dict[str, Any]) -> str:
    """Per language and source: thresholds and the three band rates on held-out rows."""
    rows = []
    for language, entry in per_language.items():
        if not _shown(entry):
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


def outcome_table(outcomes: dict[str, Any]) -> str:
    """Per file and label (then that label's rows with a link): the share published,
    sent to review and held as spam."""
    rows = []
    for name, outcome in outcomes.items():
        for label in ("ham", "spam"):
            for key, shown in ((label, label), (f"{label}_with_link", f"{label}, with a link")):
                part = outcome.get(key, {"n": 0})
                if part["n"]:
                    rows.append([name, shown, str(part["n"]), _percent(part["published"], 1),
                                 _percent(part["review"], 1), _percent(part["spam"])])
    return table(["data", "label", "n", "published", "review", "held as spam"], rows)


def link_table(per_language: dict[str, Any]) -> str:
    """Held-out ham with a link against ham without one, per language."""
    rows = []
    for language, entry in per_language.items():
        if not _shown(entry):
            continue
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
    named = [name for name in data["groups"] if name in CITATIONS]
    citations = [f"- {CITATIONS[key]}" for key in [*formats, *named] if key in CITATIONS]
    training = manifest.get("training", {})
    translated = training.get("translated_into", {})
    if translated:
        citations.append(
            "- Machine translations, made at training time with Apertium (English -> Catalan -> French, "
            f"offline; {'; '.join(translated.values())}): every English row above also appears in French. "
            "The French rows marked (mt) are machine translations, not French comments; links, e-mail "
            "addresses and phone numbers were kept out of the translation. They carry the licence and "
            "citation of their source.")
    terms = training.get("translation_terms", {})
    if any(terms.values()):
        citations.append(
            f"- Where Apertium takes the wrong sense of spam's words, {max(terms.values())} English words "
            "and phrases are put in the French spam uses instead (\"you have won\" -> « vous avez gagné », "
            "not « tu as vaincu »; \"check out my channel\" -> « allez voir ma chaîne », not « constater mon "
            "canal »: `moderation/training/terminology.py`).")
    formal = training.get("translation_formal_share", {})
    if any(formal.values()):
        citations.append(
            f"- Apertium says « tu » for every \"you\"; {max(formal.values()):.0%} of the French translations "
            "(chosen by the sha256 of their English source) are turned to « vous » (« vous avez raison », "
            "« merci à vous »), as French readers and spammers mostly write, so that neither word marks "
            "spam: `moderation/training/formal.py`.")
    if data.get("rows_with_link_added"):
        citations.append(
            f"- {data['rows_with_link_added']} ham rows are copies of real ham with one ordinary link added "
            "(a newspaper, a reference site or an unlisted site, as readers cite sources): "
            "`moderation/training/augment.py`.")
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


def _languages_section(manifest: dict[str, Any]) -> list[str]:
    per_language = manifest.get("per_language", {})
    if not per_language:
        return []
    reasons = [f"- `{language}`: {'supported' if entry['supported'] else 'not supported'}, {entry['why']}"
               for language, entry in per_language.items() if "thresholds" in entry or entry.get("supported")]
    lines = [
        "## Languages",
        "",
        "Thresholds are chosen per detected language on held-out rows of that language, meeting the "
        "budgets on the pooled rows and on every source large enough to be measured on its own (200 ham, "
        "50 spam). A language is supported (decided automatically) only where those figures meet the "
        "budgets with a review band of at most "
        f"{manifest['budgets'].get('max_review', 0.35):.0%}; other languages go to review.",
        "",
        language_table(per_language),
        "",
        *reasons,
        "",
        "## Links",
        "",
        "Held-out ham with a link against ham without one, and spam with a link, at each language's "
        "thresholds (links are counted, sorted into shorteners, reference sites and others, and their "
        "share of the text is a signal; the n-grams do not see a link's scheme). The held-out ham with a "
        "link is made of the copies training adds (`moderation/training/augment.py`): it shows that a "
        "link alone does not make spam, not how real citations fare; the \"with a link\" rows of the "
        "data never trained on, below, are real readers' links.",
        "",
        link_table(per_language),
        "",
    ]
    independent = manifest.get("independent_evaluation")
    if independent:
        lines += [
            "## Data never trained on",
            "",
            "Scored after training exactly as the service decides (language detected, the language's "
            "thresholds, unsupported languages to review):",
            "",
            outcome_table(independent),
            "",
        ]
    return lines


def _same_model(training: dict[str, Any]) -> str:
    """What a rerun must share to give this model again."""
    fingerprint = training.get("translations_sha256")
    if not fingerprint:
        return "The same data and seed give the same metrics."
    return (
        "The same data and seed give the same metrics, with the same machine translations "
        f"(`translations_sha256` in the manifest: `{fingerprint[:16]}…`). Apertium translates a text a "
        "little differently depending on the texts it translates together, and the translation cache "
        "keeps each text's first translation: a run from an empty cache can differ slightly from one "
        "whose cache was filled over earlier runs."
    )


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
        f"trained on (supported languages: {languages}; the service sends other languages to review).",
        "",
        "## Model",
        "",
        "Text normalized (HTML tags stripped, entities decoded, NFKC, invisible characters removed); "
        f"binary TF-IDF word {word[0]}-{word[1]}-grams ({pipeline['vocabulary']['word']} kept) and character "
        f"{char[0]}-{char[1]}-grams within words ({pipeline['vocabulary']['char']} kept), each seen in at least "
        f"{pipeline['min_document_frequency']} training texts, plus signals that carry "
        "across sites and languages: links (their count, kind: shortener, reference site or other, and share of the text), e-mail addresses and phone numbers in the "
        "body, digit / uppercase / symbol ratios, repeated characters, length, author name with a URL, "
        "disposable e-mail domain, a request for likes or subscribers (\"like this comment if...\", "
        "\"sub 4 sub\", « abonnez-vous à ma chaîne »: `moderation/scoring/engagement.py`), detected "
        f"language. One {pipeline['classifier']} "
        f"(C {pipeline['C']}, block weights {pipeline['block_weights']}, seed {manifest['seed']}): the "
        "margin is mapped to P(spam) by the sigmoid fitted on held-out margins.",
        "",
        *_data_section(manifest),
        *_evaluation_section(manifest),
        *_languages_section(manifest),
        "## Default thresholds",
        "",
        f"The thresholds of the model's main language, used where a language has none of its own; "
        f"chosen to meet the budgets ham held as spam <= "
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
        "- The spam in the public data is English (YouTube comments from 2013-2015 and SMS messages); French "
        "spam is known to the model only through machine translation. A French site's own labelled comments "
        "are the best French data: export the moderators' decisions and retrain with `--weight`, or re-tune "
        "the site's thresholds with `moderation site thresholds NAME --from-labels`.",
        "- Thresholds measured on one source do not transfer exactly to another (see the transfer table); "
        "re-tune them on a site's own labels as they accumulate, or override them per site.",
        "- Probabilities are calibrated to the spam share of the held-out data "
        f"({pooled['n_spam']} spam in {pooled['n']} comments); a site with much less spam will see fewer "
        "true spams above a given score. The final model is fitted on all rows, so its scores are slightly "
        "more confident than the held-out ones the thresholds were chosen on.",
        "- YouTube labels reflect that platform's notion of spam (self-promotion, \"like this comment\" "
        "bait); the SMS collection is another medium and is down-weighted.",
        "- The request-for-likes signal was written after seeing that the \"like this comment\" spam of "
        "one video (LMFAO) was published when that video was held out, and its value was chosen on the "
        "held-out videos: the YouTube figures above are not blind to it. No ham of any corpus named here "
        "matches it. Apertium renders \"Like this comment\" as « Ainsi commentaire »: the machine "
        "translations get such requests from a glossary instead (« likez ce commentaire », `translate.py`), "
        "written for the same reason, so the French figures are not blind to it either.",
        "- The model sees text, author name and e-mail only: no IP, timing or account history.",
        "",
    ]
    if plots:
        lines += ["## Plots", "", *(f"![{p}]({p})" for p in plots), ""]
    lines += [
        "## Reproduce",
        "",
        f"`{manifest['training']['command']}` (training took {manifest['training']['seconds']:.1f} s on "
        f"{manifest['training']['cpus']} CPUs). {_same_model(manifest['training'])}",
        "",
    ]
    return "\n".join(lines)
