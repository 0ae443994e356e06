"""The `loyalty` command: serve, migrate, seed the demo programme, expire, mint tokens."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from datetime import UTC, datetime
from typing import Any

import uvicorn
from pydantic import ValidationError

from api.auth import GRANTABLE_RIGHTS, Role, TokenIssuer, parse_ttl
from api.ledger import cli as ledger_cli
from api.settings import Settings
from persistence.migrate import upgrade_to_head

# Inbox rows a rebuild counts per transaction.
REBUILD_BATCH = 20_000


def serve(settings: Settings, arguments: argparse.Namespace) -> int:
    from api.app import create_app  # noqa: PLC0415  (import the app only to serve it)

    host = arguments.host or settings.host
    port = arguments.port or settings.port
    # No permessage-deflate on WebSockets: a subscription's messages are a few hundred bytes,
    # which compression barely shrinks, while each connection's zlib state held about 40 KiB
    # of the server's memory (4 KiB a subscription, ten to a connection) and compressing
    # each message cost more CPU than the rest of its sending.
    uvicorn.run(
        create_app(settings),
        host=host,
        port=port,
        log_level=settings.log_level.lower(),
        ws_per_message_deflate=False,
    )
    return 0


def migrate(settings: Settings, _arguments: argparse.Namespace) -> int:
    upgrade_to_head(settings.database_url)
    return 0


def seed_demo(settings: Settings, _arguments: argparse.Namespace) -> int:
    from api.demo import seed_if_empty  # noqa: PLC0415

    asyncio.run(seed_if_empty(settings, sys.stdout))
    return 0


def expire(settings: Settings, _arguments: argparse.Namespace) -> int:
    if settings.points_expiry == "never":
        sys.stdout.write("LOYALTY_POINTS_EXPIRY is never: nothing expires.\n")
        return 0
    seen = asyncio.run(expire_due_points(settings))
    sys.stdout.write(f"Expiry done: {seen} customer(s) with points due looked at.\n")
    return 0


async def expire_due_points(settings: Settings) -> int:
    """One expiry run, publishing the balance changes as a server would."""
    from api.services import build_services, close_services  # noqa: PLC0415

    services = build_services(settings)
    listener = asyncio.create_task(services.broker.run())
    try:
        return await services.expiry.expire_due()
    finally:
        listener.cancel()
        await asyncio.gather(listener, return_exceptions=True)
        await close_services(services)


def rebuild_rollups(settings: Settings, arguments: argparse.Namespace) -> int:
    try:
        asyncio.run(count_rollups(settings, resume=arguments.resume))
    except KeyboardInterrupt:
        # The batch under way rolled back; every batch before it is counted and committed.
        sys.stdout.write("Stopped; `loyalty rebuild-rollups --resume` counts the rest.\n")
        return 130
    return 0


async def count_rollups(settings: Settings, *, resume: bool) -> int:
    """Empty the rollups and count everything again from the raw rows (or, with resume,
    count what an interrupted rebuild left), showing progress; Ctrl-C stops after a batch."""
    from rich.progress import (  # noqa: PLC0415
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    from api.services import build_services, close_services  # noqa: PLC0415
    from persistence.analytics.rebuild import reset_rollups, waiting  # noqa: PLC0415

    services = build_services(settings)
    worker = services.rollups
    worker.batch_size = max(worker.batch_size, REBUILD_BATCH)
    counted = 0
    try:
        total = await (waiting(services.database) if resume else reset_rollups(services.database))
        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
        with Progress(*columns, TimeRemainingColumn()) as progress:
            task = progress.add_task("counting into the rollups", total=total)
            while rows := await worker.count_once():
                counted += rows
                progress.advance(task, rows)
    finally:
        await close_services(services)
    return counted


def token(settings: Settings, arguments: argparse.Namespace) -> int:
    issuer = TokenIssuer(settings.auth_secret.get_secret_value())
    try:
        minted = issuer.mint(
            role=Role(arguments.role),
            staff_id=arguments.staff,
            stores=arguments.store or [],
            terminal_id=arguments.terminal,
            rights=arguments.right or (),
            now=datetime.now(UTC),
            ttl=parse_ttl(arguments.ttl or settings.token_ttl),
        )
    except ValueError as error:
        sys.stderr.write(f"loyalty token: {error}\n")
        return 2
    sys.stdout.write(minted + "\n")
    return 0


def _token_parser(commands: Any) -> None:
    command = commands.add_parser("token", help="mint a bearer token for a till, display or user")
    command.add_argument("--role", required=True, choices=[role.value for role in Role])
    command.add_argument("--staff", required=True, help="staff id recorded in the journal")
    command.add_argument(
        "--store", action="append", help="a store in scope (repeat for several; admin: all)"
    )
    command.add_argument("--terminal", help="terminal id recorded in the journal")
    command.add_argument(
        "--right",
        action="append",
        choices=sorted(GRANTABLE_RIGHTS),
        help="an extra right for a cashier, e.g. refund (repeatable)",
    )
    command.add_argument("--ttl", help="lifetime such as 8h, 30m, 7d (default LOYALTY_TOKEN_TTL)")
    command.set_defaults(run=token)


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="loyalty", description="Loyalty points backend.")
    commands = root.add_subparsers(dest="command", required=True)
    serve_command = commands.add_parser("serve", help="serve the GraphQL API")
    serve_command.add_argument("--host", help="overrides LOYALTY_HOST")
    serve_command.add_argument("--port", type=int, help="overrides LOYALTY_PORT")
    serve_command.set_defaults(run=serve)
    commands.add_parser("migrate", help="migrate the database to the latest schema").set_defaults(
        run=migrate
    )
    commands.add_parser(
        "seed-demo", help="on an empty database, add the demo programme and say how to try it"
    ).set_defaults(run=seed_demo)
    commands.add_parser(
        "expire", help="expire due points now (each server also does it on its schedule)"
    ).set_defaults(run=expire)
    rebuild = commands.add_parser(
        "rebuild-rollups", help="count the analytics rollups again from the journal and sales"
    )
    rebuild.add_argument(
        "--resume", action="store_true", help="only count what an interrupted rebuild left"
    )
    rebuild.set_defaults(run=rebuild_rollups)
    _token_parser(commands)
    ledger_cli.register(commands)
    return root


def _reasons(error: ValidationError) -> str:
    return "\n".join(f"  {problem['msg']}" for problem in error.errors())


def main(argv: list[str] | None = None) -> int:
    arguments = parser().parse_args(argv)
    try:
        settings = Settings()
    except ValidationError as error:
        sys.stderr.write(f"loyalty: the configuration is refused:\n{_reasons(error)}\n")
        return 2
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    result: int = arguments.run(settings, arguments)
    return result


if __name__ == "__main__":
    sys.exit(main())
