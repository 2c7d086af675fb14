"""Rendering one step for one lead: subject, HTML (CSS inlined) and text.

Runs only in the worker (or ``leadguard nurture preview``), at the moment
of sending: personal fields arrive wrapped in :class:`~leads.personal.Personal`
and are revealed only into the template context. Lead values are escaped in
HTML and never parsed as templates, so template syntax typed into a chat
form shows up as the literal text.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import css_inline
import html2text
from jinja2 import Environment, FileSystemLoader, Template, select_autoescape
from markupsafe import Markup

from leads.personal import Personal
from nurture.message import clean_header_text
from nurture.sequences import Step
from nurture.template_env import html_environment, text_environment

__all__ = ["RenderedStep", "html_to_text", "render_step"]

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
TEXT_WIDTH = 76


@dataclass(frozen=True, repr=False)
class RenderedStep:
    """A rendered step; every part may contain personal data."""

    subject: Personal[str]
    html: Personal[str]
    text: Personal[str]

    def __repr__(self) -> str:
        return "RenderedStep(«redacted»)"


@functools.cache
def _layout_environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(TEMPLATE_DIR),
        autoescape=select_autoescape(default=True),
        auto_reload=False,
    )


@functools.cache
def _inliner() -> css_inline.CSSInliner:
    return css_inline.CSSInliner(keep_style_tags=False, load_remote_stylesheets=False)


@functools.lru_cache(maxsize=256)
def _compiled(source: str, html: bool) -> Template:
    environment = html_environment() if html else text_environment()
    return environment.from_string(source)


def html_to_text(html: str) -> str:
    """Derive a plain-text part from HTML (links kept as footnotes)."""
    converter = html2text.HTML2Text(bodywidth=TEXT_WIDTH)
    converter.ignore_images = True
    converter.inline_links = False
    converter.protect_links = True
    return converter.handle(html).strip() + "\n"


def _context(
    personal: Mapping[str, Personal[str] | None],
    qualifying: Mapping[str, object],
    unsubscribe_url: str,
    sender_name: str,
) -> dict[str, object]:
    def reveal(name: str) -> str:
        value = personal.get(name)
        return value.reveal() if value is not None else ""

    full_name = reveal("name")
    return {
        "name": full_name,
        "first_name": full_name.split()[0] if full_name.split() else "",
        "company": reveal("company"),
        "job_title": reveal("job_title"),
        "unsubscribe_url": unsubscribe_url,
        "sender_name": sender_name,
        **qualifying,
    }


def render_step(
    step: Step,
    *,
    personal: Mapping[str, Personal[str] | None],
    qualifying: Mapping[str, object],
    unsubscribe_url: str,
    sender_name: str,
) -> RenderedStep:
    """Render a step for one lead.

    ``qualifying`` holds the non-personal values (tier, score,
    company_size, timeline, budget). The HTML is wrapped in the layout that
    adds the visible unsubscribe link, then its CSS is inlined; the text
    part is the step's text template or, when absent, derived from the HTML,
    and always ends with the unsubscribe URL.

    Raises:
        jinja2.UndefinedError: a template uses a variable it was not given
            (sequence files are checked for this when they are loaded).
        jinja2.exceptions.SecurityError: a template tried to leave the sandbox.
    """
    context = _context(personal, qualifying, unsubscribe_url, sender_name)
    subject = _compiled(step.subject, False).render(context)
    body = _compiled(step.html, True).render(context)
    page = (
        _layout_environment()
        .get_template("email_layout.html")
        .render(
            # The step was rendered by the autoescaping sandbox just above.
            body=Markup(body),  # noqa: S704  # nosec B704
            unsubscribe_url=unsubscribe_url,
            sender_name=sender_name,
        )
    )
    html = _inliner().inline(page)
    if step.text is not None:
        text = _compiled(step.text, False).render(context).strip()
        text += "\n"
    else:
        text = html_to_text(body)
    text += f"\n--\nUnsubscribe in one click: {unsubscribe_url}\n"
    return RenderedStep(
        subject=Personal(clean_header_text(subject)),
        html=Personal(html),
        text=Personal(text),
    )
