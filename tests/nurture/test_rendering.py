"""Rendering: lead values are text, never template code or HTML."""

from __future__ import annotations

import jinja2
import pytest

from leads.personal import Personal
from nurture.rendering import render_step
from nurture.sequences import Delay, Step, StepCondition

STEP = Step(
    id="one",
    delay=Delay(0, "hours"),
    subject="Hi {{ first_name }} from {{ company }}",
    html="<h1>Hello {{ name }}</h1><p>{{ company }}</p>",
    text=None,
    when=StepCondition(),
)
QUALIFYING = {"tier": "hot", "score": 80, "company_size": None, "timeline": None}


def _render(name: str, company: str, step: Step = STEP):  # type: ignore[no-untyped-def]
    return render_step(
        step,
        personal={"name": Personal(name), "company": Personal(company)},
        qualifying={**QUALIFYING, "budget": None},
        unsubscribe_url="https://leads.example.com/unsubscribe/T",
        sender_name="leadguard",
    )


def test_template_syntax_in_fields_renders_as_text() -> None:
    rendered = _render("{{ 7*7 }} {% raw %}", "<script>alert(1)</script>{{ config }}")
    html, text = rendered.html.reveal(), rendered.text.reveal()
    assert "{{ 7*7 }} {% raw %}" in html and "49" not in html
    assert "&lt;script&gt;" in html and "<script>" not in html
    assert "{{ config }}" in rendered.subject.reveal()
    assert "{{ 7*7 }}" in text


def test_css_is_inlined_and_unsubscribe_link_visible() -> None:
    rendered = _render("Ana Tan", "Acme")
    html = rendered.html.reveal()
    assert "<style" not in html and 'style="' in html
    assert 'href="https://leads.example.com/unsubscribe/T"' in html
    assert (
        rendered.text.reveal()
        .rstrip()
        .endswith("https://leads.example.com/unsubscribe/T")
    )
    assert "Hello Ana Tan" in rendered.text.reveal()
    assert repr(rendered) == "RenderedStep(«redacted»)"


def test_sandbox_blocks_python_internals() -> None:
    evil = Step(
        id="x",
        delay=Delay(0, "hours"),
        subject="{{ name.__class__.__mro__ }}",
        html="<p>x</p>",
        text=None,
        when=StepCondition(),
    )
    with pytest.raises(jinja2.exceptions.SecurityError):
        _render("Ana", "Acme", evil)


def test_undefined_variable_is_an_error() -> None:
    broken = Step(
        id="x",
        delay=Delay(0, "hours"),
        subject="{{ nickname }}",
        html="<p>x</p>",
        text=None,
        when=StepCondition(),
    )
    with pytest.raises(jinja2.UndefinedError):
        _render("Ana", "Acme", broken)
