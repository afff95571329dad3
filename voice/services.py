"""The phone channel's decisions and writes: who takes a call, what a voicemail becomes.

The support line's provider asks the webhooks (`voice.views`) what to do with each call; they
call these services and turn the answer into TwiML. Every write takes the moment of the request.
"""

from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import translation
from django.utils.translation import gettext as _

from accounts.models import Company, User
from accounts.selectors import caller_identify, company_dedicated_contact, company_holds_addon
from desk.selectors import desk_clock
from tickets import services as ticket_services
from tickets.models import Channel, Severity, Ticket
from voice.models import Call, CallOutcome, Voicemail, VoicemailState

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class CallPlan:
    """What the support line does with a call: put it through to `agent_number`, or take a
    voicemail; in the caller's language, naming when the desk opens next when it is closed."""

    call: Call
    agent_number: str | None
    language: str
    next_opening: datetime.datetime | None

    @property
    def put_through(self) -> bool:
        return self.agent_number is not None


def call_received(
    *, call_sid: str, from_number: str, to_number: str, at: datetime.datetime
) -> CallPlan:
    """Record a call to the support line and decide who takes it: in the desk's hours, a caller
    of a company with the add-on goes to its dedicated agent (the backup while they are away);
    anyone else, and everyone out of hours, leaves a voicemail. A repeated request for the same
    call decides the same way without a second row."""
    caller = caller_identify(number=from_number)
    company = caller.company
    language = _language(caller.user, company)
    clock = desk_clock()
    agent: User | None = None
    if clock.is_open(at) and company is not None and company_holds_addon(company=company, at=at):
        contact = company_dedicated_contact(company=company, at=at)
        if contact is not None and contact.agent.agent_profile.phone_number:
            agent = contact.agent
    call, created = Call.objects.get_or_create(
        call_sid=call_sid,
        defaults={
            "from_number": from_number[:32],
            "to_number": to_number[:32],
            "company": company,
            "caller": caller.user,
            "agent": agent,
            "outcome": CallOutcome.RINGING if agent else CallOutcome.VOICEMAIL,
            "started_at": at,
        },
    )
    if not created:  # the provider asked again: answer as the first time
        agent = call.agent if call.outcome == CallOutcome.RINGING else None
    return CallPlan(
        call=call,
        agent_number=str(agent.agent_profile.phone_number) if agent else None,
        language=language,
        next_opening=None if clock.is_open(at) else clock.next_opening(at),
    )


def call_dial_finished(*, call_sid: str, answered: bool, at: datetime.datetime) -> CallPlan:
    """The agent's phone answered, or not (then the caller leaves a voicemail)."""
    call = Call.objects.select_related("caller", "company").filter(call_sid=call_sid).first()
    if call is None:
        raise Call.DoesNotExist(call_sid)
    updated = Call.objects.filter(pk=call.pk, outcome=CallOutcome.RINGING).update(
        outcome=CallOutcome.ANSWERED if answered else CallOutcome.MISSED,
        ended_at=at if answered else None,
    )
    if updated:
        call.refresh_from_db()
    return CallPlan(
        call=call,
        agent_number=None,
        language=_language(call.caller, call.company),
        next_opening=None,
    )


@transaction.atomic
def voicemail_recorded(
    *,
    call_sid: str,
    recording_sid: str,
    recording_url: str,
    duration: int,
    at: datetime.datetime,
) -> Voicemail:
    """Keep a voicemail and open its ticket (channel voicemail: its callback and first-response
    clocks start at the next opening when the desk is closed). The provider may send the same
    recording twice; the second finds the first."""
    existing = Voicemail.objects.filter(recording_sid=recording_sid).first()
    if existing is not None:
        return existing
    call, _created = Call.objects.select_for_update().get_or_create(
        call_sid=call_sid,
        # A call the incoming webhook never saw (it failed): its caller is unknown.
        defaults={"from_number": "", "started_at": at, "outcome": CallOutcome.VOICEMAIL},
    )
    requester = call.caller or _company_contact(call.company)
    voicemail = Voicemail(
        recording_sid=recording_sid,
        call=call,
        state=VoicemailState.TICKET if requester else VoicemailState.UNVERIFIED,
        duration=max(0, duration),
        recording_url=recording_url,
        received_at=call.started_at,
    )
    voicemail.full_clean(exclude=["call", "ticket"])
    try:
        with transaction.atomic():
            voicemail.save()
    except IntegrityError:  # the same recording, delivered twice at once
        return Voicemail.objects.get(recording_sid=recording_sid)
    if requester is not None:
        voicemail.ticket = _voicemail_ticket(voicemail, requester=requester)
        voicemail.save(update_fields=["ticket"])
    if call.outcome != CallOutcome.ANSWERED:
        call.outcome = CallOutcome.VOICEMAIL
    call.ended_at = at
    call.save(update_fields=["outcome", "ended_at"])
    from voice.tasks import fetch_recording

    transaction.on_commit(lambda: fetch_recording.delay(voicemail.pk), robust=True)
    return voicemail


