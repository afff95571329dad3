"""Markdown that customers and agents write, rendered to HTML that is safe to show anyone.

The parser is cmark-gfm (GitHub's C implementation of CommonMark, built to run in linear time on
any input), with tables, strikethrough and bare-URL links. Two rules on top of it:

- Raw HTML is text. People paste configuration, logs and error pages into tickets; a stray
  `<script>` or `<iframe src=x>` must show as typed, never swallow the words after it. Every `<`
  that does not open an autolink is hidden from the parser and written back as `&lt;`.
- Blockquotes nest at most `MAX_QUOTE_DEPTH` deep (cmark-gfm already limits lists and
  emphasis); deeper markers stay as text. Browsers and the sanitiser slow down with depth.

nh3 then sanitises the result against an allowlist, as a second line of defence. Messages are
rendered once, when they are written (`render_markdown` is called by the ticket services).
"""

from __future__ import annotations

import re

import nh3
from cmarkgfm.cmark import Options, markdown_to_html_with_extensions
from django.utils.safestring import SafeString, mark_safe

MAX_QUOTE_DEPTH = 20

EXTENSIONS = ["table", "strikethrough", "autolink"]
# A line break in the text is a line break on the page, as people expect from a help desk form.
OPTIONS = Options.CMARK_OPT_HARDBREAKS

# The page already has its own h1 and h2, so a "# Title" in a message starts at h3.
HEADING_OFFSET = 2

ALLOWED_TAGS = {
    "p",
    "br",
    "hr",
    "strong",
    "em",
    "del",
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
# Table column alignment, limited to the values cmark-gfm itself writes.
ALLOWED_ATTRIBUTE_VALUES = {
    "th": {"align": {"left", "right", "center"}},
    "td": {"align": {"left", "right", "center"}},
}
ALLOWED_URL_SCHEMES = {"http", "https", "mailto"}
LINK_REL = "noopener nofollow"


def _absolute_links_only(element: str, attribute: str, value: str) -> str | None:
    """Links point outside the portal: a relative or scheme-less target (a mangled
    "java&#x09;script:" becomes one) is dropped, and the link's words stay."""
    if attribute == "href" and not value.lower().startswith(("http://", "https://", "mailto:")):
        return None
    return value


_cleaner = nh3.Cleaner(
    tags=ALLOWED_TAGS,
    attribute_filter=_absolute_links_only,
    attributes=ALLOWED_ATTRIBUTES,
    tag_attribute_values=ALLOWED_ATTRIBUTE_VALUES,
    url_schemes=ALLOWED_URL_SCHEMES,
    link_rel=LINK_REL,
    strip_comments=True,
)

# Stands in for "<" while cmark-gfm parses: a private-use character nobody types.
_LT = "\ue000"
# A bare URL runs up to the next "<" in GFM, but not up to our stand-in: cut such links there.
_LINK_UP_TO_LT = re.compile(r'<a href="([^"]*?)%EE%80%80[^"]*">([^<\ue000]*)\ue000([^<]*)</a>')
# CommonMark autolinks (<https://…>, <name@example.com>) keep their "<": they are links, not HTML.
_AUTOLINK = re.compile(
    r"<(?:[A-Za-z][A-Za-z0-9.+-]{1,31}:[^\x00-\x20<>]*"
    r"|[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*)>"
)
# Deep quoting needs more than `MAX_QUOTE_DEPTH` ">" with only spaces and list markers between
# them (each repetition starts with ">", so the search cannot backtrack badly).
_MANY_QUOTE_MARKERS = re.compile(rf"(?:>[ \t\-+*.)0-9]*){{{MAX_QUOTE_DEPTH + 1}}}")
# A line's container prefix: indentation, then ">" and list markers, each followed by spaces.
_CONTAINER_PREFIX = re.compile(r"^[ \t]*(?:(?:[-+*]|[0-9]{1,9}[.)]|>)[ \t]*)+", re.M)
# Pictures are not shown inline (a remote image tracks who reads the ticket); each becomes a link
# named by its description, so the words stay.
_IMAGE = re.compile(r'<img src="([^"]*)" alt="([^"]*)"(?: title="([^"]*)")? />')
_HEADINGS = [
    (f"<{slash}h{level}>", f"<{slash}h{min(level + HEADING_OFFSET, 6)}>")
    for level in (6, 5, 4, 3, 2, 1)  # deepest first, so a shifted heading is not shifted again
    for slash in ("", "/")
]


def render_markdown(text: str) -> SafeString:
    """Markdown to sanitised HTML, in time linear in the length of the text."""
    if not text:
        return mark_safe("")
    # Lone surrogates cannot be encoded for the parser; they are not text anyone wrote.
    text = text.encode("utf-8", "replace").decode("utf-8")
    html = markdown_to_html_with_extensions(
        _hide_raw_html(_cap_quote_depth(text)), options=OPTIONS, extensions=EXTENSIONS
    )
    html = _LINK_UP_TO_LT.sub(r'<a href="\1">\2</a>&lt;\3', html)
    html = html.replace("%EE%80%80", "%3C").replace(_LT, "&lt;")
    html = _IMAGE.sub(_image_as_link, html)
    # Line breaks between tags mean nothing on the page (every user "<" and ">" is an entity by
    # now, and a soft break is a <br>); without them the sanitiser has a third fewer nodes.
    html = html.replace(">\n<", "><")
    # The sanitiser decodes named references about twice as slowly as numeric ones, and a raw
    # ">" needs none; it writes them all back as &lt; &gt; &amp;, so the page reads the same.
    html = html.replace("&gt;", ">").replace("&lt;", "&#60;").replace("&amp;", "&#38;")
    for old, new in _HEADINGS:
        html = html.replace(old, new)
    return mark_safe(_cleaner.clean(html))  # noqa: S308 (sanitised by nh3 just here)


def _image_as_link(image: re.Match[str]) -> str:
    source, description, title = image.group(1), image.group(2), image.group(3)
    title_attribute = f' title="{title}"' if title else ""
    return f'<a href="{source}"{title_attribute}>{description or source}</a>'


def _hide_raw_html(text: str) -> str:
    text = text.replace(_LT, "\ufffd")
    parts: list[str] = []
    position = 0
    for link in _AUTOLINK.finditer(text):
        parts.append(text[position : link.start()].replace("<", _LT))
        parts.append(link.group(0))
        position = link.end()
    parts.append(text[position:].replace("<", _LT))
    return "".join(parts)


def _cap_quote_depth(text: str) -> str:
    """Escape the quote markers of a line beyond `MAX_QUOTE_DEPTH`, so they stay as text."""
    if _MANY_QUOTE_MARKERS.search(text) is None:
        return text
    return _CONTAINER_PREFIX.sub(_escape_extra_quotes, text)


def _escape_extra_quotes(prefix: re.Match[str]) -> str:
    value = prefix.group(0)
    if value.count(">") <= MAX_QUOTE_DEPTH:
        return value
    kept = 0
    characters = []
    for character in value:
        if character == ">":
            kept += 1
            if kept > MAX_QUOTE_DEPTH:
                characters.append("\\>")
                continue
        characters.append(character)
    return "".join(characters)
