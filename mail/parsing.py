"""Read a raw message into what the channel needs: ids, addresses, text, HTML and files.

Mail comes in every shape (any charset, broken MIME, HTML only, TNEF), so reading never raises on
content: a part that cannot be decoded is decoded with replacement characters, and what cannot
be read at all is reported by `MailUnreadable`, with the raw message already stored.
"""

from __future__ import annotations

import email
import email.errors
import email.header
import email.policy
import email.utils
import hashlib
import re
from dataclasses import dataclass, field
from email.message import Message
from email.parser import BytesHeaderParser

import nh3

from mail.html_text import html_to_text

# Header names are case-insensitive; these mark mail a program sent (RFC 3834, and what the big
# mail systems send instead of it).
_AUTOMATED_PRECEDENCE = frozenset({"bulk", "list", "junk", "auto_reply"})
_MESSAGE_ID = re.compile(r"<[^<>\s]{1,250}>")
# The blank line that ends a message's header block.
_HEADERS_END = re.compile(rb"\r?\n\r?\n")
_HTML_TAGS = {
    "a", "b", "blockquote", "br", "code", "div", "em", "h1", "h2", "h3", "h4", "hr", "i", "li",
    "ol", "p", "pre", "span", "strong", "table", "tbody", "td", "th", "thead", "tr", "u", "ul",
}  # fmt: skip


class MailUnreadable(Exception):
    """The message is not an e-mail we can read (it is kept and shown to an agent)."""


@dataclass(frozen=True)
class MailFile:
    name: str
    content_type: str
    content: bytes
    inline: bool


@dataclass
class ParsedMail:
    message_id: str
    subject: str
    sender: str
    sender_name: str
    recipients: list[str]
    cc: list[str]
    in_reply_to: list[str]
    references: list[str]
    text: str
    html: str
    files: list[MailFile] = field(default_factory=list)
    automated_because: str = ""
    return_path: str | None = None

    @property
    def is_automated(self) -> bool:
        return bool(self.automated_because)

    @property
    def thread_ids(self) -> list[str]:
        """Ids this message answers, the most direct first."""
        return list(dict.fromkeys([*self.in_reply_to, *reversed(self.references)]))


def message_id_of(raw: bytes) -> str:
    """The message's own Message-ID, or one made of its digest when it has none (or a broken
    one), so the same bytes always get the same id."""
    # Only the header block is parsed: the body (megabytes, maybe) cannot hold the header.
    end = _HEADERS_END.search(raw)
    head = raw[: end.end()] if end else raw
    return _message_id(BytesHeaderParser(policy=email.policy.compat32).parsebytes(head), raw)


def _message_id(headers: Message, raw: bytes) -> str:
    ids = _ids(str(headers.get("Message-ID", "")))
    if ids:
        return ids[0]
    return f"<{hashlib.sha256(raw).hexdigest()}@no-message-id.invalid>"


def mail_parse(raw: bytes) -> ParsedMail:
    """Read `raw`; raises `MailUnreadable` only when it has no headers to speak of."""
    try:
        # compat32 reads a message several times faster than `policy.default`, whose header
        # objects are parsed on every access; `_header` decodes the few headers we read.
        message = email.message_from_bytes(raw, policy=email.policy.compat32)
    except Exception as error:  # the parser is lenient; this is the last line of defence
        raise MailUnreadable(str(error)) from error
    if not message.keys():
        raise MailUnreadable("The message has no headers.")
    sender_name, sender = _address(message, "From")
    text_part, html_part = _bodies(message)
    html = _sanitised(html_part) if html_part else ""
    text = text_part if text_part is not None else html_to_text(html)
    text = "\n\n".join([text, *_forwarded(message)])
    return ParsedMail(
        message_id=_message_id(message, raw),
        subject=_header(message, "Subject"),
        sender=sender,
        sender_name=sender_name,
        recipients=_addresses(message, "To", "Delivered-To", "X-Original-To", "Envelope-To"),
        cc=_addresses(message, "Cc"),
        in_reply_to=_ids(_header(message, "In-Reply-To")),
        references=_ids(_header(message, "References")),
        text=text.replace("\x00", "").strip(),
        html=html,
        files=_files(message),
        automated_because=_automated_because(message),
        return_path=_return_path(message),
    )


def _header(message: Message, name: str) -> str:
    """A header as text, RFC 2047 words decoded; a header too broken to decode is read as its
    raw characters."""
    value = message.get(name)
    if value is None:
        return ""
    # No NUL: PostgreSQL stores none in text.
    return " ".join(_decoded_words(str(value)).replace("\x00", "").split())


def _decoded_words(value: str) -> str:
    try:
        return str(email.header.make_header(email.header.decode_header(value)))
    except (LookupError, UnicodeDecodeError, email.errors.HeaderParseError, ValueError):
        return value


def _raw_values(message: Message, *names: str) -> list[str]:
    """Address headers as sent: split into addresses before their names are decoded, so an
    encoded comma in a name ("Petrov, Ivan") splits nothing."""
    return [str(value) for name in names for value in message.get_all(name, [])]


def _address(message: Message, name: str) -> tuple[str, str]:
    for display_name, address in email.utils.getaddresses(_raw_values(message, name)):
        if "@" in address:
            return _decoded_words(display_name).strip()[:200], address.strip().lower()
    return "", ""


def _addresses(message: Message, *names: str) -> list[str]:
    values = _raw_values(message, *names)
    return list(
        dict.fromkeys(
            address.strip().lower()
            for _, address in email.utils.getaddresses(values)
            if "@" in address
        )
    )


def _ids(value: str) -> list[str]:
    return _MESSAGE_ID.findall(value)


