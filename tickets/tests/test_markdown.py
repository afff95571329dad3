"""Markdown in ticket text renders, and nothing that could run in a browser survives."""

import pytest
from django.template import Context, Template
from django.utils.safestring import SafeString

from tickets.markdown import render_markdown


def test_result_is_marked_safe() -> None:
    assert isinstance(render_markdown("*hi*"), SafeString)
    assert render_markdown("") == ""


def test_script_tags_are_removed_with_their_content() -> None:
    html = render_markdown("Hello <script>alert('x')</script> there\n\n<script>steal()</script>")

    assert "<script" not in html
    assert "alert" not in html
    assert "steal" not in html
    assert "Hello" in html


@pytest.mark.parametrize(
    "source",
    [
        '<img src="x" onerror="alert(1)">',
        '<p onclick="alert(1)">click</p>',
        '<a href="https://example.com" onmouseover="alert(1)">x</a>',
        "<svg onload=alert(1)><circle/></svg>",
    ],
)
def test_event_handlers_are_removed(source: str) -> None:
    html = render_markdown(source)

    assert "alert" not in html
    assert "onerror" not in html
    assert "onclick" not in html
    assert "onmouseover" not in html
    assert "onload" not in html
    assert "<img" not in html
    assert "<svg" not in html


@pytest.mark.parametrize(
    "source",
    [
        "[click](javascript:alert(1))",
        "[click](JaVaScRiPt:alert(1))",
        "[click](java&#x09;script:alert(1))",
        '<a href="javascript:alert(1)">click</a>',
        "[click](vbscript:msgbox(1))",
    ],
)
def test_javascript_links_lose_their_target(source: str) -> None:
    html = render_markdown(source)

    assert "script:" not in html.lower()
    assert "click" in html


@pytest.mark.parametrize(
    "source",
    [
        "[open](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
        "![pixel](data:image/png;base64,iVBORw0KGgo=)",
        '<img src="data:image/svg+xml,<svg onload=alert(1)>">',
    ],
)
def test_data_urls_are_removed(source: str) -> None:
    assert "data:" not in render_markdown(source)


def test_iframes_and_their_content_are_removed() -> None:
    html = render_markdown('<iframe src="https://evil.example">fallback</iframe> after')

    assert "<iframe" not in html
    assert "evil.example" not in html
    assert "fallback" not in html
    assert "after" in html


def test_styles_are_removed() -> None:
    html = render_markdown(
        '<style>body { display: none }</style>\n\n<p style="position: fixed">styled</p>'
    )

    assert "<style" not in html
    assert "display" not in html
    assert "style=" not in html
    assert "styled" in html


def test_links_get_noopener_nofollow_and_keep_safe_schemes() -> None:
    html = render_markdown(
        '[docs](https://example.com/docs "The docs") and [mail](mailto:help@example.com) '
        "and <http://example.org>"
    )

    assert (
        '<a href="https://example.com/docs" title="The docs" rel="noopener nofollow">docs</a>'
        in html
    )
    assert '<a href="mailto:help@example.com" rel="noopener nofollow">mail</a>' in html
    assert '<a href="http://example.org" rel="noopener nofollow">' in html


def test_a_rel_or_target_the_author_wrote_is_replaced() -> None:
    html = render_markdown('<a href="https://example.com" rel="opener" target="_blank">x</a>')

    assert 'rel="noopener nofollow"' in html
    assert html.count("rel=") == 1
    assert "target" not in html


def test_code_blocks_render_with_their_text_escaped() -> None:
    html = render_markdown("Run this:\n\n```python\nprint('<b>bold</b>')\n```\n\nand `x < y`.")

    assert "<pre><code>print('&lt;b&gt;bold&lt;/b&gt;')\n</code></pre>" in html
    assert "<code>x &lt; y</code>" in html


def test_lists_render() -> None:
    html = render_markdown("Steps:\n\n1. Log in\n2. Open the inbox\n\n- one\n- two")

    assert "<ol>\n<li>Log in</li>\n<li>Open the inbox</li>\n</ol>" in html
    assert "<ul>\n<li>one</li>\n<li>two</li>\n</ul>" in html


def test_ordered_list_keeps_its_start_number() -> None:
    assert '<ol start="3">' in render_markdown("3. third\n4. fourth")


def test_tables_emphasis_quotes_and_line_breaks_render() -> None:
    html = render_markdown(
        "**bold** _em_\nnext line\n\n> quoted\n\n| a | b |\n|:--|--:|\n| 1 | 2 |\n\n---"
    )

    assert "<strong>bold</strong> <em>em</em><br>\nnext line" in html
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


def test_comments_are_removed() -> None:
    html = render_markdown("visible <!-- hidden --> text")

    assert "hidden" not in html
    assert "<!--" not in html


def test_template_filter_renders_markdown_unescaped_once() -> None:
    template = Template("{% load ticket_text %}{{ body|markdown }}")

    html = template.render(Context({"body": "**hi** <script>x()</script>"}))

    assert html == "<p><strong>hi</strong> </p>"


def test_template_filter_accepts_none() -> None:
    template = Template("{% load ticket_text %}[{{ body|markdown }}]")

    assert template.render(Context({"body": None})) == "[]"
