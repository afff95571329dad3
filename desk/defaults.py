"""The support desk a new installation starts with: the service description's hours, Monday to
Friday 9:00-17:00 CET. Migrations seed it; from then on it is data admins change in the admin."""

import datetime

DESK_NAME = "Support desk Mon–Fri 09:00–17:00"
DESK_ZONE = "Europe/Berlin"
DESK_WEEKLY = {weekday: ((datetime.time(9), datetime.time(17)),) for weekday in range(5)}
