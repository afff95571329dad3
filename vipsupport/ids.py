"""Numbers and ids typed into query strings and forms: ASCII digits only, within what the
database can hold.

`str.isdigit()` accepts "²" and "١٢", which `int()` then refuses or reads; and an id past 64 bits
makes SQLite raise `OverflowError`. Every number the portal reads from a request goes through
`parse_int`, and every id through `parse_id` (or the form fields in `vipsupport.fields`).
"""

from __future__ import annotations

# The largest value a 64-bit signed integer column (Django's BigAutoField) can hold.
MAX_ID = 2**63 - 1


def parse_int(
    value: object, *, minimum: int | None = None, maximum: int | None = None
) -> int | None:
    """The whole number `value` spells in ASCII digits (or holds, if already an int), within the
    bounds; None for anything else: signs, spaces, other scripts' digits, too many digits."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 19:
        number = int(value)
    else:
        return None
    if (minimum is not None and number < minimum) or (maximum is not None and number > maximum):
        return None
    return number


def parse_id(value: object) -> int | None:
    """A database id (1 to `MAX_ID`) from a request, or None."""
    return parse_int(value, minimum=1, maximum=MAX_ID)
