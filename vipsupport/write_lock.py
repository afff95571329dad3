"""The SQLite stand-in for row locks: one writer transaction at a time, taken before reading."""

from django.db import connection


def sqlite_write_lock() -> None:
    """On SQLite, make the current transaction the database's one writer before it reads.

    SQLite ignores SELECT … FOR UPDATE (and SKIP LOCKED), and Django opens its transactions with
    a plain (deferred) BEGIN, which takes no lock: two workers could both read "free" (a slot, a
    pending e-mail) and both act on it. Issuing a write first takes SQLite's single RESERVED lock,
    as BEGIN IMMEDIATE would: a second such transaction waits here (up to the connection's busy
    timeout) until the first commits, and then reads what the first one wrote. The UPDATE matches
    no row; SQLite takes the lock all the same. This must be the transaction's first statement: a
    transaction that has read holds a SHARED lock, and SQLite refuses (rather than waits for) its
    upgrade while another writer waits for that lock. So callers must not run inside a
    transaction that has already read.

    PostgreSQL needs none of this: its row locks and constraints see concurrent transactions.
    """
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            # django_migrations exists in every Django database; the row id 0 never does.
            cursor.execute("UPDATE django_migrations SET id = id WHERE id = 0")
