"""Markdown in ticket text renders; raw HTML shows as typed and nothing that could run in a
browser survives; pathological input renders whole; each text is rendered once, when written."""

from html.parser import HTMLParser

import pytest
from django.utils.safestring import SafeString

from tickets.markdown import ALLOWED_TAGS, MAX_QUOTE_DEPTH, render_markdown
from tickets.tests.markdown_corpus import CORPUS, LENGTH


class _Elements(HTMLParser):
    """The elements and attributes of some HTML, and its text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.attributes: list[tuple[str, str, str]] = []
        self.text: list[str] = []
        self.depth = self.max_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attributes.extend((tag, name, value or "") for name, value in attrs)
        if tag not in ("br", "hr"):
            self.depth += 1
            self.max_depth = max(self.max_depth, self.depth)

    def handle_endtag(self, tag: str) -> None:
        if tag not in ("br", "hr"):
            self.depth -= 1

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def elements(html: str) -> _Elements:
    parser = _Elements()
    parser.feed(html)
    parser.close()
    return parser


def test_result_is_marked_safe() -> None:
    assert isinstance(render_markdown("*hi*"), SafeString)
    assert render_markdown("") == ""


@pytest.mark.parametrize("tag", ["iframe src=x", "script", "style", "noscript", "template"])
def test_a_stray_tag_shows_as_text_and_the_words_after_it_stay(tag: str) -> None:
    source = f"Before.\n\n<{tag}>\n\nAfter: **server down**"

    html = render_markdown(source)

    assert "<p>Before.</p>" in html
    assert f"&lt;{tag}&gt;" in html
    assert "After: <strong>server down</strong>" in html
    assert set(elements(html).tags) == {"p", "strong"}


def test_a_script_shows_as_text_and_never_as_an_element() -> None:
    html = render_markdown("Hello <script>alert('x')</script> there\n\n<script>steal()</script>")

    assert "<script" not in html
    assert "Hello &lt;script&gt;alert('x')&lt;/script&gt; there" in html
    assert "&lt;script&gt;steal()&lt;/script&gt;" in html
    assert elements(html).tags == ["p", "p"]


@pytest.mark.parametrize(
    "source",
    [
        '<img src="x" onerror="alert(1)">',
        '<p onclick="alert(1)">click</p>',
        '<a href="https://example.com" onmouseover="alert(1)">x</a>',
        "<svg onload=alert(1)><circle/></svg>",
        '<p style="position: fixed">styled</p>',
    ],
)
def test_raw_html_never_becomes_elements_or_attributes(source: str) -> None:
    found = elements(render_markdown(source))

    assert set(found.tags) <= {"p", "a"}  # a bare https://… in it is still a link
    assert {name for _, name, _ in found.attributes} <= {"href", "rel"}
    assert "".join(found.text).strip() == source


@pytest.mark.parametrize(
    "source",
    [
        "[click](javascript:alert(1))",
        "[click](JaVaScRiPt:alert(1))",
        "[click](java&#x09;script:alert(1))",
        "[click](vbscript:msgbox(1))",
        '<a href="javascript:alert(1)">click</a>',
    ],
)
def test_javascript_links_lose_their_target(source: str) -> None:
    found = elements(render_markdown(source))

    assert not [value for _, name, value in found.attributes if "script:" in value.lower()]
    assert "click" in "".join(found.text)


@pytest.mark.parametrize(
    "source",
    [
        "[open](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
        "![pixel](data:image/png;base64,iVBORw0KGgo=)",
        '<img src="data:image/svg+xml,<svg onload=alert(1)>">',
    ],
)
def test_data_urls_never_become_a_target(source: str) -> None:
    found = elements(render_markdown(source))

    assert not [value for _, name, value in found.attributes if value.startswith("data:")]
    assert "img" not in found.tags


def test_pictures_become_links_named_by_their_description() -> None:
    html = render_markdown('![the error dialog](https://example.com/shot.png "Error")')

    assert (
        '<a href="https://example.com/shot.png" title="Error" rel="noopener nofollow">'
        "the error dialog</a>" in html
    )
    assert "<img" not in html


def test_links_get_noopener_nofollow_and_keep_safe_schemes() -> None:
    html = render_markdown(
        '[docs](https://example.com/docs "The docs") and [mail](mailto:help@example.com) '
        "and <http://example.org> and https://example.net/status"
    )

    assert (
        '<a href="https://example.com/docs" title="The docs" rel="noopener nofollow">docs</a>'
        in html
    )
    assert '<a href="mailto:help@example.com" rel="noopener nofollow">mail</a>' in html
    assert '<a href="http://example.org" rel="noopener nofollow">' in html
    assert '<a href="https://example.net/status" rel="noopener nofollow">' in html


def test_a_bare_link_ends_where_a_tag_written_after_it_begins() -> None:
    html = render_markdown("see https://example.com/status<b>now</b>")

    assert '<a href="https://example.com/status" rel="noopener nofollow">' in html
    assert "</a>&lt;b&gt;now&lt;/b&gt;" in html


def test_a_rel_or_target_the_author_wrote_is_shown_not_applied() -> None:
    html = render_markdown('<a href="https://example.com" rel="opener" target="_blank">x</a>')

    found = elements(html)
    assert ("a", "rel", "noopener nofollow") in found.attributes
    assert not [
        name for _, name, value in found.attributes if name == "target" or value == "opener"
    ]
    assert "&lt;a href=" in html


def test_code_blocks_render_with_their_text_escaped() -> None:
    html = render_markdown("Run this:\n\n```python\nprint('<b>bold</b>')\n```\n\nand `x < y`.")

    assert "<pre><code>print('&lt;b&gt;bold&lt;/b&gt;')\n</code></pre>" in html
    assert "<code>x &lt; y</code>" in html


def test_lists_render() -> None:
    html = render_markdown("Steps:\n\n1. Log in\n2. Open the inbox\n\n- one\n- two")

    assert "<ol><li>Log in</li><li>Open the inbox</li></ol>" in html
    assert "<ul><li>one</li><li>two</li></ul>" in html


def test_ordered_list_keeps_its_start_number() -> None:
    assert '<ol start="3">' in render_markdown("3. third\n4. fourth")


def test_tables_emphasis_strikethrough_quotes_and_line_breaks_render() -> None:
    html = render_markdown(
        "**bold** _em_ ~~gone~~\nnext line\n\n> quoted\n\n| a | b |\n|:--|--:|\n| 1 | 2 |\n\n---"
    )

    assert "<strong>bold</strong> <em>em</em> <del>gone</del><br>\nnext line" in html
    assert "<blockquote>" in html
    assert '<th align="left">a</th>' in html
    assert '<td align="right">2</td>' in html
    assert "<hr>" in html


def test_headings_start_below_the_pages_own() -> None:
    html = render_markdown("# Title\n\n## Part\n\n#### Deep\n\n<h1>raw</h1>")

    assert "<h3>Title</h3>" in html
    assert "<h4>Part</h4>" in html
    assert "<h6>Deep</h6>" in html
    assert "<h1" not in html
    assert "<h2" not in html


def test_html_escaped_text_stays_escaped() -> None:
    html = render_markdown("5 &lt; 6, &lt;script&gt;alert(1)&lt;/script&gt; and a <b & c")

    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "5 &lt; 6" in html
    assert "<script" not in html
    assert "<b" not in html


def test_comments_show_as_typed() -> None:
    html = render_markdown("visible <!-- hidden --> text")

    assert "<!--" not in html
    assert "visible &lt;!-- hidden --&gt; text" in html


def test_the_stand_in_for_angle_brackets_cannot_be_smuggled_in() -> None:
    html = render_markdown("a \ue000script\ue000 b")

    assert "&lt;" not in html
    assert "\ue000" not in html


# Texts with no complete Markdown construct in them: every character typed must come back.
SHOWN_AS_TYPED = [
    "open_brackets",
    "nested_brackets",
    "link_openers",
    "image_openers",
    "unclosed_link_destinations",
    "angle_brackets",
    "unclosed_tags",
    "autolink_openers",
]


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_pathological_input_renders_whole(name: str) -> None:
    source = CORPUS[name]
    assert len(source) <= LENGTH

    html = render_markdown(source)

    found = elements(html)
    assert set(found.tags) <= ALLOWED_TAGS
    assert found.depth == 0, "every element is closed"
    # Browsers flatten deeper nesting; lists nested by indentation stay well below it.
    assert found.max_depth < 512
    assert found.tags.count("blockquote") <= MAX_QUOTE_DEPTH * (source.count("\n") + 1)
    if name in SHOWN_AS_TYPED:
        assert "".join(found.text).strip() == source


def test_quotes_nest_no_deeper_than_the_limit_and_the_rest_stays_as_text() -> None:
    html = render_markdown(">" * 500 + " deep")

    found = elements(html)
    assert found.max_depth == MAX_QUOTE_DEPTH + 1  # the quotes and the paragraph inside
    assert "".join(found.text).strip() == ">" * (500 - MAX_QUOTE_DEPTH) + " deep"
