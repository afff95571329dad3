"""Markdown that customers and agents write, rendered to HTML that is safe to show anyone."""

from __future__ import annotations

import xml.etree.ElementTree as etree

import markdown
import nh3
from django.utils.safestring import SafeString, mark_safe
from markdown.extensions import Extension
from markdown.extensions.tables import TableExtension
from markdown.treeprocessors import Treeprocessor

EXTENSIONS = ["fenced_code", "sane_lists", "nl2br"]

# The page already has its own h1 and h2, so a "# Title" in a message starts at h3.
HEADING_OFFSET = 2

ALLOWED_TAGS = {
    "p",
    "br",
    "hr",
    "strong",
    "em",
    "code",
    "pre",
    "blockquote",
    "ul",
    "ol",
    "li",
    "a",
    "h3",
    "h4",
    "h5",
    "h6",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "ol": {"start"},
}
# Table column alignment, limited to the values Markdown itself writes.
ALLOWED_ATTRIBUTE_VALUES = {
    "th": {"align": {"left", "right", "center"}},
    "td": {"align": {"left", "right", "center"}},
}
ALLOWED_URL_SCHEMES = {"http", "https", "mailto"}
# Dropped with everything inside them, not just unwrapped to their text.
DROPPED_WITH_CONTENT = {"script", "style", "iframe", "object", "embed", "template", "noscript"}
LINK_REL = "noopener nofollow"

_cleaner = nh3.Cleaner(
    tags=ALLOWED_TAGS,
    clean_content_tags=DROPPED_WITH_CONTENT,
    attributes=ALLOWED_ATTRIBUTES,
    tag_attribute_values=ALLOWED_ATTRIBUTE_VALUES,
    url_schemes=ALLOWED_URL_SCHEMES,
    link_rel=LINK_REL,
    strip_comments=True,
)


class _ShiftHeadings(Treeprocessor):
    def run(self, root: etree.Element) -> None:
        for element in root.iter():
            if len(element.tag) == 2 and element.tag[0] == "h" and element.tag[1] in "123456":
                element.tag = f"h{min(int(element.tag[1]) + HEADING_OFFSET, 6)}"


class _ShiftHeadingsExtension(Extension):
    def extendMarkdown(self, md: markdown.Markdown) -> None:
        md.treeprocessors.register(_ShiftHeadings(md), "shift_headings", 5)


def render_markdown(text: str) -> SafeString:
    """Markdown to HTML, then through an allowlist: no scripts, handlers, styles or frames."""
    if not text:
        return mark_safe("")
    # A new converter per call: Markdown instances keep state and are not thread-safe.
    converter = markdown.Markdown(
        extensions=[
            *EXTENSIONS,
            # Column alignment as an attribute, because style attributes never pass the cleaner.
            TableExtension(use_align_attribute=True),
            _ShiftHeadingsExtension(),
        ],
        output_format="html",
    )
    html = converter.convert(text)
    return mark_safe(_cleaner.clean(html))  # noqa: S308 (sanitised by nh3 just above)
