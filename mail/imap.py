"""The IMAP poller: reads a hosted mailbox into `mails_ingest`, oldest UID first, a fetched
batch of UIDs at a time (stored in one commit and acted on together).

`ImapCursor.last_uid` only moves past a message after it is stored: past the whole batch once
`mails_ingest` returns; when the batch fails, its messages are ingested one by one and the
cursor moves message by message, so a crash or a failure re-reads from the first message not
stored; re-reading is harmless because ingestion recognises a message it already has by its
Message-ID.
"""

from __future__ import annotations

import dataclasses
import datetime
import logging
import ssl
from collections.abc import Iterator, Sequence
from typing import Any
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from imapclient import SEEN, IMAPClient  # type: ignore[import-untyped]

from mail.models import ImapCursor, Transport
from mail.services import Delivery, mail_ingest, mails_ingest

logger = logging.getLogger(__name__)

TIMEOUT_SECONDS = 30.0
# UIDs fetched, stored and acted on together: at most this many, and at most BATCH_BYTES of
# messages (a larger message comes alone), so a batch never holds much more than one
# message of the largest size taken (`MAIL_MAX_BYTES`) in memory.
BATCH_SIZE = 50
BATCH_BYTES = 32 * 1024 * 1024
# Plain IMAP is only acceptable where the password never leaves the machine.
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})


@dataclasses.dataclass(frozen=True)
class ImapTarget:
    """Where `MAIL_IMAP_URL` points; `repr` leaves the password out, so it is safe to log."""

    implicit_tls: bool
    host: str
    port: int
    user: str
    password: str = dataclasses.field(repr=False)
    folder: str

    @property
    def cursor_key(self) -> str:
        return f"{self.user}@{self.host}/{self.folder}"


def imap_url_parse(*, url: str) -> ImapTarget:
    """`imaps://user:password@host[:port][/folder]` (or `imap://`, which then needs STARTTLS)."""
    parts = urlsplit(url)
    if parts.scheme not in ("imap", "imaps"):
        raise ValueError(f"an IMAP URL starts with imap:// or imaps://, not {parts.scheme}://")
    if not parts.hostname or not parts.username or parts.password is None:
        raise ValueError("an IMAP URL needs a user, a password and a host")
    implicit_tls = parts.scheme == "imaps"
    return ImapTarget(
        implicit_tls=implicit_tls,
        host=parts.hostname,
        port=parts.port or (993 if implicit_tls else 143),
        user=unquote(parts.username),
        password=unquote(parts.password),
        folder=unquote(parts.path.lstrip("/")) or "INBOX",
    )


