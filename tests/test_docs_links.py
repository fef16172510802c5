"""Every relative link and image in README.md and docs/ points at something that exists.

The guide is split over several pages that link to each other and to their pictures;
a page renamed or a heading reworded would otherwise leave dead links that nobody
notices until a reader clicks one. Anchors (``page.md#heading``) are checked against
the headings of the target page, slugged the way GitHub does it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]

# [text](target) and ![alt](target), with an optional "title" after the target.
INLINE_LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
# [label]: target (a reference definition on its own line).
REFERENCE_DEF = re.compile(r"^ {0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s.*)?$")
HTML_SOURCE = re.compile(r"<(?:img|a)\b[^>]*?\b(?:src|href)=\"([^\"]+)\"", re.IGNORECASE)
HEADING = re.compile(r"^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
FENCE = re.compile(r"^ {0,3}(```|~~~)")
CODE_SPAN = re.compile(r"(`+)(.+?)\1")
EXTERNAL = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:|^//")


def _prose_lines(text: str) -> Iterator[tuple[int, str]]:
    """(line number, line) outside fenced code blocks: a '#' or '[x](y)' in code is not
    a heading or a link."""
    fence: str | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        match = FENCE.match(line)
        if match and (fence is None or match.group(1) == fence):
            fence = None if fence else match.group(1)
        elif fence is None:
            yield number, line


def github_anchor(heading: str) -> str:
    """The id GitHub gives a heading: the rendered text in lower case, with everything
    but letters, digits, '_', '-' and spaces dropped, and spaces made '-'."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link's text only
    text = re.sub(r"<[^>]+>", "", text)  # inline HTML tags
    text = re.sub(r"[^\w\- ]", "", text.strip().lower())
    return text.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    """Every heading anchor of a markdown page; a repeated heading gets -1, -2, ..."""
    seen: dict[str, int] = {}
    found = set()
    for _, line in _prose_lines(page.read_text(encoding="utf-8")):
        match = HEADING.match(line)
        if not match:
            continue
        slug = github_anchor(match.group(2))
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        found.add(slug if count == 0 else f"{slug}-{count}")
    return found


def links(page: Path) -> Iterator[tuple[int, str]]:
    """(line number, target) of every link and image on a page, code left out."""
    for number, line in _prose_lines(page.read_text(encoding="utf-8")):
        prose = CODE_SPAN.sub("", line)
        for pattern in (INLINE_LINK, REFERENCE_DEF, HTML_SOURCE):
            for match in pattern.finditer(prose):
                yield number, match.group(1)


def broken(page: Path, target: str) -> str | None:
    """Why a link from ``page`` is dead, or None when it resolves (or leaves the repo
    for the web, which this test does not check)."""
    if EXTERNAL.match(target):
        return None
    path_part, _, fragment = target.partition("#")
    resolved = (page.parent / unquote(path_part)).resolve() if path_part else page
    if not resolved.exists():
        return f"{os.path.relpath(resolved, ROOT)} does not exist"
    if fragment and resolved.suffix == ".md" and unquote(fragment) not in anchors(resolved):
        return f"{resolved.name} has no heading with the anchor #{fragment}"
    return None


def dead_links(pages: list[Path]) -> list[str]:
    """'page:line: target: why' for every dead link on the pages."""
    found = []
    for page in pages:
        for number, target in links(page):
            reason = broken(page, target)
            if reason:
                found.append(f"{page.relative_to(ROOT)}:{number}: {target}: {reason}")
    return found


def test_every_relative_link_and_image_resolves() -> None:
    assert dead_links(PAGES) == []


def test_the_pages_are_found_and_link_to_each_other() -> None:
    """The check above must see the guide: an empty page list would pass vacuously."""
    names = {page.name for page in PAGES}
    assert {"README.md", "index.md", "internals.md"} <= names
    readme_targets = {target for _, target in links(ROOT / "README.md")}
    assert "docs/index.md" in readme_targets


@pytest.mark.parametrize(
    ("heading", "anchor"),
    [
        ("Training with the engine (`core.training`, `core.optimizers`)",
         "training-with-the-engine-coretraining-coreoptimizers"),
        ("1. `new --data`: a first network chosen from the data",
         "1-new---data-a-first-network-chosen-from-the-data"),
        ("View › Neuron view", "view--neuron-view"),
        ("Playground's input features", "playgrounds-input-features"),
        ("See [the guide](docs/index.md) now", "see-the-guide-now"),
    ],
)
def test_anchors_follow_githubs_rules(heading: str, anchor: str) -> None:
    assert github_anchor(heading) == anchor


def test_a_dead_link_an_image_and_a_wrong_anchor_are_reported(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    (tmp_path / "there.md").write_text("# Here it is\n\n## Twice\n\n## Twice\n")
    page.write_text(
        "# Page\n\n[ok](there.md#here-it-is) [ok](there.md#twice-1) [ok](#page)\n"
        "![gone](images/missing.png)\n[bad](there.md#nowhere)\n[gone](other.md)\n"
        "[web](https://example.org/x.md) `[code](none.md)`\n"
        "```\n[fenced](none.md)\n```\n[ref]: missing-too.md\n"
    )
    problems = [(target, broken(page, target)) for _, target in links(page)]
    assert [target for target, reason in problems if reason] == [
        "images/missing.png", "there.md#nowhere", "other.md", "missing-too.md",
    ]
