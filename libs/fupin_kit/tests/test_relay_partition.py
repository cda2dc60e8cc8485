"""The relay picks each key's partition itself (a faster murmur2) and sends a partition's rows in record batches: the
same partition as the producer's default partitioner, so the events of one key stay on one partition across the
change and in id order."""

import random
import uuid

import asyncpg
from aiokafka.partitioner import DefaultPartitioner
from aiokafka.partitioner import murmur2 as aiokafka_murmur2

from fupin_kit.db import Database, asyncpg_dsn
from fupin_kit.events.outbox import copy_events
from fupin_kit.events.relay import OutboxRelay, build_producer, murmur2
from fupin_kit.testing import ensure_topics, events_about

TOPIC = "kit-test-partitioned"


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


async def test_rows_go_out_in_record_batches_on_their_keys_partitions_in_id_order(db: Database, kafka: str) -> None:
    """The relay appends the rows of a partition to record batches sent whole: every event arrives once, on the
    default partitioner's partition for its key, a key's events in the order of their rows."""
    await ensure_topics(kafka, [TOPIC], partitions=3)
    subjects = [uuid.uuid4().hex for _ in range(5)]
    conn = await asyncpg.connect(asyncpg_dsn(db.url))
    try:
        async with conn.transaction():
            await copy_events(conn, [(TOPIC, subjects[i % 5], {"n": i}) for i in range(200)], source="kit")
    finally:
        await conn.close()
    producer = build_producer(kafka)
    await producer.start()
    try:
        while await OutboxRelay(db, producer, component="kit").publish_batch():
            pass
    finally:
        await producer.stop()
    received = await events_about(kafka, TOPIC, subjects, count=200)
    partitions = [0, 1, 2]
    for record in received:
        assert record.partition == DefaultPartitioner()(record.key.encode(), partitions, partitions)
    for i, subject in enumerate(subjects):
        assert [r.event["data"]["n"] for r in received if r.key == subject] == list(range(i, 200, 5))
