"""Every setting of the service, declared once.

Each :class:`Setting` has a name, a default, a type and a help text; its
environment variable is ``MODERATION_`` + the upper-cased name. The CLI, the
server, the docs (``moderation settings --markdown`` writes ``docs/settings.md``)
and the tests all derive from :data:`SETTINGS`.
"""
from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ENV_PREFIX = "MODERATION_"
REPO_MODELS_DIR = Path(__file__).resolve().parent.parent / "models"


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    type: type
    help: str
    bounds: tuple[float, float] | None = None   # inclusive; checked by load_settings

    @property
    def env_var(self) -> str:
        return ENV_PREFIX + self.name.upper()


SETTINGS: tuple[Setting, ...] = (
    Setting("database_url", "sqlite:///moderation.db", str,
            "Where comments live: sqlite:///PATH (relative to the working directory), "
            "sqlite:////absolute/path, or postgresql://USER@HOST:PORT/DBNAME for several "
            "instances sharing one database (the `postgres` extra). The CLI and the server "
            "read the same one."),
    Setting("host", "127.0.0.1", str, "Address `moderation serve` listens on."),
    Setting("port", 8080, int, "Port `moderation serve` listens on."),
    Setting("workers", 0, int,
            "Worker processes `moderation serve` runs, sharing the port (SO_REUSEPORT); "
            "0 means one per CPU."),
    Setting("model_dir", "", str,
            "Directory holding the model files and the CURRENT pointer; empty means "
            "the `models/` directory shipped beside the package (else ./models)."),
    Setting("model_hmac_key", "", str,
            "When set, a model is loaded only if its manifest carries a matching "
            "HMAC-SHA256 made with this key (train.py --hmac-key-env)."),
    Setting("rate_limit_per_ip", 10, int,
            "Comments per minute from one IP prefix (/24 IPv4, /48 IPv6) on one site; 0 switches the check off."),
    Setting("rate_limit_per_email", 5, int,
            "Comments per minute from one e-mail address (any case) on one site; 0 switches the check off."),
    Setting("duplicate_window_seconds", 600, int,
            "The same body from the same e-mail within this many seconds is never "
            "auto-published (reason `duplicate`); 0 switches the check off."),
    Setting("honeypot_check", True, bool,
            "Hold as spam any submission whose honeypot field is filled."),
    Setting("max_request_bytes", 65536, int, "Largest request body accepted (413 beyond)."),
    Setting("max_body_chars", 5000, int, "Longest comment text, in characters after NFC normalization."),
    Setting("max_name_chars", 80, int, "Longest author name, in characters."),
    Setting("max_thread_id_chars", 200, int, "Longest thread identifier, in characters."),
    Setting("max_title_chars", 300, int, "Longest thread title, in characters."),
    Setting("max_url_chars", 2048, int, "Longest thread URL or referrer, in characters."),
    Setting("idempotency_hours", 24, int,
            "How long an Idempotency-Key is remembered: a retry within this time gets the first answer."),
    Setting("site_cache_seconds", 5.0, float,
            "How long a server remembers the site behind an API key and each site's closed and "
            "pre-moderated threads: a site changed (mode, language, thresholds, a key after its "
            "overlap) or a thread closed through another worker or host takes effect within "
            "this time. 0 turns it off."),
    Setting("public_cache_seconds", 1.0, float,
            "How long each server keeps a public answer (thread pages, counts, top threads) and "
            "the Cache-Control max-age it sends: a new comment shows within this time. 0 turns it off."),
    Setting("email_domain_check", True, bool,
            "Give a comment whose e-mail is at a throw-away mailbox domain the reason "
            "`disposable_email`, and one whose domain imitates a well-known provider (`gmial.com`) "
            "`confusable_email`: either sends what would be published to review (never to spam)."),
    Setting("min_submit_seconds", 3.0, float,
            "A comment whose site sent a signed form time (`form.rendered_at`) and that came sooner "
            "after it than this gets the reason `too_fast` and goes to review. 0 switches it off."),
    Setting("flags_to_review", 3, int,
            "Readers' flags (`POST /v1/comments/{id}/flags`, one per reader) that send a published "
            "comment back to the review queue, reason `reader_flags`; the flag that reaches this "
            "number does it, once. 0: flags are counted and shown to moderators, never acted on."),
    Setting("edit_window_seconds", 900, int,
            "How long after posting an author may edit their comment with the token the `POST` "
            "answered (`PATCH /v1/comments/{id}`, `Author-Token` header); each edit is scored "
            "again. 0: no edits. Deleting (`DELETE`) has no time limit."),
    Setting("audit_share", 0.02, float,
            "Share, between 0 and 1, of the model's own decisions (clear ham published, clear spam "
            "held) drawn at random and sent to the review queue instead, with reason `audit` beside "
            "the model's: moderators' verdicts on them measure how often the model publishes spam "
            "and holds ham (`GET /v1/review/stats`). 0 switches the audit off.",
            bounds=(0.0, 1.0)),
    Setting("surge_factor", 5.0, float,
            "Surge mode: a thread surges when its comments within `MODERATION_SURGE_WINDOW_SECONDS` "
            "reach this many times its site's baseline (the 90th percentile of the comments one "
            "thread got in one such window over `MODERATION_SURGE_BASELINE_DAYS`, windows without "
            "comments left out), and at least `MODERATION_SURGE_MIN_COMMENTS`. For "
            "`MODERATION_SURGE_SECONDS` its new authors' comments and those the model is unsure of "
            "then wait for a moderator (reason `surge`). 0 switches surge mode off.",
            bounds=(0.0, 1000.0)),
    Setting("surge_window_seconds", 600.0, float,
            "Surge mode: the sliding window a thread's comments are counted over (and the length of "
            "the windows its site's baseline is measured in).", bounds=(1.0, 86400.0)),
    Setting("surge_min_comments", 30, int,
            "Surge mode: a thread never surges with fewer comments than this within the window; "
            "alone the threshold while its site has no baseline.", bounds=(1, 1_000_000)),
    Setting("surge_baseline_days", 7.0, float,
            "Surge mode: how far back a site's baseline is measured (each worker measures it again "
            "every 5 minutes).", bounds=(0.01, 365.0)),
    Setting("surge_baseline_min_windows", 20, int,
            "Surge mode: a site has a baseline only once this many (thread, window) pairs held "
            "comments in the baseline's days; before, `MODERATION_SURGE_MIN_COMMENTS` alone is the "
            "threshold.", bounds=(1, 1_000_000)),
    Setting("surge_seconds", 1800.0, float,
            "Surge mode: how long a thread stays in surge mode once it starts; each comment that "
            "still finds it at or above the threshold pushes the end back to this long after itself "
            "(to within a tenth). Then its decisions are the usual ones again by themselves.",
            bounds=(1.0, 7 * 86400.0)),
    Setting("model_reload_wait_seconds", 10.0, float,
            "How long `POST /v1/admin/model/reload` waits for every worker process (of every "
            "instance sharing the database) to load the model before it answers which did not "
            "(503).", bounds=(0.5, 300.0)),
    Setting("scoring_batch_max", 64, int, "Most texts scored in one model call."),
    Setting("scoring_batch_wait_ms", 2.0, float,
            "How long the scorer waits to gather concurrent texts into one batch when idle."),
    Setting("webhook_poll_seconds", 1.0, float,
            "How often each worker process looks for webhook deliveries that are due; "
            "0 stops delivering from this process (events still queue in the outbox)."),
    Setting("webhook_timeout_seconds", 10.0, float,
            "Time allowed for one webhook delivery (connect, send, answer); beyond, it is retried."),
    Setting("webhook_max_attempts", 20, int,
            "Attempts at one webhook delivery before it is marked dead "
            "(`moderation webhook list` counts them; `webhook redeliver` tries them again)."),
    Setting("webhook_backoff_seconds", 5.0, float,
            "Wait before the second attempt at a failed webhook delivery; it doubles after each "
            "failure (with random jitter), up to `MODERATION_WEBHOOK_BACKOFF_MAX_SECONDS`."),
    Setting("webhook_backoff_max_seconds", 3600.0, float,
            "Longest wait between two attempts at a webhook delivery."),
    Setting("webhook_retention_days", 7, int,
            "`moderation purge` deletes webhook deliveries delivered or dead for longer than this."),
    Setting("drift_poll_seconds", 60.0, float,
            "Drift alarm: how often each worker process measures, from the database, the population "
            "stability index (PSI) of each site's spam scores and detected languages over the drift "
            "window against a reference (README, *Drift alarm*). 0 stops measuring in this process.",
            bounds=(0.0, 86400.0)),
    Setting("drift_window_hours", 24.0, float,
            "Drift alarm: the window of a site's latest comments that is compared with the reference.",
            bounds=(0.0001, 8760.0)),
    Setting("drift_reference", "traffic", str,
            "Drift alarm: `traffic` compares with the site's earlier traffic; `auto` with the "
            "model's held-out predictions when its manifest holds them, else with the site's "
            "traffic. The held-out predictions carry the training data's spam rate and language "
            "mix (the shipped model's: mostly English, YouTube's spam rate), which a French site "
            "differs from on its first day."),
    Setting("drift_reference_days", 7.0, float,
            "Drift alarm: the site's earlier traffic is its comments of this many days before the "
            "window, drift episodes left out (all of them when that leaves too few).",
            bounds=(0.0001, 365.0)),
    Setting("drift_min_comments", 200, int,
            "Drift alarm: a site's PSI is judged only with this many comments in the window and in "
            "its earlier traffic (for scores: comments the model in service scored).",
            bounds=(1, 1_000_000_000)),
    Setting("drift_threshold", 0.25, float,
            "Drift alarm: a PSI above this starts a site's drift episode: `/readyz` names the site "
            "(and stays 200) and a `model.drift` webhook event is sent once; the episode ends when "
            "every PSI is below 0.8 times this.", bounds=(0.001, 100.0)),
    Setting("spam_retention_days", 30, int, "`moderation purge` deletes spam older than this."),
    Setting("ip_retention_days", 7, int, "`moderation purge` deletes full IP addresses older than this."),
    Setting("session_hours", 12.0, float,
            "How long a moderator stays signed in on the /moderate pages; then they sign in again."),
    Setting("signin_failures_per_minute", 10, int,
            "Failed sign-ins on /moderate allowed per minute from one IP prefix (counted in the "
            "database, across workers and hosts); beyond, 429. 0 switches the check off."),
    Setting("trust_forwarded_proto", False, bool,
            "Believe the X-Forwarded-Proto header to tell HTTPS requests (the session cookie is "
            "then Secure with the __Host- prefix). Set it only behind a proxy that overwrites it."),
    Setting("log_level", "INFO", str, "Python logging level."),
    Setting("log_format", "json", str,
            "How `moderation serve` writes its log on standard error: `json` (one object per line, "
            "with the request id) or `text`. The other commands always write text."),
    Setting("metrics_token", "", str,
            "When set, `GET /metrics` wants `Authorization: Bearer <this token>` (401 otherwise); "
            "empty: the metrics are public, like /healthz."),
    Setting("header_timeout_seconds", 10.0, float,
            "How long `moderation serve` waits for a request's headers (on a new connection, or "
            "between two requests on a kept-alive one) before it closes the connection.",
            bounds=(0.1, 3600.0)),
    Setting("body_timeout_seconds", 30.0, float,
            "How long `moderation serve` waits for a request's whole body once its headers are in; "
            "beyond, it answers 408 and closes the connection. 0 switches the bound off."),
    Setting("shutdown_timeout_seconds", 8.0, float,
            "On SIGTERM, how long each server process lets requests in progress finish before it "
            "cancels them; keep it under the container's grace period (often 10 s). The process's "
            "clean-up has 10 s more, then it exits regardless."),
    Setting("max_connections_per_client", 100, int,
            "Open connections one client address may hold on each server process; beyond, a new "
            "one is answered 503 and closed. 0 switches the bound off."),
    Setting("max_requests_in_flight", 512, int,
            "Requests each server process handles at once (from their headers to their answer; "
            "/healthz, /readyz and /metrics aside); beyond, 503 `overloaded` with Retry-After at "
            "once. 0 switches the bound off.", bounds=(0, 1_000_000)),
    Setting("scoring_queue_max", 256, int,
            "Texts waiting for each server process's scoring thread; beyond, 503 `overloaded` with "
            "Retry-After at once. 0 switches the bound off.", bounds=(0, 1_000_000)),
)

