"""The cold first request builds only what it needs (issue 18 item 1; docs/performance.md).

A fresh interpreter imports the app and serves one authenticated ``GET .../servers`` through
Chalice's Lambda entry point, against a moto server seeded as the bench seeds it
(``bench.coldstart_seed``). What it may build and import is what the bench's ratio depends on;
here it is checked exactly, so a change that brings a second client or a heavy module back onto
the path fails a test rather than only a bench line.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.coldstart import api_gateway_event

ROOT = Path(__file__).resolve().parents[2]

_PROBE = """
import json, sys
# As the app's own first AWS call does: botocore's transport without pyOpenSSL (importing
# botocore.session first would load it, and cryptography with it, before the app could say no).
import mamba.adapters.aws_clients
import botocore.session

made = {"sessions": 0, "clients": []}
_init, _create = botocore.session.Session.__init__, botocore.session.Session.create_client


def _counted_init(self, *a, **k):
    made["sessions"] += 1
    _init(self, *a, **k)


def _counted_create(self, service, *a, **k):
    made["clients"].append(service)
    return _create(self, service, *a, **k)


botocore.session.Session.__init__ = _counted_init
botocore.session.Session.create_client = _counted_create

import app

after_import = sorted(m for m in sys.modules if m.startswith("mamba.services.") or m in ("pynamodb", "jwt"))


class Context:
    function_name, memory_limit_in_mb, aws_request_id = "probe", 1024, "probe-1"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:probe"

    def get_remaining_time_in_millis(self):
        return 30000


HEAVY = ("boto3", "cryptography", "mamba.domain.placement", "mamba.domain.quotas")
event = json.load(open(sys.argv[1]))
answers = [app.app(event, Context()) for _ in range(2)]
print(json.dumps({
    "statuses": [a["statusCode"] for a in answers],
    "items": [len(json.loads(a["body"])["items"]) for a in answers],
    "sessions": made["sessions"],
    "clients": made["clients"],
    "after_import": after_import,
    "loaded": sorted(m for m in HEAVY if m in sys.modules),
}))
"""


@pytest.fixture(scope="module")
def first_request(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": f"{ROOT / 'layers' / 'core'}{os.pathsep}{ROOT}",
        "MAMBA_ENV": "test",
        "JWT_SECRET": secrets.token_hex(32),
        "MAMBA_LOCAL_SECRETS_FILE": os.devnull,
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "cold",
        "AWS_SECRET_ACCESS_KEY": "cold",
        "AWS_ENDPOINT_URL": f"http://{host}:{port}",
        "LOG_LEVEL": "WARNING",
        # A ThreadedMotoServer shares this process's moto backends: tables of our own, whatever ran before.
        "TABLE_MAIN": f"cold-main-{secrets.token_hex(4)}",
        "TABLE_IDEMPOTENCY": f"cold-idem-{secrets.token_hex(4)}",
    }
    try:
        seeded = subprocess.run(
            [sys.executable, "-m", "bench.coldstart_seed"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert seeded.returncode == 0, seeded.stderr[-2000:]
        facts = json.loads(seeded.stdout)
        event = tmp_path_factory.mktemp("cold") / "event.json"
        event.write_text(json.dumps(api_gateway_event(facts["tenant_id"], facts["token"])))
        done = subprocess.run(
            [sys.executable, "-c", _PROBE, str(event)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stderr[-3000:]
        yield json.loads(done.stdout.strip().splitlines()[-1])
    finally:
        server.stop()


def test_first_request_answers_the_page_through_the_lambda_entry_point(first_request: dict) -> None:
    assert first_request["statuses"] == [200, 200]
    assert first_request["items"] == [5, 5]


def test_first_request_builds_one_botocore_session_and_one_dynamodb_client(first_request: dict) -> None:
    # pynamodb's item classes (the guard's BatchGetItem, the page's Query) share one client
    assert first_request["sessions"] == 1
    assert first_request["clients"] == ["dynamodb"]


def test_import_app_loads_no_service_pynamodb_or_pyjwt(first_request: dict) -> None:
    assert first_request["after_import"] == []


def test_first_request_never_imports_boto3_cryptography_or_the_create_only_rules(first_request: dict) -> None:
    assert first_request["loaded"] == []
