"""How a call happens: a call type's video-meeting link, a booking's number for the agent to call.

Calls booked before have neither; they keep working (a number is required only for new bookings)
and their invitations carry no LOCATION until a new version of them is sent.
"""

import phonenumber_field.modelfields
from django.db import migrations, models

import scheduling.models


class Migration(migrations.Migration):
    dependencies = [("scheduling", "0009_call_emails_through_the_outbox")]

    operations = [
        migrations.AddField(
            model_name="booking",
            name="phone_number",
            field=phonenumber_field.modelfields.PhoneNumberField(
                blank=True,
                help_text="The number the agent calls.",
                max_length=128,
                region=None,
                verbose_name="number to call",
            ),
        ),
        migrations.AddField(
            model_name="calltype",
            name="video_url",
            field=models.URLField(
                blank=True,
                help_text=(
                    "A video-meeting link for calls of this type; without one, the agent phones "
                    "the customer."
                ),
                max_length=2000,
                validators=[scheduling.models.validate_video_url],
                verbose_name="video-meeting link",
            ),
        ),
    ]