_BY_NAME = {s.name: s for s in SETTINGS}

Settings = dataclasses.make_dataclass(
    "Settings",
    [(s.name, s.type, dataclasses.field(default=s.default)) for s in SETTINGS],
    frozen=True,
)
Settings.__module__ = __name__   # picklable, for worker processes
Settings.__doc__ = "The values of :data:`SETTINGS` for one process. Build with :func:`load_settings`."


class SettingsError(ValueError):
    """A setting's value cannot be read as its type."""


def _parse(setting: Setting, raw: str) -> Any:
    if setting.type is bool:
        lowered = raw.strip().lower()
        if lowered in {"1", "true", "yes", "on"}:
            return True
        if lowered in {"0", "false", "no", "off", ""}:
            return False
        raise SettingsError(f"{setting.env_var}={raw!r}: expected true or false")
    try:
        return setting.type(raw)
    except ValueError as exc:
        raise SettingsError(f"{setting.env_var}={raw!r}: expected {setting.type.__name__}") from exc


def load_settings(environ: Mapping[str, str] | None = None, **overrides: Any):
    """Defaults, then ``MODERATION_*`` variables from *environ*, then *overrides*.

    Unknown override names raise ``TypeError``; unreadable values raise
    :class:`SettingsError`.
    """
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for setting in SETTINGS:
        if setting.env_var in environ:
            values[setting.name] = _parse(setting, environ[setting.env_var])
    unknown = set(overrides) - set(_BY_NAME)
    if unknown:
        raise TypeError(f"unknown settings: {', '.join(sorted(unknown))}")
    values.update(overrides)
    for setting in SETTINGS:
        value = values.get(setting.name, setting.default)
        if setting.bounds is not None and not setting.bounds[0] <= value <= setting.bounds[1]:
            low, high = setting.bounds
            raise SettingsError(f"{setting.env_var}={value!r}: expected a number in [{low}, {high}]")
    return Settings(**values)


def model_dir(settings) -> Path:
    if settings.model_dir:
        return Path(settings.model_dir)
    return REPO_MODELS_DIR if REPO_MODELS_DIR.is_dir() else Path("models")


def settings_markdown() -> str:
    """The settings reference, as committed in ``docs/settings.md``."""
    lines = [
        "# Settings",
        "",
        "Every setting is read from the environment when the service or the CLI starts.",
        "This file is generated by `moderation settings --markdown`; a test keeps it true.",
        "",
        "| variable | type | default | meaning |",
        "|---|---|---|---|",
    ]
    for s in SETTINGS:
        default = str(s.default).lower() if s.type is bool else s.default
        lines.append(f"| `{s.env_var}` | {s.type.__name__} | `{default}` | {s.help} |")
    return "\n".join(lines) + "\n"
