"""The booking services: who may book what and when, and every change after booking.

Times are Berlin wall-clock times in the first weeks of December 2026; "now" is Monday
2026-11-30 08:00 unless a test says otherwise, so with 4 business hours of notice the first
bookable start is Monday 13:00.
"""

import datetime

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import IntegrityError

from accounts.models import MANAGERS_GROUP
from accounts.tests.factories import AgentFactory, CustomerFactory, UserFactory
from scheduling.models import (
    AgentSchedule,
    Booking,
    BookingStatus,
    BusyFeed,
    DateOverride,
)
from scheduling.services import bookings
from scheduling.services.bookings import SlotTaken
from scheduling.tests.factories import (
    NOW,
    berlin,
    call_type,
    make_booking,
    schedule_for,
    time_off,
    vip_people,
)
from tickets.tests.factories import make_ticket

pytestmark = pytest.mark.django_db

MIN = datetime.timedelta(minutes=1)


@pytest.fixture
def people():
    return vip_people()


def refusal(caught) -> str:
    return " ".join(caught.value.messages)


class TestBooking:
    def test_a_booking_copies_the_type_and_blocks_the_call_with_its_buffers(self, people):
        booking = make_booking(people, berlin(1, 10), code="training", topic="  New admins  ")

        assert booking.status == BookingStatus.CONFIRMED
        assert booking.company == people.company
        assert (booking.starts_at, booking.ends_at) == (berlin(1, 10), berlin(1, 11))
        assert (booking.buffer_before, booking.buffer_after) == (10 * MIN, 10 * MIN)
        assert (booking.blocked_from, booking.blocked_until) == (
            berlin(1, 9, 50),
            berlin(1, 11, 10),
        )
        assert booking.topic == "New admins"
        assert booking.sequence == 0
        assert booking.uid is not None
        assert booking.created_at == NOW

    def test_the_agent_gets_a_schedule_with_the_support_desk_hours(self, people):
        make_booking(people, berlin(1, 10))

        schedule = AgentSchedule.objects.get(agent=people.agent)
        assert schedule.time_zone == "Europe/Berlin"
        assert schedule.max_calls_per_day == 4
        hours = schedule.weekly_hours.values_list("weekday", "opens", "closes")
        assert sorted(hours) == [(day, datetime.time(9), datetime.time(17)) for day in range(5)]

    def test_a_call_can_be_linked_to_one_of_the_companys_tickets(self, people):
        ticket = make_ticket(requester=people.customer)

        booking = make_booking(people, berlin(1, 10), ticket=ticket)

        assert booking.ticket_id == ticket.pk
        assert list(ticket.call_bookings.all()) == [booking]

    def test_another_companys_ticket_is_refused(self, people):
        ticket = make_ticket(requester=vip_people("Globex").customer)

        with pytest.raises(ValidationError) as caught:
            make_booking(people, berlin(1, 10), ticket=ticket)
        assert refusal(caught) == "Pick one of your company's tickets."

    def test_a_topic_is_required(self, people):
        with pytest.raises(ValidationError) as caught:
            make_booking(people, berlin(1, 10), topic="  ")
        assert "topic" in caught.value.message_dict


