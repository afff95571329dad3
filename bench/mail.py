"""Benchmark of mail ingestion into PostgreSQL; run as `python -m bench.mail`.

Builds a throw-away database `vipsupport_bench_mail` (dropped and re-created on every run) with
the e-mail tests' world (Acme with the add-on and its dedicated agent, Globex, their people) and
a ticket to thread replies into, then feeds the 48 messages of `mail/tests/corpus` through
`mails_ingest` the way the IMAP poller calls it (`mail.imap`: batches of `BATCH_SIZE` fetched
UIDs, each stored in one commit and acted on in one transaction), round after round, each copy
with its own Message-ID so every one is stored and acted on: raw file written to disk storage,
parsed, routed, threaded, tickets and replies written with their SLA targets, notifications and
outbox rows. The figure is the messages per second over all rounds after a warm-up round;
received on a Tuesday morning, so no acknowledgements (they would be one more outbox row each).
`--single` feeds them one at a time through `mail_ingest` instead, as the SMTP receiver and the
MTA pipe do (each holds one message), for comparison; its line is
`bench: ingest_email_single_per_s`.
"""

from __future__ import annotations

import argparse
import datetime
import sys
import tempfile
import time
from zoneinfo import ZoneInfo

from bench import data

BENCH_DB = "vipsupport_bench_mail"
BENCH_REDIS_URL = "redis://127.0.0.1:6379/13"
ROUNDS = 8
TARGET_PER_S = 200.0
RECEIVED_AT = datetime.datetime(2026, 3, 10, 10, 0, tzinfo=ZoneInfo("Europe/Berlin"))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--single", action="store_true", help="one message at a time through mail_ingest"
    )
    single = parser.parse_args(argv).single
    data.setup_database(BENCH_DB, redis_url=BENCH_REDIS_URL)
    from django.test import override_settings

    with (
        tempfile.TemporaryDirectory() as media,
        override_settings(
            STORAGES={
                "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
                "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
            },
            MEDIA_ROOT=media,
        ),
    ):
        per_second = _ingest_rate(single=single)
    print(f"mail ingest: target ≥ {TARGET_PER_S:.0f} messages/s", file=sys.stderr)
    name = "ingest_email_single_per_s" if single else "ingest_email_per_s"
    print(f"bench: {name} {per_second:.0f} messages/s")


def _ingest_rate(*, single: bool) -> float:
    from mail.imap import BATCH_SIZE
    from mail.models import ThreadId, Transport
    from mail.services import Delivery, mail_ingest, mails_ingest
    from mail.tests import corpus
    from mail.tests.factories import mail_world, message
    from tickets import services as ticket_services

    world = mail_world(at=RECEIVED_AT)
    target = mail_ingest(raw=message(), received_at=RECEIVED_AT, transport=Transport.PIPE).ticket
    assert target is not None
    ticket_services.ticket_reply(ticket=target, author=world.agent, body="Looking into it.")
    ours = ThreadId.objects.get(ticket=target, is_ours=True).value
    messages = [
        corpus.load(sample.name, ticket=target.pk, our_message_id=ours) for sample in corpus.SAMPLES
    ]

    def feed(round_number: int) -> None:
        raws = [
            f"Message-ID: <bench-{round_number}-{number}@bench.example>\r\n".encode() + raw
            for number, raw in enumerate(messages)
        ]
        if single:
            for raw in raws:
                mail_ingest(raw=raw, received_at=RECEIVED_AT, transport=Transport.SMTP)
            return
        for start in range(0, len(raws), BATCH_SIZE):
            mails_ingest(
                deliveries=[
                    Delivery(raw=raw, received_at=RECEIVED_AT, transport=Transport.IMAP)
                    for raw in raws[start : start + BATCH_SIZE]
                ]
            )

    feed(0)  # warm-up: imports, caches, the first connection
    started = time.perf_counter()
    for round_number in range(1, ROUNDS + 1):
        feed(round_number)
    elapsed = time.perf_counter() - started
    count = ROUNDS * len(messages)
    data.log(f"mail: {count} messages in {elapsed:.2f} s")
    return count / elapsed


if __name__ == "__main__":
    main()
