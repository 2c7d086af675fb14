"""The small subset of Markdown the privacy notices use, rendered safely.

Headings (``#``), paragraphs, bullet and numbered lists, ``**bold**`` and
``*italic*``. Text is HTML-escaped first and only these constructs are
turned into tags, so a notice can never inject markup, links or scripts.

Limits: links, images, code and nested lists are shown as their plain text.
"""

from __future__ import annotations

import html
import re

from markupsafe import Markup

_BOLD = re.compile(r"\*\*(.+?)\*\*")
_ITALIC = re.compile(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])")
_HEADING = re.compile(r"^(#{1,3})\s+(.*)$")
_BULLET = re.compile(r"^[-*]\s+(.*)$")
_NUMBERED = re.compile(r"^\d+\.\s+(.*)$")


def _inline(text: str) -> str:
    escaped = html.escape(text, quote=True)
    escaped = _BOLD.sub(r"<strong>\1</strong>", escaped)
    return _ITALIC.sub(r"<em>\1</em>", escaped)


def _list_items(lines: list[str], pattern: re.Pattern[str]) -> list[str] | None:
    items: list[str] = []
    for line in lines:
        match = pattern.match(line)
        if match:
            items.append(match.group(1))
        elif items and line.startswith(" "):
            items[-1] += " " + line.strip()
        else:
            return None
    return items


def _block(lines: list[str]) -> str:
    heading = _HEADING.match(lines[0])
    if heading and len(lines) == 1:
        level = len(heading.group(1)) + 1
        return f"<h{level}>{_inline(heading.group(2))}</h{level}>"
    for pattern, tag in ((_BULLET, "ul"), (_NUMBERED, "ol")):
        items = _list_items(lines, pattern)
        if items is not None:
            body = "".join(f"<li>{_inline(item)}</li>" for item in items)
            return f"<{tag}>{body}</{tag}>"
    return f"<p>{_inline(' '.join(line.strip() for line in lines))}</p>"


def render_notice(text: str) -> Markup:
    """Render a notice's Markdown to HTML that is safe to embed.

    The first ``#`` heading becomes an ``h2`` (the page supplies the ``h1``).
    """
    blocks: list[list[str]] = [[]]
    for line in text.splitlines():
        if line.strip():
            blocks[-1].append(line.rstrip())
        elif blocks[-1]:
            blocks.append([])
    rendered = (_block(block) for block in blocks if block)
    return Markup("\n".join(rendered))  # noqa: S704 - built from escaped text
