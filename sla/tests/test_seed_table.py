"""The seed's SLA table, row by row, at frozen instants around both DST switches.

Weeks used: spring 2027 (Fri 03-26 CET, Sun 03-28 switch, Mon 03-29 CEST) and autumn 2026
(Fri 10-23 CEST, Sun 10-25 switch, Mon 10-26 CET). Inputs are Berlin wall-clock times, expected
deadlines are exact UTC instants.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction

from accounts.models import Company
from accounts.tests.factories import AgentFactory, CompanyFactory, CustomerFactory, vip_company
from sla.models import Clock, SlaPolicy, SlaPolicyTarget, SlaTarget, TargetKind, TargetState
from tickets import services as ticket_services
from tickets.models import Channel, Ticket
from tickets.tests.factories import make_ticket

pytestmark = pytest.mark.django_db

BERLIN = ZoneInfo("Europe/Berlin")
HOUR = timedelta(hours=1)
BUSINESS_DAY = 8 * HOUR
WEB, EMAIL = Channel.WEB, Channel.EMAIL
VIP = "vip"
STANDARD = "standard"


def berlin(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=BERLIN)


def utc(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=UTC)


def when(moment: datetime) -> str:
    season = "spring" if moment.year == 2027 else "autumn"
    return f"{moment.astimezone(BERLIN):%a-%H%M}-{season}"


@pytest.fixture(scope="module")
def companies(django_db_setup, django_db_blocker) -> Iterator[dict[str, Company]]:
    """One VIP and one Standard company shared by the whole table, rolled back afterwards."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield {VIP: vip_company(), STANDARD: CompanyFactory()}
        transaction.set_rollback(True)


@pytest.fixture
def open_ticket(companies) -> Callable[[str, int, str, datetime], Ticket]:
    def open_(policy: str, severity: int, channel: str, at: datetime) -> Ticket:
        customer = CustomerFactory(company=companies[policy])
        return make_ticket(requester=customer, severity=severity, channel=channel, at=at)

    return open_


def only_target(ticket: Ticket, kind: TargetKind) -> SlaTarget:
    (target,) = SlaTarget.objects.filter(ticket=ticket, kind=kind)
    return target


def test_seeded_calendar_is_monday_to_friday_nine_to_five_in_berlin():
    policies = SlaPolicy.objects.select_related("calendar").order_by("code")
    assert [policy.code for policy in policies] == [STANDARD, VIP]
    (calendar,) = {policy.calendar for policy in policies}
    assert calendar.time_zone == "Europe/Berlin"
    assert list(calendar.intervals.values_list("weekday", "opens", "closes")) == [
        (weekday, time(9), time(17)) for weekday in range(5)
    ]


def test_seeded_policy_targets_are_the_service_description_table():
    rows = {
        (target.policy.code, target.severity): (
            target.first_response,
            target.first_response_clock,
            target.follow_up,
            target.follow_up_clock if target.follow_up is not None else None,
        )
        for target in SlaPolicyTarget.objects.select_related("policy")
    }
    assert rows == {
        (VIP, 1): (HOUR, Clock.CALENDAR, 4 * HOUR, Clock.CALENDAR),
        (VIP, 2): (HOUR, Clock.CALENDAR, 4 * HOUR, Clock.CALENDAR),
        (VIP, 3): (2 * HOUR, Clock.BUSINESS, 2 * BUSINESS_DAY, Clock.BUSINESS),
        (VIP, 4): (BUSINESS_DAY, Clock.BUSINESS, None, None),
        (VIP, 5): (BUSINESS_DAY, Clock.BUSINESS, None, None),
        **{(STANDARD, s): (BUSINESS_DAY, Clock.BUSINESS, None, None) for s in range(1, 6)},
    }


