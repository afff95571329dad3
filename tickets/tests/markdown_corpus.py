"""Markdown built to make parsers slow: each text is `LENGTH` characters, the most a ticket
description or reply may hold. Used by the tests (everything renders, nothing is lost) and by
`make bench` (`markdown_worst_ms`, the slowest render of the corpus)."""

from collections.abc import Callable

LENGTH = 50_000


def _repeat(unit: str) -> str:
    return (unit * (LENGTH // len(unit) + 1))[:LENGTH]


def _growing(make: Callable[[int], str]) -> str:
    parts: list[str] = []
    size = 0
    index = 1
    while size < LENGTH:
        part = make(index)
        parts.append(part)
        size += len(part)
        index += 1
    return "".join(parts)[:LENGTH]


CORPUS: dict[str, str] = {
    # Nested brackets and link openers: quadratic in naive link parsers.
    "open_brackets": _repeat("["),
    "nested_brackets": "[" * (LENGTH // 2) + "]" * (LENGTH // 2),
    "link_openers": _repeat("[a]("),
    "image_openers": _repeat("!["),
    "unclosed_link_destinations": _repeat("[a](b "),
    "link_titles": _repeat('[a](b "'),
    "bracket_pairs_then_paren": _repeat("[]")[:-1] + "(",
    # Emphasis runs: delimiter matching without the CommonMark "openers bottom" is quadratic.
    "emphasis_runs": _repeat("**a"),
    "mixed_emphasis": _repeat("*a_"),
    "nested_emphasis": "*" * (LENGTH // 2 - 1) + "a" + "*" * (LENGTH // 2),
    "underscore_runs": _repeat("_a"),
    "strikethrough_runs": _repeat("~~a"),
    # Backtick runs of every length: code span matching is quadratic when done naively.
    "backtick_runs": _growing(lambda n: "`" * n + "a"),
    "backticks": _repeat("`"),
    # Deep lists and quotes: each level is a container the parser and the browser must nest.
    "deep_quotes": _repeat(">"),
    "deep_spaced_quotes": _repeat("> "),
    "quotes_and_lists": _repeat("> - "),
    "deep_bullet_lists": _growing(lambda n: "  " * n + "- a\n"),
    "deep_ordered_lists": _growing(lambda n: "   " * n + "1. a\n"),
    # HTML-looking text, which is shown as typed.
    "angle_brackets": _repeat("<"),
    "unclosed_tags": _repeat("<a "),
    "autolink_openers": _repeat("<a:"),
    "entities": _repeat("&#"),
    # Many small blocks.
    "table_rows": "| a | b |\n|---|---|\n" + _repeat("| x |\n")[: LENGTH - 20],
    "line_breaks": _repeat("a\n"),
}
