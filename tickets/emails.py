"""The e-mail copy of a notification, written in the recipient's language and time zone."""

from django.conf import settings
from django.core.mail import EmailMessage
from django.utils import timezone, translation

from tickets.models import Notification
from vipsupport.mail import AUTOMATIC_HEADERS, render_subject_and_body


def notification_message(notification: Notification) -> EmailMessage:
    recipient = notification.recipient
    with translation.override(recipient.preferred_language), timezone.override(recipient.time_zone):
        context = {"notification": notification, "ticket": notification.ticket, "user": recipient}
        subject, body = render_subject_and_body(
            "tickets/email/notification_subject.txt", "tickets/email/notification_body.txt", context
        )
    return EmailMessage(
        subject=subject,
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[recipient.email],
        headers=AUTOMATIC_HEADERS,
    )
