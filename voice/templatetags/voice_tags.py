"""The phone channel in other apps' pages: the staff nav link, a ticket's voicemail, a company's
recent calls, and phone numbers to dial.

Other apps never import `voice`; their templates load this library instead.
"""

from __future__ import annotations

from dataclasses import dataclass

from django import template
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from accounts.models import Company
from accounts.permissions import STAFF_ROLES
from accounts.selectors import phone_number_parse
from tickets.models import Channel, Ticket
from voice.models import Call, Voicemail
from voice.selectors import company_call_log, voicemail_of_ticket, voicemails_unverified_count

register = template.Library()

# The workspace's "Calls" card: the company's latest calls.
RECENT_CALLS = 10


@dataclass(frozen=True)
class VoiceNav:
    url: str
    active: bool
    waiting: int  # voicemails from unknown numbers waiting for an agent


@register.simple_tag(takes_context=True)
def voice_nav(context: template.Context) -> VoiceNav | None:
    """The staff's "Voicemail" link and its count (one query); None for everyone else (no
    query)."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if request is None or getattr(user, "role", None) not in STAFF_ROLES:
        return None
    url = reverse("voice:unverified")
    return VoiceNav(
        url=url, active=request.path.startswith(url), waiting=voicemails_unverified_count()
    )


@register.simple_tag
def ticket_voicemail(ticket: Ticket) -> Voicemail | None:
    """The voicemail the ticket was opened for, with its call: one query for a voicemail ticket,
    none for any other (only voicemails open, or are filed as, voicemail tickets)."""
    if ticket.channel != Channel.VOICEMAIL:
        return None
    return voicemail_of_ticket(ticket_id=ticket.pk)


@register.simple_tag
def company_calls(company: Company | None) -> list[Call]:
    """The company's latest calls, newest first, with who answered; one query."""
    if company is None:
        return []
    return company_call_log(company=company, limit=RECENT_CALLS)


@register.filter
def minutes_seconds(seconds: int | None) -> str:
    """A recording's length as m:ss ("1:05")."""
    minutes, rest = divmod(max(0, seconds or 0), 60)
    return f"{minutes}:{rest:02d}"


@register.simple_tag
def phone_link(number: object) -> SafeString | str:
    """A number to dial: a `tel:` link to its E.164 form, shown in international notation; the
    text alone when it is no phone number (a withheld caller); "—" when there is none."""
    text = str(number or "").strip()
    if not text:
        return "—"
    parsed = phone_number_parse(number=text)
    if parsed is None:
        return text  # escaped by the template
    return format_html(
        '<a href="tel:{}" class="phone">{}</a>',
        parsed.as_e164,
        parsed.as_international,
    )