FIRST_RESPONSE_TABLE = [
    # VIP, portal, Friday 16:30
    (VIP, 1, WEB, berlin(2027, 3, 26, 16, 30), utc(2027, 3, 26, 16, 30)),
    (VIP, 2, WEB, berlin(2027, 3, 26, 16, 30), utc(2027, 3, 26, 16, 30)),
    (VIP, 3, WEB, berlin(2027, 3, 26, 16, 30), utc(2027, 3, 29, 8, 30)),
    (VIP, 4, WEB, berlin(2027, 3, 26, 16, 30), utc(2027, 3, 29, 14, 30)),
    (VIP, 5, WEB, berlin(2027, 3, 26, 16, 30), utc(2027, 3, 29, 14, 30)),
    (VIP, 1, WEB, berlin(2026, 10, 23, 16, 30), utc(2026, 10, 23, 15, 30)),
    (VIP, 2, WEB, berlin(2026, 10, 23, 16, 30), utc(2026, 10, 23, 15, 30)),
    (VIP, 3, WEB, berlin(2026, 10, 23, 16, 30), utc(2026, 10, 26, 9, 30)),
    (VIP, 4, WEB, berlin(2026, 10, 23, 16, 30), utc(2026, 10, 26, 15, 30)),
    (VIP, 5, WEB, berlin(2026, 10, 23, 16, 30), utc(2026, 10, 26, 15, 30)),
    # VIP, portal, Friday 10:00
    (VIP, 1, WEB, berlin(2027, 3, 26, 10), utc(2027, 3, 26, 10)),
    (VIP, 2, WEB, berlin(2027, 3, 26, 10), utc(2027, 3, 26, 10)),
    (VIP, 3, WEB, berlin(2027, 3, 26, 10), utc(2027, 3, 26, 11)),
    (VIP, 4, WEB, berlin(2027, 3, 26, 10), utc(2027, 3, 29, 8)),
    (VIP, 5, WEB, berlin(2027, 3, 26, 10), utc(2027, 3, 29, 8)),
    (VIP, 1, WEB, berlin(2026, 10, 23, 10), utc(2026, 10, 23, 9)),
    (VIP, 2, WEB, berlin(2026, 10, 23, 10), utc(2026, 10, 23, 9)),
    (VIP, 3, WEB, berlin(2026, 10, 23, 10), utc(2026, 10, 23, 10)),
    (VIP, 4, WEB, berlin(2026, 10, 23, 10), utc(2026, 10, 26, 9)),
    (VIP, 5, WEB, berlin(2026, 10, 23, 10), utc(2026, 10, 26, 9)),
    # VIP, e-mail received Friday 18:30: the clock starts Monday 09:00
    (VIP, 1, EMAIL, berlin(2027, 3, 26, 18, 30), utc(2027, 3, 29, 8)),
    (VIP, 2, EMAIL, berlin(2027, 3, 26, 18, 30), utc(2027, 3, 29, 8)),
    (VIP, 3, EMAIL, berlin(2027, 3, 26, 18, 30), utc(2027, 3, 29, 9)),
    (VIP, 4, EMAIL, berlin(2027, 3, 26, 18, 30), utc(2027, 3, 29, 15)),
    (VIP, 5, EMAIL, berlin(2027, 3, 26, 18, 30), utc(2027, 3, 29, 15)),
    (VIP, 1, EMAIL, berlin(2026, 10, 23, 18, 30), utc(2026, 10, 26, 9)),
    (VIP, 2, EMAIL, berlin(2026, 10, 23, 18, 30), utc(2026, 10, 26, 9)),
    (VIP, 3, EMAIL, berlin(2026, 10, 23, 18, 30), utc(2026, 10, 26, 10)),
    (VIP, 4, EMAIL, berlin(2026, 10, 23, 18, 30), utc(2026, 10, 26, 16)),
    (VIP, 5, EMAIL, berlin(2026, 10, 23, 18, 30), utc(2026, 10, 26, 16)),
    # VIP, portal, Saturday 03:00
    (VIP, 1, WEB, berlin(2027, 3, 27, 3), utc(2027, 3, 27, 3)),
    (VIP, 2, WEB, berlin(2027, 3, 27, 3), utc(2027, 3, 27, 3)),
    (VIP, 3, WEB, berlin(2027, 3, 27, 3), utc(2027, 3, 29, 9)),
    (VIP, 4, WEB, berlin(2027, 3, 27, 3), utc(2027, 3, 29, 15)),
    (VIP, 5, WEB, berlin(2027, 3, 27, 3), utc(2027, 3, 29, 15)),
    (VIP, 1, WEB, berlin(2026, 10, 24, 3), utc(2026, 10, 24, 2)),
    (VIP, 2, WEB, berlin(2026, 10, 24, 3), utc(2026, 10, 24, 2)),
    (VIP, 3, WEB, berlin(2026, 10, 24, 3), utc(2026, 10, 26, 10)),
    (VIP, 4, WEB, berlin(2026, 10, 24, 3), utc(2026, 10, 26, 16)),
    (VIP, 5, WEB, berlin(2026, 10, 24, 3), utc(2026, 10, 26, 16)),
    # VIP, portal, Sunday 00:30 UTC: the hour before the switch (01:30 CET / 02:30 CEST)
    (VIP, 1, WEB, utc(2027, 3, 28, 0, 30), utc(2027, 3, 28, 1, 30)),
    (VIP, 2, WEB, utc(2027, 3, 28, 0, 30), utc(2027, 3, 28, 1, 30)),
    (VIP, 3, WEB, utc(2027, 3, 28, 0, 30), utc(2027, 3, 29, 9)),
    (VIP, 4, WEB, utc(2027, 3, 28, 0, 30), utc(2027, 3, 29, 15)),
    (VIP, 5, WEB, utc(2027, 3, 28, 0, 30), utc(2027, 3, 29, 15)),
    (VIP, 1, WEB, utc(2026, 10, 25, 0, 30), utc(2026, 10, 25, 1, 30)),
    (VIP, 2, WEB, utc(2026, 10, 25, 0, 30), utc(2026, 10, 25, 1, 30)),
    (VIP, 3, WEB, utc(2026, 10, 25, 0, 30), utc(2026, 10, 26, 10)),
    (VIP, 4, WEB, utc(2026, 10, 25, 0, 30), utc(2026, 10, 26, 16)),
    (VIP, 5, WEB, utc(2026, 10, 25, 0, 30), utc(2026, 10, 26, 16)),
    # Standard: one business day for every severity
    (STANDARD, 1, WEB, berlin(2027, 3, 26, 16, 30), utc(2027, 3, 29, 14, 30)),
    (STANDARD, 2, WEB, berlin(2027, 3, 26, 16, 30), utc(2027, 3, 29, 14, 30)),
    (STANDARD, 3, WEB, berlin(2027, 3, 26, 16, 30), utc(2027, 3, 29, 14, 30)),
    (STANDARD, 4, WEB, berlin(2027, 3, 26, 16, 30), utc(2027, 3, 29, 14, 30)),
    (STANDARD, 5, WEB, berlin(2027, 3, 26, 16, 30), utc(2027, 3, 29, 14, 30)),
    (STANDARD, 1, WEB, berlin(2026, 10, 23, 16, 30), utc(2026, 10, 26, 15, 30)),
    (STANDARD, 2, WEB, berlin(2026, 10, 23, 16, 30), utc(2026, 10, 26, 15, 30)),
    (STANDARD, 3, WEB, berlin(2026, 10, 23, 16, 30), utc(2026, 10, 26, 15, 30)),
    (STANDARD, 4, WEB, berlin(2026, 10, 23, 16, 30), utc(2026, 10, 26, 15, 30)),
    (STANDARD, 5, WEB, berlin(2026, 10, 23, 16, 30), utc(2026, 10, 26, 15, 30)),
    (STANDARD, 1, EMAIL, berlin(2027, 3, 26, 18, 30), utc(2027, 3, 29, 15)),
    (STANDARD, 2, EMAIL, berlin(2027, 3, 26, 18, 30), utc(2027, 3, 29, 15)),
    (STANDARD, 3, EMAIL, berlin(2027, 3, 26, 18, 30), utc(2027, 3, 29, 15)),
    (STANDARD, 4, EMAIL, berlin(2027, 3, 26, 18, 30), utc(2027, 3, 29, 15)),
    (STANDARD, 5, EMAIL, berlin(2027, 3, 26, 18, 30), utc(2027, 3, 29, 15)),
    (STANDARD, 1, EMAIL, berlin(2026, 10, 23, 18, 30), utc(2026, 10, 26, 16)),
    (STANDARD, 2, EMAIL, berlin(2026, 10, 23, 18, 30), utc(2026, 10, 26, 16)),
    (STANDARD, 3, EMAIL, berlin(2026, 10, 23, 18, 30), utc(2026, 10, 26, 16)),
    (STANDARD, 4, EMAIL, berlin(2026, 10, 23, 18, 30), utc(2026, 10, 26, 16)),
    (STANDARD, 5, EMAIL, berlin(2026, 10, 23, 18, 30), utc(2026, 10, 26, 16)),
    (STANDARD, 1, WEB, berlin(2027, 3, 27, 3), utc(2027, 3, 29, 15)),
    (STANDARD, 2, WEB, berlin(2027, 3, 27, 3), utc(2027, 3, 29, 15)),
    (STANDARD, 3, WEB, berlin(2027, 3, 27, 3), utc(2027, 3, 29, 15)),
    (STANDARD, 4, WEB, berlin(2027, 3, 27, 3), utc(2027, 3, 29, 15)),
    (STANDARD, 5, WEB, berlin(2027, 3, 27, 3), utc(2027, 3, 29, 15)),
    (STANDARD, 1, WEB, berlin(2026, 10, 24, 3), utc(2026, 10, 26, 16)),
    (STANDARD, 2, WEB, berlin(2026, 10, 24, 3), utc(2026, 10, 26, 16)),
    (STANDARD, 3, WEB, berlin(2026, 10, 24, 3), utc(2026, 10, 26, 16)),
    (STANDARD, 4, WEB, berlin(2026, 10, 24, 3), utc(2026, 10, 26, 16)),
    (STANDARD, 5, WEB, berlin(2026, 10, 24, 3), utc(2026, 10, 26, 16)),
]


