"""The package, built once per test session (``python -m infra.build`` into a temporary
folder, reusing ``build/cache``), and its zips unpacked as Lambda unpacks them."""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from infra.build import LAMBDA_RUNTIME, BuildResult, build

HERE = Path(__file__).parent


@dataclass(frozen=True)
class Unpacked:
    task_root: Path  # /var/task: the function zip
    layer_root: Path  # /opt/python/lib/python3.12/site-packages: the managed layer


@pytest.fixture(scope="session")
def package(tmp_path_factory: pytest.TempPathFactory) -> BuildResult:
    return build(tmp_path_factory.mktemp("build"))


@pytest.fixture(scope="session")
def unpacked(package: BuildResult, tmp_path_factory: pytest.TempPathFactory) -> Unpacked:
    root = tmp_path_factory.mktemp("lambda")
    task_root, opt = root / "var" / "task", root / "opt"
    with zipfile.ZipFile(package.deployment_zip) as function_zip:
        function_zip.extractall(task_root)
    with zipfile.ZipFile(package.layer_zip) as layer_zip:
        layer_zip.extractall(opt)
    return Unpacked(task_root, opt / "python" / "lib" / LAMBDA_RUNTIME / "site-packages")
