"""Real-world-shaped e-mail messages for the inbound mail channel's tests.

Each ``corpus/NN-*.eml`` file is a message as an MTA would hand it over, byte for byte.
`SAMPLES` says what the portal must make of each one. Messages that thread into an existing
ticket carry two placeholders, in headers only, which `load` replaces:

* ``{{TICKET}}``: the id of a ticket opened by ivan@acme.example at Acme (e.g. ``[#{{TICKET}}]``);
* ``{{OUR_MESSAGE_ID}}``: a Message-ID we sent on that ticket, angle brackets included.

The 25 MB message is not a file: `huge_message` builds it.
"""

from __future__ import annotations

import base64
import random
from dataclasses import dataclass
from pathlib import Path

CORPUS_DIR = Path(__file__).with_name("corpus")

TICKET_PLACEHOLDER = b"{{TICKET}}"
MESSAGE_ID_PLACEHOLDER = b"{{OUR_MESSAGE_ID}}"


@dataclass(frozen=True)
class Sample:
    # The file name in CORPUS_DIR.
    name: str
    # "ticket" (opens a new ticket), "reply" (added to the ticket {{TICKET}}), "automated"
    # (auto-reply/bounce/list mail: kept, no ticket opened; when it threads it is attached to
    # {{TICKET}} as an automatic message), "unverified" (unknown sender, held for an agent),
    # "refused" (too large).
    expect: str
    # "acme", "globex" or None: the company the mail ends up with.
    company: str | None
    # A snippet of the new (unquoted) part that must appear in the decoded text; "" if none.
    text: str = ""
    # Attachment file names that must be accepted onto the ticket, in message order.
    attachments: tuple[str, ...] = ()
    # True when the test must first create the {{TICKET}} / {{OUR_MESSAGE_ID}} target.
    thread: bool = False


SAMPLES: tuple[Sample, ...] = (
    Sample("01-thunderbird-alternative.eml", "ticket", "acme", "не мога да вляза в портала"),
    Sample("02-outlook-html-only.eml", "ticket", "acme", "export to Excel fails"),
    Sample("03-cp1251-bulgarian.eml", "ticket", "acme", "Фактурата за април не е пристигнала"),
    Sample("04-koi8r-russian.eml", "ticket", "acme", "Сервер отчётов не отвечает"),
    Sample("05-iso-2022-jp-japanese.eml", "ticket", "acme", "請求書のダウンロードができません"),
    Sample("06-base64-text.eml", "ticket", "acme", "Резервното копие не е завършило"),
    # The snippet straddles a quoted-printable soft line break.
    Sample("07-quoted-printable-utf8.eml", "ticket", "acme", "while our purchase order says"),
    Sample("08-rfc2047-subject-from.eml", "ticket", "acme", "начислен е ДДС два пъти"),
    Sample(
        "09-rfc2231-filename-pdf.eml",
        "ticket",
        "acme",
        "Прилагам отчета за май",
        attachments=("отчет.pdf",),
    ),
    # winmail.dat (application/ms-tnef) is refused; the message still opens a ticket.
    Sample("10-tnef-winmail-dat.eml", "ticket", "acme", "budget spreadsheet for the licence"),
    Sample("11-calendar-reply-accepted.eml", "ticket", "acme", "has accepted this meeting"),
    Sample("12-broken-mime-boundary.eml", "ticket", "acme", "dashboard widgets are empty"),
    Sample("13-empty-body.eml", "ticket", "acme"),
    Sample("14-no-subject.eml", "ticket", "acme", "нужен ми е достъп за нов колега"),
    # From MAILER-DAEMON with Return-Path <>; threads through our Message-ID only.
    Sample("15-bounce-delivery-status.eml", "automated", "acme", "mailbox full", thread=True),
    Sample(
        "16-out-of-office-ivan.eml",
        "automated",
        "acme",
        "out of the office until 3 June",
        thread=True,
    ),
    Sample("17-newsletter-precedence-bulk.eml", "automated", None, "Backups now run up to"),
    Sample("18-mailing-list.eml", "automated", None, "OpenSSL 3.3.1 is out"),
    Sample("19-exchange-auto-reply.eml", "automated", None, "parental leave"),
    Sample(
        "20-iphone-top-quoted-reply.eml",
        "reply",
        "acme",
        "Works now from my phone too",
        thread=True,
    ),
    Sample(
        "21-bulgarian-reply-napisa.eml", "reply", "acme", "съгласни сме с новия план", thread=True
    ),
    Sample(
        "22-outlook-original-message-reply.eml",
        "reply",
        "acme",
        "The patch fixed the sync for all our users",
        thread=True,
    ),
    Sample(
        "23-gmail-reply-html-only.eml",
        "reply",
        "acme",
        "вече работи и при двамата нови потребители",
        thread=True,
    ),
    # The forwarded message/rfc822 part is not in the accepted attachment types.
    Sample("24-forwarded-rfc822.eml", "ticket", "acme", "covered by our VIP plan"),
    Sample(
        "25-no-message-id-scanner.eml",
        "ticket",
        "acme",
        "scanned by the office printer",
        attachments=("scan_0001.pdf",),
    ),
    Sample(
        "26-inline-image-related.eml",
        "ticket",
        "acme",
        "графиката на натоварването",
        attachments=("screenshot.png",),
    ),
    # setup.exe is refused, crash.png is accepted.
    Sample(
        "27-exe-attachment-bob.eml",
        "ticket",
        "globex",
        "installer crashes right after the licence screen",
        attachments=("crash.png",),
    ),
    # Six text files: only the first five are accepted.
    Sample(
        "28-six-attachments.eml",
        "ticket",
        "acme",
        "replication lag logs from all six",
        attachments=("node-1.txt", "node-2.txt", "node-3.txt", "node-4.txt", "node-5.txt"),
    ),
    Sample("29-urgent-sev1-subject.eml", "ticket", "acme", "Nothing loads since 08:00"),
    Sample("30-unknown-sender-to-acme.eml", "unverified", "acme", "lost my password"),
    Sample("31-unknown-sender-to-general.eml", "unverified", None, "How much does the VIP add-on"),
    Sample(
        "32-globex-user-to-acme-address.eml", "unverified", "acme", "Our reporting module is slow"
    ),
    Sample(
        "33-subject-tag-no-in-reply-to.eml",
        "reply",
        "acme",
        "sync also stops for shared calendars",
        thread=True,
    ),
    Sample("34-loop-from-our-address.eml", "automated", None, "14 open tickets"),
    Sample("35-long-lines-300k-log.eml", "ticket", "acme", "Here is the complete sync worker log"),
    Sample("36-null-byte-invalid-utf8.eml", "ticket", "acme", "Copied from the terminal output"),
    Sample("37-unknown-charset.eml", "ticket", "acme", "printer queue is stuck on the ERP"),
    Sample(
        "38-charset-mismatch-latin1-utf8.eml",
        "ticket",
        "acme",
        "Please change the invoice address to",
    ),
    Sample("39-apple-mail-format-flowed.eml", "ticket", "acme", "logs me out every time I switch"),
    # smime.p7s is an unknown binary: refused.
    Sample("40-smime-signed.eml", "ticket", "acme", "second billing contact"),
    Sample("41-cc-colleague.eml", "ticket", "acme", "SSO signing certificate expires"),
    Sample(
        "42-undisclosed-recipients-delivered-to.eml",
        "ticket",
        "acme",
        "office network will be down on Saturday",
    ),
    Sample("43-plus-addressed-recipient.eml", "ticket", "acme", "extra admin seat"),
    Sample(
        "44-references-ours-not-last.eml",
        "reply",
        "acme",
        "the problem is back since this morning",
        thread=True,
    ),
    Sample("45-date-1999.eml", "ticket", "acme", "cannot reach the portal"),
    Sample("46-no-date.eml", "ticket", "acme", "db-02 at 93% disk usage"),
    Sample(
        "47-html-tracking-pixel-javascript-link.eml",
        "ticket",
        "acme",
        "312 active seats",
    ),
    Sample("48-globex-dedicated-address.eml", "ticket", "globex", "time out after 30 seconds"),
)


