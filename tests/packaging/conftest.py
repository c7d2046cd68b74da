"""The package, built once per test session (``python -m infra.build`` into a temporary
folder, reusing ``build/cache``), and its zips unpacked as Lambda unpacks them."""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from infra.build import LAMBDA_RUNTIME, BuildResult, build

HERE = Path(__file__).parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Keep this folder's ``xdist_group("package")`` tests on one worker, so the package is
    built once per session.

    pytest-xdist 3.8.0 writes the ``@group`` suffix that ``--dist loadgroup`` schedules by
    into ``item._nodeid``, but pytest 9.2 reads node ids from ``item._id``, so the grouping
    is lost (pytest-dev/pytest-xdist#1386; tests/e2e/conftest.py works around it the same
    way). Remove once xdist ships the fix.
    """
    if not config.getoption("loadgroup", default=False):
        return
    from _pytest.nodeid import NodeId

    for item in items:
        groups = sorted(
            {str(m.args[0] if m.args else m.kwargs.get("name", "default")) for m in item.iter_markers("xdist_group")}
        )
        if groups and "@" not in item.nodeid and HERE in item.path.parents and hasattr(item, "_id"):
            item._id = NodeId.parse(f"{item.nodeid}@{'_'.join(groups)}")


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
