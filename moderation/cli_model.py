"""``moderation model ...``: shadow a candidate, compare, promote, roll back
(the use cases are in :mod:`moderation.services.model_changes`)."""
from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import datetime, timezone

from .config import model_dir
from .review.shadow_compare import format_report
from .services import model_changes
from .services.model_changes import ChangeReport, ModelChangeRefused
from .scoring.model import ModelError


def add_model_parser(commands) -> None:
    model = commands.add_parser("model", help="change the live model safely: shadow, compare, "
                                              "promote, rollback")
    actions = model.add_subparsers(dest="model_command", required=True)
    shadow = actions.add_parser("shadow", help="score every comment with a candidate too (the live "
                                               "model still decides), on every worker, no restart")
    shadow.add_argument("manifest", metavar="MANIFEST",
                        help="the candidate's manifest (models/<version>.json) or its version")
    actions.add_parser("unshadow", help="stop scoring with the candidate")
    compare = actions.add_parser("compare", help="the candidate against the live model on the "
                                                 "traffic since shadowing began")
    compare.add_argument("--site", metavar="SITE", help="only this site's comments")
    compare.add_argument("--since", metavar="DATE", help="only comments from this date "
                                                         "(YYYY-MM-DD, UTC, or ISO date-time)")
    compare.add_argument("--json", action="store_true", help="print the report as JSON")
    actions.add_parser("promote", help="make the shadowed candidate live on every worker (the "
                                       "previous model is kept for rollback)")
    actions.add_parser("rollback", help="make the model the last promote replaced live again")
    actions.add_parser("status", help="the live model, the candidate and each worker")


def _since(text: str | None) -> float | None:
    if text is None:
        return None
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()


def _print_report(report: ChangeReport, what: str) -> int:
    print(f"{what} (generation {report.generation})")
    for w in report.workers:
        shadow = f", shadowing {w['shadow_version']}" if w["shadow_version"] else ""
        problem = w["error"] or w["shadow_error"]
        print(f"  {w['worker']}: {w['status']}, serving {w['model_version']}{shadow}"
              f"{f' ({problem})' if problem else ''}")
    if report.reverted:
        print("moderation: a worker refused the candidate: every worker is back on the previous "
              "model, and the candidate is still shadowed", file=sys.stderr)
        return 1
    if not report.complete:
        print("moderation: not every worker confirmed within MODERATION_MODEL_RELOAD_WAIT_SECONDS; "
              "they apply it when they can", file=sys.stderr)
        return 1
    return 0


async def model_command(store, settings, args: argparse.Namespace) -> int:
    folder, wait = model_dir(settings), settings.model_reload_wait_seconds
    key = settings.model_hmac_key.encode() if settings.model_hmac_key else None
    try:
        if args.model_command == "shadow":
            report = await model_changes.shadow(store, folder, args.manifest, actor="cli", wait=wait,
                                                hmac_key=key)
            return _print_report(report, f"shadowing {report.change.version} beside "
                                         f"{model_changes.live_version(folder)}")
        if args.model_command == "unshadow":
            report = await model_changes.unshadow(store, actor="cli", wait=wait)
            return _print_report(report, f"no longer shadowing {report.change.version}")
        if args.model_command == "promote":
            report = await model_changes.promote(store, folder, actor="cli", wait=wait, hmac_key=key)
            return _print_report(report, f"promoted {report.change.version} (previous: "
                                         f"{report.change.previous_version})")
        if args.model_command == "rollback":
            report = await model_changes.rollback(store, folder, actor="cli", wait=wait, hmac_key=key)
            return _print_report(report, f"rolled back to {report.change.version} (was "
                                         f"{report.change.previous_version})")
        if args.model_command == "compare":
            site_id = None
            if args.site:
                site = await store.site_by_name(args.site)
                if site is None:
                    print(f"moderation: no site named {args.site!r}", file=sys.stderr)
                    return 1
                site_id = site.id
            report = await model_changes.compare(store, folder, site_id=site_id, since=_since(args.since))
            print(json.dumps(report.as_dict(), indent=2) if args.json
                  else format_report(report, site=args.site))
            return 0
        return await _status(store, folder)
    except (ModelChangeRefused, ModelError) as refused:
        print(f"moderation: {refused}", file=sys.stderr)
        return 1
    except ValueError as bad:   # a --since that is no date
        print(f"moderation: {bad}", file=sys.stderr)
        return 2


async def _status(store, folder) -> int:
    changes = await store.model_changes(limit=5)
    print(f"live: {model_changes.live_version(folder)}")
    print(f"shadowed: {model_changes.active_shadow(changes) or '-'}")
    for w in await store.model_workers(alive_since=time.time() - model_changes.STALE_SECONDS):
        print(f"  {w.worker}: serving {w.model_version}, shadowing {w.shadow_version or '-'}"
              f"{f' ({w.error or w.shadow_error})' if w.error or w.shadow_error else ''}")
    for c in changes:
        when = datetime.fromtimestamp(c.at, timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
        print(f"  {when} {c.action} {c.version or '-'}"
              f"{f' (previous {c.previous_version})' if c.previous_version else ''} by {c.actor}")
    return 0