def imap_poll(
    *,
    url: str,
    now: datetime.datetime | None = None,
    ssl_context: ssl.SSLContext | None = None,
    batch_size: int = BATCH_SIZE,
) -> int:
    """Ingest the folder's messages the cursor has not passed yet; returns how many were handed
    to ingestion (a message it already had counts too, though it makes no new row).

    Raises what ingesting the failed message raised, after marking nothing past it as read.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    now = now or timezone.now()
    target = imap_url_parse(url=url)
    client = _connect(target=target, ssl_context=ssl_context)
    try:
        client.login(target.user, target.password)
        selected = client.select_folder(target.folder, readonly=False)
        cursor = _cursor_for(target=target, uid_validity=int(selected[b"UIDVALIDITY"]), now=now)
        # `n:*` always matches the newest message, even when its UID is below n.
        uids = sorted(
            uid
            for uid in client.search(["UID", f"{cursor.last_uid + 1}:*"])
            if uid > cursor.last_uid
        )
        sizes = {
            uid: int(data.get(b"RFC822.SIZE", 0))
            for uid, data in (client.fetch(uids, [b"RFC822.SIZE"]) if uids else {}).items()
        }
        ingested = 0
        for batch in _batches(uids, sizes=sizes, size=batch_size, max_bytes=BATCH_BYTES):
            fetched = client.fetch(batch, [b"BODY.PEEK[]", b"INTERNALDATE"])
            # Expunged by another client since the search: its UID never comes back.
            present = [uid for uid in batch if (data := fetched.get(uid)) and b"BODY[]" in data]
            deliveries = [
                Delivery(
                    raw=fetched[uid][b"BODY[]"],
                    received_at=_received_at(fetched[uid].get(b"INTERNALDATE"), now=now),
                    transport=Transport.IMAP,
                )
                for uid in present
            ]
            try:
                mails_ingest(deliveries=deliveries, now=now)
            except Exception:
                # One message (or the database) failed the batch: store them one by one, so
                # those before the failing one are kept and marked read.
                logger.warning(
                    "IMAP %s: a batch of %d failed; storing its messages one by one",
                    target.cursor_key,
                    len(present),
                )
                _ingest_one_by_one(
                    client,
                    target=target,
                    cursor=cursor,
                    uids=present,
                    deliveries=deliveries,
                    now=now,
                )
            else:
                # Read on the server only once they are safely ours: a person watching the
                # mailbox sees unread mail as mail the portal does not have yet.
                if present:
                    client.add_flags(present, [SEEN], silent=True)
                    _cursor_advance(cursor=cursor, uid=present[-1], now=now)
            ingested += len(present)
        ImapCursor.objects.filter(pk=cursor.pk).update(polled_at=now)
        if ingested:
            logger.info("IMAP %s: %d message(s) ingested", target.cursor_key, ingested)
        return ingested
    finally:
        _logout(client)


def _ingest_one_by_one(
    client: Any,
    *,
    target: ImapTarget,
    cursor: ImapCursor,
    uids: list[int],
    deliveries: list[Delivery],
    now: datetime.datetime,
) -> None:
    """Each message as a batch of one, marked read as soon as it is stored; raises what the
    first failing one raised, marking nothing past it."""
    for uid, delivery in zip(uids, deliveries, strict=True):
        try:
            mail_ingest(
                raw=delivery.raw,
                received_at=delivery.received_at,
                transport=delivery.transport,
                now=now,
            )
        except Exception:
            logger.exception(
                "IMAP %s: storing UID %s failed; the next poll retries it", target.cursor_key, uid
            )
            raise
        client.add_flags([uid], [SEEN], silent=True)
        _cursor_advance(cursor=cursor, uid=uid, now=now)


def imap_poll_configured(*, now: datetime.datetime | None = None) -> int:
    """Poll `settings.MAIL_IMAP_URL`, read at call time; an empty setting turns the poller off."""
    url: str = settings.MAIL_IMAP_URL
    if not url:
        return 0
    return imap_poll(url=url, now=now)


def _connect(*, target: ImapTarget, ssl_context: ssl.SSLContext | None) -> Any:
    context = ssl_context or ssl.create_default_context()
    client = IMAPClient(
        target.host,
        port=target.port,
        ssl=target.implicit_tls,
        ssl_context=context if target.implicit_tls else None,
        timeout=TIMEOUT_SECONDS,
    )
    # Aware INTERNALDATEs, not naive ones in the poller's local zone.
    client.normalise_times = False
    if not target.implicit_tls and target.host not in LOOPBACK_HOSTS:
        try:
            # Fails when the server offers no STARTTLS: never fall back to sending the password
            # in clear over the network.
            client.starttls(context)
        except BaseException:
            _shutdown(client)
            raise
    return client


def _cursor_for(*, target: ImapTarget, uid_validity: int, now: datetime.datetime) -> ImapCursor:
    cursor, created = ImapCursor.objects.get_or_create(
        mailbox=target.cursor_key,
        defaults={"uid_validity": uid_validity, "last_uid": 0, "polled_at": now},
    )
    if not created and cursor.uid_validity != uid_validity:
        # The server renumbered the folder (rebuilt or recreated): our UIDs mean nothing now.
        logger.warning(
            "IMAP %s: UIDVALIDITY changed from %s to %s; reading the folder again from the start",
            target.cursor_key,
            cursor.uid_validity,
            uid_validity,
        )
        cursor.uid_validity = uid_validity
        cursor.last_uid = 0
        cursor.polled_at = now
        cursor.save(update_fields=["uid_validity", "last_uid", "polled_at"])
    return cursor


def _cursor_advance(*, cursor: ImapCursor, uid: int, now: datetime.datetime) -> None:
    # Committed per message, so a crash later in the batch keeps what is already stored. The
    # conditions keep an overlapping poll from moving the cursor back or across a renumbering.
    with transaction.atomic():
        ImapCursor.objects.filter(
            pk=cursor.pk, uid_validity=cursor.uid_validity, last_uid__lt=uid
        ).update(last_uid=uid, polled_at=now)
    cursor.last_uid = uid
    cursor.polled_at = now


def _received_at(value: object, *, now: datetime.datetime) -> datetime.datetime:
    if not isinstance(value, datetime.datetime):
        return now
    if timezone.is_naive(value):
        # With `normalise_times` off imapclient gives aware times; never guess the local zone.
        value = value.replace(tzinfo=datetime.UTC)
    return value.astimezone(datetime.UTC)


def _batches(
    uids: Sequence[int], *, sizes: dict[int, int], size: int, max_bytes: int
) -> Iterator[list[int]]:
    """The UIDs in order, in batches of at most `size` UIDs and `max_bytes` of messages (a
    message larger than that alone)."""
    batch: list[int] = []
    held = 0
    for uid in uids:
        length = sizes.get(uid, 0)
        if batch and (len(batch) == size or held + length > max_bytes):
            yield batch
            batch, held = [], 0
        batch.append(uid)
        held += length
    if batch:
        yield batch


def _logout(client: Any) -> None:
    try:
        client.logout()
    except Exception:
        # The connection may already be gone; an error here must not hide the poll's own.
        logger.debug("IMAP logout failed", exc_info=True)
        _shutdown(client)


def _shutdown(client: Any) -> None:
    try:
        client.shutdown()
    except Exception:
        logger.debug("IMAP connection close failed", exc_info=True)
