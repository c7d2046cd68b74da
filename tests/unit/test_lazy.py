"""mamba.lazy: a door's service is imported on first use, once, fully, from any thread."""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path

import pytest

from mamba.lazy import lazy_import

SLOW_MODULE = """
import time
time.sleep(0.2)  # a slow import: other threads must wait for it, not see half a module
LOADS = globals().get("LOADS", 0) + 1
def answer():
    return 42
"""


@pytest.fixture
def slow_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    name = f"mamba_lazy_probe_{time.monotonic_ns()}"
    (tmp_path / f"{name}.py").write_text(SLOW_MODULE)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield name
    sys.modules.pop(name, None)


def test_module_is_not_executed_until_an_attribute_is_read(slow_module: str) -> None:
    stand_in = lazy_import(slow_module)

    assert slow_module not in sys.modules
    assert stand_in.answer() == 42
    assert sys.modules[slow_module].LOADS == 1


def test_concurrent_first_uses_all_see_the_complete_module_when_the_import_is_slow(slow_module: str) -> None:
    stand_in = lazy_import(slow_module)
    results: list[object] = []
    errors: list[BaseException] = []

    def use() -> None:
        try:
            results.append(stand_in.answer())
        except BaseException as exc:  # an AttributeError here is the bug this guards against
            errors.append(exc)

    threads = [threading.Thread(target=use) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert results == [42] * 8
    assert sys.modules[slow_module].LOADS == 1


def test_an_imported_module_is_returned_as_it_is() -> None:
    import mamba.domain.clock as clock

    assert lazy_import("mamba.domain.clock") is clock


def test_a_missing_module_fails_at_once() -> None:
    with pytest.raises(ImportError, match="no_such_service"):
        lazy_import("mamba.services.no_such_service")


def test_a_module_in_a_package_is_bound_without_importing_the_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = f"mamba_lazy_pkg_{time.monotonic_ns()}"
    (tmp_path / package / "area").mkdir(parents=True)
    (tmp_path / package / "__init__.py").write_text("")
    (tmp_path / package / "area" / "__init__.py").write_text("")
    (tmp_path / package / "area" / "mod.py").write_text(SLOW_MODULE)
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        stand_in = lazy_import(f"{package}.area.mod")

        assert not [m for m in sys.modules if m.startswith(package)]
        assert stand_in.answer() == 42
        with pytest.raises(ImportError):
            lazy_import(f"{package}.area.missing")
        with pytest.raises(ImportError):
            lazy_import(f"{package}.nowhere.mod")
    finally:
        for loaded in [m for m in sys.modules if m.startswith(package)]:
            sys.modules.pop(loaded)
