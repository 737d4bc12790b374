"""The `willow` command: run the server, migrate the database, add staff accounts."""

from __future__ import annotations

import argparse
import asyncio
import secrets
import sys

from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from chat.core.db import Database
from chat.core.models import Staff
from chat.core.services import Services
from chat.core.settings import Settings, SettingsError, describe
from chat.helpline import staff_admin
from chat.helpline.profile import Profile, ProfileChange, ProfileError, get_profile, set_profile
from chat.helpline.second_factor import seal_plain
from chat.helpline.staff import ROLES, StaffError, create_staff, set_training
from chat.helpline.staff_names import lookup_username
from chat.schema import upgrade

NO_STAFF_IN_PRODUCTION = (
    "willow: there are no staff accounts yet. Create the first admin yourself (the password is "
    "printed to your terminal, never to this log): willow staff add --role admin NAME"
)


def _settings() -> Settings:
    try:
        return Settings()
    except (SettingsError, ValidationError) as exc:
        sys.exit(f"willow: settings refused:\n{describe(exc)}")


async def _migrate(settings: Settings) -> None:
    db = Database(settings.database_url)
    try:
        await upgrade(db.engine)
        # Needs the server's key, which the schema migrations do not have.
        await seal_plain(db, settings.effective_secret_key)
    finally:
        await db.dispose()


async def _add_staff(settings: Settings, role: str, username: str, display_name: str | None) -> str:
    services = Services.build(settings)
    password = secrets.token_urlsafe(12)
    try:
        await upgrade(services.db.engine)
        await create_staff(services, username, role, password, display_name)
    finally:
        await services.db.dispose()
    return password


async def _reset_code(settings: Settings, username: str) -> str:
    services = Services.build(settings)
    try:
        await upgrade(services.db.engine)
        return await staff_admin.reset_code(services, lookup_username(username), "cli")
    finally:
        await services.db.dispose()


async def _list_staff(settings: Settings) -> list[Staff]:
    services = Services.build(settings)
    try:
        await upgrade(services.db.engine)
        return await staff_admin.list_accounts(services)
    finally:
        await services.db.dispose()


def _print_staff(rows: list[Staff]) -> None:
    print(f"{'username':<24} {'role':<11} {'display name':<24} {'two-step':<9} state")
    for staff in rows:
        two_step = "on" if staff.totp_secret else "off"
        state = "disabled" if staff.disabled else "active"
        print(
            f"{staff.username:<24} {staff.role:<11} {staff.display_name:<24} {two_step:<9} {state}"
        )


async def _train(settings: Settings, username: str, trained: bool, note: str) -> None:
    services = Services.build(settings)
    try:
        await upgrade(services.db.engine)
        await set_training(services, username, trained, "cli", note)
    finally:
        await services.db.dispose()


async def _profile(settings: Settings, username: str, change: ProfileChange | None) -> Profile:
    services = Services.build(settings)
    try:
        await upgrade(services.db.engine)
        if change is None:
            return await get_profile(services, username)
        return await set_profile(services, username, change, "cli")
    finally:
        await services.db.dispose()


def specialisms_text(specialisms: list[str] | None) -> str:
    if specialisms is None:
        return "not recorded (takes any topic)"
    return ",".join(specialisms) or "none"


def _profile_change(args: argparse.Namespace) -> ProfileChange | None:
    fields: dict[str, object] = {}
    if args.languages is not None:
        fields["languages"] = [v.strip() for v in args.languages.split(",") if v.strip()]
    if args.specialisms is not None:
        fields["specialisms"] = [v.strip() for v in args.specialisms.split(",") if v.strip()]
    if args.capacity is not None:
        fields["capacity"] = args.capacity
    return ProfileChange.model_validate(fields) if fields else None


async def _disable(settings: Settings, username: str, note: str) -> None:
    """Through the broker, every running node closes the account's sockets at once."""
    services = Services.build(settings)
    try:
        await upgrade(services.db.engine)
        await services.start()
        await staff_admin.disable(services, lookup_username(username), "cli", note)
    finally:
        await services.broker.close()
        await services.db.dispose()


async def _first_accounts(settings: Settings) -> list[tuple[str, str, str]] | None:
    """On an empty database, one adviser and one supervisor with random passwords; None when
    the database already has staff.

    Never in production: the passwords would be printed to the service's log.
    """
    services = Services.build(settings)
    created: list[tuple[str, str, str]] = []
    try:
        async with services.db.read() as session:
            count = await session.scalar(select(func.count()).select_from(Staff))
        if count:
            return None
        if settings.env == "production":
            print(NO_STAFF_IN_PRODUCTION)
            return created
        for role, name in (("adviser", "Sam"), ("supervisor", "Jo")):
            password = secrets.token_urlsafe(12)
            try:
                await create_staff(services, role, role, password, name)
                # Trial accounts on a development machine: they may take chats at once.
                await set_training(services, role, True, "cli", "development trial account")
            except (StaffError, IntegrityError):
                # Another node starting at the same moment made them and printed them.
                break
            created.append((role, role, password))
    finally:
        await services.db.dispose()
    return created


def _tell_accounts(created: list[tuple[str, str, str]] | None) -> None:
    if created is None:
        print(
            "willow: this database already has staff accounts, so no first accounts were made.\n"
            "  Add one with: willow staff add --role adviser|supervisor|admin|mentor NAME"
        )
        return
    for role, username, password in created:
        print(f"  created {role:<10} username: {username:<11} password: {password}")