class TestWhoMayBook:
    def test_only_customers_book(self, people):
        with pytest.raises(ValidationError) as caught:
            make_booking(people, berlin(1, 10), customer=AgentFactory())
        assert refusal(caught) == "Only members of a customer company can book calls."

    def test_a_company_without_the_add_on_cannot_book(self, people):
        with pytest.raises(ValidationError) as caught:
            make_booking(people, berlin(1, 10), customer=CustomerFactory())
        assert "come with the dedicated-agent add-on, which" in refusal(caught)

    def test_calls_are_with_the_dedicated_agent(self, people):
        with pytest.raises(ValidationError) as caught:
            make_booking(people, berlin(1, 10), agent=people.backup)
        assert refusal(caught) == f"At that time your calls are with {people.agent}."

    def test_an_agent_of_another_company_is_refused(self, people):
        other = vip_people("Globex")

        with pytest.raises(ValidationError, match="your calls are with"):
            make_booking(people, berlin(1, 10), agent=other.agent)

    def test_the_backup_takes_calls_while_the_dedicated_agent_is_away(self, people):
        profile = people.agent.agent_profile
        profile.away_until = berlin(1, 18)
        profile.save()

        booking = make_booking(people, berlin(1, 10), agent=people.backup)

        assert booking.agent == people.backup
        with pytest.raises(ValidationError, match="your calls are with"):
            make_booking(people, berlin(1, 11), agent=people.agent)
        # After the absence, calls are with the dedicated agent again.
        assert make_booking(people, berlin(2, 10)).agent == people.agent

    def test_the_backup_takes_calls_during_the_dedicated_agents_time_off(self, people):
        time_off(people.agent, berlin(1, 0), berlin(2, 0))

        with pytest.raises(ValidationError) as caught:
            make_booking(people, berlin(1, 10))
        assert refusal(caught) == f"At that time your calls are with {people.backup}."
        assert make_booking(people, berlin(1, 10), agent=people.backup).agent == people.backup

    def test_nobody_takes_calls_when_both_agents_are_away(self, people):
        for agent in (people.agent, people.backup):
            agent.agent_profile.away_until = berlin(1, 18)
            agent.agent_profile.save()

        with pytest.raises(ValidationError) as caught:
            make_booking(people, berlin(1, 10))
        assert refusal(caught) == (
            "Neither your dedicated agent nor the backup agent is available then."
        )

    def test_an_inactive_call_type_cannot_be_booked(self, people):
        training = call_type("training")
        training.active = False
        training.save()

        with pytest.raises(ValidationError) as caught:
            make_booking(people, berlin(1, 10), code="training")
        assert refusal(caught) == "This type of call is no longer offered."


class TestSlotRules:
    def test_minimum_notice_counts_the_agents_working_hours(self, people):
        friday_afternoon = berlin(4, 15)  # 2 h left on Friday, 2 h more on Monday

        with pytest.raises(ValidationError) as caught:
            make_booking(people, berlin(7, 10, 30), now=friday_afternoon)
        assert refusal(caught).startswith(
            "That time is too soon: calls need 4 h of the agent's working time as notice."
        )
        assert make_booking(people, berlin(7, 11), now=friday_afternoon)

    def test_the_first_start_today_respects_the_notice(self, people):
        with pytest.raises(ValidationError, match="too soon"):
            make_booking(people, berlin(30, 12, 30, month=11))
        assert make_booking(people, berlin(30, 13, month=11))

    def test_calls_beyond_the_horizon_are_refused(self, people):
        with pytest.raises(ValidationError) as caught:
            make_booking(people, berlin(31, 10))
        assert refusal(caught) == "Calls can be booked at most 30 days ahead."
        assert make_booking(people, berlin(29, 10))

    @pytest.mark.parametrize(
        "starts_at",
        [
            berlin(1, 10, 15),  # off the 30-minute grid
            berlin(1, 8, 30),  # before the day starts
            berlin(1, 16, 45),  # would end after 17:00
            berlin(5, 10),  # Saturday
        ],
        ids=["off-grid", "early", "late", "saturday"],
    )
    def test_only_offered_times_can_be_booked(self, people, starts_at):
        with pytest.raises(ValidationError) as caught:
            make_booking(people, starts_at)
        assert refusal(caught) == (
            f"{people.agent} does not take calls at that time; please pick one of the offered "
            "times."
        )
        assert caught.value.error_dict["starts_at"][0].code == "not_offered"

    def test_the_last_call_of_the_day_may_end_at_closing(self, people):
        assert make_booking(people, berlin(1, 16, 30)).ends_at == berlin(1, 17)

    def test_a_day_off_override_closes_the_date(self, people):
        DateOverride.objects.create(schedule=schedule_for(people.agent), date=berlin(1, 0).date())

        with pytest.raises(ValidationError, match="does not take calls at that time"):
            make_booking(people, berlin(1, 10))

    def test_an_override_can_add_hours_on_a_closed_day(self, people):
        DateOverride.objects.create(
            schedule=schedule_for(people.agent),
            date=berlin(5, 0).date(),
            opens=datetime.time(10),
            closes=datetime.time(12),
        )

        assert make_booking(people, berlin(5, 10)).starts_at == berlin(5, 10)

    def test_a_buffer_may_not_reach_into_time_off(self, people):
        time_off(people.agent, berlin(1, 12), berlin(1, 14))

        with pytest.raises(ValidationError) as caught:
            make_booking(people, berlin(1, 11, 30))  # ends 12:00, its buffer until 12:10
        assert refusal(caught) == f"{people.agent} is away at that time."

    def test_busy_time_from_a_calendar_feed_is_respected(self, people):
        BusyFeed.objects.create(
            schedule=schedule_for(people.agent),
            uploaded_ics=(
                "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VEVENT\r\n"
                "UID:1@t\r\nDTSTART:20261201T110000Z\r\nDTEND:20261201T120000Z\r\n"
                "END:VEVENT\r\nEND:VCALENDAR\r\n"
            ),
        )

        for starts_at in (berlin(1, 12), berlin(1, 13)):  # 13:00: the buffer starts at 12:50
            with pytest.raises(ValidationError) as caught:
                make_booking(people, starts_at)
            assert refusal(caught) == f"{people.agent} is busy at that time."
        assert make_booking(people, berlin(1, 13, 30))

    def test_at_most_four_calls_a_day(self, people):
        for hour in (9, 10, 11, 12):
            make_booking(people, berlin(1, hour))

        with pytest.raises(ValidationError) as caught:
            make_booking(people, berlin(1, 14))
        assert refusal(caught) == f"{people.agent} has no more room for calls on Dec. 1, 2026."
        assert make_booking(people, berlin(2, 14))

    def test_the_daily_limit_is_per_agent(self, people):
        schedule_for(people.agent, max_calls_per_day=1)
        make_booking(people, berlin(1, 10))

        with pytest.raises(ValidationError, match="no more room"):
            make_booking(people, berlin(1, 14))

    def test_cancelled_calls_do_not_count_towards_the_limit(self, people):
        schedule_for(people.agent, max_calls_per_day=1)
        booking = make_booking(people, berlin(1, 10))
        bookings.booking_cancel_by_customer(booking=booking, by=people.customer, now=NOW)

        assert make_booking(people, berlin(1, 14))

    def test_naive_times_are_a_programming_error(self, people):
        with pytest.raises(ValueError, match="timezone-aware"):
            make_booking(people, datetime.datetime(2026, 12, 1, 10))


