"""``make run``: the whole panel on one machine, on 127.0.0.1.

In this process: moto (local AWS, executing the real state machines, with Lambda tasks
dispatched to the real handlers), the mail spool and the schedule timer. As a child in
its own process group: the API (``local.serve``, i.e. ``chalice local``). The stack is
described in ``<local dir>/stack.json`` while it runs.

Environment:
    PORT             the API port (8000)
    LOCAL_AWS_PORT   moto's port (5005)
    LOCAL_WINGS_PORT the seeded node's Wings simulator (8080, or a free port; ``local.node_seed``)
    LOCAL_WINGS_ALLOW_INSTALL  egg ids (comma-separated) whose install scripts the simulator may
                     run on this machine, besides the seeded blueprints' (``local.blueprints``)
    LOCAL_STRIPE_PORT the local Stripe (``local.stripe_standin``; 8420,
                     or a free port). ``STRIPE_API_BASE`` points the panel at it.
    LOCAL_IDP_PORT   the stand-in identity provider (``local.identity_provider``: Google, Microsoft,
                     GitHub and Discord sign-in, in this process; 8430, or a free port). The
                     panel's OAUTH_* settings point at it, so all four buttons work offline.
    BILLING_ENABLED  ``true`` unless set otherwise: billing runs against the local Stripe, with
                     STRIPE_SECRET_KEY / STRIPE_WEBHOOK_SECRET generated into secrets.env
    MAMBA_LOCAL_DIR  where secrets, mail and stack.json live (``.local`` in the checkout)
    LOCAL_PANEL_HOST the host name the browser opens the panel on (``127.0.0.1``; set
                     ``localhost`` to try passkeys): it becomes MAMBA_PUBLIC_URL's host, so mail links, the
                     cookie Origin check and the passkeys' relying party id follow it. Browsers
                     refuse passkeys on an IP address (docs/passkeys.md); every server still
                     listens on 127.0.0.1 only.
    JWT_SECRET       used as given; otherwise generated once into ``<local dir>/secrets.env``
    MAMBA_ADMIN_EMAIL, MAMBA_ADMIN_PASSWORD   the seeded admin (``mamba.migrations.seed``
                     generates a password once into ``<local dir>/admin.txt`` when unset)

Ctrl-C or SIGTERM stops the API's process group and moto; nothing is left running.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import FrameType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"


def panel_host() -> str:
    """The browser's name for the panel (LOCAL_PANEL_HOST): 127.0.0.1 or a loopback name."""
    host = os.environ.get("LOCAL_PANEL_HOST") or HOST
    if host not in (HOST, "localhost") and not host.endswith(".localhost"):
        raise LaunchError(f"LOCAL_PANEL_HOST={host}: use 127.0.0.1, localhost or a *.localhost name")
    return host


DEFAULT_API_PORT = 8000
DEFAULT_AWS_PORT = 5005
DEFAULT_STRIPE_PORT = 8420
DEFAULT_IDP_PORT = 8430
READY_TIMEOUT_SECONDS = 60.0
STOP_GRACE_SECONDS = 5.0


class StackStopped(Exception):
    """Raised from the signal handler so startup and the main loop unwind to cleanup."""


class LaunchError(RuntimeError):
    """The stack could not start; the message says what to do."""


def say(message: str) -> None:
    print(f"[local] {message}", flush=True)


def local_dir() -> Path:
    return Path(os.environ.get("MAMBA_LOCAL_DIR") or ROOT / ".local").resolve()


def _port(variable: str, default: int) -> int:
    raw = os.environ.get(variable) or str(default)
    try:
        port = int(raw)
    except ValueError as exc:
        raise LaunchError(f"{variable} must be a port number, not {raw!r}") from exc
    if not 0 < port < 65536:
        raise LaunchError(f"{variable} must be between 1 and 65535, not {port}")
    return port


