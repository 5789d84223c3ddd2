"""The words of the /moderate pages, in French and English (French first).

Same rule as :mod:`moderation.i18n`: every entry has both languages (a test
checks it, and that every key the templates use exists). ``{placeholders}``
are filled by :func:`text`; the ``js.*`` entries go to the page's script,
which fills its own placeholders.
"""
from __future__ import annotations

from ..i18n import DEFAULT_LANGUAGE

TEXTS: dict[str, dict[str, str]] = {
    "app.name": {"fr": "Modération", "en": "Moderation"},
    "nav.skip": {"fr": "Aller au contenu", "en": "Skip to content"},
    "nav.queue": {"fr": "File d'attente", "en": "Queue"},
    "nav.signed_in_as": {"fr": "Connecté·e : {name}", "en": "Signed in: {name}"},
    "nav.signout": {"fr": "Se déconnecter", "en": "Sign out"},
    "role.moderator": {"fr": "modération", "en": "moderator"},
    "role.admin": {"fr": "administration", "en": "admin"},

    # sign in
    "signin.title": {"fr": "Connexion", "en": "Sign in"},
    "signin.lead": {"fr": "Collez votre jeton de modération pour ouvrir la file d'attente.",
                    "en": "Paste your moderator token to open the review queue."},
    "signin.token": {"fr": "Jeton de modération", "en": "Moderator token"},
    "signin.hint": {"fr": "La commande « moderation moderator add » l'affiche une seule fois.",
                    "en": "`moderation moderator add` prints it once."},
    "signin.submit": {"fr": "Se connecter", "en": "Sign in"},
    "signin.failed": {"fr": "Jeton inconnu ou désactivé.", "en": "Unknown or disabled token."},
    "signin.too_many": {"fr": "Trop d'essais manqués. Réessayez dans {seconds} s.",
                        "en": "Too many failed attempts. Try again in {seconds} s."},
    "signin.signed_out": {"fr": "Vous êtes déconnecté·e.", "en": "You are signed out."},

    # statuses, actions, reasons
    "status.pending": {"fr": "En attente", "en": "Pending"},
    "status.spam": {"fr": "Spam", "en": "Spam"},
    "status.published": {"fr": "Publié", "en": "Published"},
    "status.rejected": {"fr": "Rejeté", "en": "Rejected"},
    "action.approve": {"fr": "Approuver", "en": "Approve"},
    "action.reject": {"fr": "Rejeter", "en": "Reject"},
    "action.spam": {"fr": "Spam", "en": "Spam"},
    "action.submit": {"fr": "Reçu", "en": "Received"},
    "action.rescore": {"fr": "Nouveau score", "en": "Rescored"},
    "action.erase": {"fr": "Effacement", "en": "Erasure"},
    "action.release": {"fr": "Publié avec son parent", "en": "Published with its parent"},
    "reason.honeypot": {"fr": "piège à robots rempli", "en": "honeypot filled"},
    "reason.duplicate": {"fr": "doublon", "en": "duplicate"},
    "reason.no_model": {"fr": "aucun modèle", "en": "no model"},
    "reason.empty_text": {"fr": "texte vide", "en": "empty text"},
    "reason.language_unsupported": {"fr": "langue non apprise", "en": "language not learnt"},
    "reason.model_spam": {"fr": "spam selon le modèle", "en": "spam per the model"},
    "reason.model_uncertain": {"fr": "modèle incertain", "en": "model uncertain"},
    "reason.model_ham": {"fr": "légitime selon le modèle", "en": "ham per the model"},
    "reason.pre_moderation": {"fr": "site pré-modéré", "en": "pre-moderated site"},
    "reason.audit": {"fr": "contrôle par échantillon", "en": "audit sample"},
    "reason.parent_pending": {"fr": "attend le commentaire parent", "en": "waits for its parent comment"},
    "reason.surge": {"fr": "afflux sur le fil", "en": "thread surge"},

    # surge mode (moderation.surge)
    "surge.badge": {"fr": "Fil en afflux", "en": "Thread surging"},
    "surge.until": {"fr": "Afflux de commentaires : décisions plus strictes jusqu'à {until} UTC",
                    "en": "Comment surge: stricter decisions until {until} UTC"},
    "surge.history": {"fr": "Afflux sur ce fil", "en": "Surges on this thread"},
    "surge.on": {"fr": "en cours", "en": "on now"},

    # queue
    "queue.title": {"fr": "File d'attente", "en": "Review queue"},
    "queue.tabs": {"fr": "Statut", "en": "Status"},
    "queue.empty": {"fr": "Aucun commentaire à traiter ici.", "en": "No comment to review here."},
    "queue.next_page": {"fr": "Page suivante", "en": "Next page"},
    "queue.first_page": {"fr": "Première page", "en": "First page"},
    "queue.bad_filters": {"fr": "Filtres invalides :", "en": "Invalid filters:"},
    "queue.list": {"fr": "Commentaires", "en": "Comments"},
    "filters.title": {"fr": "Filtres", "en": "Filters"},
    "filters.site": {"fr": "Site", "en": "Site"},
    "filters.all_sites": {"fr": "Tous vos sites", "en": "All your sites"},
    "filters.thread": {"fr": "Fil (identifiant)", "en": "Thread (id)"},
    "filters.language": {"fr": "Langue détectée", "en": "Detected language"},
    "filters.reason": {"fr": "Motif", "en": "Reason"},
    "filters.any": {"fr": "Tous", "en": "Any"},
    "filters.min_score": {"fr": "Score min.", "en": "Min. score"},
    "filters.max_score": {"fr": "Score max.", "en": "Max. score"},
    "filters.min_age": {"fr": "Reçu il y a plus de", "en": "Older than"},
    "filters.max_age": {"fr": "Reçu il y a moins de", "en": "Newer than"},
    "filters.seconds": {"fr": "{n} s", "en": "{n} s"},
    "filters.hour": {"fr": "1 heure", "en": "1 hour"},
    "filters.day": {"fr": "24 heures", "en": "24 hours"},
    "filters.week": {"fr": "7 jours", "en": "7 days"},
    "filters.month": {"fr": "30 jours", "en": "30 days"},
    "filters.order": {"fr": "Ordre", "en": "Order"},
    "filters.limit": {"fr": "Par page", "en": "Per page"},
    "filters.apply": {"fr": "Filtrer", "en": "Apply"},
    "filters.reset": {"fr": "Tout effacer", "en": "Clear all"},
    "order.uncertain": {"fr": "Plus incertains d'abord", "en": "Most uncertain first"},
    "order.oldest": {"fr": "Plus anciens d'abord", "en": "Oldest first"},
    "order.score": {"fr": "Score le plus haut d'abord", "en": "Highest score first"},
    "order.safest": {"fr": "Score le plus bas d'abord", "en": "Lowest score first"},
    "keys.title": {"fr": "Clavier", "en": "Keyboard"},
    "keys.move": {"fr": "suivant / précédent", "en": "next / previous"},
    "keys.approve": {"fr": "approuver", "en": "approve"},
    "keys.reject": {"fr": "rejeter", "en": "reject"},
    "keys.spam": {"fr": "spam", "en": "spam"},
    "keys.select": {"fr": "sélectionner", "en": "select"},
    "keys.open": {"fr": "ouvrir", "en": "open"},
    "keys.escape": {"fr": "Échap", "en": "Esc"},
    "keys.clear": {"fr": "vider la sélection", "en": "clear selection"},
    "keys.bulk": {"fr": "Avec une sélection, a, r et s s'appliquent à toute la sélection.",
                  "en": "With a selection, a, r and s apply to all of it."},
    "bulk.label": {"fr": "Action groupée", "en": "Bulk action"},
    "bulk.select_all": {"fr": "Tout sélectionner", "en": "Select all"},
    "bulk.selected": {"fr": "sélectionné(s)", "en": "selected"},
    "bulk.approve": {"fr": "Approuver la sélection", "en": "Approve selected"},
    "bulk.reject": {"fr": "Rejeter la sélection", "en": "Reject selected"},
    "bulk.spam": {"fr": "Sélection en spam", "en": "Mark selected as spam"},

    # one item
    "item.select": {"fr": "Sélectionner le commentaire n° {id}", "en": "Select comment #{id}"},
    "item.open": {"fr": "Détail et historique", "en": "Details and history"},
    "item.reply_to": {"fr": "en réponse au n° {id}", "en": "reply to #{id}"},
    "item.score": {"fr": "Score de spam {score}", "en": "Spam score {score}"},
    "item.score_bar": {"fr": "Score de spam {score} ; publié sous {low}, spam à partir de {high}",
                       "en": "Spam score {score}; published below {low}, spam from {high}"},
    "item.no_score": {"fr": "non évalué", "en": "not scored"},
    "item.why": {"fr": "Ce qui a pesé", "en": "What weighed"},
    "item.towards_spam": {"fr": "pousse vers spam", "en": "pushes towards spam"},
    "item.towards_ham": {"fr": "pousse vers légitime", "en": "pushes towards ham"},
    "item.no_explanation": {"fr": "Pas d'explication : aucun modèle en service.",
                            "en": "No explanation: no model in service."},
    "item.language": {"fr": "Langue : {language}", "en": "Language: {language}"},
    "item.actions": {"fr": "Décision sur le n° {id}", "en": "Decision on #{id}"},
    "item.untitled": {"fr": "Fil {id}", "en": "Thread {id}"},
    "ago.now": {"fr": "à l'instant", "en": "just now"},
    "ago.minutes": {"fr": "il y a {n} min", "en": "{n} min ago"},
    "ago.hours": {"fr": "il y a {n} h", "en": "{n} h ago"},
    "ago.days": {"fr": "il y a {n} j", "en": "{n} d ago"},

    # one comment
    "comment.title": {"fr": "Commentaire n° {id}", "en": "Comment #{id}"},
    "comment.back": {"fr": "Retour à la file d'attente", "en": "Back to the queue"},
    "comment.status": {"fr": "Statut", "en": "Status"},
    "comment.author": {"fr": "Auteur", "en": "Author"},
    "comment.email": {"fr": "E-mail", "en": "E-mail"},
    "comment.network": {"fr": "Réseau (IP tronquée)", "en": "Network (truncated IP)"},
    "comment.user_agent": {"fr": "Navigateur", "en": "User agent"},
    "comment.referrer": {"fr": "Page d'origine", "en": "Referrer"},
    "comment.site": {"fr": "Site", "en": "Site"},
    "comment.thread": {"fr": "Fil", "en": "Thread"},
    "comment.received": {"fr": "Reçu", "en": "Received"},
    "comment.published": {"fr": "Publié", "en": "Published"},
    "comment.language": {"fr": "Langue", "en": "Language"},
    "comment.reasons": {"fr": "Motifs", "en": "Reasons"},
    "comment.score": {"fr": "Score", "en": "Score"},
    "comment.model": {"fr": "Modèle", "en": "Model"},
    "comment.thresholds_site": {"fr": "seuils du site", "en": "site thresholds"},
    "comment.thresholds_model": {"fr": "seuils du modèle", "en": "model thresholds"},
    "comment.other_model": {
        "fr": "Expliqué par le modèle en service ({version}), pas par celui qui l'a évalué.",
        "en": "Explained by the model in service ({version}), not the one that scored it."},
    "comment.expert": {"fr": "Pour experts : les indices du modèle et leur poids",
                       "en": "For experts: the model's features and their weights"},
    "comment.text": {"fr": "Texte", "en": "Text"},
    "comment.parent": {"fr": "En réponse à {author} (n° {id})", "en": "In reply to {author} (#{id})"},
    "comment.decide": {"fr": "Décider", "en": "Decide"},
    "comment.reason": {"fr": "Motif (facultatif)", "en": "Reason (optional)"},
    "comment.note": {"fr": "Note interne (facultative)", "en": "Internal note (optional)"},
    "comment.no_action": {"fr": "Plus aucune décision possible : ce commentaire a été effacé.",
                          "en": "No decision possible: this comment was erased."},
    "comment.decided": {"fr": "Décision enregistrée : {status}.", "en": "Decision recorded: {status}."},
    "comment.history": {"fr": "Historique", "en": "History"},
    "comment.when": {"fr": "Quand", "en": "When"},
    "comment.who": {"fr": "Qui", "en": "Who"},
    "comment.what": {"fr": "Action", "en": "Action"},
    "comment.change": {"fr": "Statut", "en": "Status"},
    "comment.why": {"fr": "Motif et note", "en": "Reason and note"},
    "comment.in_thread": {"fr": "Sa place dans le fil", "en": "Its place in the thread"},
    "comment.this_one": {"fr": "ce commentaire", "en": "this comment"},
    "comment.window": {"fr": "Fil long : {n} commentaires affichés autour de celui-ci.",
                       "en": "Long thread: {n} comments shown around this one."},
    "comment.erased": {"fr": "[effacé]", "en": "[erased]"},
    "comment.conflict": {"fr": "Déjà traité par {actor} : statut « {status} ».",
                         "en": "Already decided by {actor}: status \"{status}\"."},
    "comment.conflict_unknown": {"fr": "Déjà traité : statut « {status} ».",
                                 "en": "Already decided: status \"{status}\"."},
    "comment.fix": {"fr": "À corriger :", "en": "To fix:"},
    "thread.title": {"fr": "Ce fil", "en": "This thread"},
    "thread.open": {"fr": "Commentaires ouverts.", "en": "Comments open."},
    "thread.closed": {"fr": "Commentaires fermés depuis le {at} UTC.",
                      "en": "Comments closed since {at} UTC."},
    "thread.premoderated": {"fr": "Pré-modéré : chaque nouveau commentaire attend un modérateur.",
                            "en": "Pre-moderated: every new comment waits for a moderator."},
    "thread.close": {"fr": "Fermer les commentaires", "en": "Close comments"},
    "thread.reopen": {"fr": "Rouvrir les commentaires", "en": "Reopen comments"},
    "thread.premoderate": {"fr": "Pré-modérer ce fil", "en": "Pre-moderate this thread"},
    "thread.unpremoderate": {"fr": "Arrêter la pré-modération", "en": "Stop pre-moderating"},
    "thread.changed": {"fr": "Fil modifié.", "en": "Thread changed."},

    # bulk result without script
    "bulk.result": {"fr": "Résultat de l'action groupée", "en": "Bulk action result"},
    "outcome.decided": {"fr": "décidé : {status}", "en": "decided: {status}"},
    "outcome.not_found": {"fr": "introuvable", "en": "not found"},
    "outcome.forbidden": {"fr": "hors de vos sites", "en": "outside your sites"},

    # errors
    "error.title": {"fr": "Erreur {status}", "en": "Error {status}"},
    "error.back": {"fr": "Retour à la file d'attente", "en": "Back to the queue"},

    # for the script (placeholders filled in the browser)
    "js.conflict": {"fr": "Déjà traité par {actor} : statut « {status} ».",
                    "en": "Already decided by {actor}: status \"{status}\"."},
    "js.conflict_unknown": {"fr": "Déjà traité : statut « {status} ».",
                            "en": "Already decided: status \"{status}\"."},
    "js.done_approve": {"fr": "N° {id} approuvé.", "en": "#{id} approved."},
    "js.done_reject": {"fr": "N° {id} rejeté.", "en": "#{id} rejected."},
    "js.done_spam": {"fr": "N° {id} classé spam.", "en": "#{id} marked as spam."},
    "js.bulk_done": {"fr": "{decided} décidé(s), {conflicts} déjà traité(s), {other} en échec.",
                     "en": "{decided} decided, {conflicts} already decided, {other} failed."},
    "js.unavailable": {"fr": "Cette action ne change rien ici.",
                       "en": "That action changes nothing here."},
    "js.expired": {"fr": "Session expirée : reconnectez-vous.", "en": "Session expired: sign in again."},
    "js.failed": {"fr": "Échec : {message}", "en": "Failed: {message}"},
    "js.network": {"fr": "Le serveur ne répond pas. Réessayez.",
                   "en": "The server does not answer. Try again."},
    "js.not_found": {"fr": "Introuvable.", "en": "Not found."},
    "js.forbidden": {"fr": "Hors de vos sites.", "en": "Outside your sites."},
    "js.empty": {"fr": "Plus rien sur cette page.", "en": "Nothing left on this page."},
}

STATUS_KEYS = ("pending", "published", "rejected", "spam")


def text(key: str, language: str, /, **params: object) -> str:
    """The text for *key* in *language* (French when the language is unknown),
    placeholders filled. An unknown key is a bug: ``KeyError``."""
    texts = TEXTS[key]
    template = texts.get(language) or texts[DEFAULT_LANGUAGE]
    return template.format(**params) if params else template


def script_texts(language: str) -> dict[str, str]:
    """The ``js.*`` texts, keyed for ``data-*`` attributes (``js.done_approve`` ->
    ``done-approve``), plus the status names (``status-spam``)."""
    found = {key[3:].replace("_", "-"): text(key, language) for key in TEXTS if key.startswith("js.")}
    found.update({f"status-{s}": text(f"status.{s}", language) for s in STATUS_KEYS})
    return found
