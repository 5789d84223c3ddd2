"""The command line of a news desk's changes: ``moderation site set|rotate-key``,
``moderation moderator list|set|revoke``, ``moderation thread close|reopen|
premoderate``, ``moderation author ban|shadow-ban|watch|trust|rules|remove|
history`` and ``moderation events``. Each change is recorded in the admin
log with the actor ``cli``; the same changes are in the admin API
(:mod:`moderation.api.desk`)."""
from __future__ import annotations

import argparse
import json
import sys
import time

from .domain import Mode, Moderator, NotFound, Role, iso
from .services import admin, authors, threads
from .validation import ValidationFailed

CLI_ACTOR = "cli"
#: The command line acts with every right (whoever runs it holds the database).
OPERATOR = Moderator(id=0, name=CLI_ACTOR, role=Role.ADMIN)


def add_desk_parsers(commands, site_commands, moderator_commands) -> None:
    change = site_commands.add_parser("set", help="change a site's moderation mode, language or automatic trust (audited)")
    change.add_argument("name")
    change.add_argument("--mode", choices=[m.value for m in Mode],
                        help="pre: every new comment waits for a moderator; auto: clear ham is published")
    change.add_argument("--lang", choices=list(admin.SITE_LANGUAGES), help="the site's language")
    change.add_argument("--auto-trust-after", type=int, metavar="N",
                        help="trust an author once moderators approved N of their comments and "
                             "rejected none (0: never)")
    rotate = site_commands.add_parser("rotate-key", help="give a site a new API key, printed once; the "
                                                         "current one works for the overlap")
    rotate.add_argument("name")
    rotate.add_argument("--overlap-hours", type=float, default=24.0,
                        help="how long the current key keeps working (default 24; 0: it stops now)")

    moderator_commands.add_parser("list", help="list the moderators, revoked ones included")
    mset = moderator_commands.add_parser("set", help="change a moderator's role or sites (audited)")
    mset.add_argument("name")
    mset.add_argument("--role", choices=[r.value for r in Role])
    mset.add_argument("--site", action="append", metavar="SITE",
                      help="a site they moderate (repeat; replaces their sites)")
    mset.add_argument("--all-sites", action="store_true", help="they moderate every site")
    revoke = moderator_commands.add_parser("revoke", help="end a moderator's token and sessions at once")
    revoke.add_argument("name")

    thread = commands.add_parser("thread", help="close, reopen or pre-moderate one article's thread")
    thread_commands = thread.add_subparsers(dest="thread_command", required=True)
    for name, text in (("close", "refuse new comments (409 thread_closed)"),
                       ("reopen", "accept new comments again"),
                       ("premoderate", "every new comment waits for a moderator"),
                       ("unpremoderate", "back to the site's moderation mode")):
        command = thread_commands.add_parser(name, help=text)
        command.add_argument("site", help="the site's name")
        command.add_argument("thread", help="the thread's id, as the site sends it")

    author = commands.add_parser("author", help="one author's history, and rules on authors (per site)")
    author_commands = author.add_subparsers(dest="author_command", required=True)
    for name, text in (("ban", "hold their new comments as spam"),
                       ("shadow-ban", "hold them as spam, answering the site as if decided as usual"),
                       ("watch", "send every new comment of theirs to review"),
                       ("trust", "publish what would wait only because the model was unsure")):
        command = author_commands.add_parser(name, help=text)
        command.add_argument("site")
        key = command.add_mutually_exclusive_group(required=True)
        key.add_argument("--email")
        key.add_argument("--domain", help="every address at this domain")
        key.add_argument("--ip", help="the network of this address (or a prefix)")
        command.add_argument("--note", default="")
        command.add_argument("--days", type=float, help="expire after this many days (default: never)")
    rules = author_commands.add_parser("rules", help="list a site's rules on authors")
    rules.add_argument("site")
    unset = author_commands.add_parser("remove", help="remove a rule (its id from `author rules`)")
    unset.add_argument("site")
    unset.add_argument("rule_id", type=int)
    history = author_commands.add_parser("history", help="an author's comments and their statuses")
    which = history.add_mutually_exclusive_group(required=True)
    which.add_argument("--email")
    which.add_argument("--ip")
    which.add_argument("--name")
    history.add_argument("--limit", type=int, default=20)

    events = commands.add_parser("events", help="the admin log: changes to sites, moderators, threads")
    events.add_argument("--site", help="only this site's changes")
    events.add_argument("--limit", type=int, default=50)


