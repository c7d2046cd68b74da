"""Migrations as part of the deploy: the stack's ``Migrations`` custom resource (infra.template).

CloudFormation calls the ``migrate_on_deploy`` function when the stack is created and whenever
the resource's properties change, which they do whenever a release brings migrations (the
property ``Versions`` lists this code's). ``handle`` answers each request:

* **Create / Update**: apply every pending migration (``Mode=apply``), or only list them
  (``Mode=dry-run``), and answer SUCCESS with what was applied and what is pending. A failure
  answers FAILED with the reason, and CloudFormation rolls the deploy back.
* **Update while rolling back**: CloudFormation sends the previous release's properties. The
  code may then be older than the ledger; nothing is applied or rolled back (a migration is
  undone only on purpose, with ``mamba migrate --down N``), and the answer is SUCCESS, so a
  rollback never fails here.
* **Delete**: SUCCESS, nothing touched: the data outlives the stack.

The runner is idempotent and leased (``mamba.migrations.runner``), so the pipeline's own
``mamba --stack S migrate`` after the deploy finds nothing to do, and a second deploy at the same
time is refused by the lease, not run twice. Every answer carries the same physical id, so an
update never "replaces" the resource (a replacement would make CloudFormation send a Delete).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from mamba.domain.errors import DomainError
from mamba.migrations.runner import MigrationRunner

MODES = ("apply", "dry-run", "off")
# Leave this much of the Lambda's time to answer CloudFormation: a function that times out
# without answering leaves the stack waiting until the resource's ServiceTimeout.
RESERVE_MS = 60_000
# CloudFormation keeps at most 4 KiB of a response's reason.
MAX_REASON = 3_000


@dataclass(frozen=True)
class Answer:
    """The custom resource response (its ``Status``, ``Reason`` and ``Data``)."""

    status: str  # SUCCESS | FAILED
    reason: str
    data: dict[str, str] = field(default_factory=dict)


def physical_id(event: Mapping[str, Any]) -> str:
    stack = str(event.get("StackId", "")).split("/")[1:2]
    return f"{stack[0] if stack else 'stack'}-migrations"


def handle(
    event: Mapping[str, Any],
    runner: Callable[[], MigrationRunner],
    time_left_ms: Callable[[], int],
    log: Callable[[str], None],
) -> Answer:
    """Answer one CloudFormation request; never raises (every failure is a FAILED answer)."""
    request = str(event.get("RequestType", ""))
    properties = event.get("ResourceProperties") or {}
    mode = str(properties.get("Mode", "apply"))
    if request == "Delete":
        return Answer("SUCCESS", "Nothing to do: the panel's data outlives the stack.")
    if request not in ("Create", "Update"):
        return Answer("FAILED", f"Unknown request type {request!r}.")
    if mode not in MODES:
        return Answer("FAILED", f"Mode must be one of {', '.join(MODES)}, not {mode!r}.")
    if mode == "off":
        return Answer("SUCCESS", "Migrations on deploy are off (MigrationsOnDeploy=off); run mamba migrate.")
    try:
        built = runner()
        state = built.ledger.read()
        known = {m.version for m in built.migrations}
        ahead = [v for v in state.applied if v not in known]
        if ahead:
            # An older release (a rollback): its code cannot read these versions' migrations.
            log(f"the ledger is ahead of this code ({', '.join(ahead)}): nothing applied")
            return Answer(
                "SUCCESS",
                "The ledger holds newer migrations than this code (a rollback): nothing applied.",
                {"Applied": "", "Pending": "", "Ahead": ",".join(ahead)},
            )
        pending = [m.version for m in built.pending(state)]
        if mode == "dry-run":
            log(f"dry run: would apply {', '.join(pending) or 'nothing'}")
            data = {"Applied": "", "Pending": ",".join(pending)}
            return Answer("SUCCESS", _listing("Dry run: would apply", pending), data)
        done = built.up(should_stop=lambda: time_left_ms() < RESERVE_MS)
        left = [v for v in pending if v not in done]
        if left:
            return Answer(
                "FAILED",
                f"Stopped for time after applying {_versions(done)}; still pending: {_versions(left)}. "
                "Run `mamba --stack <stack> migrate` and deploy again.",
                {"Applied": ",".join(done), "Pending": ",".join(left)},
            )
        return Answer("SUCCESS", _listing("Applied", done), {"Applied": ",".join(done), "Pending": ""})
    except DomainError as exc:  # out of order, a ledger changed meanwhile, another runner's lease
        return Answer("FAILED", _reason(f"{exc.message} {exc.details or ''}"))
    except Exception as exc:  # noqa: BLE001 (the boundary: CloudFormation must get an answer)
        return Answer("FAILED", _reason(f"{type(exc).__name__}: {exc}"))


def _versions(versions: Sequence[str]) -> str:
    return ", ".join(versions) if versions else "none"


def _listing(prefix: str, versions: Sequence[str]) -> str:
    return f"{prefix} {len(versions)} migration(s): {_versions(versions)}." if versions else "Up to date."


def _reason(text: str) -> str:
    return " ".join(text.split())[:MAX_REASON]


def response_body(event: Mapping[str, Any], answer: Answer, log_stream: str) -> dict[str, Any]:
    """The document CloudFormation expects at the request's ResponseURL."""
    return {
        "Status": answer.status,
        "Reason": f"{answer.reason} (log stream {log_stream})" if answer.status == "FAILED" else answer.reason,
        "PhysicalResourceId": str(event.get("PhysicalResourceId") or physical_id(event)),
        "StackId": event.get("StackId", ""),
        "RequestId": event.get("RequestId", ""),
        "LogicalResourceId": event.get("LogicalResourceId", ""),
        "NoEcho": False,
        "Data": answer.data,
    }
