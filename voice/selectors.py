"""Reads of the phone channel: a company's call log, voicemails waiting for an agent, one
ticket's voicemail, and who may hear a recording."""

from __future__ import annotations

from django.db.models import QuerySet

from accounts.models import Company, User
from accounts.permissions import STAFF_ROLES
from vipsupport.ids import parse_id
from voice.models import Call, Voicemail, VoicemailState


def company_call_log(*, company: Company, limit: int = 50) -> list[Call]:
    """The company's latest calls, newest first, with who called and who answered."""
    return list(Call.objects.filter(company=company).select_related("caller", "agent")[:limit])


def voicemails_unverified(*, limit: int = 200) -> list[Voicemail]:
    """Voicemails from numbers no company has, oldest first: an agent files them."""
    return list(
        Voicemail.objects.filter(state=VoicemailState.UNVERIFIED)
        .select_related("call")
        .order_by("received_at", "pk")[:limit]
    )


def voicemail_of_ticket(*, ticket_id: int) -> Voicemail | None:
    """The voicemail a ticket was opened for, with its call; one query."""
    return Voicemail.objects.select_related("call").filter(ticket_id=ticket_id).first()


def voicemails_unverified_count() -> int:
    """How many voicemails from unknown numbers wait for an agent; one count on their index."""
    return Voicemail.objects.filter(state=VoicemailState.UNVERIFIED).count()


def voicemail_for_staff(*, pk: object) -> Voicemail | None:
    """Any voicemail, with its call; None for an id no row can have (no query then)."""
    voicemail_id = parse_id(pk)
    if voicemail_id is None:
        return None
    return Voicemail.objects.select_related("call").filter(pk=voicemail_id).first()


def voicemails_visible_to(*, user: User) -> QuerySet[Voicemail]:
    """The voicemails `user` may hear: staff any; nobody else any (the recordings are played back
    to staff only; a customer's own company reads its ticket, not the recording)."""
    voicemails = Voicemail.objects.all()
    if user.company_id is None and user.role in STAFF_ROLES:
        return voicemails
    return voicemails.none()
