"""The IMAP poller against a real Dovecot and the real `mail_ingest`."""

from __future__ import annotations

import datetime
import email.utils
from email.message import EmailMessage
from typing import Any

import pytest

from mail import imap
from mail.imap import imap_poll, imap_poll_configured, imap_url_parse
from mail.models import ImapCursor, InboundMail, Transport
from mail.tests.imap_server import Dovecot, dovecot  # noqa: F401

NOW = datetime.datetime(2031, 3, 4, 9, 30, tzinfo=datetime.UTC)


class Mailbox:
    """One fresh folder on the shared server, and the poller's view of it."""

    def __init__(self, server: Dovecot) -> None:
        self.server = server
        self.folder = server.folder_create()
        self.url = server.url_for(self.folder)
        self.key = f"{server.user}@{server.host}/{self.folder}"

    def deliver(
        self, subject: str, *, internal_date: datetime.datetime | None = None
    ) -> tuple[int, str]:
        message = EmailMessage()
        message["From"] = "Ada Customer <ada@customer.example>"
        message["To"] = "support@support.example"
        message["Subject"] = subject
        message["Date"] = email.utils.format_datetime(NOW)
        message_id = email.utils.make_msgid(domain="customer.example")
        message["Message-ID"] = message_id
        message.set_content(f"{subject}: the export stopped working this morning.\n")
        uid = self.server.append(
            message.as_bytes(), folder=self.folder, internal_date=internal_date
        )
        return uid, message_id

    def poll(self, **kwargs: Any) -> int:
        return imap_poll(url=self.url, now=NOW, ssl_context=self.server.ssl_context, **kwargs)

    def seen(self, uid: int) -> bool:
        return self.server.seen(uid, folder=self.folder)

    def cursor(self) -> ImapCursor:
        return ImapCursor.objects.get(mailbox=self.key)


@pytest.fixture
def mailbox(dovecot: Dovecot) -> Mailbox:  # noqa: F811
    return Mailbox(dovecot)


def ids(*message_ids: str) -> set[str]:
    return set(
        InboundMail.objects.filter(message_id__in=message_ids).values_list("message_id", flat=True)
    )


@pytest.mark.django_db
def test_each_message_is_ingested_once_then_marked_read(mailbox: Mailbox) -> None:
    delivered = [mailbox.deliver(f"Report {n}") for n in range(3)]

    assert mailbox.poll(batch_size=2) == 3

    rows = InboundMail.objects.filter(message_id__in=[mid for _, mid in delivered])
    assert rows.count() == 3
    assert {row.transport for row in rows} == {Transport.IMAP}
    # Processed too (the poller's clock), not merely stored.
    assert {row.processed_at for row in rows} == {NOW}
    assert all(mailbox.seen(uid) for uid, _ in delivered)
    cursor = mailbox.cursor()
    assert cursor.last_uid == delivered[-1][0]
    assert cursor.uid_validity == mailbox.server.uid_validity(folder=mailbox.folder)
    assert cursor.polled_at == NOW


@pytest.mark.django_db
def test_a_second_poll_takes_only_what_is_new(mailbox: Mailbox) -> None:
    first = [mailbox.deliver(f"Report {n}") for n in range(2)]
    assert mailbox.poll() == 2

    assert mailbox.poll() == 0
    assert InboundMail.objects.count() == 2

    uid, message_id = mailbox.deliver("Another report")
    assert mailbox.poll() == 1
    assert InboundMail.objects.count() == 3
    assert ids(message_id) == {message_id}
    assert mailbox.seen(uid)
    assert mailbox.cursor().last_uid == uid > first[-1][0]


@pytest.mark.django_db
def test_the_internal_date_is_the_received_time(mailbox: Mailbox) -> None:
    # In the past: Dovecot dates an APPEND from the future by its own clock instead.
    sofia = datetime.timezone(datetime.timedelta(hours=2))
    _, message_id = mailbox.deliver(
        "Report", internal_date=datetime.datetime(2024, 5, 6, 7, 8, 9, tzinfo=sofia)
    )

    mailbox.poll()

    received_at = InboundMail.objects.get(message_id=message_id).received_at
    assert received_at == datetime.datetime(2024, 5, 6, 5, 8, 9, tzinfo=datetime.UTC)


@pytest.mark.django_db
def test_a_restart_or_a_lost_cursor_never_imports_twice(mailbox: Mailbox) -> None:
    delivered = [mailbox.deliver(f"Report {n}") for n in range(3)]
    assert mailbox.poll() == 3

    # A restarted poller: a new connection, the cursor as it was left.
    assert mailbox.poll() == 0

    ImapCursor.objects.filter(mailbox=mailbox.key).delete()
    mailbox.poll()

    assert InboundMail.objects.count() == 3
    assert ids(*(mid for _, mid in delivered)) == {mid for _, mid in delivered}
    assert mailbox.cursor().last_uid == delivered[-1][0]