class TestSlotTaken:
    def test_a_taken_time_is_refused_with_the_nearest_free_starts(self, people):
        make_booking(people, berlin(1, 10))  # blocks 09:50-10:40
        colleague = CustomerFactory(company=people.company)

        with pytest.raises(SlotTaken) as caught:
            make_booking(people, berlin(1, 10), customer=colleague)

        assert refusal(caught) == "That time was just taken. Please pick another time."
        assert caught.value.code == "slot_taken"
        assert caught.value.nearest == [berlin(1, 9), berlin(1, 11), berlin(1, 11, 30)]
        assert Booking.objects.count() == 1

    def test_buffers_keep_calls_apart(self, people):
        make_booking(people, berlin(1, 10))  # blocks until 10:40

        with pytest.raises(SlotTaken):
            make_booking(people, berlin(1, 10, 30))  # would block from 10:20
        assert make_booking(people, berlin(1, 11))  # blocks from 10:50

    def test_the_database_constraint_is_turned_into_slot_taken(self, people, monkeypatch):
        """As when two requests both passed the check before either inserted."""
        make_booking(people, berlin(1, 10))
        monkeypatch.setattr(bookings, "_require_free_slot", lambda *args, **kwargs: None)

        with pytest.raises(SlotTaken) as caught:
            make_booking(people, berlin(1, 10))

        assert isinstance(caught.value.__cause__, IntegrityError)
        assert caught.value.nearest == [berlin(1, 9), berlin(1, 11), berlin(1, 11, 30)]
        assert Booking.objects.count() == 1

    def test_the_daily_limit_is_rechecked_after_writing(self, people, monkeypatch):
        """As when two requests for different times of one day both passed the count."""
        schedule_for(people.agent, max_calls_per_day=1)
        make_booking(people, berlin(1, 10))
        monkeypatch.setattr(bookings, "_require_free_slot", lambda *args, **kwargs: None)

        with pytest.raises(ValidationError) as caught:
            make_booking(people, berlin(1, 14))

        assert caught.value.error_dict["starts_at"][0].code == "day_full"
        assert Booking.objects.count() == 1