def _read_env_file(path: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    if path.is_file():
        for line in path.read_text().splitlines():
            key, sep, value = line.partition("=")
            if sep and not line.lstrip().startswith("#"):
                values[key.strip()] = value.strip()
    return values


def ensure_local_secrets(path: Path, environ: dict[str, str]) -> dict[str, str]:
    """Create or complete the git-ignored secrets file; values already in it are kept.

    JWT_SECRET is generated only when the environment does not set it, so an explicit
    secret always wins and a generated one survives restarts (sessions stay valid).
    """
    values = _read_env_file(path)
    changed = False
    if not environ.get("JWT_SECRET") and not values.get("JWT_SECRET"):
        values["JWT_SECRET"] = secrets.token_urlsafe(48)  # 48 random bytes, 64 characters
        changed = True
    # Test-mode keys of the local Stripe (never real ones: it only knows what it was given).
    for name, prefix in (("STRIPE_SECRET_KEY", "sk_test_"), ("STRIPE_WEBHOOK_SECRET", "whsec_")):
        if not environ.get(name) and not values.get(name):
            values[name] = prefix + secrets.token_urlsafe(32)
            changed = True
    if changed or not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        header = "# Generated by `make run` for the local stack only. Git-ignored; delete to regenerate.\n"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(header + "".join(f"{k}={v}\n" for k, v in values.items()))
    os.chmod(path, 0o600)
    return values


def configure_environment(api_port: int, aws_port: int, folder: Path, stripe_port: int = 0) -> dict[str, str]:
    """Set this process's environment once: in-process handlers and the API child read it."""
    from local.aws import LocalNames

    secrets_file = folder / "secrets.env"
    ensure_local_secrets(secrets_file, dict(os.environ))
    # Never let a real credential or a per-service endpoint send a call past moto.
    for stale in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_DEFAULT_PROFILE"):
        os.environ.pop(stale, None)
    for variable in [v for v in os.environ if v.startswith("AWS_ENDPOINT_URL_")]:
        os.environ.pop(variable)
    os.environ.update(
        {
            "MAMBA_ENV": "local",
            "MAMBA_STAGE": "local",
            "MAMBA_LOCAL_DIR": str(folder),
            "MAMBA_LOCAL_SECRETS_FILE": str(secrets_file),
            "MAMBA_PUBLIC_URL": f"http://{panel_host()}:{api_port}",
            "AWS_ENDPOINT_URL": f"http://{HOST}:{aws_port}",
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            "MOTO_PORT": str(aws_port),  # moto's ASL interpreter calls Lambda back on this port
            "BILLING_ENABLED": os.environ.get("BILLING_ENABLED") or "true",
            "STRIPE_API_BASE": f"http://{HOST}:{stripe_port}",
            # The operator metrics (EMF lines, docs/observability.md) feed CloudWatch; locally
            # nothing reads them, so they stay out of the console unless asked for.
            "POWERTOOLS_METRICS_DISABLED": os.environ.get("POWERTOOLS_METRICS_DISABLED") or "true",
            **LocalNames().environment(),
        }
    )
    return dict(os.environ)


def stripe_port() -> int:
    """LOCAL_STRIPE_PORT, else 8420 when free, else any free port."""
    from local import aws

    if os.environ.get("LOCAL_STRIPE_PORT"):
        return _port("LOCAL_STRIPE_PORT", DEFAULT_STRIPE_PORT)
    return DEFAULT_STRIPE_PORT if aws.port_is_free(DEFAULT_STRIPE_PORT) else free_port()


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def start_stripe(port: int, api_port: int, environ: dict[str, str], cleanup: contextlib.ExitStack) -> str:
    """The local Stripe (``local.stripe_standin``, in its own process group); returns its
    base address once it answers."""
    env = dict(environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "layers" / "core"), str(ROOT)])
    secrets_file = Path(environ["MAMBA_LOCAL_SECRETS_FILE"])
    env.setdefault("STRIPE_WEBHOOK_SECRET", _read_env_file(secrets_file).get("STRIPE_WEBHOOK_SECRET", ""))
    command = [
        sys.executable,
        "-m",
        "local.stripe_standin",
        "--port",
        str(port),
        "--webhook",
        f"http://{HOST}:{api_port}/webhooks/stripe",
        "--exit-with-parent",
    ]
    child = subprocess.Popen(command, cwd=ROOT, env=env, process_group=0)
    cleanup.callback(stop_api, child)
    base = f"http://{HOST}:{port}"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if child.poll() is not None:
            raise LaunchError(f"the local Stripe exited with status {child.returncode}")
        try:
            with urllib.request.urlopen(f"{base}/_standin/events", timeout=1):  # noqa: S310 (loopback)
                return base
        except (urllib.error.URLError, OSError):
            time.sleep(0.1)
    raise LaunchError(f"the local Stripe did not answer on {base}")


