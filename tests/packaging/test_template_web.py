"""The web panel's hosting in the merge template: private bucket, CloudFront with OAC, the API
paths uncached on API Gateway, the SPA rewrite on the bucket only, the security headers."""

from __future__ import annotations

import json
import shutil
import subprocess
from typing import Any

import pytest

from infra import template as cfn
from infra import web_hosting as web
from mamba.web_headers import API_PATH_PATTERNS


@pytest.fixture(scope="module")
def merged() -> dict[str, Any]:
    return cfn.merge_template()


def _config(merged: dict[str, Any]) -> dict[str, Any]:
    return merged["Resources"][web.WEB_DISTRIBUTION]["Properties"]["DistributionConfig"]


def test_the_web_bucket_is_private_and_readable_only_by_this_distribution(merged):
    bucket = merged["Resources"][web.WEB_BUCKET]["Properties"]
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    assert bucket["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    allow, deny = merged["Resources"][web.WEB_BUCKET_POLICY]["Properties"]["PolicyDocument"]["Statement"]
    assert allow["Principal"] == {"Service": "cloudfront.amazonaws.com"} and allow["Action"] == "s3:GetObject"
    source = allow["Condition"]["StringEquals"]["AWS:SourceArn"]["Fn::Sub"]
    assert source.endswith(":distribution/${WebDistribution}")
    assert deny["Effect"] == "Deny" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    oac = merged["Resources"][web.WEB_OAC]["Properties"]["OriginAccessControlConfig"]
    assert (oac["OriginAccessControlOriginType"], oac["SigningBehavior"], oac["SigningProtocol"]) == (
        "s3",
        "always",
        "sigv4",
    )


def test_the_distribution_reads_the_bucket_through_oac_and_sends_api_paths_to_api_gateway(merged):
    config = _config(merged)
    origins = {o["Id"]: o for o in config["Origins"]}
    assert origins["web"]["OriginAccessControlId"] == {"Fn::GetAtt": [web.WEB_OAC, "Id"]}
    assert origins["web"]["S3OriginConfig"] == {"OriginAccessIdentity": ""}
    assert "${RestAPI}.execute-api" in origins["api"]["DomainName"]["Fn::Sub"]
    assert origins["api"]["OriginPath"] == "/api"
    behaviours = {b["PathPattern"]: b for b in config["CacheBehaviors"]}
    assert set(behaviours) == set(API_PATH_PATTERNS)
    assert {"/v1/*", "/api/*", "/webhooks/*", "/health/*", "/openapi.json", "/docs"} <= set(behaviours)
    for behaviour in behaviours.values():
        assert behaviour["TargetOriginId"] == "api"
        assert behaviour["CachePolicyId"] == web.CACHING_DISABLED
        assert behaviour["OriginRequestPolicyId"] == web.ALL_VIEWER_EXCEPT_HOST_HEADER
        assert "POST" in behaviour["AllowedMethods"] and "FunctionAssociations" not in behaviour
        assert behaviour["ResponseHeadersPolicyId"] == {"Ref": web.WEB_HEADERS}


def test_the_spa_rewrite_runs_on_the_bucket_behaviour_only(merged):
    default = _config(merged)["DefaultCacheBehavior"]
    assert default["TargetOriginId"] == "web" and default["ViewerProtocolPolicy"] == "redirect-to-https"
    (association,) = default["FunctionAssociations"]
    assert association["EventType"] == "viewer-request"
    assert "CustomErrorResponses" not in _config(merged)  # they would rewrite the API's 404s too
    function = merged["Resources"][web.WEB_FUNCTION]["Properties"]
    assert function["FunctionConfig"]["Runtime"] == "cloudfront-js-2.0" and function["AutoPublish"] is True


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
@pytest.mark.parametrize(
    ("uri", "rewritten"),
    [
        ("/", "/index.html"),
        ("/verify-email", "/index.html"),
        ("/tenants/tn_1/servers/abc/files/server.properties", "/index.html"),
        ("/assets/index-1a2b3c.js", "/assets/index-1a2b3c.js"),
        ("/favicon.svg", "/favicon.svg"),
    ],
)
def test_the_spa_rewrite_sends_app_routes_to_index_html_when_run(uri, rewritten):
    script = web.SPA_REWRITE + f"\nprocess.stdout.write(handler({{request: {{uri: {json.dumps(uri)}}}}}).uri);\n"
    result = subprocess.run(["node", "-e", script], capture_output=True, text=True, timeout=30, check=True)
    assert result.stdout == rewritten


def test_every_behaviour_carries_the_security_headers_with_the_wings_origins_in_connect_src(merged):
    config = merged["Resources"][web.WEB_HEADERS]["Properties"]["ResponseHeadersPolicyConfig"]
    headers = config["SecurityHeadersConfig"]
    csp = headers["ContentSecurityPolicy"]["ContentSecurityPolicy"]["Fn::Sub"]
    assert "connect-src 'self' ${WingsOrigins};" in csp and "script-src 'self';" in csp
    assert "frame-ancestors 'none'" in csp and "'unsafe-inline'" not in csp
    assert len(csp) < 1783  # CloudFront's limit for the header value
    assert headers["FrameOptions"]["FrameOption"] == "DENY"
    assert headers["ReferrerPolicy"]["ReferrerPolicy"] == "strict-origin-when-cross-origin"
    assert headers["StrictTransportSecurity"]["AccessControlMaxAgeSec"] >= 31536000
    assert all(h["Override"] for h in headers.values())
    assert _config(merged)["DefaultCacheBehavior"]["ResponseHeadersPolicyId"] == {"Ref": web.WEB_HEADERS}


def test_outputs_name_the_bucket_the_distribution_and_the_panel_url(merged):
    assert {"WebBucketName", "WebDistributionId", "PanelUrl"} <= set(merged["Outputs"])
    assert {"WingsOrigins", "WebDomainName", "WebCertificateArn"} <= set(merged["Parameters"])


@pytest.mark.parametrize(
    ("domain", "zone", "records"),
    [("panel.example.com", "Z0123456789ABC", True), ("panel.example.com", "", False), ("", "Z0123456789ABC", False)],
)
def test_the_domains_alias_records_exist_only_with_the_domain_and_its_hosted_zone(merged, domain, zone, records):
    from tests.cfn_render import Renderer, parameter_values

    # Given the domain, its certificate and (or not) its hosted zone
    certificate = "arn:aws:acm:us-east-1:123456789012:certificate/abc" if domain else ""
    values = parameter_values(
        merged, {"WebDomainName": domain, "WebCertificateArn": certificate, "WebHostedZoneId": zone}
    )
    renderer = Renderer(merged, values, attributes={f"{web.WEB_DISTRIBUTION}.DomainName": "d1.cloudfront.net"})
    # Then A and AAAA alias the distribution in that zone, only when both are given
    assert renderer.exists(web.WEB_DNS) is records
    if records:
        props = renderer.value(merged["Resources"][web.WEB_DNS]["Properties"])
        assert props["HostedZoneId"] == zone
        assert [(r["Name"], r["Type"]) for r in props["RecordSets"]] == [(domain, "A"), (domain, "AAAA")]
        assert {r["AliasTarget"]["DNSName"] for r in props["RecordSets"]} == {"d1.cloudfront.net"}
        assert {r["AliasTarget"]["HostedZoneId"] for r in props["RecordSets"]} == {web.CLOUDFRONT_HOSTED_ZONE}
    # and the panel's URL (the functions' and the CLI's) is the domain at base path / whenever it is set
    public = renderer.value({"url": cfn.public_url_value()})
    assert public == ({"url": f"https://{domain}"} if domain else {})
