"""The first-deploy check of tests/packaging/test_first_deploy.py on the packaged template: the
file ``make package`` writes and a deploy uploads (Chalice's functions, each with its stage
variables, merged with infra's resources)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from infra.build import BuildResult
from tests.packaging.test_first_deploy import DISTRIBUTION_DOMAIN, deployed_settings

pytestmark = [pytest.mark.xdist_group("package"), pytest.mark.slow]


@pytest.fixture(scope="module")
def packaged(package: BuildResult) -> dict[str, Any]:
    template: dict[str, Any] = json.loads(package.template.read_text())
    return template


def test_packaged_defaults_load_in_deployed_mode_when_nothing_is_set(aws: None, packaged: dict[str, Any]) -> None:
    # Given the packaged template with every parameter at its default and its generated secret
    # When the API function loads its settings (Globals plus its own stage variables)
    settings = deployed_settings(packaged)
    # Then they load, as a deployed function, at the distribution's URL
    assert settings.env == "deployed"
    assert settings.stage == "dev"
    assert settings.public_url == f"https://{DISTRIBUTION_DOMAIN}"
    assert settings.captcha_provider == "disabled"