class TestReschedule:
    def test_moving_a_call_keeps_its_uid_and_raises_its_sequence(self, people):
        booking = make_booking(people, berlin(1, 10))
        uid = booking.uid

        moved = bookings.booking_reschedule(
            booking=booking, starts_at=berlin(2, 14), by=people.customer, now=NOW
        )

        assert moved is booking
        booking.refresh_from_db()
        assert (booking.starts_at, booking.ends_at) == (berlin(2, 14), berlin(2, 14, 30))
        assert (booking.blocked_from, booking.blocked_until) == (
            berlin(2, 13, 50),
            berlin(2, 14, 40),
        )
        assert booking.uid == uid
        assert booking.sequence == 1
        bookings.booking_reschedule(
            booking=booking, starts_at=berlin(3, 9), by=people.customer, now=NOW
        )
        assert booking.sequence == 2

    def test_a_call_can_move_over_its_own_old_time(self, people):
        booking = make_booking(people, berlin(1, 10))

        bookings.booking_reschedule(
            booking=booking, starts_at=berlin(1, 10, 30), by=people.customer, now=NOW
        )

        assert booking.starts_at == berlin(1, 10, 30)

    def test_the_same_time_changes_nothing(self, people):
        booking = make_booking(people, berlin(1, 10))

        bookings.booking_reschedule(
            booking=booking, starts_at=berlin(1, 10), by=people.customer, now=NOW
        )

        assert booking.sequence == 0

    def test_only_the_customer_who_booked_can_move_it(self, people):
        booking = make_booking(people, berlin(1, 10))

        for someone in (CustomerFactory(company=people.company), people.agent):
            with pytest.raises(ValidationError) as caught:
                bookings.booking_reschedule(
                    booking=booking, starts_at=berlin(2, 10), by=someone, now=NOW
                )
            assert refusal(caught) == "Only the customer who booked this call can change it."

    def test_too_close_to_the_old_time_it_cannot_move(self, people):
        booking = make_booking(people, berlin(1, 10))

        with pytest.raises(ValidationError) as caught:
            bookings.booking_reschedule(
                booking=booking, starts_at=berlin(2, 10), by=people.customer, now=berlin(1, 8)
            )
        assert refusal(caught) == (
            "Calls can be changed or cancelled only up to 4 h of working time before they "
            f"start; please contact {people.agent}."
        )

    def test_the_new_time_needs_the_notice_too(self, people):
        booking = make_booking(people, berlin(3, 10))

        with pytest.raises(ValidationError, match="too soon"):
            bookings.booking_reschedule(
                booking=booking, starts_at=berlin(1, 11), by=people.customer, now=berlin(1, 8)
            )

    def test_moving_onto_a_taken_time_leaves_the_call_where_it_was(self, people):
        make_booking(people, berlin(2, 10))
        booking = make_booking(people, berlin(1, 10))

        with pytest.raises(SlotTaken) as caught:
            bookings.booking_reschedule(
                booking=booking, starts_at=berlin(2, 10), by=people.customer, now=NOW
            )

        assert caught.value.nearest == [berlin(2, 9), berlin(2, 11), berlin(2, 11, 30)]
        assert (booking.starts_at, booking.sequence) == (berlin(1, 10), 0)
        booking.refresh_from_db()
        assert (booking.starts_at, booking.sequence) == (berlin(1, 10), 0)

    def test_the_constraint_also_guards_rescheduling(self, people, monkeypatch):
        make_booking(people, berlin(2, 10))
        booking = make_booking(people, berlin(1, 10))
        monkeypatch.setattr(bookings, "_require_free_slot", lambda *args, **kwargs: None)

        with pytest.raises(SlotTaken) as caught:
            bookings.booking_reschedule(
                booking=booking, starts_at=berlin(2, 10), by=people.customer, now=NOW
            )

        assert isinstance(caught.value.__cause__, IntegrityError)
        assert booking.starts_at == berlin(1, 10)

    def test_a_cancelled_call_cannot_be_moved(self, people):
        booking = make_booking(people, berlin(1, 10))
        bookings.booking_cancel_by_customer(booking=booking, by=people.customer, now=NOW)

        with pytest.raises(ValidationError) as caught:
            bookings.booking_reschedule(
                booking=booking, starts_at=berlin(2, 10), by=people.customer, now=NOW
            )
        assert refusal(caught) == "This call has been cancelled."