def _voicemail_ticket(voicemail: Voicemail, *, requester: User) -> Ticket:
    call = voicemail.call
    company = requester.company
    assert company is not None
    contact = (
        company_dedicated_contact(company=company, at=call.started_at)
        if company_holds_addon(company=company, at=call.started_at)
        else None
    )
    with translation.override(requester.preferred_language):
        subject = _("Voicemail from %(number)s") % {"number": call.from_number}
        description = _(
            "%(name)s left a voicemail of %(duration)s from %(number)s. Call them back on that "
            "number; the recording and its transcript are in the workspace."
        ) % {
            "name": requester.get_full_name() or requester.email,
            "duration": _duration(voicemail.duration),
            "number": call.from_number,
        }
    return ticket_services.ticket_create(
        requester=requester,
        subject=subject,
        description=description,
        severity=Severity.STANDARD,
        channel=Channel.VOICEMAIL,
        assignee=contact.agent if contact else None,
        at=call.started_at,
    )


def voicemail_transcribed(*, recording_sid: str, text: str, at: datetime.datetime) -> None:
    """Keep the provider's transcript, and show it to staff on the ticket."""
    voicemail = Voicemail.objects.select_related("ticket").filter(recording_sid=recording_sid)
    found = voicemail.first()
    if found is None or found.transcript:
        return
    found.transcript = text.strip()[:10_000]
    found.save(update_fields=["transcript"])
    if found.ticket is not None and found.transcript:
        ticket_services.ticket_record_automatic(
            ticket=found.ticket,
            body=_("Transcript of the voicemail:") + "\n\n" + found.transcript,
            at=at,
        )


def _company_contact(company: Company | None) -> User | None:
    """Who a call from a company's shared number (a switchboard) is filed for: its longest-
    standing active contact."""
    if company is None:
        return None
    return company.members.filter(is_active=True).order_by("date_joined", "pk").first()


def _language(user: User | None, company: Company | None) -> str:
    if user is not None:
        return user.preferred_language
    if company is not None:
        member = _company_contact(company)
        if member is not None:
            return member.preferred_language
    return "en"


def _duration(seconds: int) -> str:
    minutes, rest = divmod(max(0, seconds), 60)
    return f"{minutes}:{rest:02d}"


@transaction.atomic
def voicemail_file(*, voicemail: Voicemail, requester: User, decided_by: User) -> Voicemail:
    """An agent files a voicemail from an unknown number for the customer who left it; its
    ticket is dated when the call came, so its clocks run as if the caller had been known."""
    voicemail = Voicemail.objects.select_for_update().select_related("call").get(pk=voicemail.pk)
    if voicemail.state != VoicemailState.UNVERIFIED:
        raise ValidationError(_("This voicemail was already filed."))
    if requester.company_id is None or not requester.is_active:
        raise ValidationError({"requester": _("Choose an active customer.")})
    voicemail.ticket = _voicemail_ticket(voicemail, requester=requester)
    voicemail.state = VoicemailState.TICKET
    voicemail.save(update_fields=["ticket", "state"])
    Call.objects.filter(pk=voicemail.call_id, company__isnull=True).update(
        company_id=requester.company_id, caller=requester
    )
    ticket_services.ticket_add_note(
        ticket=voicemail.ticket,
        author=decided_by,
        body=_("Filed for %(name)s from an unknown number.") % {"name": requester},
    )
    return voicemail
