"""Server file paths: normalisation and traversal checks (mamba.domain.server_files)."""

from __future__ import annotations

import pytest

from mamba.domain import server_files as paths
from mamba.domain.errors import ValidationError


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("", "/"),
        ("/", "/"),
        ("server.properties", "/server.properties"),
        ("/plugins//x.jar", "/plugins/x.jar"),
        ("./a/./b/", "/a/b"),
        ("a/b/../c", "/a/c"),
        ("a/..", "/"),
        ("a\\b", "/a/b"),
        ("/%2e%2e/x", "/%2e%2e/x"),  # decoded once only: a literal name, not a traversal
        ("/with space/é.txt", "/with space/é.txt"),
    ],
)
def test_normalise_gives_one_canonical_absolute_form(given, expected):
    assert paths.normalise(given) == expected


@pytest.mark.parametrize(
    "given",
    ["..", "../etc/passwd", "/../x", "a/../../x", "..\\..\\x", "a/b/../../../c", "ok\x00.txt", "tab\there", "a" * 4097],
)
def test_normalise_refuses_traversal_control_characters_and_overlong_paths(given):
    with pytest.raises(ValidationError) as caught:
        paths.normalise(given, "file")

    assert caught.value.details["fields"][0]["field"] == "file"


def test_normalise_refuses_a_name_longer_than_255():
    with pytest.raises(ValidationError):
        paths.normalise("/" + "n" * 256)
    assert paths.normalise("/" + "n" * 255) == "/" + "n" * 255


@pytest.mark.parametrize(
    ("root", "name", "expected"),
    [
        ("/", "a.txt", "/a.txt"),
        ("/world", "region/r.0.0.mca", "/world/region/r.0.0.mca"),
        ("/w", "x/../y", "/w/y"),
        ("/world", "/level.dat", "/world/level.dat"),
    ],
)
def test_join_puts_a_relative_name_under_its_root(root, name, expected):
    assert paths.join(root, name) == expected


@pytest.mark.parametrize(
    ("root", "name"),
    [("/", "../x"), ("/world", "../other/x"), ("/world", "/../x"), ("/", "."), ("/world", "a/.."), ("/..", "x")],
)
def test_join_refuses_names_that_leave_the_root_or_name_the_root_itself(root, name):
    with pytest.raises(ValidationError):
        paths.join(root, name)


@pytest.mark.parametrize("name", ["", " ", "a/b", "a\\b", ".", "..", "x\n", "n" * 256])
def test_check_name_refuses_anything_but_one_plain_name(name):
    with pytest.raises(ValidationError):
        paths.check_name(name)


@pytest.mark.parametrize(
    ("mode", "ok"),
    [("644", True), ("0755", True), ("777", True), ("999", False), ("7", False), ("u+x", False), ("07555", False)],
)
def test_check_mode_accepts_octal_modes_only(mode, ok):
    if ok:
        assert paths.check_mode(mode) == mode
    else:
        with pytest.raises(ValidationError):
            paths.check_mode(mode)


def test_relative_strips_the_leading_slash_for_pattern_matching():
    assert paths.relative("/a/b") == "a/b" and paths.relative("/") == ""


# --- what a folder may hold (issue 10, finding 8) ---------------------------------------------


@pytest.mark.parametrize(
    ("patterns", "folder", "verdict"),
    [
        (("config/license.key",), "/config", paths.YES),  # named under it: known without a listing
        (("/config/license.key",), "/config", paths.YES),
        (("config/license.key",), "/", paths.YES),
        (("config/license.key",), "/plugins", paths.NO),
        (("config/license.key",), "/config/sub", paths.NO),
        (("*/license.key",), "/config", paths.YES),
        (("config/*.key",), "/config", paths.MAYBE),  # a glob under it: the node must list it
        (("logs/**/*.log",), "/logs", paths.MAYBE),
        (("logs/**/*.log",), "/world", paths.NO),
        (("*.key",), "/anything", paths.MAYBE),  # matches at any depth
        (("secret.key",), "/plugins", paths.MAYBE),
        (("cache/",), "/world", paths.MAYBE),
        (("/protected/",), "/", paths.YES),
        (("/protected/",), "/other", paths.NO),
        (("a/b",), "/a/b/c", paths.YES),  # inside a denied folder
        (("!config/license.key", "# comment", ""), "/config", paths.NO),
        ((), "/config", paths.NO),
    ],
)
def test_what_a_folder_may_hold_is_judged_from_the_patterns(patterns, folder, verdict):
    assert paths.may_hold_denied(patterns, folder) == verdict
