"""The slowest Markdown render of the pathological corpus: `python -m bench.markdown`.

Each text of `tickets/tests/markdown_corpus.py` is rendered (parser and sanitiser, as the ticket
services do when a message is written) several times; the figure is the worst text's best time,
so a busy machine's one-off pauses do not decide it.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

from tickets.markdown import render_markdown
from tickets.tests.markdown_corpus import CORPUS

ROUNDS = 11
TARGET_MS = 50.0


def bench_markdown_worst_ms() -> tuple[float, str]:
    """The slowest text's best render time in milliseconds, and its name."""
    worst = (0.0, "")
    for name, text in CORPUS.items():
        best = min(_render_ms(render_markdown, text) for _ in range(ROUNDS))
        print(f"markdown {name}: {best:.1f} ms", file=sys.stderr)
        worst = max(worst, (best, name))
    return worst


def _render_ms(render: Callable[[str], object], text: str) -> float:
    started = time.perf_counter()
    render(text)
    return (time.perf_counter() - started) * 1000


def main() -> None:
    worst_ms, name = bench_markdown_worst_ms()
    print(f"markdown worst: {name} (target ≤ {TARGET_MS:.0f} ms)", file=sys.stderr)
    print(f"bench: markdown_worst_ms {worst_ms:.1f} ms")


if __name__ == "__main__":
    main()
