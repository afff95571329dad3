"""The outbox's writes, by concern: e-mails (`emails`) and webhook deliveries (`webhooks`)."""

from outbox.services.draining import BATCH_LIMIT
from outbox.services.emails import (
    email_message,
    email_queue,
    email_send_one,
    emails_drop,
    emails_send_pending,
)
from outbox.services.webhooks import (
    WEBHOOK_TIMEOUT_SECONDS,
    webhook_headers,
    webhook_queue,
    webhook_retry_delay,
    webhook_send_one,
    webhook_signature,
    webhooks_drop,
    webhooks_queue_bulk,
    webhooks_send_pending,
    webhooks_set_secret,
)

__all__ = [
    "BATCH_LIMIT",
    "WEBHOOK_TIMEOUT_SECONDS",
    "email_message",
    "email_queue",
    "email_send_one",
    "emails_drop",
    "emails_send_pending",
    "webhook_headers",
    "webhook_queue",
    "webhook_retry_delay",
    "webhook_send_one",
    "webhook_signature",
    "webhooks_drop",
    "webhooks_queue_bulk",
    "webhooks_send_pending",
    "webhooks_set_secret",
]
