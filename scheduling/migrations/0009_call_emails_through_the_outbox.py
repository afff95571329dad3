"""Call e-mails go through the project's outbox (`outbox.Email`); the `CallEmail` table goes.

E-mails still pending in it at the upgrade (a retry in flight) are first written to the outbox,
rendered now by the app's own code, for the same recipients, so none is lost and none that went
out goes again. Rendering needs the booking as the code knows it, so that step imports the app:
it does anything only when rows are pending (never on a new database).
"""

from collections import defaultdict

from django.apps.registry import Apps
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.utils import timezone


def carry_pending_over(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    # The model lives on only in the migration state, which mypy's Django plugin does not read.
    CallEmail = apps.get_model("scheduling", "CallEmail")  # type: ignore[misc]
    pending: defaultdict[tuple[int, str, int], list[int]] = defaultdict(list)
    rows = CallEmail.objects.filter(state="pending").values_list(
        "booking_id", "kind", "sequence", "recipient_id"
    )
    for booking_id, kind, sequence, recipient_id in rows:
        pending[(booking_id, kind, sequence)].append(recipient_id)
    if not pending:
        return

    from accounts.models import User
    from scheduling import emails
    from scheduling.models import Booking, BookingStatus

    now = timezone.now()
    bookings = Booking.objects.select_related(
        "agent", "customer", "company", "call_type", "ticket", "cancelled_by"
    ).in_bulk({booking_id for booking_id, _kind, _sequence in pending})
    for (booking_id, kind, sequence), recipient_ids in pending.items():
        booking = bookings[booking_id]
        # What the old sender would still have sent: the booking's current version only, and
        # reminders only of a confirmed call (the outbox drops them once they would be late).
        if booking.sequence != sequence:
            continue
        if kind != emails.CallEmailKind.INVITATION and booking.status != BookingStatus.CONFIRMED:
            continue
        emails.call_emails_queue(
            booking=booking,
            kind=emails.CallEmailKind(kind),
            now=now,
            recipients=list(User.objects.filter(pk__in=recipient_ids).order_by("pk")),
        )


class Migration(migrations.Migration):
    dependencies = [
        ("scheduling", "0008_moments_from_services"),
        ("outbox", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(carry_pending_over, migrations.RunPython.noop),
        migrations.DeleteModel(name="CallEmail"),
    ]