@pytest.mark.parametrize(
    ("policy", "severity", "channel", "opened", "due"),
    [
        pytest.param(
            policy,
            severity,
            channel,
            opened,
            due,
            id=f"{policy}-sev{severity}-{channel}-{when(opened)}",
        )
        for policy, severity, channel, opened, due in FIRST_RESPONSE_TABLE
    ],
)
def test_first_response_is_due_as_the_seed_table_promises(
    open_ticket, policy, severity, channel, opened, due
):
    ticket = open_ticket(policy, severity, channel, opened)

    target = only_target(ticket, TargetKind.FIRST_RESPONSE)
    assert (target.due_at, target.state) == (due, TargetState.ACTIVE)
    assert (target.policy.code, target.severity, target.received_at) == (policy, severity, opened)


CHANNEL_TABLE = [
    (Channel.WEB, berlin(2027, 3, 27, 3), utc(2027, 3, 27, 2), utc(2027, 3, 27, 3)),
    (Channel.PHONE, berlin(2027, 3, 27, 3), utc(2027, 3, 27, 2), utc(2027, 3, 27, 3)),
    (Channel.EMAIL, berlin(2027, 3, 27, 3), utc(2027, 3, 29, 7), utc(2027, 3, 29, 8)),
    (Channel.CHAT, berlin(2027, 3, 27, 3), utc(2027, 3, 29, 7), utc(2027, 3, 29, 8)),
    (Channel.VOICEMAIL, berlin(2027, 3, 27, 3), utc(2027, 3, 29, 7), utc(2027, 3, 29, 8)),
    (Channel.WEB, berlin(2026, 10, 24, 3), utc(2026, 10, 24, 1), utc(2026, 10, 24, 2)),
    (Channel.PHONE, berlin(2026, 10, 24, 3), utc(2026, 10, 24, 1), utc(2026, 10, 24, 2)),
    (Channel.EMAIL, berlin(2026, 10, 24, 3), utc(2026, 10, 26, 8), utc(2026, 10, 26, 9)),
    (Channel.CHAT, berlin(2026, 10, 24, 3), utc(2026, 10, 26, 8), utc(2026, 10, 26, 9)),
    (Channel.VOICEMAIL, berlin(2026, 10, 24, 3), utc(2026, 10, 26, 8), utc(2026, 10, 26, 9)),
]