def load(name: str, *, ticket: int | None = None, our_message_id: str | None = None) -> bytes:
    """The file's bytes with the placeholders replaced; a placeholder given None stays as is.

    ``our_message_id`` is the whole header value, angle brackets included.
    """
    data = (CORPUS_DIR / name).read_bytes()
    if ticket is not None:
        data = data.replace(TICKET_PLACEHOLDER, str(ticket).encode("ascii"))
    if our_message_id is not None:
        data = data.replace(MESSAGE_ID_PLACEHOLDER, our_message_id.encode("ascii"))
    return data


_HUGE_HEAD = """\
Return-Path: <ivan@acme.example>
Delivered-To: acme@vip.support.example
Received: from mail-out.acme.example (mail-out.acme.example [203.0.113.25])
\tby mx1.support.example (Postfix) with ESMTPS id 4W0bQz2Fk7z9sXZ
\tfor <acme@vip.support.example>; Thu, 13 Jun 2024 07:40:12 +0000 (UTC)
Received: from [10.20.0.57] (laptop-ivan.acme.lan [10.20.0.57])
\t(Authenticated sender: user)
\tby mail-out.acme.example (Postfix) with ESMTPSA id 4W0bQx6JtTz1xqk;
\tThu, 13 Jun 2024 10:39:58 +0300
Content-Type: multipart/mixed; boundary="------------Bg7Yk2Wq9Rz4Tn6Lp1Vc8Xd3"
Message-ID: <4e8c2a6f-1b9d-4f37-a5e3-c7d9f1b3e5a8@acme.example>
Date: Thu, 13 Jun 2024 10:39:58 +0300
MIME-Version: 1.0
User-Agent: Mozilla Thunderbird
From: Ivan Petrov <ivan@acme.example>
To: acme@vip.support.example
Subject: Full database export for the migration

This is a multi-part message in MIME format.
--------------Bg7Yk2Wq9Rz4Tn6Lp1Vc8Xd3
Content-Type: text/plain; charset=UTF-8; format=flowed
Content-Transfer-Encoding: 7bit

Hello,

attached is the full database export you need for the migration.

Ivan

--------------Bg7Yk2Wq9Rz4Tn6Lp1Vc8Xd3
Content-Type: application/zip; name="full-export.zip"
Content-Disposition: attachment; filename="full-export.zip"
Content-Transfer-Encoding: base64

""".encode("ascii")

_HUGE_TAIL = b"\n--------------Bg7Yk2Wq9Rz4Tn6Lp1Vc8Xd3--\n"


def huge_message(size: int = 25 * 1024 * 1024) -> bytes:
    """A message from ivan@acme.example to acme@vip.support.example of about ``size`` bytes.

    Most of it is a base64 ``full-export.zip`` attachment of (seeded) random bytes.
    """
    room = max(size - len(_HUGE_HEAD) - len(_HUGE_TAIL), 0)
    # base64 turns 3 bytes into 4 characters, in lines of 76 characters plus a newline.
    payload_len = max(room * 3 * 76 // (4 * 77), 4)
    payload = b"PK\x03\x04" + random.Random(25).randbytes(payload_len - 4)
    return _HUGE_HEAD + base64.encodebytes(payload) + _HUGE_TAIL
