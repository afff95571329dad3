"""What the sender wrote this time: quoted history and signatures cut off for display (the full
text stays on the received e-mail, for agents who need it)."""

from __future__ import annotations

import re

# A line that starts the quoted history or the signature; everything from it on is cut.
_CUT_LINE = re.compile(
    r"""^(?:
        --\s?                                             # the signature delimiter "-- "
      | -{2,}\s*(?:original\s+message|оригинално\s+съобщение)\s*-{2,}
      | _{20,}                                            # Outlook's rule above its header block
      | (?:sent\s+from\s+my|изпратено\s+от\s+моя?)\s+\S.*  # "Sent from my iPhone"
      | get\s+outlook\s+for\s+\S.*
    )$""",
    re.IGNORECASE | re.VERBOSE,
)
# "On Mon, 7 Dec 2026 at 10:00, Maria <maria@…> wrote:", often wrapped over two lines.
_ATTRIBUTION = re.compile(
    r"^(?:on|am|le|el|на|в)\s.{4,300}(?:wrote|schrieb|a\s+écrit|escribió|написа)\s*:\s*$",
    re.IGNORECASE | re.DOTALL,
)
# Outlook's header block of the message answered: "From: …" then "Sent:"/"Date:" soon after.
_HEADER_FROM = re.compile(r"^\*?(?:from|от)\s*:\*?\s", re.IGNORECASE)
_HEADER_NEXT = re.compile(r"^\*?(?:sent|date|изпратено|дата|to|до)\s*:\*?\s", re.IGNORECASE)
_FORWARD_SUBJECT = re.compile(r"^\s*(?:fwd?|пр|препратено)\s*:", re.IGNORECASE)


def trim_reply(text: str, *, subject: str = "") -> str:
    """The new part of `text`; a forward keeps everything (the forwarded mail is the content),
    and a text that would be trimmed to nothing is kept whole."""
    if _FORWARD_SUBJECT.match(subject):
        return text
    lines = text.splitlines()
    cut = _cut_at(lines)
    kept = "\n".join(lines[:cut]).rstrip()
    return kept if kept.strip() else text


def _cut_at(lines: list[str]) -> int:
    for index, line in enumerate(lines):
        stripped = line.strip()
        if _CUT_LINE.match(stripped):
            return index
        pair = f"{stripped} {lines[index + 1].strip()}" if index + 1 < len(lines) else stripped
        if _ATTRIBUTION.match(stripped) or (
            stripped and not stripped.startswith(">") and _ATTRIBUTION.match(pair)
        ):
            return index
        if _HEADER_FROM.match(stripped) and any(
            _HEADER_NEXT.match(following.strip()) for following in lines[index + 1 : index + 4]
        ):
            return index
    return _trailing_quote_start(lines)


def _trailing_quote_start(lines: list[str]) -> int:
    """Where a block of "> " lines that ends the message begins (len(lines) when none does)."""
    start = len(lines)
    for index in range(len(lines) - 1, -1, -1):
        stripped = lines[index].strip()
        if stripped.startswith(">"):
            start = index
        elif stripped:
            break
    return start
