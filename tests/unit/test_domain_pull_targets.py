"""Which URLs files/pull may hand to a node (issue 10, finding 9): the URL's form, and whether
each address is public."""

from __future__ import annotations

import ipaddress

import pytest

from mamba.domain import pull_targets
from mamba.domain.errors import PullUrlRefusedError


def reason_of(url: str) -> str | None:
    try:
        target = pull_targets.parse(url)
    except PullUrlRefusedError as exc:
        assert exc.status == 400 and exc.code == "PULL_URL_REFUSED"
        return str(exc.details["reason"])
    return pull_targets.refusal(target.address) if target.address is not None else None


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("https://downloads.example.org/pack.zip", None),
        ("http://93.184.216.34/pack.zip", None),
        ("http://[2606:4700::1111]/x", None),
        ("ftp://example.org/x", "scheme"),
        ("file:///etc/passwd", "scheme"),
        ("gopher://example.org:70/", "scheme"),
        ("javascript:alert(1)", "scheme"),
        ("https://user:pass@example.org/x", "credentials"),
        ("https://user@example.org/x", "credentials"),
        ("https://:pass@example.org/x", "credentials"),
        ("http://2130706433/", "encoded_address"),
        ("http://0x7f.1/", "encoded_address"),
        ("http://0x7f000001/", "encoded_address"),
        ("http://0177.0.0.1/", "encoded_address"),
        ("http://127.1/", "encoded_address"),
        ("http://017700000001/", "encoded_address"),
        ("http://127.0.0.1/", "loopback"),
        ("http://127.0.0.1./", "loopback"),
        ("http://[::1]/", "loopback"),
        ("http://[::ffff:127.0.0.1]/", "embedded_loopback"),
        ("http://[::ffff:a9fe:a9fe]/", "embedded_cloud_metadata"),
        ("http://[64:ff9b::7f00:1]/", "embedded_loopback"),
        ("http://[2002:7f00:1::]/", "embedded_loopback"),
        ("http://169.254.169.254/latest/meta-data/", "cloud_metadata"),
        ("http://[fd00:ec2::254]/", "cloud_metadata"),
        ("http://169.254.1.1/", "link_local"),
        ("http://[fe80::1%25eth0]/", "link_local"),
        ("http://10.0.0.1/", "private"),
        ("http://172.16.5.4/", "private"),
        ("http://192.168.1.1/", "private"),
        ("http://[fd12::1]/", "private"),
        ("http://100.64.0.1/", "shared"),
        ("http://0.0.0.0/", "unspecified"),
        ("http://[::]/", "unspecified"),
        ("http://224.0.0.1/", "multicast"),
        ("http://[ff02::1]/", "multicast"),
        ("http:///nohost", "invalid"),
        ("http://exa mple.org/", "invalid"),
        ("http://example.org:99999/", "invalid"),
        ("https://example.org/" + "a" * 2100, "invalid"),
    ],
)
def test_each_url_is_refused_for_its_reason(url, reason):
    assert reason_of(url) == reason


def test_a_host_name_is_kept_for_resolution_with_its_default_port():
    target = pull_targets.parse("HTTPS://Downloads.Example.ORG./x.zip")

    assert (target.host, target.port, target.address) == ("downloads.example.org", 443, None)


@pytest.mark.parametrize(
    ("addresses", "reason"),
    [
        (["93.184.216.34"], None),
        (["93.184.216.34", "2606:2800:220:1::1"], None),
        (["93.184.216.34", "10.0.0.1"], "private"),  # every answer must be public
        (["169.254.169.254"], "cloud_metadata"),
        (["::ffff:192.168.0.1"], "embedded_private"),
        ([], "unresolvable"),
        (["not-an-address"], "unresolvable"),
    ],
)
def test_every_resolved_address_must_be_public(addresses, reason):
    if reason is None:
        pull_targets.check_addresses("h.example", addresses)
        return
    with pytest.raises(PullUrlRefusedError) as caught:
        pull_targets.check_addresses("h.example", addresses)
    assert caught.value.details["reason"] == reason


def test_the_metadata_addresses_are_named_for_what_they_are():
    assert {pull_targets.refusal(a) for a in pull_targets.METADATA} == {"cloud_metadata"}
    assert pull_targets.refusal(ipaddress.ip_address("8.8.8.8")) is None
