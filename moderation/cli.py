"""The ``moderation`` command: run the service and look after it.

Every subcommand reads the same settings as the server (``MODERATION_*``), so
``moderation site add`` writes to the database ``moderation serve`` reads.
Only ``serve`` and ``init`` create a SQLite database: every other command
refuses a file that does not exist (a key written to a database the server does
not read would be refused with 401), and says on stderr which database it used.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from .config import SettingsError, load_settings, model_dir, settings_markdown
from .domain import WEBHOOK_EVENTS, Mode, Role
from .cli_desk import add_desk_parsers, desk_command
from .cli_model import add_model_parser, model_command
from .cli_thresholds import (DEFAULT_MAX_HAM_TO_SPAM, DEFAULT_MAX_SPAM_PUBLISHED,
                             add_thresholds_parser, site_labels, thresholds_command)
from .logs import configure_logging
from .services import admin, people
from .store.base import DatabaseMissing, ModeratorExists, SiteExists, StoreError, open_store


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="moderation", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the HTTP service")
    serve.add_argument("--host", help="address to listen on (MODERATION_HOST)")
    serve.add_argument("--port", type=int, help="port to listen on (MODERATION_PORT)")
    serve.add_argument("--workers", type=int,
                       help="worker processes sharing the port (MODERATION_WORKERS; 0: one per CPU)")

    site = commands.add_parser("site", help="websites that post comments")
    site_commands = site.add_subparsers(dest="site_command", required=True)
    add = site_commands.add_parser("add", help="create a site and print its API key once")
    add.add_argument("--name", required=True, help="short name used in public URLs")
    add.add_argument("--url", required=True, help="the site's address")
    add.add_argument("--lang", default="fr", help="language of the site's messages (fr or en)")
    add.add_argument("--mode", choices=[m.value for m in Mode], default=Mode.PRE.value,
                     help="pre: a moderator approves everything; auto: clear ham is published at once")
    site_commands.add_parser("list", help="list the sites")
    tune = site_commands.add_parser("thresholds", help="override the model's thresholds for a site")
    tune.add_argument("name")
    tune.add_argument("--approve-below", type=float, help="publish below this spam score")
    tune.add_argument("--reject-above", type=float, help="hold as spam at or above this score")
    tune.add_argument("--from-labels", action="store_true",
                      help="choose both on the site's own moderator labels scored by the current "
                           "model (needs 200 ham and 50 spam), and show their rates beside those "
                           "of the thresholds in effect")
    tune.add_argument("--max-ham-to-spam", type=float, metavar="SHARE",
                      help="with --from-labels: largest share of ham held as spam (default 0.005)")
    tune.add_argument("--max-spam-published", type=float, metavar="SHARE",
                      help="with --from-labels: largest share of spam published (default 0.02)")
    tune.add_argument("--dry-run", action="store_true",
                      help="with --from-labels: show the thresholds, store nothing")

    moderator = commands.add_parser("moderator", help="people who work the review queue")
    moderator_commands = moderator.add_subparsers(dest="moderator_command", required=True)
    madd = moderator_commands.add_parser("add", help="create a moderator and print their token once")
    madd.add_argument("name")
    madd.add_argument("--role", choices=[r.value for r in Role], default=Role.MODERATOR.value)
    madd.add_argument("--site", action="append", default=[], metavar="SITE",
                      help="a site they moderate (repeat; none: every site)")
    add_desk_parsers(commands, site_commands, moderator_commands)

    rescore = commands.add_parser("rescore", help="score pending comments again with the current model")
    rescore.add_argument("--apply", action="store_true",
                         help="also move comments the new scores decide (to spam, or published on auto sites)")

    export = commands.add_parser(
        "export-labels", help="write moderators' decisions as training rows (JSON lines) for train.py")
    export.add_argument("out", metavar="OUT.jsonl", help="file to write ('-': standard output)")
    export.add_argument("--since", metavar="DATE",
                        help="only decisions from this date (YYYY-MM-DD, UTC) or ISO date-time")
    export.add_argument("--site", metavar="SITE", help="only this site's comments")

    commands.add_parser("purge", help="delete old spam, old full IP addresses and old webhook "
                                      "deliveries (MODERATION_SPAM_RETENTION_DAYS, "
                                      "MODERATION_IP_RETENTION_DAYS, MODERATION_WEBHOOK_RETENTION_DAYS)")

    webhook = commands.add_parser("webhook", help="URLs a site's comment events are POSTed to")
    webhook_commands = webhook.add_subparsers(dest="webhook_command", required=True)
    wadd = webhook_commands.add_parser(
        "add", help="add a webhook to a site and print its signing secret once (last line)")
    wadd.add_argument("site", metavar="SITE", help="the site's name")
    wadd.add_argument("url", metavar="URL", help="where to POST the events (http or https)")
    wadd.add_argument("--event", action="append", default=[], choices=WEBHOOK_EVENTS,
                      help="an event to send (repeat; none: every event)")
    wlist = webhook_commands.add_parser(
        "list", help="webhooks with their deliveries queued, delivered and dead")
    wlist.add_argument("--site", metavar="SITE", help="only this site's webhooks")
    wremove = webhook_commands.add_parser("remove", help="delete a webhook and its queued deliveries")
    wremove.add_argument("id", type=int, metavar="ID")
    wredeliver = webhook_commands.add_parser(
        "redeliver", help="try the dead deliveries of a webhook again (after fixing its receiver)")
    wredeliver.add_argument("id", type=int, metavar="ID")

    people = commands.add_parser("people", help="a commenter's data, by e-mail address")
    people_commands = people.add_subparsers(dest="people_command", required=True)
    pexport = people_commands.add_parser("export", help="print everything held about an address (JSON)")
    pexport.add_argument("email")
    perase = people_commands.add_parser(
        "erase", help="anonymise every comment written with an address (the audit trail stays)")
    perase.add_argument("email")

    backup = commands.add_parser(
        "backup", help="SQLite: copy the database to PATH, safely while the service runs "
                       "(PostgreSQL: prints the pg_dump command)")
    backup.add_argument("path", metavar="PATH", help="the backup file to write")
    backup.add_argument("--force", action="store_true", help="replace PATH if it exists")
    restore = commands.add_parser(
        "restore", help="SQLite: replace the database's content with the backup PATH, the "
                        "service running or not (PostgreSQL: prints the pg_restore command)")
    restore.add_argument("path", metavar="PATH", help="a file `moderation backup` wrote")
    restore.add_argument("--yes", action="store_true",
                         help="replace a database that holds sites or comments")

    add_model_parser(commands)
    add_thresholds_parser(commands)

    commands.add_parser("init", help="create the database (SQLite: the file) and its schema; "
                                     "an existing one is only brought up to date")
    commands.add_parser("migrate", help="bring an existing database's schema up to date "
                                        "(serve does it too)")
    settings = commands.add_parser("settings", help="show the settings")
    settings.add_argument("--markdown", action="store_true", help="print the reference as Markdown")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"moderation: {exc}", file=sys.stderr)
        return 2
    try:
        configure_logging(settings.log_level, settings.log_format if args.command == "serve" else "text")
    except ValueError as exc:
        print(f"moderation: {exc}", file=sys.stderr)
        return 2
    try:
        if args.command == "serve":
            return _serve(settings, args)
        if args.command in ("backup", "restore"):
            return _backup_command(settings, args)
        if args.command == "settings":
            print(settings_markdown() if args.markdown else "\n".join(
                f"{name}={getattr(settings, name)!r}" for name in settings.__dataclass_fields__), end="")
            return 0
        return asyncio.run(_store_command(settings, args))
    except StoreError as exc:
        print(f"moderation: {exc}", file=sys.stderr)
        return 1


def _serve(settings, args) -> int:
    from .serve import default_workers, serve
    host = args.host or settings.host
    port = args.port or settings.port
    workers = args.workers if args.workers is not None else settings.workers
    workers = workers or default_workers()
    print(f"moderation: listening on http://{host}:{port} with {workers} worker(s) "
          f"(database {database_label(settings.database_url)}, models {model_dir(settings)})",
          flush=True)
    return serve(settings, host, port, workers)


def _backup_command(settings, args) -> int:
    """``backup`` and ``restore``: the database file itself, never through the
    store (which would migrate the database it opens)."""
    from .backup import BackupError, DatabaseBusy, backup_sqlite, postgres_advice, restore_sqlite
    url = settings.database_url
    if url.startswith(("postgresql:", "postgres:")):
        advice = postgres_advice(args.command, url, args.path)
        print(f"moderation: {advice.message}", file=sys.stderr)
        print(advice.command)
        return 2
    sqlite_file = _sqlite_file(url)
    if sqlite_file is None:
        print(f"moderation: {args.command} works on sqlite:///PATH and postgresql:// database "
              f"URLs, not {url!r}", file=sys.stderr)
        return 2
    if not sqlite_file.is_file():
        print(_missing_database(settings, DatabaseMissing(str(sqlite_file.absolute()))),
              file=sys.stderr)
        return 1
    label = database_label(url)
    print(f"database: {label}", file=sys.stderr, flush=True)
    try:
        if args.command == "backup":
            summary = backup_sqlite(sqlite_file, Path(args.path), force=args.force)
            print(f"backup {summary.path}: {summary.size} bytes, schema version "
                  f"{summary.schema_version}, {summary.describe()}; PRAGMA quick_check: ok")
            return 0
        restored = restore_sqlite(Path(args.path), sqlite_file, replace=args.yes)
    except DatabaseMissing as missing:
        print(_missing_database(settings, missing), file=sys.stderr)
        return 1
    except DatabaseBusy as busy:
        print(f"moderation: {busy}", file=sys.stderr)
        return 3
    except BackupError as exc:
        print(f"moderation: {exc}", file=sys.stderr)
        return 1
    print(f"restored {restored.backup.path} into {label}: {restored.after.describe()}; "
          f"replaced {restored.before.describe()}. Running servers serve it now.")
    return 0


def database_label(url: str) -> str:
    """*url* as the commands name it: a SQLite path made absolute (the URL is
    relative to the working directory), a PostgreSQL password hidden."""
    sqlite_file = _sqlite_file(url)
    if sqlite_file is not None:
        return f"sqlite:///{sqlite_file.absolute()}"
    parts = urlsplit(url)
    if parts.password is not None:
        host = parts.netloc.rpartition("@")[2]
        return urlunsplit(parts._replace(netloc=f"{parts.username or ''}:***@{host}"))
    return url


def _relative_to_cwd(url: str) -> str:
    sqlite_file = _sqlite_file(url)
    return f", relative to {Path.cwd()}" if sqlite_file and not sqlite_file.is_absolute() else ""


def _missing_database(settings, missing: DatabaseMissing) -> str:
    return (f"moderation: no database at {missing.path} (MODERATION_DATABASE_URL="
            f"{settings.database_url}{_relative_to_cwd(settings.database_url)}): "
            "nothing was created.\n"
            "  - To use the server's database: run this command from the folder the server "
            "runs in, or set MODERATION_DATABASE_URL to the URL the server uses "
            "(it prints it when it starts).\n"
            "  - To start a new database here: moderation init")


async def _store_command(settings, args) -> int:
    label = database_label(settings.database_url)
    sqlite_file = _sqlite_file(settings.database_url)
    existed = sqlite_file is not None and sqlite_file.is_file()
    try:
        # Only init creates (serve does too, through the app): any other command
        # on a missing file would make an empty database the server never reads.
        store = open_store(settings.database_url, create=args.command == "init")
        await store.open()
    except DatabaseMissing as missing:
        print(_missing_database(settings, missing), file=sys.stderr)
        return 1
    try:
        if args.command == "init":
            if sqlite_file is None:
                print(f"database {label}: schema up to date")
            elif existed:
                print(f"database {label} exists already: schema up to date")
            else:
                print(f"database {label} created" + (
                    ": run `moderation serve` and the other commands from this folder, or set "
                    f"MODERATION_DATABASE_URL={label} for them" if _relative_to_cwd(
                        settings.database_url) else ""))
            return 0
        if args.command == "migrate":
            print(f"database {label}: schema up to date")
            return 0
        # On stderr: stdout stays the command's own output (the key printed last, JSON...).
        print(f"database: {label}", file=sys.stderr, flush=True)
        return await _run_store_command(store, settings, args)
    finally:
        await store.close()


def _sqlite_file(url: str) -> Path | None:
    prefix = "sqlite:///"
    return Path(url[len(prefix):]) if url.startswith(prefix) and len(url) > len(prefix) else None


async def _run_store_command(store, settings, args) -> int:
    try:
        return await _dispatch(store, settings, args)
    except admin.AdminError as error:
        print(f"moderation: {error}", file=sys.stderr)
        return 2 if error.usage else 1


async def _dispatch(store, settings, args) -> int:
    handled = await desk_command(store, args)
    if handled is not None:
        return handled
    if args.command == "site":
        return await _site_command(store, args, settings)
    if args.command == "moderator":
        return await _moderator_command(store, args)
    if args.command == "rescore":
        from .services.intake import rescore
        moved, total = await rescore(store, settings, apply=args.apply)
        print(f"rescored {total} pending comments; {moved} moved")
        return 0
    if args.command == "export-labels":
        return await _export_labels(store, args)
    if args.command == "purge":
        return await _purge(store, settings)
    if args.command == "people":
        return await _people_command(store, args)
    if args.command == "webhook":
        return await _webhook_command(store, args)
    if args.command == "model":
        return await model_command(store, settings, args)
    if args.command == "thresholds":
        return await thresholds_command(store, settings, args)
    raise AssertionError(args.command)


async def _site_command(store, args, settings) -> int:
    if args.site_command == "list":
        for site in await store.list_sites():
            bands = f"{site.approve_below if site.approve_below is not None else '-'}" \
                    f"/{site.reject_above if site.reject_above is not None else '-'}"
            print(f"{site.name}\t{site.url}\t{site.lang}\t{site.mode.value}\t{bands}")
        return 0
    if args.site_command == "thresholds":
        site = await admin.site_named(store, args.name)
        if args.from_labels:
            return await _thresholds_from_labels(store, settings, site, args)
        if args.dry_run or args.max_ham_to_spam is not None or args.max_spam_published is not None:
            print("moderation: --dry-run and the budgets go with --from-labels", file=sys.stderr)
            return 2
        low, high = args.approve_below, args.reject_above
        site = await admin.set_thresholds(store, site.name, approve_below=low, reject_above=high)
        print(f"site {site.name}: approve below {low if low is not None else 'model default'}, "
              f"reject at or above {high if high is not None else 'model default'}")
        return 0
    try:
        _, key = await admin.add_site(store, name=args.name, url=args.url, lang=args.lang,
                                      mode=args.mode)
    except SiteExists:
        print(f"moderation: a site named {args.name!r} exists already", file=sys.stderr)
        return 1
    print(f"site {args.name} created ({args.mode} moderation). Its API key, shown only once:")
    print(key)
    return 0


async def _thresholds_from_labels(store, settings, site, args) -> int:
    from .review.site_thresholds import MIN_HAM_LABELS, MIN_SPAM_LABELS, NotEnoughLabels, propose
    from .scoring.model import ModelError
    if args.approve_below is not None or args.reject_above is not None:
        print("moderation: --from-labels chooses both thresholds: leave out --approve-below "
              "and --reject-above", file=sys.stderr)
        return 2
    max_ham = DEFAULT_MAX_HAM_TO_SPAM if args.max_ham_to_spam is None else args.max_ham_to_spam
    max_spam = (DEFAULT_MAX_SPAM_PUBLISHED if args.max_spam_published is None
                else args.max_spam_published)
    if not (0 <= max_ham < 1 and 0 <= max_spam < 1):
        print("moderation: the budgets are shares in [0, 1)", file=sys.stderr)
        return 2
    try:
        found = await site_labels(store, settings, site)
    except ModelError as error:
        print(f"moderation: {error}", file=sys.stderr)
        return 1
    version, in_effect, labels, left_out = found.version, found.in_effect, found.labels, found.left_out
    try:
        proposal = propose(labels, in_effect, max_ham_to_spam=max_ham, max_spam_published=max_spam)
    except NotEnoughLabels as short:
        print(f"moderation: site {site.name} has {short.ham} ham and {short.spam} spam labels scored "
              f"by model {version}; thresholds from labels need at least {MIN_HAM_LABELS} ham and "
              f"{MIN_SPAM_LABELS} spam (with fewer, a single comment would set a threshold). "
              "Keep deciding its comments, or set thresholds by hand.", file=sys.stderr)
        return 1
    source = found.source
    print(f"site {site.name}: {proposal.ham} ham and {proposal.spam} spam labels scored by model "
          f"{version}" + (f" ({left_out} more in languages the model does not decide, left out)"
                          if left_out else ""))
    print(f"budgets: ham held as spam <= {max_ham:.2%}, spam published <= {max_spam:.2%}")
    print(f"{'':24}{'approve below':>15}{'reject at/above':>17}{'ham held':>10}"
          f"{'spam published':>16}{'review':>9}")
    current = {in_effect(language) for language in sorted({row.language for row in labels})}
    for name, bands, rates in (
            (f"in effect ({source})", current.pop() if len(current) == 1 else None,
             proposal.current_rates),
            ("chosen from labels", proposal.chosen, proposal.chosen_rates)):
        low = f"{bands.approve_below:.4f}" if bands else "per lang."
        high = f"{bands.reject_above:.4f}" if bands else "per lang."
        print(f"{name:24}{low:>15}{high:>17}{rates.ham_held:>10.2%}{rates.spam_published:>16.2%}"
              f"{rates.review:>9.2%}")
    if args.dry_run:
        print("dry run: nothing stored")
        return 0
    await admin.set_thresholds(store, site.name, approve_below=proposal.chosen.approve_below,
                               reject_above=proposal.chosen.reject_above)
    print(f"site {site.name}: approve below {proposal.chosen.approve_below:.4f}, reject at or above "
          f"{proposal.chosen.reject_above:.4f} (running servers apply it within "
          f"{settings.site_cache_seconds:g} s)")
    return 0


async def _moderator_command(store, args) -> int:
    try:
        _, token = await admin.add_moderator(store, name=args.name, role=args.role,
                                             site_names=args.site)
    except ModeratorExists:
        print(f"moderation: a moderator named {args.name!r} exists already", file=sys.stderr)
        return 1
    print(f"moderator {args.name} created ({args.role}). Their token, shown only once:")
    print(token)
    return 0


async def _export_labels(store, args) -> int:
    from .review.labels import jsonl_line, parse_since
    since = None
    if args.since:
        try:
            since = parse_since(args.since)
        except ValueError:
            print(f"moderation: --since {args.since!r}: expected YYYY-MM-DD or an ISO date-time",
                  file=sys.stderr)
            return 2
    if args.site:
        await admin.site_named(store, args.site)   # before any file is opened
    counts = admin.LabelCounts()
    to_stdout = args.out == "-"
    target = Path(args.out)
    partial = target.with_name(target.name + ".partial")
    handle = sys.stdout if to_stdout else partial.open("w", encoding="utf-8")
    try:
        async for row in admin.label_export(store, counts, since=since, site=args.site or None):
            handle.write(jsonl_line(row))
    finally:
        if not to_stdout:
            handle.close()
    if not to_stdout:
        partial.replace(target)   # readers never see a half-written file
    print(f"exported {counts.spam + counts.ham} labels ({counts.spam} spam, "
          f"{counts.ham} ham) to {args.out}; {counts.from_sites} of them sent by sites "
          "(Akismet submit-spam/submit-ham)", file=sys.stderr if to_stdout else sys.stdout)
    return 0


async def _purge(store, settings) -> int:
    purged = await admin.purge(store, settings)
    print(f"purged {purged.spam_comments} spam comments older than {settings.spam_retention_days} days, "
          f"{purged.full_ips} full IP addresses older than {settings.ip_retention_days} days, "
          f"{purged.idempotency_keys} idempotency keys, "
          f"{purged.webhook_deliveries} webhook deliveries older than {settings.webhook_retention_days} days")
    return 0


async def _people_command(store, args) -> int:
    email = people.person_email(args.email)
    if args.people_command == "export":
        print(json.dumps(await people.export_person(store, email), ensure_ascii=False, indent=2))
        return 0
    ids = await people.erase_person(store, email, actor="cli")
    print(f"erased the author's data from {len(ids)} comments")
    return 0


async def _webhook_command(store, args) -> int:
    from .domain import iso
    if args.webhook_command == "add":
        webhook, secret = await admin.add_webhook(store, site=args.site, url=args.url, events=args.event)
        print(f"webhook {webhook.id} added to site {args.site}: {', '.join(webhook.events)} -> {args.url}")
        print("Its signing secret (check X-Moderation-Signature with it), shown only once:")
        print(secret)
        return 0
    if args.webhook_command == "list":
        print("id\tsite\turl\tevents\tqueued\tdelivered\tdead\tlast delivered\tlast error")
        for info in await admin.list_webhooks(store, args.site or None):
            w = info.webhook
            print(f"{w.id}\t{w.site}\t{w.url}\t{','.join(w.events)}\t{info.queued}\t"
                  f"{info.delivered}\t{info.dead}\t{iso(info.last_delivered_at) or '-'}\t"
                  f"{info.last_error or '-'}")
        return 0
    if args.webhook_command == "remove":
        await admin.remove_webhook(store, args.id)
        print(f"webhook {args.id} removed, with its queued deliveries")
        return 0
    count = await store.requeue_dead(args.id, now=time.time())
    print(f"webhook {args.id}: {count} dead deliveries queued again")
    return 0
