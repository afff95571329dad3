"""E-mail text: subjects and plain-text bodies are text, never HTML."""

from __future__ import annotations

from typing import Any

from django.template import engines


def render_plain_text(template_name: str, context: dict[str, Any]) -> str:
    """Render a `.txt` template without HTML escaping ("R&D's <VPN>" stays as typed)."""
    return engines["text"].get_template(template_name).render(context)


def render_subject_and_body(
    subject_template: str, body_template: str, context: dict[str, Any]
) -> tuple[str, str]:
    """An e-mail's subject (on one line) and plain-text body, from their templates."""
    subject = render_plain_text(subject_template, context)
    return " ".join(subject.split()), render_plain_text(body_template, context)


# Every e-mail a program sends on its own (notices, reminders, acknowledgements, bounces) says
# so, and asks Exchange not to answer it: no auto-reply loops (RFC 3834).
AUTOMATIC_HEADERS = {"Auto-Submitted": "auto-generated", "X-Auto-Response-Suppress": "All"}
AUTO_REPLY_HEADERS = {"Auto-Submitted": "auto-replied", "X-Auto-Response-Suppress": "All"}