def _return_path(message: Message) -> str | None:
    """The envelope sender the receiving server recorded; "" for a bounce (`<>`)."""
    value = _header(message, "Return-Path")
    if not value:
        return None
    return email.utils.parseaddr(value)[1].lower()


def _automated_because(message: Message) -> str:
    """Why the message is mail a program sent, which we never answer (RFC 3834), or ""."""
    auto_submitted = _header(message, "Auto-Submitted").lower()
    if auto_submitted and auto_submitted.split(";")[0].strip() != "no":
        return f"Auto-Submitted: {auto_submitted}"
    if _header(message, "X-Autoreply") or _header(message, "X-Autorespond"):
        return "X-Autoreply"
    precedence = _header(message, "Precedence").lower()
    if precedence in _AUTOMATED_PRECEDENCE:
        return f"Precedence: {precedence}"
    if _header(message, "List-Id") or _header(message, "List-Unsubscribe"):
        return "mailing list"
    content_type = message.get_content_type()
    if content_type == "multipart/report":
        return "delivery report"
    if _return_path(message) == "":
        return "null return path (a bounce)"
    return ""


def _decoded(part: Message) -> str:
    """A text part as text, whatever charset it claims (or wrongly claims)."""
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    charset = part.get_content_charset() or "us-ascii"
    for candidate in (charset, "utf-8"):
        try:
            return payload.decode(candidate)
        except (LookupError, UnicodeDecodeError):
            continue
    return payload.decode("utf-8", errors="replace")


def _is_attachment(part: Message) -> bool:
    disposition = (part.get_content_disposition() or "").lower()
    return disposition == "attachment" or (disposition == "inline" and _filename(part) is not None)


def _bodies(message: Message) -> tuple[str | None, str | None]:
    """The first plain-text and first HTML body of the message (not of attached messages)."""
    text: str | None = None
    html: str | None = None
    for part in _walk(message):
        if part.is_multipart() or _is_attachment(part):
            continue
        content_type = part.get_content_type()
        if content_type == "text/plain" and text is None:
            text = _decoded(part)
            if _param(part, "format") == "flowed":
                text = _unflow(text, delsp=_param(part, "delsp") == "yes")
        elif content_type == "text/html" and html is None:
            html = _decoded(part)
    return text, html


def _param(part: Message, name: str) -> str:
    value = part.get_param(name, "")
    return value.lower() if isinstance(value, str) else ""


def _forwarded(message: Message) -> list[str]:
    """Messages forwarded as attachments, as text: for the agent they are the content."""
    texts = []
    for part in _walk(message):
        inner = part.get_payload() if part.get_content_type() == "message/rfc822" else None
        if not (isinstance(inner, list) and inner and isinstance(inner[0], Message)):
            continue
        forwarded = inner[0]
        text, html = _bodies(forwarded)
        body = text if text is not None else html_to_text(_sanitised(html or ""))
        head = "\n".join(
            f"{name}: {value}"
            for name in ("From", "Date", "Subject", "To")
            if (value := _header(forwarded, name))
        )
        texts.append(f"---------- Forwarded message ----------\n{head}\n\n{body.strip()}")
    return texts


def _walk(message: Message) -> list[Message]:
    """The parts to read, in order, without descending into attached messages."""
    parts: list[Message] = []
    stack = [message]
    while stack:
        part = stack.pop(0)
        parts.append(part)
        if part.get_content_type() == "message/rfc822":
            continue
        if part.is_multipart():
            payload = part.get_payload()
            if isinstance(payload, list):
                stack[0:0] = [child for child in payload if isinstance(child, Message)]
    return parts


def _files(message: Message) -> list[MailFile]:
    files: list[MailFile] = []
    for part in _walk(message):
        if part is message or part.is_multipart():
            continue
        content_type = part.get_content_type()
        filename = _filename(part)
        inline_image = content_type.startswith("image/") and part.get("Content-ID") is not None
        forwarded = content_type == "message/rfc822"
        if not (_is_attachment(part) or inline_image or forwarded):
            continue
        if forwarded:
            inner = part.get_payload()
            first = inner[0] if isinstance(inner, list) and inner else None
            content = first.as_bytes() if isinstance(first, Message) else part.as_bytes()
            name = filename or "forwarded.eml"
        else:
            payload = part.get_payload(decode=True)
            content = payload if isinstance(payload, bytes) else b""
            name = filename or "inline" + (_extension(content_type))
        files.append(
            MailFile(
                name=" ".join(str(name).split())[:255] or "attachment",
                content_type=content_type,
                content=content,
                inline=(part.get_content_disposition() or "inline") == "inline",
            )
        )
    return files


def _filename(part: Message) -> str | None:
    """The part's file name: RFC 2231 parameters (which compat32 collapses) and RFC 2047
    encoded words (which mail programs use although the standard does not allow it) decoded."""
    name = part.get_filename()
    return None if name is None else _decoded_words(name)


def _extension(content_type: str) -> str:
    return {"image/png": ".png", "image/jpeg": ".jpg", "image/gif": ".gif"}.get(content_type, "")


def _unflow(text: str, *, delsp: bool) -> str:
    """Join the soft-broken lines of a format=flowed body (RFC 3676)."""
    lines: list[str] = []
    for line in text.splitlines():
        if lines and lines[-1].endswith(" ") and not lines[-1].startswith(">") and line != "-- ":
            lines[-1] = (lines[-1][:-1] if delsp else lines[-1]) + line
        else:
            lines.append(line)
    return "\n".join(lines)


def _sanitised(html: str) -> str:
    """Only harmless markup: no scripts, styles, handlers, remote images or form elements."""
    return nh3.clean(
        html,
        tags=_HTML_TAGS,
        attributes={"a": {"href"}},
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener nofollow noreferrer",
        strip_comments=True,
        clean_content_tags={"script", "style", "head", "title"},
    )
