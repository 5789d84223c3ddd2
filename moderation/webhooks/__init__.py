"""Webhooks: a site's comment events POSTed to URLs it chose, signed, retried.

- Events are ``comment.pending``, ``comment.published``, ``comment.rejected``
  and ``comment.spam``: a comment got that status (on intake, by a moderator's
  decision, a rescore or an erasure); and ``model.drift``: a drift episode of
  the site started (:mod:`moderation.services.drift_monitor`; its outbox row is
  written with the episode, in one transaction).
- The store writes each event to its ``outbox`` table in the transaction that
  made the change (see :class:`moderation.store.base.Store`), so an event exists
  exactly when its change was committed, and the intake never waits for a
  receiver.
- :mod:`.deliverer` runs in every worker process: it leases due outbox rows,
  POSTs them, and marks them delivered, retries them later with exponential
  backoff and jitter, or marks them dead after the last attempt. Delivery is
  at least once, in no guaranteed order: receivers deduplicate by the
  ``X-Moderation-Delivery`` id and order by ``occurred_at``.
- :mod:`.signing` signs each delivery (HMAC-SHA256 over ``timestamp.body``);
  :mod:`.payload` builds the JSON, which never holds an e-mail, IP address,
  user agent or referrer.
"""
