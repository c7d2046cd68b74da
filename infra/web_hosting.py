"""The web panel deployed: a private S3 bucket behind CloudFront, on one origin with the API.

``merge_template`` (infra.template) adds these resources:

* ``WebBucket``: the built app (``web/dist``), private (public access blocked, owner-enforced,
  SSE-S3, TLS only). Only the distribution reads it, through origin access control
  (``WebOriginAccessControl``, SigV4): the bucket policy allows ``s3:GetObject`` to the
  CloudFront service principal on the condition that the request comes from this
  distribution (``AWS:SourceArn``).
* ``WebDistribution``: the default behaviour serves the bucket (CachingOptimized); each API
  path pattern of ``mamba.web_headers.API_PATH_PATTERNS`` goes to API Gateway (``RestAPI``,
  stage ``api``) with the managed CachingDisabled cache policy and the
  AllViewerExceptHostHeader origin request policy, so cookies, ``Origin``, ``Authorization``
  and query strings reach the API and nothing of it is cached.
* ``WebSpaRewrite``: a CloudFront Function on the default behaviour's viewer requests that
  sends every app route to ``/index.html``, except ``/assets/*`` (hashed build output) and
  top-level files with an extension (``/favicon.svg``). It runs on the S3 behaviour only, so
  an API 404 stays an API 404 (custom error responses would rewrite those too).
* ``WebSecurityHeaders``: a response-headers policy on every behaviour with the headers of
  ``mamba.web_headers.security_headers``; ``connect-src`` adds the ``WingsOrigins``
  parameter (the nodes' https and wss origins, for the console socket and file transfers).

docs/deploy.md#web-panel says how to upload a build and invalidate ``/index.html``.
"""

from __future__ import annotations

from typing import Any

from mamba.web_headers import API_PATH_PATTERNS, HSTS, REFERRER_POLICY, content_security_policy

WEB_BUCKET = "WebBucket"
WEB_BUCKET_POLICY = "WebBucketPolicy"
WEB_OAC = "WebOriginAccessControl"
WEB_DISTRIBUTION = "WebDistribution"
WEB_FUNCTION = "WebSpaRewrite"
WEB_HEADERS = "WebSecurityHeaders"
WEB_DNS = "WebDnsRecords"
# The hosted zone id every CloudFront distribution has as an alias target (AWS's constant).
CLOUDFRONT_HOSTED_ZONE = "Z2FDTNDATAQYW2"
API_STAGE = "api"  # Chalice's api_gateway_stage (.chalice/config.json)

# AWS managed policies (the same ids in every account).
CACHING_OPTIMIZED = "658327ea-f89d-4fab-a63d-7e88639e58f6"
CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
ALL_VIEWER_EXCEPT_HOST_HEADER = "b689b0a8-53d0-40ab-baf2-68738e2966ac"

HSTS_SECONDS = int(HSTS.split("max-age=", 1)[1].split(";", 1)[0])

# cloudfront-js-2.0. Kept in step with local.static_site's fallback rule.
SPA_REWRITE = """function handler(event) {
  var request = event.request;
  var uri = request.uri;
  // Hashed build output: served as is (a missing chunk is an error, not the app's HTML).
  if (uri.startsWith('/assets/')) {
    return request;
  }
  // A top-level file such as /favicon.svg or /robots.txt.
  if (/^\\/[^\\/]+\\.[A-Za-z0-9]+$/.test(uri)) {
    return request;
  }
  // Any other path is a route of the app: its router reads the path from the address bar.
  request.uri = '/index.html';
  return request;
}
"""


def parameters() -> dict[str, Any]:
    return {
        "WingsOrigins": {
            "Type": "String",
            "Default": "",
            "AllowedPattern": "^((https|wss)://[A-Za-z0-9.*:-]+)?( (https|wss)://[A-Za-z0-9.*:-]+)*$",
            "ConstraintDescription": "space-separated https:// and wss:// origins",
            "Description": "The Wings nodes' origins the browser connects to (console websocket, file transfers), "
            "space-separated, e.g. 'https://node1.example.com:8080 wss://node1.example.com:8080'. "
            "They go into the Content-Security-Policy's connect-src.",
        },
        "WebDomainName": {
            "Type": "String",
            "Default": "",
            "Description": "The panel's host name on CloudFront (e.g. panel.example.com); empty: the "
            "cloudfront.net name. Set PublicUrl to the same origin.",
        },
        "WebCertificateArn": {
            "Type": "String",
            "Default": "",
            "AllowedPattern": "^(arn:aws[a-zA-Z-]*:acm:us-east-1:[0-9]{12}:certificate/.+)?$",
            "ConstraintDescription": "an ACM certificate ARN in us-east-1 (CloudFront's region), or empty",
            "Description": "The ACM certificate (in us-east-1) for WebDomainName; both or neither are used.",
        },
        "WebHostedZoneId": {
            "Type": "String",
            "Default": "",
            "AllowedPattern": "^(Z[A-Z0-9]{1,31})?$",
            "ConstraintDescription": "a Route 53 hosted zone id (Z...), or empty",
            "Description": "The Route 53 hosted zone of WebDomainName: the stack then creates its A and AAAA "
            "alias records to the distribution. Empty: point DNS at the distribution yourself.",
        },
    }


