"""The e-mail channel in other apps' pages: the staff nav link, links from a ticket's messages to
the e-mails they came from, and the addresses customers write to.

Other apps never import `mail`; their templates load this library instead.
"""

from __future__ import annotations

from dataclasses import dataclass

from django import template
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from accounts.models import Company
from accounts.permissions import STAFF_ROLES
from mail.addresses import dedicated_address, general_address
from mail.selectors import mail_needing_agent_count, ticket_mail_originals
from tickets.models import Ticket

register = template.Library()


@dataclass(frozen=True)
class MailNav:
    url: str
    active: bool
    waiting: int  # e-mails waiting for an agent


@register.simple_tag(takes_context=True)
def mail_nav(context: template.Context) -> MailNav | None:
    """The staff's "Mail" link and its count (one query); None for everyone else (no query)."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if request is None or getattr(user, "role", None) not in STAFF_ROLES:
        return None
    url = reverse("mail:inbox")
    return MailNav(url=url, active=request.path.startswith(url), waiting=mail_needing_agent_count())


@register.simple_tag
def mail_originals(ticket: Ticket) -> dict[int | None, int]:
    """{ticket message id, or None for the description: received e-mail id}, in one query.

    Set it as `mail_originals` in a staff page's context, and `mail_original_link` links the
    conversation's messages to their e-mails."""
    return ticket_mail_originals(ticket_id=ticket.pk)


@register.simple_tag(takes_context=True)
def mail_original_link(
    context: template.Context, message_id: int | None = None
) -> SafeString | str:
    """A link to the e-mail a message (or, without an id, the description) came from; nothing
    where the context has no `mail_originals` (customers' pages) or it came another way."""
    originals: dict[int | None, int] | None = context.get("mail_originals")
    inbound_id = originals.get(message_id) if originals else None
    if inbound_id is None:
        return ""
    return format_html(
        '<p class="mail-original muted"><a href="{}">{}</a></p>',
        reverse("mail:inbound", args=[inbound_id]),
        _("E-mail: view the original"),
    )


@dataclass(frozen=True)
class SupportAddresses:
    general: str  # every customer may write here
    dedicated: str | None  # the company's own address: for its dedicated agent, with the add-on


@register.simple_tag
def support_addresses(company: Company | None) -> SupportAddresses:
    """Our addresses for a customer's company (no query: the template decides, by the add-on it
    already knows about, whether to show the dedicated one)."""
    return SupportAddresses(
        general=general_address(),
        dedicated=dedicated_address(company=company) if company is not None else None,
    )