def start_identity_provider(environ: dict[str, str], cleanup: contextlib.ExitStack) -> str:
    """The stand-in identity provider (``local.identity_provider``) in this process, and the
    panel's settings that offer all four providers through it (in ``environ`` and this process's
    environment, before the API starts). Returns its base address."""
    from local import aws, identity_provider

    if os.environ.get("LOCAL_IDP_PORT"):
        port = _port("LOCAL_IDP_PORT", DEFAULT_IDP_PORT)
        if not aws.port_is_free(port):
            raise LaunchError(f"{HOST}:{port} is in use; set LOCAL_IDP_PORT to a free port")
        running = identity_provider.start(port)
    else:
        try:  # 8430 when free; another stack starting at the same moment may win it
            running = identity_provider.start(DEFAULT_IDP_PORT if aws.port_is_free(DEFAULT_IDP_PORT) else 0)
        except OSError:
            running = identity_provider.start(0)
    cleanup.callback(running.stop)
    settings = running.environment()
    os.environ.update(settings)
    environ.update(settings)
    return running.base


def start_billing(api_port: int, port: int, environ: dict[str, str], cleanup: contextlib.ExitStack) -> str | None:
    """When billing is on: the local Stripe, its catalogue and the Stripe events queue's poller."""
    if environ.get("BILLING_ENABLED", "").lower() not in ("1", "true", "yes", "on"):
        return None
    from local import billing_seed, queue_poller
    from mamba import bootstrap

    base = start_stripe(port, api_port, environ, cleanup)
    seeded = billing_seed.seed()
    say(f"billing: local Stripe on {base}; plan {seeded['plan']} on {seeded['price']}")
    poller = queue_poller.QueuePoller(
        bootstrap.boto_client("sqs"), environ["STRIPE_EVENTS_QUEUE_URL"], environ["AWS_REGION"]
    )
    poller.start()
    cleanup.callback(poller.stop)
    return base


def start_events_consumer(environ: dict[str, str], cleanup: contextlib.ExitStack) -> None:
    """The notification events queue's consumer (docs/notifications.md): in-app, mail, webhooks."""
    from local import queue_poller
    from mamba import bootstrap

    poller = queue_poller.QueuePoller(
        bootstrap.boto_client("sqs"),
        environ["EVENTS_QUEUE_URL"],
        environ["AWS_REGION"],
        handler=queue_poller.EVENTS_HANDLER,
        function="notification_events",
    )
    poller.start()
    cleanup.callback(poller.stop)


def check_settings() -> None:
    """Refuse to start on a missing or weak secret, naming it, before anything runs."""
    from mamba.config import load_settings
    from mamba.domain.errors import ConfigError

    try:
        load_settings()
    except ConfigError as exc:
        raise LaunchError(str(exc)) from exc


def run_migrations() -> tuple[str, str]:
    """Run every data migration forward, then the local seed (admin, Demo tenant, the simulator's blueprints).

    Returns the summary line and the admin login to print.
    """
    from local.blueprints.seed import seed_blueprints
    from mamba import bootstrap, cli
    from mamba.domain.clock import iso, utcnow

    applied = cli.migrate_up(log=lambda line: say(f"migrate {line}"))
    seeded = cli.seed()
    say(f"seed: {', '.join(seeded.created) or 'nothing new'} (tenant {seeded.tenant_name} {seeded.tenant_id})")
    seed_blueprints(bootstrap.blueprint_repository(), iso(utcnow()), log=lambda line: say(f"seed: {line}"))
    return f"{len(applied)} applied", f"{seeded.admin_email} / {seeded.admin_password}"


def services(api_port: int, aws_port: int, folder: Path) -> dict[str, Any]:
    """What stack.json says. Later services (stripe, Wings nodes) add their own keys."""
    api = f"http://{HOST}:{api_port}"
    return {
        # The web app, on the API's port (local.static_site), under the browser's name for it.
        "panel": f"http://{panel_host()}:{api_port}/",
        "api": api,
        "aws": f"http://{HOST}:{aws_port}",
        "docs": f"{api}/docs",
        "mail_dir": str(folder / "mail"),
        "pid": os.getpid(),
    }


def write_stack_file(path: Path, stack: dict[str, Any]) -> None:
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(stack, indent=2, sort_keys=True) + "\n")
    tmp.replace(path)  # readers never see half a file


