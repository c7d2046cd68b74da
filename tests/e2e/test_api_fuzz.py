"""The API does what its OpenAPI document says, under fuzzing (issue 18 item 6).

schemathesis (pinned, docs/dependencies.md) generates requests for every operation of
``/openapi.json`` from its schemas and sends them, with the seeded admin's token, to a local
stack of this module's own (the fuzzer creates nodes, plans and blueprints, which the session
stack's other tests must not see). Every answer must:

* have a status the operation documents (``status_code_conformance``);
* have the documented content type and match the documented schema for that status
  (``content_type_conformance``, ``response_schema_conformance``): the panel's error shape,
  or Pterodactyl's on the Wings callbacks;
* not be a server error, except a 503 the operation documents with one of the documented
  dependency codes (``server_error_is_a_documented_503``).

The run is bounded and repeatable: a fixed seed (``derandomize``) and ``MAMBA_FUZZ_EXAMPLES``
generated cases per operation besides the documented examples (1 in ``make test``, about a
minute with the stack's start on a quiet machine; ``make fuzz`` runs 25 and schemathesis'
coverage phase, every boundary value of every parameter, with ``MAMBA_FUZZ_COVERAGE=1``). A method the
document does not list on a path (TRACE, PROPFIND, ...) answers 405 in the error shape.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from tests.e2e.conftest import Stack, launcher_environment, running_stack

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, settings  # noqa: E402
from schemathesis.specs.openapi.checks import (  # noqa: E402
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e"), pytest.mark.slow]

EXAMPLES = int(os.environ.get("MAMBA_FUZZ_EXAMPLES", "1"))
COVERAGE = os.environ.get("MAMBA_FUZZ_COVERAGE", "") == "1"
REQUEST_TIMEOUT_SECONDS = 30
# The codes a documented 503 may carry (mamba.openapi's descriptions): a dependency, or billing off.
DEPENDENCY_CODES = {"NODE_UNAVAILABLE", "SERVICE_UNAVAILABLE", "TRANSIENT", "BILLING_DISABLED"}
SENT: dict[tuple[str, str], list[int]] = {}  # (method, path) -> the statuses answered, for the coverage check


@pytest.fixture(scope="module")
def fuzz_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    folder = tmp_path_factory.mktemp("fuzz-stack")
    with running_stack(folder, launcher_environment(folder)) as running:
        yield running


@pytest.fixture(scope="module")
def admin_headers(fuzz_stack: Stack) -> dict[str, str]:
    stored = dict(
        line.split("=", 1) for line in (fuzz_stack.local_dir / "admin.txt").read_text().splitlines() if "=" in line
    )
    login = requests.post(
        f"{fuzz_stack.api}/v1/auth/login",
        json={"email": stored["email"], "password": stored["password"]},
        timeout=REQUEST_TIMEOUT_SECONDS,
    )
    assert login.status_code == 200, login.text
    return {"Authorization": f"Bearer {login.json()['access_token']}"}


@pytest.fixture(scope="module")
def document(fuzz_stack: Stack) -> dict[str, Any]:
    answer = requests.get(f"{fuzz_stack.api}/openapi.json", timeout=REQUEST_TIMEOUT_SECONDS)
    assert answer.status_code == 200
    return dict(answer.json())


@pytest.fixture(scope="module")
def api_schema(document: dict[str, Any]) -> Any:
    from schemathesis.config import SchemathesisConfig

    # The coverage phase (every boundary value of every parameter) takes many minutes here:
    # `make fuzz` runs it, `make test` does not.
    config = SchemathesisConfig.from_dict(
        {"phases": {"coverage": {"enabled": COVERAGE}, "stateful": {"enabled": False}}}
    )
    return schemathesis.openapi.from_dict(document, config=config)


def server_error_is_a_documented_503(document: dict[str, Any], case: Any, response: Any) -> None:
    """No 5xx, except a 503 the operation documents, carrying a documented dependency code."""
    if response.status_code < 500:
        return
    documented = document["paths"][case.path][case.method.lower()]["responses"]
    body: Any = None
    try:
        body = json.loads(response.content or b"null")
    except ValueError:
        pass
    code = body.get("error", {}).get("code") if isinstance(body, dict) else None
    if response.status_code == 503 and "503" in documented and code in DEPENDENCY_CODES:
        return
    raise AssertionError(
        f"{case.method} {case.path} answered {response.status_code} {response.content[:300]!r}"
        f" (documented: {sorted(documented)})"
    )


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    derandomize=True,  # the same cases on every run (a fixed seed)
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,
)
def test_every_answer_is_documented_when_the_api_is_fuzzed(
    case: Any, fuzz_stack: Stack, admin_headers: dict[str, str], document: dict[str, Any]
) -> None:
    response = case.call(base_url=fuzz_stack.api, headers=admin_headers, timeout=REQUEST_TIMEOUT_SECONDS)
    SENT.setdefault((case.method.upper(), case.path), []).append(response.status_code)

    server_error_is_a_documented_503(document, case, response)
    case.validate_response(
        response, checks=[status_code_conformance, content_type_conformance, response_schema_conformance]
    )


def test_a_method_no_path_declares_answers_405_in_the_error_shape(
    fuzz_stack: Stack, document: dict[str, Any], admin_headers: dict[str, str]
) -> None:
    # Given every documented path, with its parameters filled in
    paths = [path.replace("{", "x").replace("}", "") for path in document["paths"]]

    # When each is asked with methods no route declares
    answers = {
        (method, path): requests.request(
            method, fuzz_stack.api + path, headers=admin_headers, timeout=REQUEST_TIMEOUT_SECONDS
        )
        for path in paths
        for method in ("TRACE", "PROPFIND")
        if method == "TRACE" or path == paths[0]
    }

    # Then each is a 405 METHOD_NOT_ALLOWED in the panel's shape, naming the methods there are
    wrong = {key: (r.status_code, r.text[:120]) for key, r in answers.items() if r.status_code != 405}
    assert not wrong
    for response in answers.values():
        assert response.headers["Content-Type"] == "application/json"
        assert response.json()["error"]["code"] == "METHOD_NOT_ALLOWED"
        assert response.headers["Allow"]


def test_the_fuzzer_reached_every_operation_and_not_only_with_refusals(document: dict[str, Any]) -> None:
    # (runs after the fuzz test, in file order): every operation got at least one case, and the
    # admin's cases were not all turned away at the door
    operations = {(m.upper(), p) for p, ops in document["paths"].items() for m in ops}
    missing = operations - set(SENT)
    assert not missing, sorted(missing)
    statuses = [status for answered in SENT.values() for status in answered]
    assert sum(200 <= s < 300 for s in statuses) >= 20, sorted(set(statuses))
    assert statuses.count(401) < len(statuses) // 2