@pytest.mark.parametrize(
    ("channel", "opened", "started", "due"),
    [pytest.param(*row, id=f"{row[0]}-{when(row[1])}") for row in CHANNEL_TABLE],
)
def test_vip_sev1_opened_saturday_0300_starts_its_clock_by_channel(
    open_ticket, channel, opened, started, due
):
    ticket = open_ticket(VIP, 1, channel, opened)

    target = only_target(ticket, TargetKind.FIRST_RESPONSE)
    assert (target.started_at, target.due_at) == (started, due)
    ticket.refresh_from_db()
    assert ticket.sla_clock_started_at == started


FOLLOW_UP_TABLE = [
    (1, berlin(2027, 3, 25, 15), utc(2027, 3, 25, 18), utc(2027, 3, 25, 17, 12)),
    (2, berlin(2027, 3, 25, 15), utc(2027, 3, 25, 18), utc(2027, 3, 25, 17, 12)),
    (3, berlin(2027, 3, 25, 15), utc(2027, 3, 29, 13), utc(2027, 3, 29, 9, 48)),
    (1, berlin(2026, 10, 22, 15), utc(2026, 10, 22, 17), utc(2026, 10, 22, 16, 12)),
    (2, berlin(2026, 10, 22, 15), utc(2026, 10, 22, 17), utc(2026, 10, 22, 16, 12)),
    (3, berlin(2026, 10, 22, 15), utc(2026, 10, 26, 14), utc(2026, 10, 26, 10, 48)),
    (1, berlin(2027, 3, 27, 23), utc(2027, 3, 28, 2), utc(2027, 3, 28, 1, 12)),
    (2, berlin(2027, 3, 27, 23), utc(2027, 3, 28, 2), utc(2027, 3, 28, 1, 12)),
    (3, berlin(2027, 3, 27, 23), utc(2027, 3, 30, 15), utc(2027, 3, 30, 11, 48)),
    (1, berlin(2026, 10, 24, 23), utc(2026, 10, 25, 1), utc(2026, 10, 25, 0, 12)),
    (2, berlin(2026, 10, 24, 23), utc(2026, 10, 25, 1), utc(2026, 10, 25, 0, 12)),
    (3, berlin(2026, 10, 24, 23), utc(2026, 10, 27, 16), utc(2026, 10, 27, 12, 48)),
]


