"""Messages shown to websites and their readers, in French and English.

French comes first: the service was born on a French news site. A message is
looked up by its code; ``{placeholders}`` are filled from the error's params.
"""
from __future__ import annotations

LANGUAGES = ("fr", "en")
DEFAULT_LANGUAGE = "fr"

MESSAGES: dict[str, dict[str, str]] = {
    # request-level errors
    "malformed_json": {"fr": "Le corps de la requête n'est pas un JSON valide.",
                       "en": "The request body is not valid JSON."},
    "invalid_utf8": {"fr": "Le corps de la requête n'est pas encodé en UTF-8 valide.",
                     "en": "The request body is not valid UTF-8."},
    "duplicate_key": {"fr": "La clé « {key} » apparaît plusieurs fois dans le même objet.",
                      "en": "The key \"{key}\" appears more than once in the same object."},
    "too_deep": {"fr": "Le JSON est imbriqué trop profondément (au plus {max} niveaux).",
                 "en": "The JSON is nested too deeply (at most {max} levels)."},
    "number_too_large": {"fr": "Un nombre du JSON est trop grand.",
                         "en": "A number in the JSON is too large."},
    "not_an_object": {"fr": "Le corps de la requête doit être un objet JSON.",
                      "en": "The request body must be a JSON object."},
    "unauthorized": {"fr": "Clé d'API absente ou invalide.",
                     "en": "Missing or invalid API key."},
    "forbidden": {"fr": "Accès refusé.", "en": "Access denied."},
    "not_found": {"fr": "Ressource introuvable.", "en": "Resource not found."},
    "method_not_allowed": {"fr": "Méthode {method} non autorisée ici.",
                           "en": "Method {method} is not allowed here."},
    "payload_too_large": {"fr": "Requête trop volumineuse (au plus {max} octets).",
                          "en": "Request too large (at most {max} bytes)."},
    "unsupported_media_type": {"fr": "Le corps doit être envoyé en application/json.",
                               "en": "The body must be sent as application/json."},
    "validation_failed": {"fr": "Tous les champs sont obligatoires et doivent être valides.",
                          "en": "All fields are required and must be valid."},
    "rate_limited": {"fr": "Trop de commentaires en peu de temps. Réessayez dans {retry_after} s.",
                     "en": "Too many comments in a short time. Try again in {retry_after} s."},
    "idempotency_key_reused": {
        "fr": "Cette clé d'idempotence a déjà servi pour une autre requête.",
        "en": "This idempotency key was already used for a different request."},
    "invalid_parameter": {"fr": "Paramètre de requête invalide.", "en": "Invalid query parameter."},
    "request_timeout": {"fr": "Le corps de la requête n'est pas arrivé en {seconds} s.",
                        "en": "The request body did not arrive within {seconds} s."},
    "shutting_down": {"fr": "Le service redémarre. Réessayez dans un instant.",
                      "en": "The service is restarting. Try again in a moment."},
    "internal_error": {"fr": "Erreur interne. Réessayez plus tard.",
                       "en": "Internal error. Please try again later."},
    "not_ready": {"fr": "Le service n'est pas prêt.", "en": "The service is not ready."},
    # field-level errors
    "required": {"fr": "Ce champ est obligatoire.", "en": "This field is required."},
    "blank": {"fr": "Ce champ ne peut pas être vide.", "en": "This field cannot be blank."},
    "invalid_type": {"fr": "Type attendu : {expected}.", "en": "Expected type: {expected}."},
    "too_long": {"fr": "Trop long : {max} caractères au plus.",
                 "en": "Too long: at most {max} characters."},
    "unknown_field": {"fr": "Champ inconnu.", "en": "Unknown field."},
    "invalid_email": {"fr": "Adresse e-mail invalide.", "en": "Invalid e-mail address."},
    "invalid_url": {"fr": "Adresse web invalide (http ou https attendu).",
                    "en": "Invalid URL (http or https expected)."},
    "invalid_ip": {"fr": "Adresse IP invalide.", "en": "Invalid IP address."},
    "control_characters": {"fr": "Caractères de contrôle interdits.",
                           "en": "Control characters are not allowed."},
    "invalid_unicode": {"fr": "Texte Unicode invalide (substitut isolé).",
                        "en": "Invalid Unicode text (lone surrogate)."},
    "invalid_parent": {
        "fr": "Le commentaire parent n'existe pas dans ce fil ou a été écarté par la modération.",
        "en": "The parent comment does not exist in this thread or was turned down by moderation."},
    "invalid_value": {"fr": "Valeur invalide.", "en": "Invalid value."},
    # answers to readers
    "thanks_published": {"fr": "Merci pour votre commentaire. Il est publié.",
                         "en": "Thank you for your comment. It is published."},
    "thanks_pending": {
        "fr": "Merci pour votre commentaire. Il sera visible prochainement sous réserve de validation.",
        "en": "Thank you for your comment. It will be visible soon, subject to validation."},
    "thanks_parent_pending": {
        "fr": "Merci pour votre commentaire. Il sera visible avec le commentaire auquel il répond, "
              "une fois celui-ci validé.",
        "en": "Thank you for your comment. It will be visible with the comment it replies to, "
              "once that one is approved."},
}


