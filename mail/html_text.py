"""The text of an HTML-only e-mail: paragraphs and line breaks kept, quotes marked with "> ",
links written out, everything else dropped (the sanitised HTML is kept beside it)."""

from __future__ import annotations

import re
from html.parser import HTMLParser

_BLOCKS = frozenset(
    {"p", "div", "br", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol", "hr"}
)
_INVISIBLE = frozenset({"script", "style", "head", "title"})
_BLANK_LINES = re.compile(r"\n{3,}")
_SPACES = re.compile(r"\s+")


class _TextCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = [""]
        self.quote_depth = 0
        self.hidden = 0
        self.link: str | None = None
        self.link_text: str | None = None

    def _newline(self) -> None:
        if self.lines[-1].strip():
            self.lines.append("")

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _INVISIBLE:
            self.hidden += 1
        elif tag == "blockquote":
            self._newline()
            self.quote_depth += 1
        elif tag in _BLOCKS:
            self._newline()
        elif tag == "a":
            self.link, self.link_text = dict(attrs).get("href"), ""
        elif tag in ("td", "th"):
            self.lines[-1] += " "

    def handle_endtag(self, tag: str) -> None:
        if tag in _INVISIBLE:
            self.hidden = max(0, self.hidden - 1)
        elif tag == "blockquote":
            self.quote_depth = max(0, self.quote_depth - 1)
            self._newline()
        elif tag in _BLOCKS and tag != "br":
            self._newline()
            if tag == "p":  # a paragraph ends with a blank line
                self.lines.append("")
        elif tag == "a":
            # Written out, since the text keeps no markup: "the console (https://…)".
            link, shown = self.link, (self.link_text or "").strip()
            if link and link.startswith(("http://", "https://")) and link not in (shown, ""):
                self.lines[-1] += f" ({link})"
            self.link = self.link_text = None

    def handle_data(self, data: str) -> None:
        if self.hidden:
            return
        text = _SPACES.sub(" ", data)
        if not self.lines[-1].strip():
            text = text.lstrip()
            if text and self.quote_depth:
                self.lines[-1] = "> " * self.quote_depth
        self.lines[-1] += text
        if self.link_text is not None:
            self.link_text += text


def html_to_text(html: str) -> str:
    collector = _TextCollector()
    collector.feed(html)
    collector.close()
    text = "\n".join(_SPACES.sub(" ", line).strip() for line in collector.lines)
    return _BLANK_LINES.sub("\n\n", text).strip()
