"""The moderators' side, as small pure modules: queue filters, orders and
cursors (``queue``), decisions and their labels (``decisions``), training rows
(``labels``), review statistics (``stats``) and a commenter's data (``privacy``).
Handlers live in ``moderation.api.review`` and ``moderation.api.privacy``."""