async def desk_command(store, args: argparse.Namespace) -> int | None:
    """Run a desk command; None when *args* is not one."""
    if args.command == "site" and args.site_command == "set":
        site = await admin.change_site(store, args.name, mode=args.mode, lang=args.lang,
                                       auto_trust_after=args.auto_trust_after, actor=CLI_ACTOR)
        trust = (f"authors trusted after {site.auto_trust_after} approved comments"
                 if site.auto_trust_after else "no automatic trust")
        print(f"site {site.name}: {site.mode.value} moderation, language {site.lang}, {trust}")
        return 0
    if args.command == "site" and args.site_command == "rotate-key":
        site, key, until = await admin.rotate_site_key(store, args.name, overlap_hours=args.overlap_hours,
                                                       actor=CLI_ACTOR)
        print(f"site {site.name}: new API key, shown only once (the previous one works until {iso(until)}):")
        print(key)
        return 0
    if args.command == "moderator" and args.moderator_command in ("list", "set", "revoke"):
        return await _moderators(store, args)
    if args.command == "thread":
        closed = {"close": True, "reopen": False}.get(args.thread_command)
        premoderated = {"premoderate": True, "unpremoderate": False}.get(args.thread_command)
        try:
            rule = await threads.set_rule(store, OPERATOR, site=args.site, thread=args.thread, closed=closed,
                                          premoderated=premoderated)
        except NotFound:
            raise admin.AdminError(f"no site named {args.site!r}") from None
        except ValidationFailed:
            raise admin.AdminError(f"{args.thread!r} cannot name a thread", usage=True) from None
        print(f"thread {rule.thread} of {args.site}: {'closed' if rule.closed else 'open'}, "
              f"{'pre-moderated' if rule.premoderated else 'moderated as the site'} "
              "(running servers apply it within MODERATION_SITE_CACHE_SECONDS)")
        return 0
    if args.command == "author":
        return await _authors(store, args)
    if args.command == "events":
        if not 1 <= args.limit <= 10_000:
            raise admin.AdminError("--limit lies between 1 and 10000", usage=True)
        for event in reversed(await admin.admin_log(store, limit=args.limit, site=args.site)):
            print(f"{iso(event.at)}\t{event.actor}\t{event.action}\t{event.target}\t"
                  f"{json.dumps(event.detail, ensure_ascii=False, sort_keys=True)}")
        return 0
    return None


async def _moderators(store, args) -> int:
    if args.moderator_command == "list":
        names = {site.id: site.name for site in await store.list_sites()}
        for m in await store.list_moderators():
            sites = ",".join(names.get(i, str(i)) for i in m.site_ids) or "every site"
            print(f"{m.name}\t{m.role.value}\t{sites}\t{'revoked' if m.revoked else 'active'}")
        return 0
    if args.moderator_command == "set":
        if args.site and args.all_sites:
            raise admin.AdminError("give --site or --all-sites, not both", usage=True)
        sites = [] if args.all_sites else args.site
        moderator = await admin.change_moderator(store, args.name, role=args.role, site_names=sites,
                                                 actor=CLI_ACTOR)
        print(f"moderator {moderator.name}: {moderator.role.value}, "
              f"{len(moderator.site_ids) or 'every'} site(s)")
        return 0
    ended = await admin.revoke_moderator(store, args.name, actor=CLI_ACTOR)
    print(f"moderator {args.name} revoked; {ended} session(s) ended", file=sys.stdout)
    return 0


async def _authors(store, args) -> int:
    try:
        if args.author_command == "rules":
            for rule in await authors.site_rules(store, OPERATOR, site=args.site):
                until = "for good" if rule.expires_at is None else f"until {iso(rule.expires_at)}"
                state = "" if rule.active(time.time()) else " (expired)"
                print(f"{rule.id}\t{rule.action.value}\t{rule.kind.value}:{rule.value}\t{until}{state}\t{rule.note}")
            return 0
        if args.author_command == "remove":
            rule = await authors.remove_rule(store, OPERATOR, site=args.site, rule_id=args.rule_id)
            print(f"rule {rule.id} removed ({rule.action.value} {rule.kind.value}:{rule.value})")
            return 0
        if args.author_command == "history":
            by = next(name for name in ("email", "ip", "name") if getattr(args, name))
            counts, comments = await authors.history(store, OPERATOR, by=by, value=getattr(args, by),
                                                     limit=max(1, min(args.limit, authors.HISTORY_LIMIT)))
            print(", ".join(f"{status}: {n}" for status, n in sorted(counts.items())) or "no comment")
            for c in comments:
                print(f"{c.id}\t{iso(c.created_at)}\t{c.status.value}\t{c.thread_id}\t{c.body[:60]!r}")
            return 0
        kind = next(name for name in ("email", "domain", "ip") if getattr(args, name))
        if args.days is not None and not 0 < args.days <= 36500:
            raise admin.AdminError("--days lies between 0 and 36500", usage=True)
        rule = await authors.set_rule(
            store, OPERATOR, site=args.site, kind=kind, value=getattr(args, kind),
            action=args.author_command.replace("-", "_"), note=args.note,
            expires_at=None if args.days is None else time.time() + args.days * 86400)
    except NotFound:
        raise admin.AdminError(f"no site named {args.site!r}" if args.author_command != "remove"
                               else f"site {args.site!r} has no rule {args.rule_id}") from None
    except ValidationFailed as failed:
        raise admin.AdminError("; ".join(f"{e.field}: {e.code.replace('_', ' ')}" for e in failed.errors),
                               usage=True) from None
    print(f"rule {rule.id}: {rule.action.value} {rule.kind.value}:{rule.value} on {args.site} "
          "(running servers apply it within MODERATION_SITE_CACHE_SECONDS)")
    return 0