def start_api(api_port: int, environ: dict[str, str]) -> subprocess.Popen[bytes]:
    env = dict(environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "layers" / "core"), str(ROOT)])
    env["PORT"] = str(api_port)
    return subprocess.Popen(
        [sys.executable, "-m", "local.serve", "--host", HOST, "--port", str(api_port)],
        cwd=ROOT,
        env=env,
        process_group=0,  # its own group: stopping the stack kills the group, workers included
    )


def wait_ready(url: str, api: subprocess.Popen[bytes], deadline: float) -> dict[str, Any]:
    last = "no answer yet"
    while time.monotonic() < deadline:
        if api.poll() is not None:
            raise LaunchError(f"the API process exited with status {api.returncode} before it was ready")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (our own loopback URL)
                body: dict[str, Any] = json.loads(response.read())
                return body
        except urllib.error.HTTPError as exc:
            last = f"HTTP {exc.code}: {exc.read()[:300]!r}"
        except (urllib.error.URLError, OSError) as exc:
            last = str(exc)
        time.sleep(0.2)
    raise LaunchError(f"{url} was not ready within {READY_TIMEOUT_SECONDS:.0f} s ({last})")


def start_wings(folder: Path, environ: dict[str, str], cleanup: contextlib.ExitStack) -> list[str]:
    """The seeded node and its Wings simulator (``local.node_seed``); the node URLs for stack.json."""
    from local import node_seed

    say("starting the Wings simulator as the seeded node")
    try:
        return node_seed.start_local_node(folder, environ, cleanup)
    except node_seed.NodeStartError as exc:
        raise LaunchError(str(exc)) from exc


def claim_pterodactyl_ids() -> dict[str, Any]:
    """The seeded node's, location's, allocations' and blueprints' Pterodactyl ids (``local.ptero_seed``)."""
    from local import node_seed, ptero_seed

    seeded = ptero_seed.claim_ids(node_seed.LOCAL_NODE_ID)
    say(f"pterodactyl: {ptero_seed.summary(seeded)}")
    return seeded


def stop_api(api: subprocess.Popen[bytes] | None) -> None:
    if api is None or api.poll() is not None:
        _kill_group(api, signal.SIGKILL)  # stray workers of a dead leader
        return
    _kill_group(api, signal.SIGTERM)
    try:
        api.wait(STOP_GRACE_SECONDS)
    except subprocess.TimeoutExpired:
        say("the API did not stop in time; killing it")
    _kill_group(api, signal.SIGKILL)
    api.wait()


