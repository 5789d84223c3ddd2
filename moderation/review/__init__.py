"""The moderators' side, as small pure modules: queue filters, orders and
cursors (``queue``), decisions and their labels (``decisions``), training rows
(``labels``), review statistics (``stats``), a commenter's data (``privacy``), a site's
thresholds chosen on its own labels (``site_thresholds``) and a score's explanation in
words (``explanations``).
Its use cases are ``moderation.services.review``; the HTTP handlers ``moderation.api.review``,
``moderation.api.privacy`` and ``moderation.web.views``."""