def conditions() -> dict[str, Any]:
    # Both or neither: a host name without its certificate cannot serve https.
    return {
        "HasWebDomain": {
            "Fn::And": [
                {"Fn::Not": [{"Fn::Equals": [{"Ref": "WebDomainName"}, ""]}]},
                {"Fn::Not": [{"Fn::Equals": [{"Ref": "WebCertificateArn"}, ""]}]},
            ]
        },
        "HasWebDns": {
            "Fn::And": [{"Condition": "HasWebDomain"}, {"Fn::Not": [{"Fn::Equals": [{"Ref": "WebHostedZoneId"}, ""]}]}]
        },
    }


def dns_records() -> dict[str, Any]:
    """The domain's alias records (IPv4 and IPv6: the distribution has both) in its hosted zone."""
    alias = {"DNSName": {"Fn::GetAtt": [WEB_DISTRIBUTION, "DomainName"]}, "HostedZoneId": CLOUDFRONT_HOSTED_ZONE}
    return {
        WEB_DNS: {
            "Type": "AWS::Route53::RecordSetGroup",
            "Condition": "HasWebDns",
            "Properties": {
                "HostedZoneId": {"Ref": "WebHostedZoneId"},
                "RecordSets": [
                    {"Name": {"Ref": "WebDomainName"}, "Type": kind, "AliasTarget": alias} for kind in ("A", "AAAA")
                ],
            },
        }
    }


def _csp() -> dict[str, Any]:
    """The policy with ``${WingsOrigins}`` in connect-src (an empty parameter leaves 'self')."""
    policy = content_security_policy(["${WingsOrigins}"])
    return {"Fn::Sub": policy}


def _api_behaviour(pattern: str) -> dict[str, Any]:
    return {
        "PathPattern": pattern,
        "TargetOriginId": "api",
        "ViewerProtocolPolicy": "https-only",  # a redirect would turn a POST into a GET
        "AllowedMethods": ["GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE"],
        "CachedMethods": ["GET", "HEAD"],
        "CachePolicyId": CACHING_DISABLED,
        "OriginRequestPolicyId": ALL_VIEWER_EXCEPT_HOST_HEADER,
        "ResponseHeadersPolicyId": {"Ref": WEB_HEADERS},
        "Compress": True,
    }