@pytest.mark.parametrize(
    ("severity", "replied", "due", "warn"),
    [
        pytest.param(severity, replied, due, warn, id=f"sev{severity}-reply-{when(replied)}")
        for severity, replied, due, warn in FOLLOW_UP_TABLE
    ],
)
def test_vip_follow_up_is_due_as_the_seed_table_promises(open_ticket, severity, replied, due, warn):
    ticket = open_ticket(VIP, severity, Channel.WEB, replied - HOUR)

    ticket_services.ticket_reply(ticket=ticket, author=AgentFactory(), body="Looking.", at=replied)

    target = only_target(ticket, TargetKind.FOLLOW_UP)
    assert (target.started_at, target.received_at) == (replied, replied)
    assert (target.due_at, target.warn_at, target.state) == (due, warn, TargetState.ACTIVE)


@pytest.mark.parametrize(
    ("policy", "severity"),
    [
        pytest.param(VIP, 4, id="vip-sev4"),
        pytest.param(VIP, 5, id="vip-sev5"),
        *(pytest.param(STANDARD, s, id=f"standard-sev{s}") for s in range(1, 6)),
    ],
)
def test_severity_without_a_numeric_follow_up_target_gets_no_follow_up_row(
    open_ticket, policy, severity
):
    ticket = open_ticket(policy, severity, WEB, berlin(2027, 3, 25, 14))

    ticket_services.ticket_reply(
        ticket=ticket, author=AgentFactory(), body="Looking.", at=berlin(2027, 3, 25, 15)
    )

    assert list(ticket.sla_targets.values_list("kind", "state")) == [
        (TargetKind.FIRST_RESPONSE, TargetState.FULFILLED)
    ]


@pytest.mark.parametrize(
    ("severity", "opened", "warn"),
    [
        pytest.param(1, berlin(2027, 3, 26, 16, 30), utc(2027, 3, 26, 16, 18), id="sev1-spring"),
        pytest.param(2, berlin(2027, 3, 26, 16, 30), utc(2027, 3, 26, 16, 18), id="sev2-spring"),
        pytest.param(3, berlin(2027, 3, 26, 16, 30), utc(2027, 3, 29, 8, 6), id="sev3-spring"),
        pytest.param(4, berlin(2027, 3, 26, 16, 30), utc(2027, 3, 29, 12, 54), id="sev4-spring"),
        pytest.param(5, berlin(2027, 3, 26, 16, 30), utc(2027, 3, 29, 12, 54), id="sev5-spring"),
        pytest.param(1, berlin(2026, 10, 23, 16, 30), utc(2026, 10, 23, 15, 18), id="sev1-autumn"),
        pytest.param(2, berlin(2026, 10, 23, 16, 30), utc(2026, 10, 23, 15, 18), id="sev2-autumn"),
        pytest.param(3, berlin(2026, 10, 23, 16, 30), utc(2026, 10, 26, 9, 6), id="sev3-autumn"),
        pytest.param(4, berlin(2026, 10, 23, 16, 30), utc(2026, 10, 26, 13, 54), id="sev4-autumn"),
        pytest.param(5, berlin(2026, 10, 23, 16, 30), utc(2026, 10, 26, 13, 54), id="sev5-autumn"),
    ],
)
def test_first_response_warns_at_80_percent_of_the_target_in_its_own_clock(
    open_ticket, severity, opened, warn
):
    ticket = open_ticket(VIP, severity, Channel.WEB, opened)

    assert only_target(ticket, TargetKind.FIRST_RESPONSE).warn_at == warn
