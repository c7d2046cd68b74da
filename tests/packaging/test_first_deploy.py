"""A first deploy that works (issue 19, item 1): the template's parameters, with their defaults
or any allowed value, plus the secret the stack generates, make a configuration the functions
accept in deployed mode.

The template is rendered as CloudFormation would (tests/cfn_render.py): each parameter checked
against its constraints, the conditions evaluated, the functions' environment resolved. The
generated secret (``AppSecrets``' ``GenerateSecretString``) goes into Secrets Manager on moto,
and ``load_settings`` reads it there through Powertools, exactly as a function's init does.
The packaged template (``chalice package``'s output, the file a deploy uploads) gets the same
check in the slow packaging group.
"""

from __future__ import annotations

import json
import secrets
import string
from typing import Any

import boto3
import pytest

from infra import template as cfn
from infra import web_hosting
from mamba.config import Settings, load_settings, warnings
from mamba.domain.errors import ConfigError
from tests.cfn_render import ParameterError, Renderer, parameter_values

DISTRIBUTION_DOMAIN = "d1234abcd.cloudfront.net"
CERTIFICATE = "arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-0000-4000-8000-000000000000"


def generated_secret(template: dict[str, Any]) -> dict[str, str]:
    """The value Secrets Manager creates from the template's GenerateSecretString."""
    spec = template["Resources"][cfn.SECRET]["Properties"]["GenerateSecretString"]
    alphabet = string.ascii_letters + string.digits
    if not spec.get("ExcludePunctuation"):
        alphabet += string.punctuation
    document = json.loads(spec["SecretStringTemplate"])
    document[spec["GenerateStringKey"]] = "".join(secrets.choice(alphabet) for _ in range(spec["PasswordLength"]))
    return document


def strong_value(key: str) -> str:
    prefix = {"STRIPE_SECRET_KEY": "sk_test_", "STRIPE_WEBHOOK_SECRET": "whsec_"}.get(key, "")
    return prefix + secrets.token_urlsafe(32)


def deployed_settings(
    template: dict[str, Any], overrides: dict[str, str] | None = None, fill: tuple[str, ...] = ()
) -> Settings:
    """Deploy ``template`` on paper: its parameters, its generated secret (plus the keys ``fill``
    names, as docs/deploy.md has the operator add them) and the functions' environment; then
    load the Settings a function would."""
    values = parameter_values(template, overrides)
    document = generated_secret(template)
    document.update({key: strong_value(key) for key in fill})
    secret_arn = boto3.client("secretsmanager").create_secret(
        Name=f"first-deploy-{secrets.token_hex(4)}", SecretString=json.dumps(document)
    )["ARN"]
    renderer = Renderer(
        template,
        values,
        physical={cfn.SECRET: secret_arn},
        attributes={f"{web_hosting.WEB_DISTRIBUTION}.DomainName": DISTRIBUTION_DOMAIN},
    )
    environment = dict(renderer.value(template["Globals"]["Function"]["Environment"]["Variables"]))
    # Chalice puts the stage's own variables on each function (the packaged template only).
    api = template["Resources"].get(cfn.API_HANDLER, {}).get("Properties", {})
    environment.update(renderer.value(api.get("Environment", {}).get("Variables", {})))
    assert environment["MAMBA_ENV"] == "deployed"
    return load_settings({"AWS_REGION": "us-east-1", **{k: str(v) for k, v in environment.items()}})


def choices(template: dict[str, Any]) -> list[tuple[str, str]]:
    return [
        (name, str(value)) for name, spec in template["Parameters"].items() for value in spec.get("AllowedValues", [])
    ]


MERGED = cfn.merge_template()


