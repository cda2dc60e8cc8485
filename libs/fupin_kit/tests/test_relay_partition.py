"""The relay picks each key's partition itself (a faster murmur2): the same partition as the producer's default
partitioner, so the events of one key stay on one partition across the change and in id order."""

import random

from aiokafka.partitioner import DefaultPartitioner
from aiokafka.partitioner import murmur2 as aiokafka_murmur2

from fupin_kit.events.relay import murmur2


def test_murmur2_equals_aiokafka_for_every_length_and_byte() -> None:
    rng = random.Random(16)
    keys = [b"", b"a", b"ab", b"abc", "户-é".encode(), bytes(range(256))]
    keys += [bytes(rng.randrange(256) for _ in range(rng.randrange(80))) for _ in range(3000)]
    for key in keys:
        assert murmur2(key) == aiokafka_murmur2(key), key


def test_partition_of_a_key_is_the_default_partitioners() -> None:
    rng = random.Random(7)
    for partitions in (1, 3, 7, 12):
        ids = list(range(partitions))
        for _ in range(300):
            key = str(rng.getrandbits(128)).encode()
            assert ids[(murmur2(key) & 0x7FFFFFFF) % partitions] == DefaultPartitioner()(key, ids, ids)