def _kill_group(api: subprocess.Popen[bytes] | None, sig: signal.Signals) -> None:
    if api is None:
        return
    try:
        os.killpg(api.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _raise_stop(signum: int, frame: FrameType | None) -> None:
    raise StackStopped(signal.Signals(signum).name)


def banner(stack: dict[str, Any], folder: Path, elapsed: float, migrations: str, login: str) -> str:
    lines = [
        f"Open the panel: {stack['panel']}",
        f"Mamba local stack is ready in {elapsed:.1f} s",
        f"  Panel      {stack['panel']}  (web/dist; the same origin as the API)",
        f"  API        {stack['api']}",
        f"  Docs       {stack['docs']}",
        f"  AWS (moto) {stack['aws']}",
        f"  Wings      {', '.join(stack.get('wings') or ['none'])}  (config: {folder / 'wings' / 'config.yml'})",
        f"  Ptero API  {stack['api']}/api/application and /api/client  (docs/pterodactyl-api.md; ids in stack.json)",
        f"  Stripe     {stack.get('stripe') or 'billing off'}  (local stand-in, test mode)",
        f"  Sign-in    {stack.get('identity_provider') or 'none'}  (stand-in Google, Microsoft, GitHub, Discord)",
        f"  Admin      {login}",
        f"  Mail       {stack['mail_dir']}/*.eml  (list with `mamba mail`)",
        f"  Stack      {folder / 'stack.json'}",
        f"  Migrations {migrations}",
        "Press Ctrl-C to stop.",
    ]
    return "\n".join(lines)


def _stop_spool(spool: Any) -> None:
    spool.stop()
    spool.poll_once()  # mail sent while stopping still reaches the folder


def main() -> int:
    """Start the stack, wait for Ctrl-C or SIGTERM, stop everything. Exit 0, 1 or 2."""
    started = time.monotonic()
    signal.signal(signal.SIGINT, _raise_stop)
    signal.signal(signal.SIGTERM, _raise_stop)
    folder = local_dir()
    # Everything started registers its stop here; they run in reverse order of start
    # (API, timer, mail, moto), each even if an earlier one failed.
    cleanup = contextlib.ExitStack()
    try:
        api_port = _port("PORT", DEFAULT_API_PORT)
        aws_port = _port("LOCAL_AWS_PORT", DEFAULT_AWS_PORT)
        if api_port == aws_port:
            raise LaunchError("PORT and LOCAL_AWS_PORT must differ")
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "stack.json").unlink(missing_ok=True)  # left by a launcher that was SIGKILLed
        local_stripe_port = stripe_port()
        if local_stripe_port in (api_port, aws_port):
            raise LaunchError("LOCAL_STRIPE_PORT must differ from PORT and LOCAL_AWS_PORT")
        environ = configure_environment(api_port, aws_port, folder, local_stripe_port)
        check_settings()

        from local import aws, mailbox, scheduler

        for name, port in (("LOCAL_AWS_PORT", aws_port), ("PORT", api_port)):
            if not aws.port_is_free(port):
                raise LaunchError(f"{HOST}:{port} is in use; set {name} to a free port")
        say(f"starting moto on {HOST}:{aws_port}")
        moto = aws.start_moto(aws_port)
        cleanup.callback(moto.stop)
        created = aws.create_resources(environ["AWS_ENDPOINT_URL"], aws.LocalNames())
        say("created " + ", ".join(f"{len(v)} {k.replace('_', ' ')}" for k, v in created.items()))
        queue_url = f"{environ['AWS_ENDPOINT_URL']}/{aws.ACCOUNT_ID}/{aws.LocalNames().stripe_events_queue}"
        os.environ["STRIPE_EVENTS_QUEUE_URL"] = environ["STRIPE_EVENTS_QUEUE_URL"] = queue_url
        os.environ["STRIPE_EVENTS_DLQ_URL"] = environ["STRIPE_EVENTS_DLQ_URL"] = f"{queue_url}-dlq"
        events_url = f"{environ['AWS_ENDPOINT_URL']}/{aws.ACCOUNT_ID}/{aws.LocalNames().events_queue}"
        os.environ["EVENTS_QUEUE_URL"] = environ["EVENTS_QUEUE_URL"] = events_url
        migrations, login = run_migrations()

        spool = mailbox.MailSpool(folder / "mail")
        spool.start()
        cleanup.callback(_stop_spool, spool)
        timer = scheduler.Timer(scheduler.SCHEDULES, environ["AWS_REGION"])
        timer.start()
        cleanup.callback(timer.stop)
        start_events_consumer(environ, cleanup)

        identity = start_identity_provider(environ, cleanup)
        say(f"sign-in providers: the local stand-in on {identity}")
        say(f"starting the API on {HOST}:{api_port}")
        api = start_api(api_port, environ)
        cleanup.callback(stop_api, api)
        stack = services(api_port, aws_port, folder)
        wait_ready(f"{stack['api']}/health/ready", api, started + READY_TIMEOUT_SECONDS)
        stack["identity_provider"] = identity
        stack["stripe"] = start_billing(api_port, local_stripe_port, environ, cleanup)
        stack["wings"] = start_wings(folder, environ, cleanup)
        stack["pterodactyl"] = claim_pterodactyl_ids()
        # Stopped first (again; stop is idempotent): no scheduled run may still be talking to the
        # API, the nodes or moto while they stop, nor hold the exit with its worker threads.
        cleanup.callback(timer.stop)
        stack_file = folder / "stack.json"
        write_stack_file(stack_file, stack)
        cleanup.callback(stack_file.unlink, missing_ok=True)
        print(banner(stack, folder, time.monotonic() - started, migrations, login), flush=True)

        while api.poll() is None:
            time.sleep(0.5)
        say(f"the API process exited with status {api.returncode}; stopping the stack")
        return 1
    except StackStopped as stop:
        say(f"{stop.args[0]} received; stopping")
        return 0
    except LaunchError as exc:
        say(f"cannot start: {exc}")
        return 2
    finally:
        # A second Ctrl-C must not interrupt the cleanup that prevents orphans.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        cleanup.close()
        say("stopped")


if __name__ == "__main__":
    code = main()
    # Everything the launcher started is stopped by now (main's cleanup). Leave at once: the
    # interpreter's own exit would join worker threads a scheduled run left behind (a webhook
    # delivery or a reconcile blocked on a peer that just stopped) and could hang there.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
