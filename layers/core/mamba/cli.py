"""``mamba``: the ops command line (see docs/operations.md).

    mamba [--stack NAME [--region REGION]] COMMAND ...   (NAME: the deployed stack; see mamba.stack)
    mamba env                     (with --stack: print the stack's settings as shell exports)
    mamba migrate [--down N | --status | --unlock] [--dry-run]
    mamba seed
    mamba create-admin --email EMAIL (--password PASSWORD | --password-stdin)
    mamba check-config
    mamba mail [--dir DIR] [--show]
    mamba check-platform [--wait SECONDS]
    mamba node config NODE
    mamba stripe smoke   (a real Stripe test account, key on stdin; by hand only, never in CI)

Exit codes: 0 done, 1 failed (one line on stderr), 2 usage. Only the standard library is
imported here; each command imports what it needs when it runs.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence
from email import policy
from email.parser import BytesParser
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mamba.config import Settings
    from mamba.migrations.runner import MigrationRunner
    from mamba.migrations.seed import SeedResult
    from mamba.services.accounts import PasswordHashing

OK, FAILED, USAGE = 0, 1, 2
PLATFORM_TENANT = "platform"
PLATFORM_CHECKS = ("dynamodb", "s3", "stepfunctions")


class CommandError(Exception):
    """A failure the command explains in one line."""


def _out(line: str = "") -> None:
    print(line, flush=True)


def _quiet(_line: str) -> None:
    return None


# -- the migrations and the seed, wired (the launcher calls these too) ------------------------


def migration_runner(log: Callable[[str], None] = _quiet) -> MigrationRunner:
    """The runner over the real ledger and every migration of this code."""
    from mamba import bootstrap
    from mamba.migrations.registry import load_migrations
    from mamba.migrations.runner import MigrationRunner

    return MigrationRunner(
        bootstrap.migration_ledger(), load_migrations(), log=log, free_quotas=bootstrap.free_quotas()
    )


def migrate_up(log: Callable[[str], None] = _quiet) -> list[str]:
    """Apply every pending migration (``mamba migrate`` and the launcher)."""
    return migration_runner(log).up()


def migrate_down(count: int, log: Callable[[str], None] = _quiet) -> list[str]:
    """Roll back the last ``count`` migrations (``mamba migrate --down N``)."""
    return migration_runner(log).down(count)


def seed(
    admin_email: str | None = None,
    admin_password: str | None = None,
    *,
    local_dir: Path | None = None,
    settings: Settings | None = None,
    hasher: PasswordHashing | None = None,
) -> SeedResult:
    """The local demo seed (admin and the Demo tenant; ``mamba.migrations.seed.seed``), on the
    real repositories, with ``settings`` (the process's by default); refused in deployed mode."""
    from mamba import bootstrap
    from mamba.migrations import seed as seeding

    return seeding.seed(
        admin_email,
        admin_password,
        settings=settings or bootstrap.settings(),
        users=bootstrap.user_repository(),
        tenants=bootstrap.tenancy_repository(),
        hasher=hasher or bootstrap.password_hasher(),
        local_dir=local_dir,
    )


# -- commands --------------------------------------------------------------------------------


def _dry_run(args: argparse.Namespace) -> int:
    """What ``migrate`` (or ``migrate --down N``) would run, in order, without running it: the
    pipeline prints it before the real run, and a refusal (ledger ahead of the code, a
    migration numbered below the latest applied) shows here first."""
    runner = migration_runner()
    state = runner.ledger.read()
    if args.down is not None:
        if args.down > len(state.applied):
            raise CommandError(f"only {len(state.applied)} migrations are applied; cannot roll back {args.down}")
        targets = list(reversed(state.applied[len(state.applied) - args.down :])) if args.down else []
        for version in targets:
            migration = runner.by_version.get(version)
            _out(f"would roll back {version}: {migration.description if migration else '(not in this code)'}")
        _out(f"dry run: {len(targets)} to roll back" if targets else "dry run: nothing to roll back")
        return OK
    todo = runner.pending(state)
    for migration in todo:
        _out(f"would apply {migration.version}: {migration.description}")
    _out(f"dry run: {len(todo)} pending" if todo else "dry run: up to date, nothing to apply")
    return OK


def cmd_migrate(args: argparse.Namespace) -> int:
    if args.dry_run:
        if args.status or args.unlock:
            raise CommandError("--dry-run goes with migrate or migrate --down N")
        return _dry_run(args)
    if args.status:
        for row in migration_runner().status():
            mark = "applied" if row.applied else "pending"
            when = f"  {row.applied_at}" if row.applied_at else ""
            _out(f"{row.version}  {mark:<7}  {row.description}{when}")
        return OK
    if args.unlock:
        lease = migration_runner().unlock()
        _out(f"cleared the lease of {lease.owner} on {lease.version}" if lease else "no lease was held")
        return OK
    if args.down is not None:
        done = migrate_down(args.down, log=_out)
        _out(f"rolled back {len(done)}: {', '.join(done)}" if done else "nothing to roll back")
        return OK
    done = migrate_up(log=_out)
    _out(f"applied {len(done)}: {', '.join(done)}" if done else "up to date: nothing to apply")
    return OK


def cmd_seed(args: argparse.Namespace) -> int:
    from mamba.config import load_settings

    # Parsed for this command (as check-config does): its inputs are the environment as it is now.
    result = seed(settings=load_settings())
    admin_state = "created" if result.admin_created else "promoted" if result.admin_promoted else "exists"
    _out(f"admin   {result.admin_email} ({admin_state})")
    _out(f"tenant  {result.tenant_name} ({result.tenant_id}, {'created' if result.tenant_created else 'exists'})")
    if result.password_file is not None:
        _out(f"password kept in {result.password_file}")
    if result.admin_created or result.admin_promoted or result.password_source != "MAMBA_ADMIN_PASSWORD":
        _out(f"login   {result.admin_email} / {result.admin_password}")
    else:
        _out(f"login   {result.admin_email} / (the password in MAMBA_ADMIN_PASSWORD)")
    return OK


def cmd_create_admin(args: argparse.Namespace) -> int:
    password = args.password
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        raise CommandError("a password is required (--password or --password-stdin)")

    from mamba import bootstrap
    from mamba.services import accounts

    result = accounts.create_admin(bootstrap.user_repository(), bootstrap.password_hasher(), args.email, password)
    if result.created:
        _out(f"created platform admin {result.user.email} ({result.user.id})")
    elif result.promoted:
        _out(f"promoted {result.user.email} ({result.user.id}) to platform admin")
    else:
        _out(f"{result.user.email} ({result.user.id}) is already a platform admin")
    return OK


def _warn(lines: list[str]) -> None:
    for line in lines:
        print(f"warning: {line}", file=sys.stderr, flush=True)


def cmd_check_config(args: argparse.Namespace) -> int:
    from mamba.config import describe, load_settings, warnings

    settings = load_settings()
    _out(describe(settings))
    _warn(warnings(settings))
    return OK


def cmd_env(args: argparse.Namespace) -> int:
    """Print the stack's settings as ``export`` lines (``eval "$(mamba --stack S env)"``)."""
    import shlex

    if not args.stack:
        raise CommandError("env needs --stack NAME (mamba --stack NAME env)")
    for name, value in sorted(args.stack_environment.items()):
        _out(f"export {name}={shlex.quote(value)}")
    return OK


def _mail_rows(folder: Path) -> list[tuple[str, str, str, Path, Any]]:
    parser = BytesParser(policy=policy.default)
    rows = []
    for path in folder.glob("*.eml"):
        with path.open("rb") as handle:
            message = parser.parse(handle)
        raw_date = str(message.get("Date", ""))
        try:
            stamp = parsedate_to_datetime(raw_date).timestamp()
        except (TypeError, ValueError, IndexError):
            stamp = path.stat().st_mtime
        rows.append((raw_date, str(message.get("To", "")), str(message.get("Subject", "")), path, (stamp, message)))
    rows.sort(key=lambda row: (row[4][0], row[3].name))
    return rows


def cmd_mail(args: argparse.Namespace) -> int:
    from mamba.config import local_dir

    folder = Path(args.dir) if args.dir else local_dir() / "mail"
    rows = _mail_rows(folder) if folder.is_dir() else []
    if not rows:
        _out(f"no mail in {folder}")
        return OK
    if args.show:
        date, to, subject, path, (_stamp, message) = rows[-1]
        _out(f"Date: {date}\nTo: {to}\nSubject: {subject}\nFile: {path}\n")
        body = message.get_body(preferencelist=("plain", "html"))
        _out(body.get_content() if body is not None else "(no text body)")
        return OK
    _out(f"{'DATE':<31}  {'TO':<28}  {'SUBJECT':<40}  PATH")
    for date, to, subject, path, _extra in rows:
        _out(f"{date:<31}  {to:<28}  {subject:<40}  {path}")
    return OK


def cmd_check_platform(args: argparse.Namespace) -> int:
    from mamba import bootstrap
    from mamba.auth.context import TenantContext
    from mamba.config import warnings
    from mamba.domain.operations import FINAL
    from mamba.services.operations import start_operation

    # Warnings first: the self-check passing does not make an open registration safe.
    _warn(warnings(bootstrap.settings()))
    repo = bootstrap.operation_repository()
    # The platform's own operations live under the reserved tenant id "platform" (tenant ids
    # are minted as "tn_..."), where /v1/admin/operations finds them.
    op = start_operation(
        repo,
        bootstrap.workflows(),
        TenantContext(tenant_id=PLATFORM_TENANT, role="platform", permissions=frozenset()),
        op_type="check_platform",
        workflow="check_platform",
        steps=["probe_services"],
        payload={"checks": list(PLATFORM_CHECKS)},
        target=PLATFORM_TENANT,
    )
    _out(op.id)
    if not args.wait:
        return OK
    deadline = time.monotonic() + args.wait
    current = op
    while current.status not in FINAL and time.monotonic() < deadline:
        time.sleep(0.5)
        current = repo.get(PLATFORM_TENANT, op.id)
    if current.status not in FINAL:
        raise CommandError(f"operation {op.id} is still {current.status} after {args.wait:g} s")
    if current.status != "succeeded":
        reason = (current.error or {}).get("message", "no reason given")
        raise CommandError(f"operation {op.id} {current.status}: {reason}")
    _out(f"{op.id} succeeded")
    return OK


# -- parsing and the exit-code contract --------------------------------------------------------


def _non_negative(text: str) -> int:
    try:
        value = int(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from exc
    if value < 0:
        raise argparse.ArgumentTypeError("must be 0 or more")
    return value


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from exc
    if value <= 0:
        raise argparse.ArgumentTypeError("must be more than 0")
    return value


def cmd_node_config(args: argparse.Namespace) -> int:
    """Print a node's Wings config.yml (it holds the node token: keep it out of logs)."""
    from mamba import bootstrap
    from mamba.services import nodes

    repo = bootstrap.node_repository()
    print(nodes.node_configuration(repo, args.node, bootstrap.settings().public_url), end="", flush=True)
    return OK


def cmd_stripe_smoke(args: argparse.Namespace) -> int:
    """Run the panel's Stripe calls against a real test account (docs/billing.md). The key comes
    from stdin (a prompt without echo on a terminal), never from the command line or the
    environment: it would show in ``ps`` or leak into the shell's history."""
    import getpass

    from mamba.adapters.stripe_smoke import SmokeRefused, run_smoke

    if sys.stdin.isatty():
        key = getpass.getpass("Stripe test key (sk_test_...): ").strip()
    else:
        key = sys.stdin.readline().strip()
    if not key:
        raise CommandError("no key on stdin: pipe in an sk_test_ key or type it at the prompt")
    try:
        result = run_smoke(key, log=_out)
    except SmokeRefused as exc:
        raise CommandError(str(exc)) from None
    if result.left_behind:
        _out(f"left behind (remove by hand in the Stripe dashboard): {', '.join(result.left_behind)}")
    if not result.ok:
        raise CommandError(result.failed or f"cleanup incomplete: {', '.join(result.left_behind)}")
    _out(f"stripe smoke passed: {len(result.passed)} checks")
    return OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mamba", description="Mamba Host Panel operations.")
    parser.add_argument(
        "--stack",
        metavar="NAME",
        help="run against this deployed CloudFormation stack: its outputs give every setting (deployed mode)",
    )
    parser.add_argument("--region", metavar="REGION", help="the stack's region (default: the AWS CLI's)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    env = sub.add_parser("env", help="with --stack: print the stack's settings as shell export lines")
    env.set_defaults(run=cmd_env)

    migrate = sub.add_parser("migrate", help="apply pending data migrations (or roll back with --down N)")
    mode = migrate.add_mutually_exclusive_group()
    mode.add_argument("--down", type=_non_negative, metavar="N", help="roll back the last N migrations")
    mode.add_argument("--status", action="store_true", help="list migrations, applied or pending")
    mode.add_argument("--unlock", action="store_true", help="clear the lease of a runner that died")
    migrate.add_argument(
        "--dry-run", action="store_true", help="print what would be applied (or rolled back), run nothing"
    )
    migrate.set_defaults(run=cmd_migrate)

    seed = sub.add_parser("seed", help="local only: create the admin and the Demo tenant if missing")
    seed.set_defaults(run=cmd_seed)

    admin = sub.add_parser("create-admin", help="create a platform admin, or promote an existing account")
    admin.add_argument("--email", required=True)
    secret = admin.add_mutually_exclusive_group(required=True)
    secret.add_argument("--password", help="the password (visible in the process list; prefer --password-stdin)")
    secret.add_argument("--password-stdin", action="store_true", help="read the password from the first line of stdin")
    admin.set_defaults(run=cmd_create_admin)

    check = sub.add_parser("check-config", help="load the settings and print them, secrets masked")
    check.set_defaults(run=cmd_check_config)

    mail = sub.add_parser("mail", help="list the local stack's sent mail (.local/mail/*.eml)")
    mail.add_argument("--dir", help="the mail folder (default: $MAMBA_LOCAL_DIR/mail or .local/mail)")
    mail.add_argument("--show", action="store_true", help="print the newest message's text")
    mail.set_defaults(run=cmd_mail)

    platform = sub.add_parser("check-platform", help="start the platform self-check workflow")
    platform.add_argument("--wait", type=_seconds, metavar="SECONDS", help="wait for the result")
    platform.set_defaults(run=cmd_check_platform)

    node = sub.add_parser("node", help="node tools: `mamba node config NODE` prints its Wings config.yml")
    node_sub = node.add_subparsers(dest="node_command", metavar="ACTION", required=True)
    node_config = node_sub.add_parser("config", help="print the node's /etc/pterodactyl/config.yml")
    node_config.add_argument("node", metavar="NODE", help="the node id (see GET /v1/admin/nodes)")
    node_config.set_defaults(run=cmd_node_config)

    stripe = sub.add_parser("stripe", help="Stripe tools: `mamba stripe smoke` checks a real test account")
    stripe_sub = stripe.add_subparsers(dest="stripe_command", metavar="ACTION", required=True)
    smoke = stripe_sub.add_parser(
        "smoke", help="run the panel's Stripe calls against a test account (the sk_test_ key on stdin)"
    )
    smoke.set_defaults(run=cmd_stripe_smoke)
    return parser


def _use_stack(stack: str, region: str | None) -> dict[str, str]:
    """Make the stack's deployed-mode settings this process's configuration (``mamba.config``
    reads them), replacing any local or deployed values already set. AWS_ENDPOINT_URL is kept:
    it is where the stack itself was read."""
    from mamba import stack as stacks
    from mamba.config import use_environment

    try:
        environment = stacks.stack_environment(stack, region)
    except stacks.StackError as exc:
        raise CommandError(str(exc)) from None
    use_environment(environment)
    return environment


def _failure(exc: BaseException) -> str:
    message = str(getattr(exc, "message", None) or exc or type(exc).__name__)
    details = getattr(exc, "details", None)
    if details:
        message += " " + json.dumps(details, sort_keys=True, default=str)
    return " ".join(message.split())  # one line, whatever the exception carried


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns the exit code (the console script exits with it)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: 2 on a usage error, 0 for --help
        return exc.code if isinstance(exc.code, int) else USAGE
    run: Callable[[argparse.Namespace], int] = args.run
    if args.region and not args.stack:
        parser.print_usage(sys.stderr)
        print("mamba: error: --region goes with --stack NAME", file=sys.stderr)
        return USAGE
    try:
        args.stack_environment = _use_stack(args.stack, args.region) if args.stack else {}
        return run(args)
    except KeyboardInterrupt:
        print("mamba: interrupted", file=sys.stderr)
        return FAILED
    except Exception as exc:  # noqa: BLE001 (the boundary: every failure becomes one line and exit 1)
        from mamba.domain.errors import ConfigError, DomainError

        prefix = "configuration" if isinstance(exc, ConfigError) else "error"
        if not isinstance(exc, (ConfigError, DomainError, CommandError)):
            prefix = f"error ({type(exc).__name__})"
        print(f"mamba {args.command}: {prefix}: {_failure(exc)}", file=sys.stderr)
        return FAILED


if __name__ == "__main__":
    sys.exit(main())