def message(code: str, language: str, **params: object) -> str:
    """The message for *code* in *language* (French when unknown), params filled in."""
    texts = MESSAGES.get(code)
    if texts is None:
        return code
    template = texts.get(language) or texts[DEFAULT_LANGUAGE]
    try:
        return template.format(**params)
    except (KeyError, IndexError):
        return template


def negotiate(accept_language: str | None, fallback: str | None = None) -> str:
    """Pick ``fr`` or ``en`` from an Accept-Language header (by q-value), else
    *fallback* when it is one of ours, else French."""
    best: tuple[float, int, str] | None = None
    for position, part in enumerate((accept_language or "").split(",")):
        pieces = part.strip().split(";")
        tag = pieces[0].strip().lower().split("-")[0]
        if tag not in LANGUAGES:
            continue
        quality = 1.0
        for piece in pieces[1:]:
            name, _, value = piece.strip().partition("=")
            if name == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if quality <= 0:
            continue
        candidate = (quality, -position, tag)
        if best is None or candidate > best:
            best = candidate
    if best is not None:
        return best[2]
    return fallback if fallback in LANGUAGES else DEFAULT_LANGUAGE

MESSAGES.update({
    "bad_request": {"fr": "Requête invalide.", "en": "Bad request."},
    "database_busy": {"fr": "La base de données est occupée ; réessayez dans un instant.",
                      "en": "The database is busy; try again in a moment."},
    "database_unwritable": {"fr": "La base de données n'accepte pas d'écriture.",
                            "en": "The database does not accept writes."},
    "database_unavailable": {
        "fr": "La base de données est momentanément injoignable ; réessayez dans un instant.",
        "en": "The database cannot be reached for the moment; try again shortly."},
    "model_not_loaded": {"fr": "Aucun modèle de score n'est chargé.",
                         "en": "No scoring model is loaded."},
    "model_reload_failed": {"fr": "Le nouveau modèle n'a pas pu être chargé ; l'ancien reste en service.",
                            "en": "The new model could not be loaded; the previous one stays in use."},    "model_reload_incomplete": {
        "fr": "Tous les processus n'ont pas confirmé le chargement du nouveau modèle à temps.",
        "en": "Not every worker process confirmed loading the new model in time."},
    "model_refused": {"fr": "Ce processus a refusé le nouveau modèle et garde le précédent.",
                      "en": "This worker process refused the new model and keeps the previous one."},
    "no_answer": {"fr": "Ce processus n'a pas confirmé dans les {seconds} s.",
                  "en": "This worker process did not confirm within {seconds} s."},
})