@pytest.mark.django_db
def test_a_failed_message_stops_the_poll_before_it(
    mailbox: Mailbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    (uid1, mid1), (uid2, mid2), (uid3, mid3) = [mailbox.deliver(f"Report {n}") for n in range(3)]
    real_ingest = imap.mail_ingest

    def failing_on_the_second(*, raw: bytes, **kwargs: Any) -> InboundMail:
        if mid2.encode() in raw:
            raise OSError("the disk is full")
        return real_ingest(raw=raw, **kwargs)

    def failing_batch(*, deliveries: list[Any], **kwargs: Any) -> list[InboundMail]:
        if any(mid2.encode() in delivery.raw for delivery in deliveries):
            raise OSError("the disk is full")
        return real_batch(deliveries=deliveries, **kwargs)

    real_batch = imap.mails_ingest
    monkeypatch.setattr(imap, "mails_ingest", failing_batch)
    monkeypatch.setattr(imap, "mail_ingest", failing_on_the_second)
    with pytest.raises(OSError, match="disk is full"):
        mailbox.poll()

    assert ids(mid1, mid2, mid3) == {mid1}
    assert mailbox.seen(uid1)
    assert not mailbox.seen(uid2)
    assert not mailbox.seen(uid3)
    assert mailbox.cursor().last_uid == uid1

    monkeypatch.undo()
    assert mailbox.poll() == 2
    assert ids(mid1, mid2, mid3) == {mid1, mid2, mid3}
    assert mailbox.seen(uid2)
    assert mailbox.seen(uid3)
    assert mailbox.cursor().last_uid == uid3


@pytest.mark.django_db
def test_a_changed_uidvalidity_reads_the_folder_again(mailbox: Mailbox) -> None:
    delivered = [mailbox.deliver(f"Report {n}") for n in range(2)]
    assert mailbox.poll() == 2
    real_validity = mailbox.cursor().uid_validity
    ImapCursor.objects.filter(mailbox=mailbox.key).update(uid_validity=real_validity + 1)

    # Read again from UID 0: both messages are handed over, neither is stored twice.
    assert mailbox.poll() == 2

    assert InboundMail.objects.count() == 2
    cursor = mailbox.cursor()
    assert cursor.uid_validity == real_validity
    assert cursor.last_uid == delivered[-1][0]


@pytest.mark.django_db
def test_an_empty_folder_makes_a_cursor_and_nothing_else(mailbox: Mailbox) -> None:
    assert mailbox.poll() == 0

    assert InboundMail.objects.count() == 0
    assert mailbox.cursor().last_uid == 0


@pytest.mark.django_db
def test_the_configured_url_is_polled(
    mailbox: Mailbox, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The configured poller trusts the system's CAs; OpenSSL reads this variable for them.
    monkeypatch.setenv("SSL_CERT_FILE", str(mailbox.server.directory / "cert.pem"))
    settings.MAIL_IMAP_URL = mailbox.url
    uid, message_id = mailbox.deliver("Report")

    assert imap_poll_configured(now=NOW) == 1

    assert ids(message_id) == {message_id}
    assert mailbox.seen(uid)


@pytest.mark.django_db
def test_nothing_is_polled_without_a_configured_url(settings: Any) -> None:
    settings.MAIL_IMAP_URL = ""

    assert imap_poll_configured(now=NOW) == 0
    assert not ImapCursor.objects.exists()


def test_the_url_names_user_password_host_and_folder() -> None:
    target = imap_url_parse(url="imaps://support%40example.com:s%3Acret@imap.example.com/Support")

    assert (target.implicit_tls, target.host, target.port) == (True, "imap.example.com", 993)
    assert (target.user, target.password, target.folder) == (
        "support@example.com",
        "s:cret",
        "Support",
    )
    assert target.cursor_key == "support@example.com@imap.example.com/Support"
    assert "s:cret" not in repr(target)

    plain = imap_url_parse(url="imap://u:p@127.0.0.1")
    assert (plain.implicit_tls, plain.port, plain.folder) == (False, 143, "INBOX")


@pytest.mark.parametrize(
    "url", ["pop3://u:p@host/INBOX", "imaps://host/INBOX", "imaps://u@host/INBOX"]
)
def test_an_unusable_url_is_refused(url: str) -> None:
    with pytest.raises(ValueError, match="IMAP URL"):
        imap_url_parse(url=url)


def test_batches_hold_at_most_so_many_messages_and_bytes() -> None:
    sizes = {1: 10, 2: 10, 3: 100, 4: 10, 5: 10, 6: 10, 7: 10}

    batches = list(imap._batches([1, 2, 3, 4, 5, 6, 7], sizes=sizes, size=3, max_bytes=50))

    # 3 is over the byte limit alone; 4, 5, 6 fill a batch by count.
    assert batches == [[1, 2], [3], [4, 5, 6], [7]]
