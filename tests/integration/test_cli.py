"""The ``mamba`` console script, called in-process: output, and exit codes 0 / 1 / 2."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime

import boto3
import pytest

from mamba.cli import main
from mamba.migrations.registry import load_migrations


@pytest.fixture
def local_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("MAMBA_LOCAL_DIR", str(tmp_path))
    monkeypatch.delenv("MAMBA_ADMIN_EMAIL", raising=False)
    monkeypatch.delenv("MAMBA_ADMIN_PASSWORD", raising=False)
    return tmp_path


def one_line(err: str) -> str:
    assert err.endswith("\n") and err.count("\n") == 1, err
    return err


def test_importing_the_cli_loads_only_the_standard_library():
    code = (
        "import sys, mamba.cli; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & "
        "{'boto3', 'botocore', 'pynamodb', 'pydantic', 'argon2', 'jwt', 'aws_lambda_powertools', 'chalice'}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


# -- usage ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["frobnicate"],
        ["migrate", "--down", "x"],
        ["migrate", "--down", "-1"],
        ["migrate", "--down", "1", "--status"],
        ["create-admin", "--password", "whatever"],
        ["create-admin", "--email", "a@b.co"],
        ["check-platform", "--wait", "0"],
    ],
)
def test_exit_code_is_2_when_the_usage_is_wrong(argv, capsys):
    assert main(argv) == 2
    assert "usage: mamba" in capsys.readouterr().err


def test_exit_code_is_0_when_help_is_asked(capsys):
    assert main(["--help"]) == 0
    assert "migrate" in capsys.readouterr().out


# -- migrate ----------------------------------------------------------------------------------


def test_migrate_applies_then_reports_up_to_date_when_run_twice(aws, capsys):
    versions = [m.version for m in load_migrations()]
    assert main(["migrate"]) == 0
    assert f"applied {len(versions)}: {', '.join(versions)}" in capsys.readouterr().out
    assert main(["migrate"]) == 0
    assert "up to date" in capsys.readouterr().out
    assert main(["migrate", "--status"]) == 0
    assert capsys.readouterr().out.startswith("0001  applied")


def test_migrate_down_rolls_back_then_fails_in_one_line_when_nothing_is_left(aws, capsys):
    main(["migrate"])
    capsys.readouterr()
    versions = [m.version for m in load_migrations()]
    assert main(["migrate", "--down", str(len(versions))]) == 0
    assert f"rolled back {len(versions)}: {', '.join(reversed(versions))}" in capsys.readouterr().out
    assert main(["migrate", "--down", "1"]) == 1
    err = one_line(capsys.readouterr().err)
    assert err.startswith("mamba migrate: error: Only 0 migrations are applied")


def test_migrate_fails_naming_the_holder_when_another_runner_holds_the_lease_and_unlock_clears_it(aws, capsys):
    from mamba import bootstrap
    from mamba.adapters.dynamo.migrations import DynamoMigrationLedger
    from mamba.migrations.runner import Lease, LedgerState

    bootstrap.dynamo_tables()
    now = int(datetime.now(UTC).timestamp())
    DynamoMigrationLedger().claim(LedgerState(), Lease("other-host:42", "0001", "up", now + 600), now)
    assert main(["migrate"]) == 1
    assert "other-host:42" in one_line(capsys.readouterr().err)
    assert main(["migrate", "--unlock"]) == 0
    assert "cleared the lease of other-host:42" in capsys.readouterr().out
    assert main(["migrate"]) == 0


# -- seed and create-admin ---------------------------------------------------------------------


def test_seed_prints_the_login_and_creates_nothing_when_run_again(aws, local_dir, capsys):
    assert main(["seed"]) == 0
    out = capsys.readouterr().out
    assert "admin   admin@mamba.local (created)" in out
    assert "tenant  Demo (tn_demo, created)" in out
    password = (local_dir / "admin.txt").read_text().split("password=")[1].strip()
    assert f"login   admin@mamba.local / {password}" in out
    assert main(["seed"]) == 0
    out = capsys.readouterr().out
    assert "(exists)" in out and "tn_demo, exists" in out and password in out


def test_seed_uses_mamba_admin_email_and_password_when_set(aws, local_dir, monkeypatch, capsys):
    monkeypatch.setenv("MAMBA_ADMIN_EMAIL", "root@example.org")
    monkeypatch.setenv("MAMBA_ADMIN_PASSWORD", "another long pass phrase")
    assert main(["seed"]) == 0
    assert "login   root@example.org / another long pass phrase" in capsys.readouterr().out
    assert not (local_dir / "admin.txt").exists()


def test_seed_fails_in_one_line_when_the_admin_password_is_weak(aws, local_dir, monkeypatch, capsys):
    monkeypatch.setenv("MAMBA_ADMIN_PASSWORD", "short")
    assert main(["seed"]) == 1
    assert "MAMBA_ADMIN_PASSWORD" in one_line(capsys.readouterr().err)


def test_create_admin_creates_then_refuses_a_wrong_password_for_the_same_email(aws, capsys):
    from mamba import bootstrap
    from mamba.adapters.dynamo.users import DynamoUserRepository

    assert main(["create-admin", "--email", "Ops@Example.com", "--password", "correct horse battery"]) == 0
    assert "created platform admin ops@example.com" in capsys.readouterr().out
    bootstrap.dynamo_tables()
    assert DynamoUserRepository().find_by_email("ops@example.com").is_admin
    # A second run with the right password changes nothing; with a wrong one it fails
    assert main(["create-admin", "--email", "ops@example.com", "--password", "correct horse battery"]) == 0
    assert "already a platform admin" in capsys.readouterr().out
    assert main(["create-admin", "--email", "ops@example.com", "--password", "wrong horse battery"]) == 1
    assert "does not match" in one_line(capsys.readouterr().err)


def test_create_admin_promotes_an_existing_user_reading_the_password_from_stdin(aws, capsys, monkeypatch):
    from mamba import bootstrap
    from mamba.adapters.dynamo.users import DynamoUserRepository
    from mamba.auth.passwords import Argon2idPasswords
    from mamba.services import accounts

    bootstrap.dynamo_tables()
    users = DynamoUserRepository()
    user = accounts.create_user(users, Argon2idPasswords(), "member@example.com", "a member's long password")
    monkeypatch.setattr("sys.stdin", io.StringIO("a member's long password\n"))
    assert main(["create-admin", "--email", "member@example.com", "--password-stdin"]) == 0
    assert f"promoted member@example.com ({user.id})" in capsys.readouterr().out
    assert users.get(user.id).is_admin


def test_create_admin_fails_in_one_line_when_the_password_is_weak(aws, capsys):
    assert main(["create-admin", "--email", "ops@example.com", "--password", "short"]) == 1
    assert "12 to 128 characters" in one_line(capsys.readouterr().err)


# -- check-config -------------------------------------------------------------------------------


def test_check_config_prints_the_settings_without_secrets(capsys):
    import os

    assert main(["check-config"]) == 0
    out = capsys.readouterr().out
    described = json.loads(out)
    assert described["env"] == "test" and described["secrets"]["JWT_SECRET"] == "set"
    assert os.environ["JWT_SECRET"] not in out


def test_check_config_fails_naming_the_variable_when_a_secret_is_missing(monkeypatch, capsys):
    monkeypatch.delenv("JWT_SECRET")
    assert main(["check-config"]) == 1
    err = one_line(capsys.readouterr().err)
    assert err.startswith("mamba check-config: configuration: JWT_SECRET")


def test_check_config_fails_naming_the_variable_when_a_secret_is_weak(monkeypatch, capsys):
    monkeypatch.setenv("JWT_SECRET", "changeme")
    assert main(["check-config"]) == 1
    assert "JWT_SECRET" in one_line(capsys.readouterr().err)


# -- mail ---------------------------------------------------------------------------------------


def write_mail(folder, name: str, to: str, subject: str, body: str, sent: datetime) -> None:
    message = EmailMessage()
    message["From"] = "no-reply@mamba.local"
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(sent)
    message.set_content(body)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(message.as_bytes())


def test_mail_lists_date_to_subject_and_path_oldest_first(local_dir, capsys):
    mail = local_dir / "mail"
    write_mail(mail, "b.eml", "late@example.com", "Reset your password", "x", datetime(2026, 1, 2, tzinfo=UTC))
    write_mail(mail, "a.eml", "early@example.com", "Verify your email", "y", datetime(2026, 1, 1, tzinfo=UTC))
    (mail / "notes.txt").write_text("not mail")
    assert main(["mail"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["DATE", "TO", "SUBJECT", "PATH"]
    assert len(lines) == 3
    assert "early@example.com" in lines[1] and "Verify your email" in lines[1] and str(mail / "a.eml") in lines[1]
    assert "late@example.com" in lines[2] and "Reset your password" in lines[2]


def test_mail_show_prints_the_newest_message_body(local_dir, capsys):
    mail = local_dir / "mail"
    write_mail(mail, "1.eml", "a@example.com", "Old", "old body", datetime(2026, 1, 1, tzinfo=UTC))
    link = "http://127.0.0.1:8000/verify?token=abc123"
    write_mail(mail, "2.eml", "a@example.com", "New", f"Open {link}", datetime(2026, 1, 3, tzinfo=UTC))
    assert main(["mail", "--show"]) == 0
    out = capsys.readouterr().out
    assert "Subject: New" in out and link in out and "old body" not in out


def test_mail_says_so_when_there_is_no_mail(tmp_path, capsys):
    assert main(["mail", "--dir", str(tmp_path / "none")]) == 0
    assert "no mail in" in capsys.readouterr().out


# -- check-platform ------------------------------------------------------------------------------


@pytest.fixture
def stand_in_check_platform(aws) -> str:
    """A check_platform state machine that succeeds at once without touching the operation."""
    from mamba import bootstrap

    settings = bootstrap.settings()
    arn = settings.state_machine_arn("check_platform")
    boto3.client("stepfunctions", region_name=settings.region).create_state_machine(
        name=arn.rsplit(":", 1)[1],
        definition=json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Pass", "End": True}}}),
        roleArn="arn:aws:iam::123456789012:role/sfn",
    )
    return arn


def test_check_platform_starts_the_workflow_and_prints_the_operation_id(stand_in_check_platform, capsys):
    from mamba import bootstrap

    settings = bootstrap.settings()
    arn = stand_in_check_platform
    # When
    assert main(["check-platform"]) == 0
    op_id = capsys.readouterr().out.strip()
    # Then the operation is recorded under the platform tenant and its execution is named after it
    op = bootstrap.operation_repository().get("platform", op_id)
    assert (op.type, op.status) == ("check_platform", "pending")
    executions = boto3.client("stepfunctions", region_name=settings.region).list_executions(stateMachineArn=arn)
    assert [e["name"] for e in executions["executions"]] == [op_id]


def test_check_platform_fails_in_one_line_when_the_workflow_cannot_start(aws, capsys):
    assert main(["check-platform"]) == 1
    assert "could not be started" in one_line(capsys.readouterr().err)


def test_check_platform_wait_fails_in_one_line_when_the_operation_does_not_finish_in_time(
    stand_in_check_platform, capsys
):
    # The stand-in never records a result, so the operation stays pending
    assert main(["check-platform", "--wait", "0.6"]) == 1
    assert "is still pending after 0.6 s" in one_line(capsys.readouterr().err)