MESSAGES.update({
    # review and privacy
    "conflict": {"fr": "Ce commentaire a déjà été traité : son statut est maintenant « {current_status} ».",
                 "en": "This comment was already handled: its status is now \"{current_status}\"."},
    "status_changed": {"fr": "Le commentaire n'est plus dans ce statut.",
                       "en": "The comment is no longer in this status."},
    "no_change": {"fr": "Le commentaire serait laissé dans le même statut ({status}).",
                  "en": "The comment would stay in the same status ({status})."},
    "invalid_choice": {"fr": "Valeur attendue parmi : {choices}.",
                       "en": "Expected one of: {choices}."},
    "out_of_range": {"fr": "Valeur attendue entre {min} et {max}.",
                     "en": "Expected a value between {min} and {max}."},
    "duplicate_value": {"fr": "Valeur en double.", "en": "Duplicate value."},
    "too_many": {"fr": "Trop d'éléments : {max} au plus.", "en": "Too many items: at most {max}."},
    # a news desk's changes
    "thread_closed": {"fr": "Les commentaires sont fermés pour cet article.",
                      "en": "Comments are closed on this article."},
    "nothing_to_change": {"fr": "Rien à changer : envoyez au moins un champ.",
                          "en": "Nothing to change: send at least one field."},
    # an author's own comment
    "invalid_author_token": {"fr": "Jeton d'auteur absent ou invalide pour ce commentaire.",
                             "en": "Missing or wrong author token for this comment."},
    "edit_window_closed": {"fr": "Le délai pour modifier ce commentaire est passé.",
                           "en": "The time to edit this comment has passed."},
    "comment_not_editable": {"fr": "Ce commentaire ne peut plus être modifié ni supprimé.",
                             "en": "This comment can no longer be edited or deleted."},
    "thanks_edited": {"fr": "Votre commentaire a été modifié.", "en": "Your comment was edited."},
    "thanks_edited_pending": {
        "fr": "Votre commentaire a été modifié. Il sera visible prochainement sous réserve de validation.",
        "en": "Your comment was edited. It will be visible once a moderator has approved it."},
    "comment_deleted": {"fr": "Votre commentaire a été supprimé.", "en": "Your comment was deleted."},
})

MESSAGES.update({
    # the moderators' pages and their session
    "csrf_failed": {"fr": "Jeton anti-CSRF absent ou invalide : rechargez la page et recommencez.",
                    "en": "Missing or invalid CSRF token: reload the page and try again."},
    "session_expired": {"fr": "Session absente ou expirée : reconnectez-vous.",
                        "en": "No session, or it expired: sign in again."},
    "signin_rate_limited": {"fr": "Trop d'essais manqués. Réessayez dans {retry_after} s.",
                            "en": "Too many failed attempts. Try again in {retry_after} s."},
})

MESSAGES.update({
    # the Akismet-compatible API (X-akismet-debug-help)
    "akismet_invalid_key": {
        "fr": "Clé absente ou inconnue : envoyez la clé d'API du site dans api_key (ou key).",
        "en": "Missing or unknown key: send the site's API key in api_key (or key)."},
    "akismet_blog_missing": {"fr": "Champ blog vide : envoyez l'adresse du site.",
                             "en": "Empty blog field: send the site's URL."},
    "akismet_blog_mismatch": {
        "fr": "Le champ blog ne correspond pas à l'adresse enregistrée pour cette clé ({url}).",
        "en": "The blog field does not match the URL registered for this key ({url})."},
    "akismet_missing_field": {"fr": "Champ obligatoire absent : {field}.",
                              "en": "Missing required field: {field}."},
})

MESSAGES.update({
    # the edge (moderation.edge): bytes the service cannot read
    "invalid_header": {"fr": "L'en-tête {header} n'est pas un texte UTF-8 valide.",
                       "en": "The {header} header is not valid UTF-8 text."},
    "invalid_path": {"fr": "Le chemin de la requête n'est pas de l'UTF-8 valide.",
                     "en": "The request path is not valid UTF-8."},
    "invalid_encoding": {"fr": "Octets invalides : texte UTF-8 sans caractère de contrôle attendu.",
                         "en": "Invalid bytes: UTF-8 text without control characters expected."},
    "unsupported_content_encoding": {
        "fr": "Corps compressé refusé : envoyez-le sans Content-Encoding.",
        "en": "Compressed request bodies are not accepted: send the body without Content-Encoding."},
    "unsupported_charset": {"fr": "Jeu de caractères inconnu : envoyez le corps en UTF-8.",
                            "en": "Unknown character set: send the body as UTF-8."},
    "invalid_body_encoding": {
        "fr": "Le corps de la requête n'est pas un texte valide dans son jeu de caractères.",
        "en": "The request body is not valid text in its character set."},
    "malformed_body": {"fr": "Le corps de la requête est incomplet ou mal formé.",
                       "en": "The request body is incomplete or malformed."},
    "too_many_fields": {"fr": "Trop de champs dans le formulaire ({max} au plus).",
                        "en": "Too many form fields (at most {max})."},
    "expectation_failed": {"fr": "Seule l'attente 100-continue est prise en charge (en-tête Expect).",
                           "en": "Only the 100-continue expectation is supported (Expect header)."},
    # load shedding (moderation.shedding)
    "overloaded": {"fr": "Le service est surchargé. Réessayez dans {retry_after} s.",
                   "en": "The service is overloaded. Try again in {retry_after} s."},
})
