"""No double booking on PostgreSQL: an exclusion constraint over each agent's blocked ranges.

PostgreSQL only, so it is not in `Booking.Meta.constraints` (that would break SQLite migrations
and make `makemigrations` want to add it there): this migration runs its SQL only when the
database is PostgreSQL, and the migration state never learns of it. On SQLite the booking services
guard the same rule in a write-locked transaction (`vipsupport.write_lock.sqlite_write_lock`).

`btree_gist` lets the GiST index compare `agent_id` with `=`; it is a trusted extension
(PostgreSQL 13+), so a database owner without superuser rights may create it.
"""

from django.apps.registry import Apps
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

CONSTRAINT = "booking_agent_no_overlap"  # scheduling.models.BOOKING_NO_OVERLAP

ADD = f"""
ALTER TABLE scheduling_booking ADD CONSTRAINT {CONSTRAINT}
EXCLUDE USING gist (
    agent_id WITH =,
    tstzrange(blocked_from, blocked_until, '[)') WITH &&
) WHERE (status = 'confirmed')
"""
DROP = f"ALTER TABLE scheduling_booking DROP CONSTRAINT IF EXISTS {CONSTRAINT}"


def add_constraint(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    schema_editor.execute(ADD)


def drop_constraint(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    # The extension stays: other tables may use it, and it is harmless.
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("scheduling", "0001_initial")]

    operations = [
        migrations.RunPython(add_constraint, drop_constraint, elidable=False),
    ]