class TestCustomerCancels:
    def test_cancelling_frees_the_time(self, people):
        booking = make_booking(people, berlin(1, 10))

        bookings.booking_cancel_by_customer(
            booking=booking, by=people.customer, message=" Solved already ", now=NOW
        )

        booking.refresh_from_db()
        assert booking.status == BookingStatus.CANCELLED
        assert booking.cancelled_by == people.customer
        assert booking.cancelled_at == NOW
        assert booking.cancel_message == "Solved already"
        assert booking.sequence == 1
        assert make_booking(people, berlin(1, 10)).status == BookingStatus.CONFIRMED

    def test_not_within_the_minimum_notice(self, people):
        booking = make_booking(people, berlin(1, 10))

        with pytest.raises(ValidationError, match="only up to 4 h of working time"):
            bookings.booking_cancel_by_customer(
                booking=booking, by=people.customer, now=berlin(1, 7)
            )
        # Business time: on Monday 15:00 there are still 2 + 1 working hours to go, too few.
        with pytest.raises(ValidationError, match="only up to 4 h"):
            bookings.booking_cancel_by_customer(
                booking=booking, by=people.customer, now=berlin(30, 15, month=11)
            )
        bookings.booking_cancel_by_customer(
            booking=booking, by=people.customer, now=berlin(30, 14, month=11)
        )

    def test_only_by_the_customer_who_booked(self, people):
        booking = make_booking(people, berlin(1, 10))

        with pytest.raises(ValidationError, match="Only the customer who booked"):
            bookings.booking_cancel_by_customer(
                booking=booking, by=CustomerFactory(company=people.company), now=NOW
            )

    def test_not_twice(self, people):
        booking = make_booking(people, berlin(1, 10))
        bookings.booking_cancel_by_customer(booking=booking, by=people.customer, now=NOW)

        with pytest.raises(ValidationError, match="has been cancelled"):
            bookings.booking_cancel_by_customer(booking=booking, by=people.customer, now=NOW)


