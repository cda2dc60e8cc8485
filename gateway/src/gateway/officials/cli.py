"""Create, disable and list officials: `python -m gateway.officials.cli create NAME --role viewer --division CODE`
(the password is read from the terminal, or from stdin with --password-stdin); `disable NAME`; `enable NAME`; `list`.
Uses GATEWAY_DATABASE_URL like the gateway."""

import argparse
import asyncio
import getpass
import sys

from sqlmodel import select

from fupin_kit.db import Database
from gateway.officials import rules, service
from gateway.officials.models import Official

MIN_PASSWORD = 12


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("password: ")
    if getpass.getpass("again: ") != first:
        raise SystemExit("the passwords differ")
    return first


async def _run(args: argparse.Namespace, url: str) -> int:
    db = Database(url, pool_size=1)
    try:
        async with db.session() as session:
            if args.command == "create":
                password = _password(args.password_stdin)
                if len(password) < MIN_PASSWORD:
                    print(f"a password has at least {MIN_PASSWORD} characters", file=sys.stderr)
                    return 2
                created = await service.create(session, username=args.username, password=password, role=args.role,
                                               division_code=args.division, replace=args.replace)
                print(f"official {args.username} {'created' if created else 'exists (use --replace)'}")
                return 0 if created else 1
            if args.command in ("disable", "enable"):
                found = await service.set_disabled(session, args.username, args.command == "disable")
                print(f"official {args.username} {args.command}d" if found else f"no official {args.username}")
                return 0 if found else 1
            for row in (await session.exec(select(Official).order_by(Official.username))).all():
                print(f"{row.username}\t{row.role}\t{row.division_code}\t{'disabled' if row.disabled else 'active'}")
            return 0
    finally:
        await db.dispose()


def main(argv: list[str] | None = None) -> int:
    from gateway.config import get_settings

    parser = argparse.ArgumentParser(prog="python -m gateway.officials.cli", description="Manage Fupin officials")
    commands = parser.add_subparsers(dest="command", required=True)
    create = commands.add_parser("create", help="create an official")
    create.add_argument("username")
    create.add_argument("--role", choices=rules.ROLES, required=True)
    create.add_argument("--division", required=True, help="division code (6, 9 or 12 digits)")
    create.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    create.add_argument("--replace", action="store_true", help="overwrite an existing official")
    for name in ("disable", "enable"):
        commands.add_parser(name, help=f"{name} an official (disabling ends their sessions)").add_argument("username")
    commands.add_parser("list", help="list the officials")
    args = parser.parse_args(argv)
    try:
        return asyncio.run(_run(args, get_settings().database_url))
    except ValueError as exc:
        print(str(exc), file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
