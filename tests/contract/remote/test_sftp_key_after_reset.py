"""SFTP applies the guard's rule for API keys after a credential reset (issue 10, finding
2): a key created before the owner's last password reset or change or suspension is
refused, even when marking it revoked never happened."""

from __future__ import annotations

from tests.contract.remote.test_remote_api import _api_key, sftp


def test_sftp_refuses_an_api_key_created_before_its_owners_credential_reset(world):
    from mamba.adapters.dynamo import keys
    from mamba.adapters.dynamo.items import UserItem
    from mamba.domain.clock import iso, utcnow

    # Given the viewer's working key
    key = _api_key(world, "viewer", ["files.sftp", "files.read"])
    assert sftp(world, "viewer", world.servers_a[0], password=key).status_code == 200

    # When the viewer's credentials are reset (and the key item was not marked revoked)
    UserItem(*keys.user(world.users["viewer"])).update(actions=[UserItem.credentials_reset_at.set(iso(utcnow()))])

    # Then the key no longer signs in to SFTP, and one created after the reset does
    assert sftp(world, "viewer", world.servers_a[0], password=key).status_code == 403
    fresh = _api_key(world, "viewer", ["files.sftp", "files.read"])
    assert sftp(world, "viewer", world.servers_a[0], password=fresh).status_code == 200
