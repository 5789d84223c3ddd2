"""The command line of a news desk's changes: ``moderation site set|rotate-key``,
``moderation moderator list|set|revoke``, ``moderation thread close|reopen|
premoderate`` and ``moderation events``. Each change is recorded in the admin
log with the actor ``cli``; the same changes are in the admin API
(:mod:`moderation.api.desk`)."""
from __future__ import annotations

import argparse
import json
import sys

from .domain import Mode, Moderator, NotFound, Role, iso
from .services import admin, threads
from .validation import ValidationFailed

CLI_ACTOR = "cli"
#: The command line acts with every right (whoever runs it holds the database).
OPERATOR = Moderator(id=0, name=CLI_ACTOR, role=Role.ADMIN)


def add_desk_parsers(commands, site_commands, moderator_commands) -> None:
    change = site_commands.add_parser("set", help="change a site's moderation mode or language (audited)")
    change.add_argument("name")
    change.add_argument("--mode", choices=[m.value for m in Mode],
                        help="pre: every new comment waits for a moderator; auto: clear ham is published")
    change.add_argument("--lang", choices=list(admin.SITE_LANGUAGES), help="the site's language")
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

    events = commands.add_parser("events", help="the admin log: changes to sites, moderators, threads")
    events.add_argument("--site", help="only this site's changes")
    events.add_argument("--limit", type=int, default=50)


async def desk_command(store, args: argparse.Namespace) -> int | None:
    """Run a desk command; None when *args* is not one."""
    if args.command == "site" and args.site_command == "set":
        site = await admin.change_site(store, args.name, mode=args.mode, lang=args.lang, actor=CLI_ACTOR)
        print(f"site {site.name}: {site.mode.value} moderation, language {site.lang}")
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
