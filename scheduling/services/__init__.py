"""Every write in scheduling, one module per concern; import the module you need, e.g.
`from scheduling.services import bookings`.

- `bookings`: book, move, cancel and mark calls, and the rules and locks that keep them apart;
- `availability`: agents' schedules, time off and busy-time calendars (adding and deleting them);
- `feeds`: fetching busy-time calendars by address into their last good copy;
- `reminders`: the 24-hour and 1-hour reminder scan.

The call e-mails are rendered and written to the project's outbox by `scheduling.emails`;
reading busy time out of a calendar is `scheduling.busy`.
"""
