"""The docs are self-contained: every relative link resolves, and nothing cites a file outside the repository.

Checked in README.md and docs/*.md: each relative link ``[text](path)`` or ``[text](path#anchor)``
names a file (or folder) inside the repository, and its anchor is a heading of the target as GitHub
renders it; each ``name.md`` the prose or code mentions exists in the repository; no link or path
leaves the repository (``../shared/...``, ``/work/...``). Web links (``https://``) are not followed:
the suite runs without internet.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = sorted([ROOT / "README.md", *(ROOT / "docs").glob("*.md")])

FENCE = re.compile(r"^\s*(```|~~~)")
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
# [text](target) and ![alt](target), not preceded by a backslash; the target ends at a space or ")".
LINK = re.compile(r"(?<!\\)!?\[(?:[^\]\[]|\[[^\]]*\])*\]\(\s*<?([^)\s>]*)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE_DEFINITION = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)")
HTML_ANCHOR = re.compile(r"<a\s+(?:name|id)=\"([^\"]+)\"", re.IGNORECASE)
INLINE_CODE = re.compile(r"(`+)(.+?)\1")
# A markdown file named in the text: `wings-contract.md`, docs/deploy.md, ../shared/STYLE.md.
MD_MENTION = re.compile(r"(?<![\w./-])((?:\.{1,2}/|/)?(?:[\w.-]+/)*[\w-]+\.md)\b")
# Paths that leave the repository whatever they name.
OUTSIDE = re.compile(r"(?<![\w.])(?:\.\./shared/|/work/)")
EXTERNAL_SCHEMES = ("http://", "https://", "mailto:")


def _prose_lines(text: str) -> list[tuple[int, str]]:
    """(line number, line) outside fenced code blocks."""
    lines, fenced = [], False
    for number, line in enumerate(text.splitlines(), start=1):
        if FENCE.match(line):
            fenced = not fenced
            continue
        if not fenced:
            lines.append((number, line))
    return lines


def github_slug(heading: str) -> str:
    """The anchor GitHub gives a heading: rendered text, lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link renders as its text
    text = re.sub(r"<[^>]+>", "", text)  # inline HTML renders nothing of its tags
    text = text.replace("`", "").replace("*", "")
    text = text.strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)  # \w is Unicode: letters and digits of any script stay
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    """Every anchor GitHub renders for a markdown file: headings (duplicates get -1, -2, ...) and HTML anchors."""
    found: set[str] = set()
    seen: dict[str, int] = {}
    for _, line in _prose_lines(path.read_text(encoding="utf-8")):
        match = HEADING.match(line)
        if match:
            slug = github_slug(match.group(2))
            count = seen.get(slug, 0)
            seen[slug] = count + 1
            found.add(slug if count == 0 else f"{slug}-{count}")
        found.update(HTML_ANCHOR.findall(line))
    return found


def _links(text: str) -> list[tuple[int, str]]:
    links = []
    for number, line in _prose_lines(text):
        without_code = INLINE_CODE.sub("", line)
        links.extend((number, target) for target in LINK.findall(without_code))
        definition = REFERENCE_DEFINITION.match(without_code)
        if definition:
            links.append((number, definition.group(1)))
    return links


def link_problems(doc: Path) -> list[str]:
    """Broken or out-of-repository relative links in one markdown file."""
    problems = []
    for number, target in _links(doc.read_text(encoding="utf-8")):
        where = f"{doc.relative_to(ROOT)}:{number}: {target}"
        if not target or target.startswith(EXTERNAL_SCHEMES):
            continue
        if target.startswith(("/", "file:", "//")):
            problems.append(f"{where}: an absolute path points outside the repository")
            continue
        file_part, _, anchor = target.partition("#")
        file_part = file_part.split("?", 1)[0]
        resolved = (doc.parent / file_part).resolve() if file_part else doc
        if not resolved.is_relative_to(ROOT):
            problems.append(f"{where}: leaves the repository")
            continue
        if not resolved.exists():
            problems.append(f"{where}: no such file")
            continue
        if anchor and resolved.suffix == ".md" and anchor not in anchors(resolved):
            problems.append(f"{where}: no heading with anchor #{anchor} in {resolved.relative_to(ROOT)}")
    return problems


def citation_problems(doc: Path) -> list[str]:
    """Files the text names (a ``.md``, or a path outside the repository) that the repository does not hold."""
    problems = []
    for number, line in enumerate(doc.read_text(encoding="utf-8").splitlines(), start=1):
        where = f"{doc.relative_to(ROOT)}:{number}"
        for outside in OUTSIDE.finditer(line):
            problems.append(f"{where}: cites {outside.group(0)!r}, outside the repository")
        for name in MD_MENTION.findall(line):
            candidates = [doc.parent / name, ROOT / name, ROOT / "docs" / name]
            if not any(c.resolve().is_relative_to(ROOT) and c.exists() for c in candidates):
                problems.append(f"{where}: cites {name}, which is not in the repository")
    return problems


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_resolve(doc: Path) -> None:
    assert link_problems(doc) == []


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_nothing_cited_outside_the_repository(doc: Path) -> None:
    assert citation_problems(doc) == []


def test_github_slugs() -> None:
    assert github_slug("The S3 handshake (wings-contract.md §2.6, §5.9)") == "the-s3-handshake-wings-contractmd-26-59"
    assert github_slug("Admin console: Overview and Nodes") == "admin-console-overview-and-nodes"
    assert github_slug("The web panel (`web/`)") == "the-web-panel-web"
    assert github_slug("Wings and the panel: the remote API, the Wings client") == (
        "wings-and-the-panel-the-remote-api-the-wings-client"
    )
    assert github_slug("See [nodes](nodes.md) — **now**") == "see-nodes--now"


def test_the_checker_catches_what_it_claims(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A broken file, a broken anchor, a link out of the repository and a cited outside file are each reported."""
    monkeypatch.setattr(f"{__name__}.ROOT", tmp_path)
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.md").write_text("# Title\n\n## Same\n\n## Same\n", encoding="utf-8")
    doc = tmp_path / "docs" / "b.md"
    doc.write_text(
        "[ok](a.md#title) [dup](a.md#same-1) [self](#here)\n"
        "## Here\n"
        "[gone](missing.md) [bad anchor](a.md#nope) [out](../../shared/STYLE.md) [abs](/etc/passwd)\n"
        "```\n[in code](nowhere.md)\n```\n"
        "See `wings-contract.md` §3 and a.md; web [ok](https://example.com).\n",
        encoding="utf-8",
    )

    links = link_problems(doc)
    citations = citation_problems(doc)

    assert [p.split(": ", 2)[1] for p in links] == ["missing.md", "a.md#nope", "../../shared/STYLE.md", "/etc/passwd"]
    assert any("wings-contract.md" in p for p in citations)
    assert any("../../shared/STYLE.md" in p or "STYLE.md" in p for p in citations)
    assert not any(" a.md" in p for p in citations)