def resources() -> dict[str, Any]:
    bucket_arn = {"Fn::GetAtt": [WEB_BUCKET, "Arn"]}
    objects_arn = {"Fn::Sub": "${WebBucket.Arn}/*"}
    distribution_arn = {
        "Fn::Sub": "arn:${AWS::Partition}:cloudfront::${AWS::AccountId}:distribution/${WebDistribution}"
    }
    return {
        WEB_BUCKET: {
            "Type": "AWS::S3::Bucket",
            "Properties": {
                "PublicAccessBlockConfiguration": {
                    "BlockPublicAcls": True,
                    "BlockPublicPolicy": True,
                    "IgnorePublicAcls": True,
                    "RestrictPublicBuckets": True,
                },
                "BucketEncryption": {
                    "ServerSideEncryptionConfiguration": [{"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
                },
                "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
            },
        },
        WEB_BUCKET_POLICY: {
            "Type": "AWS::S3::BucketPolicy",
            "Properties": {
                "Bucket": {"Ref": WEB_BUCKET},
                "PolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Sid": "CloudFrontReadsThroughOriginAccessControl",
                            "Effect": "Allow",
                            "Principal": {"Service": "cloudfront.amazonaws.com"},
                            "Action": "s3:GetObject",
                            "Resource": objects_arn,
                            "Condition": {"StringEquals": {"AWS:SourceArn": distribution_arn}},
                        },
                        {
                            "Sid": "DenyInsecureTransport",
                            "Effect": "Deny",
                            "Principal": "*",
                            "Action": "s3:*",
                            "Resource": [bucket_arn, objects_arn],
                            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                        },
                    ],
                },
            },
        },
        WEB_OAC: {
            "Type": "AWS::CloudFront::OriginAccessControl",
            "Properties": {
                "OriginAccessControlConfig": {
                    "Name": {"Fn::Sub": "${AWS::StackName}-web"},
                    "Description": "The panel's CloudFront distribution reads the web bucket",
                    "OriginAccessControlOriginType": "s3",
                    "SigningBehavior": "always",
                    "SigningProtocol": "sigv4",
                }
            },
        },
        WEB_FUNCTION: {
            "Type": "AWS::CloudFront::Function",
            "Properties": {
                "Name": {"Fn::Sub": "${AWS::StackName}-spa-rewrite"},
                "AutoPublish": True,
                "FunctionCode": SPA_REWRITE,
                "FunctionConfig": {
                    "Comment": "App routes to /index.html; assets and top-level files as they are",
                    "Runtime": "cloudfront-js-2.0",
                },
            },
        },
        WEB_HEADERS: {
            "Type": "AWS::CloudFront::ResponseHeadersPolicy",
            "Properties": {
                "ResponseHeadersPolicyConfig": {
                    "Name": {"Fn::Sub": "${AWS::StackName}-security-headers"},
                    "Comment": "The panel's security headers (mamba.web_headers)",
                    "SecurityHeadersConfig": {
                        "ContentSecurityPolicy": {"ContentSecurityPolicy": _csp(), "Override": True},
                        "ContentTypeOptions": {"Override": True},
                        "FrameOptions": {"FrameOption": "DENY", "Override": True},
                        "ReferrerPolicy": {"ReferrerPolicy": REFERRER_POLICY, "Override": True},
                        "StrictTransportSecurity": {
                            "AccessControlMaxAgeSec": HSTS_SECONDS,
                            "IncludeSubdomains": True,
                            "Override": True,
                        },
                    },
                }
            },
        },
        WEB_DISTRIBUTION: {
            "Type": "AWS::CloudFront::Distribution",
            "Properties": {
                "DistributionConfig": {
                    "Comment": {"Fn::Sub": "${AWS::StackName} web panel and API"},
                    "Enabled": True,
                    "HttpVersion": "http2and3",
                    "IPV6Enabled": True,
                    "DefaultRootObject": "index.html",
                    "Aliases": {"Fn::If": ["HasWebDomain", [{"Ref": "WebDomainName"}], {"Ref": "AWS::NoValue"}]},
                    "ViewerCertificate": {
                        "Fn::If": [
                            "HasWebDomain",
                            {
                                "AcmCertificateArn": {"Ref": "WebCertificateArn"},
                                "SslSupportMethod": "sni-only",
                                "MinimumProtocolVersion": "TLSv1.2_2021",
                            },
                            {"CloudFrontDefaultCertificate": True},
                        ]
                    },
                    "Origins": [
                        {
                            "Id": "web",
                            "DomainName": {"Fn::GetAtt": [WEB_BUCKET, "RegionalDomainName"]},
                            "OriginAccessControlId": {"Fn::GetAtt": [WEB_OAC, "Id"]},
                            # OAC, not the legacy origin access identity: the empty value is required.
                            "S3OriginConfig": {"OriginAccessIdentity": ""},
                        },
                        {
                            "Id": "api",
                            "DomainName": {"Fn::Sub": "${RestAPI}.execute-api.${AWS::Region}.${AWS::URLSuffix}"},
                            "OriginPath": f"/{API_STAGE}",
                            "CustomOriginConfig": {
                                "OriginProtocolPolicy": "https-only",
                                "OriginSSLProtocols": ["TLSv1.2"],
                            },
                        },
                    ],
                    "DefaultCacheBehavior": {
                        "TargetOriginId": "web",
                        "ViewerProtocolPolicy": "redirect-to-https",
                        "AllowedMethods": ["GET", "HEAD"],
                        "CachedMethods": ["GET", "HEAD"],
                        "CachePolicyId": CACHING_OPTIMIZED,
                        "ResponseHeadersPolicyId": {"Ref": WEB_HEADERS},
                        "Compress": True,
                        "FunctionAssociations": [
                            {
                                "EventType": "viewer-request",
                                "FunctionARN": {"Fn::GetAtt": [WEB_FUNCTION, "FunctionMetadata.FunctionARN"]},
                            }
                        ],
                    },
                    "CacheBehaviors": [_api_behaviour(p) for p in API_PATH_PATTERNS],
                }
            },
        },
        **dns_records(),
    }


def outputs() -> dict[str, Any]:
    return {
        "WebBucketName": {"Value": {"Ref": WEB_BUCKET}},
        "WebDistributionId": {"Value": {"Ref": WEB_DISTRIBUTION}},
        "PanelUrl": {
            "Value": {
                "Fn::If": [
                    "HasWebDomain",
                    {"Fn::Sub": "https://${WebDomainName}"},
                    {"Fn::Sub": "https://${WebDistribution.DomainName}"},
                ]
            }
        },
    }
