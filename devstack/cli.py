"""`steward`: the local stack and operator commands.

steward run                  start the whole local stack in the foreground
steward token --role ROLE    print a bearer token for the local stack (last line)
steward install              fetch and check DynamoDB Local and the npm front-end files
steward statements --year Y  queue each donor's giving statement for year Y [--email ADDRESS]
steward reindex --from YYYY-MM --to YYYY-MM
                             give gifts of those months the finding index keys they lack
steward totals --since DATE  bring the finance totals up to date with every gift since DATE
steward reconcile --since D  apply Stripe events the webhook missed since D, then match payouts
"""

from __future__ import annotations

import argparse
import re
import signal
import sys
import time
from datetime import date
from types import FrameType

from devstack import dynamodb_local, npm, tokens
from devstack.stack import INSTALL_DIR, Stack, StackConfig


def _run() -> int:
    stack = Stack(StackConfig.from_env())
    stopping = False

    def stop(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    try:
        try:
            stack.start(announce=True)
        except (RuntimeError, OSError) as exc:
            print(f"steward run: {exc}", file=sys.stderr)
            return 1
        print("Ready. Ctrl-C stops everything.", flush=True)
        while not stopping:
            failed = stack.failed()
            if failed:
                print(f"{failed} stopped; see {stack.log_dir / (failed + '.log')}", file=sys.stderr)
                return 1
            time.sleep(0.5)
    finally:
        stack.stop()
        print("Stopped.", flush=True)
    return 0


def _date(text: str) -> date:
    """A calendar day, YYYY-MM-DD, from 2000 (gifts are dated 2000-9999; a mistyped year would
    have the command read every month since); anything else is a usage error."""
    try:
        day = date.fromisoformat(text)
    except ValueError:
        day = None
    if day is None or day.year < 2000:
        raise argparse.ArgumentTypeError(f"{text!r} is not a day YYYY-MM-DD from 2000 to 9999")
    return day


def _day(text: str) -> str:
    return _date(text).isoformat()


def _year(text: str) -> int:
    """A calendar year the statements can be read for (gifts are dated 2000-9999)."""
    if not (text.isascii() and text.isdigit() and 2000 <= int(text) <= 9999):
        raise argparse.ArgumentTypeError(f"{text!r} is not a year from 2000 to 9999")
    return int(text)


def _month(text: str) -> str:
    if not (re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", text) and text >= "2000"):
        raise argparse.ArgumentTypeError(f"{text!r} is not a month YYYY-MM from 2000 to 9999")
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="steward", description="Steward's local stack")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="start the local stack in the foreground")
    token = commands.add_parser("token", help="print a staff bearer token for the local stack")
    token.add_argument("--role", required=True, help="e.g. finance, admin")
    token.add_argument("--subject", default="local-staff")
    commands.add_parser("install", help="fetch and check DynamoDB Local and the front-end files")
    statements = commands.add_parser("statements", help="send year-end giving statements")
    statements.add_argument("--year", type=_year, required=True)
    statements.add_argument("--email", help="only this donor (sent again if sent before)")
    reindex = commands.add_parser(
        "reindex", help="give older gifts their index keys (finding indexes, month-key shards)"
    )
    reindex.add_argument("--from", dest="first", type=_month, required=True, help="YYYY-MM")
    reindex.add_argument("--to", dest="last", type=_month, required=True, help="YYYY-MM")
    totals = commands.add_parser("totals", help="backfill the finance totals from the gifts")
    totals.add_argument("--since", type=_date, required=True, help="YYYY-MM-DD, a gift's creation")
    reconcile = commands.add_parser("reconcile", help="apply missed Stripe events, then match payouts")
    reconcile.add_argument(
        "--since", type=_day, required=True, help="YYYY-MM-DD (Stripe keeps 30 days of events)"
    )
    args = parser.parse_args(argv)
    config = StackConfig.from_env()
    if args.command == "run":
        return _run()
    if args.command == "statements":
        from devstack.operator import statements as send

        return send(config, args.year, args.email)
    if args.command == "reindex":
        from devstack.operator import reindex as give_keys

        return give_keys(config, args.first, args.last)
    if args.command == "reconcile":
        from devstack.operator import reconcile

        return reconcile(config, args.since)
    if args.command == "totals":
        from devstack.operator import totals_backfill

        return totals_backfill(config, args.since)
    if args.command == "token":
        print(f"Bearer token for role {args.role} (valid {tokens.LIFETIME_SECONDS // 60} minutes):")
        print(tokens.mint(config.local_dir / "jwt", args.role, args.subject))
        return 0
    dynamodb_local.ensure_installed(INSTALL_DIR)
    npm.ensure_assets()
    return 0


if __name__ == "__main__":
    sys.exit(main())