def _run(settings: Settings, args: argparse.Namespace) -> None:
    import uvicorn

    from chat.core.wsprotocol import ChatWebSocketProtocol

    if args.workers > 1 and not settings.uses_redis:
        sys.exit(
            "willow: --workers above 1 needs WILLOW_BROKER_URL=redis://… (and PostgreSQL): "
            "each worker is its own process, and memory:// cannot carry news between them"
        )
    asyncio.run(_migrate(settings))
    _tell_accounts(asyncio.run(_first_accounts(settings)))
    address = f"http://{settings.host}:{settings.port}"
    print(f"Willow: visitor page {address}/  staff console {address}/staff")
    uvicorn.run(
        "chat.app:create_app",
        factory=True,
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        # Logs must not carry visitors' addresses.
        access_log=False,
        proxy_headers=False,
        server_header=False,
        ws_max_size=1 << 20,
        # An idle keep-alive connection is let go quickly, and a request's head may not grow
        # without end; the reverse proxy bounds how long a head may take to arrive.
        timeout_keep_alive=5,
        h11_max_incomplete_event_size=16 * 1024,
        ws_per_message_deflate=False,
        # uvicorn's WebSocket protocol with a direct path for whole text frames.
        ws=ChatWebSocketProtocol,
        workers=args.workers,
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="willow", description="Anonymous webchat and peer support"
    )
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="migrate, then serve on WILLOW_HOST:WILLOW_PORT")
    run.add_argument("--workers", type=int, default=1)
    commands.add_parser("migrate", help="bring the database schema up to date")
    staff = commands.add_parser("staff", help="manage staff accounts")
    staff_commands = staff.add_subparsers(dest="staff_command", required=True)
    add = staff_commands.add_parser(
        "add", help="create an account; prints its random password once"
    )
    add.add_argument("--role", choices=ROLES, required=True)
    add.add_argument("--display-name", default=None)
    add.add_argument("username")
    train = staff_commands.add_parser(
        "train", help="record that a staff member is trained (mentors need it to open rooms)"
    )
    train.add_argument("--withdraw", action="store_true", help="withdraw the training instead")
    train.add_argument("--note", default="", help="what training, for the audit log")
    train.add_argument("username")
    reset = staff_commands.add_parser(
        "reset-password",
        help="print a one-time code (valid a day) with which the person sets a new password",
    )
    reset.add_argument("username")
    staff_commands.add_parser("list", help="every staff account: role, two-step login, state")
    disable = staff_commands.add_parser(
        "disable", help="disable an account: its logins end and its sockets close on every node"
    )
    disable.add_argument("--note", default="", help="why, for the audit log")
    disable.add_argument("username")
    profile = staff_commands.add_parser(
        "profile",
        help="show an adviser's routing profile, or change it with the options given",
    )
    profile.add_argument("--languages", help="comma-separated language codes, e.g. en,ur")
    profile.add_argument("--specialisms", help="comma-separated specialisms (empty string: none)")
    profile.add_argument("--capacity", type=int, help="how many chats she takes at once")
    profile.add_argument("username")
    args = parser.parse_args(argv)

    settings = _settings()
    # Said first, so a command run from another folder cannot quietly use another database.
    print(f"willow: database: {settings.database_description()}")
    if args.command == "run":
        _run(settings, args)
    elif args.command == "migrate":
        asyncio.run(_migrate(settings))
        print("willow: database is up to date")
    elif args.command == "staff" and args.staff_command == "train":
        try:
            asyncio.run(_train(settings, args.username, not args.withdraw, args.note))
        except StaffError as exc:
            sys.exit(f"willow: {exc}")
        done = "withdrawn" if args.withdraw else "recorded"
        print(f"training {done} for {args.username!r}")
    elif args.command == "staff" and args.staff_command == "reset-password":
        try:
            code = asyncio.run(_reset_code(settings, args.username))
        except (LookupError, StaffError) as exc:
            sys.exit(f"willow: {exc}")
        print(
            f"one-time reset code for {args.username!r} (shown once, valid 24 hours): {code}\n"
            "give it to them privately; they set a new password with it through "
            "POST /api/staff/password/reset (docs/PROTOCOL.md)"
        )
    elif args.command == "staff" and args.staff_command == "list":
        _print_staff(asyncio.run(_list_staff(settings)))
    elif args.command == "staff" and args.staff_command == "profile":
        try:
            shown = asyncio.run(_profile(settings, args.username, _profile_change(args)))
        except (StaffError, ProfileError) as exc:
            sys.exit(f"willow: {exc}")
        except ValidationError as exc:
            first = exc.errors(include_input=False, include_url=False)[0]
            sys.exit(f"willow: --{first['loc'][0]}: {first['msg']}")
        print(
            f"{shown.username}: languages {','.join(shown.languages)}; specialisms "
            f"{specialisms_text(shown.specialisms)}; capacity {shown.capacity}; "
            f"training {'recorded' if shown.trained else 'not recorded (takes no chats)'}"
        )
    elif args.command == "staff" and args.staff_command == "disable":
        try:
            asyncio.run(_disable(settings, args.username, args.note))
        except StaffError as exc:
            sys.exit(f"willow: {exc}")
        print(f"disabled {args.username!r}; its logins ended")
    elif args.command == "staff":
        try:
            password = asyncio.run(
                _add_staff(settings, args.role, args.username, args.display_name)
            )
        except StaffError as exc:
            sys.exit(f"willow: {exc}")
        print(f"created {args.role} {args.username!r}; password (shown once): {password}")


if __name__ == "__main__":
    main()
