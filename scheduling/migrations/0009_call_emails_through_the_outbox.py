"""Call e-mails go through the project's outbox (`outbox.Email`); the `CallEmail` table goes.

E-mails still pending in it at the upgrade (a retry in flight) are first written to the outbox,
rendered now by the app's own code, for the same recipients, so none is lost and none that went
out goes again. Rendering needs the booking as the code knows it, so that step imports the app:
it does anything only when rows are pending (never on a new database). Fields that later
migrations add are not in the database yet: they are left unread and take their defaults.
"""

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from django.apps.registry import Apps
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.utils import timezone


def _not_there_yet(apps: Apps, model: type[Any]) -> list[Any]:
    """The code's fields of `model` that the database does not have yet (later migrations add
    them): those the migration state at this point does not know."""
    there = {field.column for field in apps.get_model(model._meta.label)._meta.concrete_fields}
    return [field for field in model._meta.concrete_fields if field.column not in there]


def _as_of_now(apps: Apps, query: Any, relations: dict[str, type[Any]]) -> Any:
    """`query` without the fields the database lacks, on its model and the related `relations`
    (name: model) it selects."""
    unread = [field.name for field in _not_there_yet(apps, query.model)]
    for name, model in relations.items():
        unread += [f"{name}__{field.name}" for field in _not_there_yet(apps, model)]
    return query.select_related(*relations).defer(*unread)


def _with_defaults(apps: Apps, rows: Iterable[Any]) -> None:
    """Give the fields the database lacks their defaults, so reading them queries nothing."""
    for row in rows:
        if row is not None:
            for field in _not_there_yet(apps, type(row)):
                setattr(row, field.attname, field.get_default())


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
    relations: dict[str, Any] = {
        name: Booking._meta.get_field(name).related_model
        for name in ("agent", "customer", "company", "call_type", "ticket", "cancelled_by")
    }
    bookings = _as_of_now(apps, Booking.objects.all(), relations).in_bulk(
        {booking_id for booking_id, _kind, _sequence in pending}
    )
    for booking in bookings.values():
        _with_defaults(apps, [booking, *(getattr(booking, name) for name in relations)])
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
            recipients=_recipients(apps, User, recipient_ids),
        )


def _recipients(apps: Apps, user_model: type[Any], ids: list[int]) -> list[Any]:
    unread = [field.name for field in _not_there_yet(apps, user_model)]
    users = list(user_model.objects.filter(pk__in=ids).defer(*unread).order_by("pk"))
    _with_defaults(apps, users)
    return users


class Migration(migrations.Migration):
    dependencies = [
        ("scheduling", "0008_moments_from_services"),
        ("outbox", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(carry_pending_over, migrations.RunPython.noop),
        migrations.DeleteModel(name="CallEmail"),
    ]
