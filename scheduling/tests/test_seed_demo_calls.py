import pytest
from django.core.management import CommandError, call_command

from accounts.models import User
from scheduling.models import AgentSchedule, Booking, BookingStatus

pytestmark = pytest.mark.django_db


def test_demo_calls_give_agents_schedules_and_acme_one_upcoming_call_once():
    call_command("seed_demo")

    call_command("seed_demo_calls")
    call_command("seed_demo_calls")

    agents = User.objects.filter(agent_profile__isnull=False)
    assert AgentSchedule.objects.filter(agent__in=agents).count() == agents.count() == 2
    booking = Booking.objects.get()
    assert booking.status == BookingStatus.CONFIRMED
    assert booking.customer.email == "customer@acme.example"
    assert booking.agent.email == "agent@support.example"
    assert booking.call_type.code == "training"


def test_demo_calls_need_the_demo_logins_first():
    with pytest.raises(CommandError, match="seed_demo"):
        call_command("seed_demo_calls")
