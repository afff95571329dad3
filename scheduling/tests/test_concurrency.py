"""No double booking under real concurrency: threads on real PostgreSQL, and SQLite's guard.

Every thread has its own database connection (Django's are per thread) and closes it at the end.
"""

import textwrap
import threading
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection

from accounts.tests.factories import CustomerFactory
from scheduling.models import Booking, BookingStatus
from scheduling.services import bookings
from scheduling.services.bookings import SlotTaken
from scheduling.tests.factories import berlin, make_booking, schedule_for, vip_people
from vipsupport.testing import run_on_sqlite

ATTEMPTS = 20
PROJECT = Path(__file__).resolve().parents[2]


def run_in_threads(targets):
    """Run each callable in its own thread; return what each returned or raised."""
    outcomes = [None] * len(targets)

    def run(index, target):
        try:
            outcomes[index] = target()
        except Exception as error:
            outcomes[index] = error
        finally:
            connection.close()

    threads = [
        threading.Thread(target=run, args=(index, target)) for index, target in enumerate(targets)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not any(thread.is_alive() for thread in threads)
    return outcomes


def check_then_wait(barrier, monkeypatch):
    """Hold every thread after its (passing) slot check until all have checked, so they all
    insert at once and only the database can tell them apart."""
    check = bookings._require_free_slot

    def checked_then_wait(*args, **kwargs):
        check(*args, **kwargs)
        barrier.wait(timeout=180)

    monkeypatch.setattr(bookings, "_require_free_slot", checked_then_wait)


@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_attempts_at_one_slot_make_exactly_one_booking():
    people = vip_people()
    customers = [CustomerFactory(company=people.company) for _ in range(ATTEMPTS)]
    schedule_for(people.agent)
    barrier = threading.Barrier(ATTEMPTS)

    def attempt(customer):
        def book():
            barrier.wait(timeout=180)
            return make_booking(people, berlin(1, 10), customer=customer)

        return book

    outcomes = run_in_threads([attempt(customer) for customer in customers])

    booked = [outcome for outcome in outcomes if isinstance(outcome, Booking)]
    taken = [outcome for outcome in outcomes if isinstance(outcome, SlotTaken)]
    assert (len(booked), len(taken)) == (1, ATTEMPTS - 1), outcomes
    assert Booking.objects.filter(status=BookingStatus.CONFIRMED).count() == 1
    assert Booking.objects.get().pk == booked[0].pk
    for error in taken:
        assert berlin(1, 10) not in error.nearest
        assert error.nearest  # the customer is offered other times


@pytest.mark.django_db(transaction=True)
def test_when_all_pass_the_check_at_once_the_constraint_alone_keeps_one(monkeypatch):
    people = vip_people()
    schedule_for(people.agent)
    check_then_wait(threading.Barrier(ATTEMPTS), monkeypatch)

    outcomes = run_in_threads(
        [lambda: make_booking(people, berlin(1, 10, 30))] * ATTEMPTS  # same slot for all
    )

    taken = [outcome for outcome in outcomes if isinstance(outcome, SlotTaken)]
    assert sum(isinstance(outcome, Booking) for outcome in outcomes) == 1, outcomes
    assert len(taken) == ATTEMPTS - 1
    assert all(isinstance(error.__cause__, IntegrityError) for error in taken)
    assert Booking.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_bookings_of_one_day_keep_the_daily_limit(monkeypatch):
    people = vip_people()
    schedule_for(people.agent)  # at most 4 calls a day
    hours = range(9, 17)  # eight separate times on Tuesday
    check_then_wait(threading.Barrier(len(hours)), monkeypatch)

    def attempt(hour):
        return lambda: make_booking(people, berlin(1, hour))

    outcomes = run_in_threads([attempt(hour) for hour in hours])

    refused = [outcome for outcome in outcomes if isinstance(outcome, ValidationError)]
    assert sum(isinstance(outcome, Booking) for outcome in outcomes) == 4, outcomes
    assert [error.error_dict["starts_at"][0].code for error in refused] == ["day_full"] * 4
    assert Booking.objects.count() == 4


SQLITE_SCRIPT = textwrap.dedent(
    """
    import json, threading

    import django

    django.setup()

    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed
    call_command("migrate", verbosity=0)

    from accounts.tests.factories import CustomerFactory
    from scheduling.models import Booking
    from scheduling.services.bookings import SlotTaken
    from scheduling.tests.factories import berlin, make_booking, schedule_for, vip_people

    assert connection.vendor == "sqlite"
    people = vip_people()
    schedule_for(people.agent)
    customers = [CustomerFactory(company=people.company) for _ in range({attempts})]
    barrier = threading.Barrier({attempts})
    outcomes = []

    def book(customer):
        try:
            barrier.wait(timeout=180)
            make_booking(people, berlin(1, 10), customer=customer)
            outcomes.append("booked")
        except SlotTaken:
            outcomes.append("taken")
        except Exception as error:
            outcomes.append(repr(error))
        finally:
            connection.close()

    threads = [threading.Thread(target=book, args=(customer,)) for customer in customers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    print(json.dumps({{"outcomes": sorted(outcomes), "rows": Booking.objects.count()}}))
    """
)


def test_on_sqlite_the_write_lock_and_recheck_keep_one_booking(tmp_path):
    """The development default: 20 threads, each with its own SQLite connection, one slot."""
    result = run_on_sqlite(SQLITE_SCRIPT.format(attempts=ATTEMPTS), tmp_path)

    assert result == {"outcomes": ["booked"] + ["taken"] * (ATTEMPTS - 1), "rows": 1}


SQLITE_OUTBOX_SCRIPT = textwrap.dedent(
    """
    import json, threading

    import django

    django.setup()

    from django.conf import settings
    from django.core import mail
    from django.core.management import call_command
    from django.db import connection

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    mail.outbox = []
    call_command("migrate", verbosity=0)

    from outbox import services
    from outbox.models import Email
    from scheduling.tests.factories import berlin, make_booking, vip_people

    assert connection.vendor == "sqlite"
    make_booking(vip_people(), berlin(1, 10))  # two invitations wait in the outbox
    barrier = threading.Barrier({senders})
    errors = []

    def send():
        try:
            barrier.wait(timeout=180)
            services.emails_send_pending()
        except Exception as error:
            errors.append(repr(error))
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range({senders})]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    states = sorted(Email.objects.values_list("state", flat=True))
    print(json.dumps({{"sent": len(mail.outbox), "errors": errors, "states": states}}))
    """
)


def test_on_sqlite_parallel_senders_send_each_e_mail_once(tmp_path):
    """A call booked on the development default, whose two invitations 8 outbox senders race
    for: SQLite has no SKIP LOCKED, the write lock keeps their claims apart."""
    result = run_on_sqlite(SQLITE_OUTBOX_SCRIPT.format(senders=8), tmp_path)

    assert result == {"sent": 2, "errors": [], "states": ["sent", "sent"]}