class TestAgentSide:
    def test_the_agent_cancels_with_a_message_even_at_short_notice(self, people):
        booking = make_booking(people, berlin(1, 10))

        bookings.booking_cancel_by_agent(
            booking=booking, by=people.agent, message="I am ill, sorry.", now=berlin(1, 9, 30)
        )

        assert booking.status == BookingStatus.CANCELLED
        assert booking.cancelled_by == people.agent
        assert booking.cancel_message == "I am ill, sorry."
        assert booking.sequence == 1

    def test_the_agent_must_say_why(self, people):
        booking = make_booking(people, berlin(1, 10))

        with pytest.raises(ValidationError) as caught:
            bookings.booking_cancel_by_agent(booking=booking, by=people.agent, message=" ")
        assert caught.value.message_dict == {
            "cancel_message": ["Tell the customer why the call is cancelled."]
        }

    def test_a_manager_may_act_for_the_agent(self, people):
        manager = UserFactory()
        manager.groups.add(Group.objects.get(name=MANAGERS_GROUP))
        booking = make_booking(people, berlin(1, 10))

        bookings.booking_cancel_by_agent(booking=booking, by=manager, message="Agent ill", now=NOW)

        assert booking.cancelled_by == manager

    @pytest.mark.parametrize("who", ["customer", "backup"])
    def test_nobody_else(self, people, who):
        booking = make_booking(people, berlin(1, 10))

        with pytest.raises(ValidationError) as caught:
            bookings.booking_cancel_by_agent(
                booking=booking, by=getattr(people, who), message="No", now=NOW
            )
        assert refusal(caught) == "Only the call's agent or a manager can do this."

    def test_a_call_that_is_over_is_marked_not_cancelled(self, people):
        booking = make_booking(people, berlin(1, 10))

        with pytest.raises(ValidationError, match="This call is over"):
            bookings.booking_cancel_by_agent(
                booking=booking, by=people.agent, message="Too late", now=berlin(1, 10, 30)
            )

    @pytest.mark.parametrize("status", [BookingStatus.COMPLETED, BookingStatus.NO_SHOW])
    def test_marking_a_call_once_it_has_started(self, people, status):
        booking = make_booking(people, berlin(1, 10))

        bookings.booking_mark(booking=booking, status=status, by=people.agent, now=berlin(1, 10))

        booking.refresh_from_db()
        assert booking.status == status
        assert booking.sequence == 1

    def test_a_mark_can_be_corrected(self, people):
        booking = make_booking(people, berlin(1, 10))
        later = berlin(1, 11)
        bookings.booking_mark(
            booking=booking, status=BookingStatus.NO_SHOW, by=people.agent, now=later
        )

        bookings.booking_mark(
            booking=booking, status=BookingStatus.COMPLETED, by=people.agent, now=later
        )

        assert (booking.status, booking.sequence) == (BookingStatus.COMPLETED, 2)

    def test_not_before_the_call_starts(self, people):
        booking = make_booking(people, berlin(1, 10))

        with pytest.raises(ValidationError) as caught:
            bookings.booking_mark(
                booking=booking,
                status=BookingStatus.COMPLETED,
                by=people.agent,
                now=berlin(1, 9, 59),
            )
        assert refusal(caught) == (
            "A call can be marked completed or no-show only once it has started."
        )

    def test_only_completed_or_no_show(self, people):
        booking = make_booking(people, berlin(1, 10))

        with pytest.raises(ValidationError, match="completed or as a no-show"):
            bookings.booking_mark(
                booking=booking, status=BookingStatus.CANCELLED, by=people.agent, now=berlin(2, 9)
            )

    def test_a_cancelled_call_cannot_be_marked(self, people):
        booking = make_booking(people, berlin(1, 10))
        bookings.booking_cancel_by_customer(booking=booking, by=people.customer, now=NOW)

        with pytest.raises(ValidationError, match="has been cancelled"):
            bookings.booking_mark(
                booking=booking, status=BookingStatus.NO_SHOW, by=people.agent, now=berlin(2, 9)
            )

    def test_the_customer_cannot_mark(self, people):
        booking = make_booking(people, berlin(1, 10))

        with pytest.raises(ValidationError, match="agent or a manager"):
            bookings.booking_mark(
                booking=booking,
                status=BookingStatus.COMPLETED,
                by=people.customer,
                now=berlin(2, 9),
            )

    def test_notes_are_the_agents_and_do_not_change_the_invitation(self, people):
        booking = make_booking(people, berlin(1, 10))

        bookings.booking_set_notes(booking=booking, notes=" Needs admin rights. ", by=people.agent)

        booking.refresh_from_db()
        assert booking.agent_notes == "Needs admin rights."
        assert booking.sequence == 0
        with pytest.raises(ValidationError, match="agent or a manager"):
            bookings.booking_set_notes(booking=booking, notes="Hi", by=people.customer)


@pytest.mark.parametrize("status", [BookingStatus.COMPLETED, BookingStatus.NO_SHOW])
def test_calls_marked_after_they_started_still_count_towards_the_limit(people, status):
    first, *_others = [
        make_booking(people, berlin(4, hour, minute))
        for hour, minute in [(9, 0), (13, 30), (14, 30), (15, 30)]
    ]
    later = berlin(4, 9, 31)
    bookings.booking_mark(booking=first, status=status, by=people.agent, now=later)

    with pytest.raises(ValidationError) as caught:
        make_booking(people, berlin(4, 16, 30), now=later)
    assert refusal(caught) == f"{people.agent} has no more room for calls on Dec. 4, 2026."
    assert caught.value.error_dict["starts_at"][0].code == "day_full"


def test_the_recheck_after_writing_counts_marked_calls_too(people, monkeypatch):
    schedule_for(people.agent, max_calls_per_day=1)
    first = make_booking(people, berlin(1, 10))
    bookings.booking_mark(
        booking=first, status=BookingStatus.COMPLETED, by=people.agent, now=berlin(1, 10, 5)
    )
    monkeypatch.setattr(bookings, "_require_free_slot", lambda *args, **kwargs: None)

    with pytest.raises(ValidationError) as caught:
        make_booking(people, berlin(1, 14))

    assert caught.value.error_dict["starts_at"][0].code == "day_full"
    assert Booking.objects.count() == 1
