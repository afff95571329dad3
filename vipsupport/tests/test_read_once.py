"""`read_once`: inside a block a read is made once per key; outside, every time."""

from vipsupport.read_once import kept, read_once


def test_a_read_is_made_once_per_key_inside_a_block_and_every_time_outside():
    reads: list[str] = []

    def read(key: str) -> str:
        reads.append(key)
        return key.upper()

    assert kept("a", lambda: read("a")) == "A"
    with read_once():
        assert kept("a", lambda: read("a")) == "A"
        assert kept("a", lambda: read("a")) == "A"
        assert kept("b", lambda: read("b")) == "B"
        with read_once():  # an inner block shares the outer one's reads
            assert kept("b", lambda: read("b")) == "B"
    assert kept("a", lambda: read("a")) == "A"

    assert reads == ["a", "a", "b", "a"]
