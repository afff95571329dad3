"""Any change to a support calendar, its hours or its holidays drops the cached desk calendar."""

from typing import Any

from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from desk.models import Holiday, OpeningHours, SupportCalendar
from desk.selectors import desk_invalidate


@receiver(post_save, sender=SupportCalendar)
@receiver(post_delete, sender=SupportCalendar)
@receiver(post_save, sender=OpeningHours)
@receiver(post_delete, sender=OpeningHours)
@receiver(post_save, sender=Holiday)
@receiver(post_delete, sender=Holiday)
def _calendar_changed(**kwargs: Any) -> None:
    # Now, for this transaction's own readers, and after commit, in case another process cached
    # the old calendar meanwhile.
    desk_invalidate()
    transaction.on_commit(desk_invalidate)
