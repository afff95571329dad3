"""How a booked call happens: the agent phones the number the customer gave, or both join the call
type's video meeting. One place decides it for the invitations, the feeds, the reminders and the
pages, so they never disagree.

A booking with a number is a phone call: the number was asked for because its type had no video
link when it was booked, and the invitation said so; a video link added to the type later does not
change that call. Without a number, the type's video link is the meeting place. A call booked
before numbers were asked for, whose type has no link, has no location.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.utils.translation import gettext as _

if TYPE_CHECKING:
    from phonenumber_field.phonenumber import PhoneNumber

    from scheduling.models import Booking


@dataclass(frozen=True)
class CallLocation:
    """Where a call takes place: `phone` (the number the agent dials) or `video_url`; texts in
    the active language."""

    booking: Booking
    phone: PhoneNumber | None = None
    video_url: str = ""

    @property
    def is_video(self) -> bool:
        return self.phone is None

    @property
    def phone_display(self) -> str:
        """The number in international format, e.g. "+359 88 123 4567"."""
        if self.phone is None:
            return ""
        if self.phone.is_valid():
            return str(self.phone.as_international)
        return str(self.phone)

    @property
    def tel_url(self) -> str:
        """A `tel:` link to the number in E.164 (RFC 3966), e.g. "tel:+359881234567"."""
        if self.phone is None or not self.phone.is_valid():
            return ""
        return f"tel:{self.phone.as_e164}"

    @property
    def place(self) -> str:
        """The iCalendar LOCATION: the video link, or who calls which number."""
        return self.video_url if self.is_video else self.line

    @property
    def line(self) -> str:
        """One line saying how the call happens, for descriptions, e-mails and pages."""
        if self.is_video:
            return _("Video meeting: %(url)s") % {"url": self.video_url}
        return _("%(agent)s calls %(number)s") % {
            "agent": self.booking.agent,
            "number": self.phone_display,
        }


def call_location(booking: Booking) -> CallLocation | None:
    """How the booking's call happens, or None when nothing says (see the module's text)."""
    if booking.phone_number:
        return CallLocation(booking=booking, phone=booking.phone_number)
    if booking.call_type.video_url:
        return CallLocation(booking=booking, video_url=booking.call_type.video_url)
    return None
