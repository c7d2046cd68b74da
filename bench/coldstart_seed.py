"""Child of the ``coldstart`` bench section (``python -m bench.coldstart_seed``).

Runs with the environment the measured interpreters get (``AWS_ENDPOINT_URL`` pointing at the
bench's moto server, the same ``JWT_SECRET``), creates the panel's tables from their one source
(``TABLES``) and writes, through the panel's own repositories, what one authenticated
``GET /v1/tenants/{tid}/servers`` reads: a verified user, a tenant with that user as owner, and
``SERVERS`` servers. Prints one JSON object: the tenant, the user's access token (minted with the
shared secret, so the measured app verifies it for real) and the item count a page must return.
"""

from __future__ import annotations

import json
import sys

TENANT_ID = "tn_bench"
USER_ID = "usr_bench"
SERVERS = 5
T0 = "2026-11-25T10:00:00Z"


def main() -> dict[str, object]:
    import boto3

    from mamba import bootstrap
    from mamba.adapters.dynamo.tables import TABLES
    from mamba.adapters.dynamo.tenants import DynamoTenantRepository
    from mamba.adapters.dynamo.users import DynamoUserRepository
    from mamba.auth.tokens import issue_access
    from mamba.domain.accounts import User
    from mamba.domain.servers import Limits, Server
    from mamba.domain.tenancy import Membership, Tenant

    settings = bootstrap.settings()
    dynamodb = boto3.client("dynamodb", region_name=settings.region, endpoint_url=settings.aws_endpoint_url)
    names = {"MainTable": settings.table_main, "IdempotencyTable": settings.table_idempotency}
    for table in TABLES:
        if table.logical_id in names:
            dynamodb.create_table(**table.create_table_kwargs(names[table.logical_id]))
    bootstrap.dynamo_tables()
    DynamoUserRepository().add(User(id=USER_ID, email="bench@example.org", created_at=T0, email_verified=True))
    DynamoTenantRepository().add_with_owner(
        Tenant(id=TENANT_ID, name="Bench", created_at=T0),
        Membership(tenant_id=TENANT_ID, user_id=USER_ID, role="owner", created_at=T0),
    )
    repo = bootstrap.server_repository()
    for n in range(SERVERS):
        repo.add(
            Server(
                uuid=f"00000000-0000-4000-8000-{n:012d}",
                name=f"bench {n}",
                tenant_id=TENANT_ID,
                node_id="node_bench",
                blueprint_id="bp_bench",
                allocation=("127.0.0.1", 27015 + n),
                docker_image="ghcr.io/pterodactyl/yolks:python_3.12",
                startup="python game.py",
                limits=Limits(memory_mb=256, disk_mb=1024, cpu_percent=100),
                status="offline",
                created_at=T0,
                updated_at=T0,
            )
        )
    # Long enough for the whole bench (the measured app checks exp like any other token).
    token = issue_access(USER_ID, settings.jwt_secret, ttl=3600)
    return {"tenant_id": TENANT_ID, "user_id": USER_ID, "token": token, "servers": SERVERS}


if __name__ == "__main__":
    json.dump(main(), sys.stdout)