def test_defaults_and_the_generated_secret_load_in_deployed_mode_when_nothing_is_set(aws: None) -> None:
    # Given the template deployed with every parameter at its default
    # When a function loads its settings from the environment and the generated secret
    settings = deployed_settings(MERGED)
    # Then they load: no CAPTCHA (the documented first-deploy default) and, without a domain, no
    # panel URL yet (the second pass of docs/deploy.md sets it), each warned about by name
    assert settings.env == "deployed"
    assert settings.stage == "mamba-test"  # the stack's name
    assert settings.captcha_provider == "disabled"
    assert settings.billing_enabled is False
    assert len(settings.jwt_secret) >= 32
    assert [w.split(" ", 1)[0] for w in warnings(settings)] == ["CAPTCHA", "MAMBA_PUBLIC_URL"]


def test_the_checklists_first_deploy_loads_at_the_domain_with_only_the_captcha_warning(aws: None) -> None:
    # Given the first deploy as docs/deploy.md's checklist makes it: the domain and its certificate
    settings = deployed_settings(MERGED, {"WebDomainName": "panel.example.com", "WebCertificateArn": CERTIFICATE})
    # Then the functions run at the domain, and only the CAPTCHA decision is left to warn about
    assert settings.public_url == "https://panel.example.com"
    assert [w.split(" ", 1)[0] for w in warnings(settings)] == ["CAPTCHA"]


@pytest.mark.parametrize(("parameter", "value"), choices(MERGED))
def test_each_allowed_value_loads_when_the_secret_holds_the_keys_it_needs(
    aws: None, parameter: str, value: str
) -> None:
    # Given one choice parameter set to one of its allowed values, and the secret filled with the
    # keys the template says that value needs (docs/deploy.md's checklist)
    needed = cfn.SECRET_KEYS_NEEDED.get(parameter, {}).get(value, ())
    # When a function loads its settings
    settings = deployed_settings(MERGED, {parameter: value}, fill=needed)
    # Then they load
    assert settings.env == "deployed"
    if parameter == "CaptchaProvider":
        assert settings.captcha_provider == value
    if parameter == "BillingEnabled":
        assert settings.billing_enabled is (value == "true")


@pytest.mark.parametrize(
    ("parameter", "value", "key"),
    [(p, v, k) for p, by_value in cfn.SECRET_KEYS_NEEDED.items() for v, keys in by_value.items() for k in keys],
)
def test_a_value_refuses_to_start_naming_the_key_when_the_secret_lacks_it(
    aws: None, parameter: str, value: str, key: str
) -> None:
    # Given a value that needs secret keys, and the secret holding all of them but one
    needed = cfn.SECRET_KEYS_NEEDED[parameter][value]
    # When a function loads its settings
    with pytest.raises(ConfigError) as refused:
        deployed_settings(MERGED, {parameter: value}, fill=tuple(k for k in needed if k != key))
    # Then it refuses, naming the key the operator must add (so SECRET_KEYS_NEEDED is the truth)
    assert key in str(refused.value)


def test_the_custom_domain_is_the_public_url_when_given_with_its_certificate(aws: None) -> None:
    # Given a domain and its certificate, and no PublicUrl
    overrides = {"WebDomainName": "panel.example.com", "WebCertificateArn": CERTIFICATE}
    # When a function loads its settings
    settings = deployed_settings(MERGED, overrides)
    # Then the panel's URL is the domain at base path /
    assert settings.public_url == "https://panel.example.com"


def test_an_explicit_public_url_wins_over_the_domain_when_both_are_set(aws: None) -> None:
    overrides = {
        "WebDomainName": "panel.example.com",
        "WebCertificateArn": CERTIFICATE,
        "PublicUrl": "https://control.example.com",
    }
    assert deployed_settings(MERGED, overrides).public_url == "https://control.example.com"


def test_a_value_outside_its_constraints_is_refused_before_anything_deploys() -> None:
    # The renderer checks as CloudFormation does, so the defaults above passed real constraints.
    with pytest.raises(ParameterError):
        parameter_values(MERGED, {"CaptchaProvider": "recaptcha"})
    with pytest.raises(ParameterError):
        parameter_values(MERGED, {"PublicUrl": "http://panel.example.com"})
