"""`fupin-dlq list|show|replay [--topic T] [--id ID]`: what the consumers dead-lettered, and sending it back.

Every `<topic>.dlq` record carries the original value and key and the headers `error` (the exception class),
`consumer` (the group), `topic`, `partition`, `offset`. Output is masked: envelope fields and the error only for
`list`; `show` prints the event with personal fields (`person_ref`, birth dates, names, ID numbers) replaced.

`replay` republishes the original value and key to the original topic, so the normal consumer path handles it and
its inbox (keyed by the event id) still drops anything already processed. Replayed records are remembered by the
consumer group `fupin-dlq-replayed` (its committed offset per DLQ partition): `list` shows what is pending after
it (`--all`: everything), `replay` without `--id` replays the pending ones and moves that offset past them.
"""

import asyncio
import json
import os
import re
from dataclasses import dataclass
from typing import Annotated, Any

import typer
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from rich.console import Console
from rich.table import Table

from fupin_events import topic_names
from fupin_kit.kafka_security import kafka_client_options

REPLAYED_GROUP = "fupin-dlq-replayed"
MASK = "***"
PERSONAL_KEYS = re.compile(r"(person_ref|birth|name|id_number|diagnos|phone|address)", re.IGNORECASE)
ID_NUMBER = re.compile(r"\b\d{6}(\d{8}|\*{8})\d{3}[\dXx]\b")


def kafka_bootstrap() -> str:
    """`KAFKA_BOOTSTRAP_SERVERS` as the services read it (in the cluster: the Job's environment), else the dev stack's
    local broker (`FUPIN_KAFKA_PORT`, 9092); TLS and SASL come from the same variables as the services'
    (`fupin_kit.kafka_security`)."""
    return os.environ.get("KAFKA_BOOTSTRAP_SERVERS", f"127.0.0.1:{os.environ.get('FUPIN_KAFKA_PORT', '9092')}")


app = typer.Typer(help="Dead-lettered events: list, show (masked) and replay through the normal consumer path.",
                  no_args_is_help=True, add_completion=False)
console = Console(soft_wrap=True)


@dataclass
class DeadLetter:
    dlq: str
    partition: int
    offset: int
    key: str
    value: bytes
    headers: dict[str, str]
    replayed: bool

    @property
    def event(self) -> dict[str, Any]:
        try:
            parsed = json.loads(self.value)
        except ValueError:
            return {}
        return parsed if isinstance(parsed, dict) else {}

    @property
    def original_topic(self) -> str:
        return self.headers.get("topic") or self.dlq.removesuffix(".dlq")


def mask(value: Any, key: str = "") -> Any:
    """Personal fields replaced by `***`; ID-number-like strings anywhere masked too."""
    if PERSONAL_KEYS.search(key):
        return MASK
    if isinstance(value, dict):
        return {k: mask(v, str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [mask(v, key) for v in value]
    if isinstance(value, str):
        return ID_NUMBER.sub(MASK, value)
    return value


def dlq_topics(topic: str | None = None) -> list[str]:
    if topic:
        return [topic if topic.endswith(".dlq") else f"{topic}.dlq"]
    return [f"{t}.dlq" for t in topic_names()]


async def read_dead_letters(bootstrap: str, topics: list[str], *, include_replayed: bool = True) -> list[DeadLetter]:
    """Every record of `topics` from the beginning to the current end (nothing is committed)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=REPLAYED_GROUP, enable_auto_commit=False,
                                **kafka_client_options())
    await consumer.start()
    found: list[DeadLetter] = []
    try:
        partitions = await _partitions(consumer, topics)
        if not partitions:
            return []
        consumer.assign(partitions)
        ends = await consumer.end_offsets(partitions)
        starts = await consumer.beginning_offsets(partitions)
        replayed_up_to = {tp: (await consumer.committed(tp)) or 0 for tp in partitions}
        pending = {tp for tp in partitions if ends[tp] > starts[tp]}
        for tp in partitions:
            consumer.seek(tp, starts[tp])
        while pending:
            batch = await consumer.getmany(*pending, timeout_ms=2000)
            if not batch:
                break
            for tp, records in batch.items():
                for record in records:
                    if record.offset >= ends[tp]:
                        continue
                    found.append(_dead_letter(record, replayed=record.offset < replayed_up_to[tp]))
                if records and records[-1].offset + 1 >= ends[tp]:
                    pending.discard(tp)
    finally:
        await consumer.stop()
    return [d for d in found if include_replayed or not d.replayed]


async def _partitions(consumer: AIOKafkaConsumer, topics: list[str]) -> list[TopicPartition]:
    """The partitions of those `topics` that exist (a fresh metadata request: the consumer subscribed to none)."""
    cluster = await consumer._client.fetch_all_metadata()
    return [TopicPartition(t, p) for t in topics for p in sorted(cluster.partitions_for_topic(t) or [])]


def _dead_letter(record: ConsumerRecord, *, replayed: bool) -> DeadLetter:
    headers = {k: v.decode("utf-8", "replace") for k, v in (record.headers or [])}
    return DeadLetter(record.topic, record.partition, record.offset,
                      record.key.decode("utf-8", "replace") if record.key else "", record.value or b"", headers,
                      replayed)


async def count_dead_letters(bootstrap: str, topic: str | None = None) -> dict[str, int]:
    """Records held per DLQ topic (end minus beginning offsets), for checks such as "the DLQ is empty"."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, **kafka_client_options())
    await consumer.start()
    try:
        partitions = await _partitions(consumer, dlq_topics(topic))
        if not partitions:
            return {}
        ends = await consumer.end_offsets(partitions)
        starts = await consumer.beginning_offsets(partitions)
    finally:
        await consumer.stop()
    counts: dict[str, int] = {}
    for tp in partitions:
        counts[tp.topic] = counts.get(tp.topic, 0) + ends[tp] - starts[tp]
    return counts


async def replay(bootstrap: str, letters: list[DeadLetter], *, mark: bool) -> int:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True, acks="all",
                                **kafka_client_options())
    await producer.start()
    try:
        for letter in letters:
            await producer.send_and_wait(
                letter.original_topic, letter.value, key=letter.key.encode() if letter.key else None,
                headers=[("replayed-from", f"{letter.dlq}/{letter.partition}@{letter.offset}".encode())])
    finally:
        await producer.stop()
    if mark and letters:
        consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=REPLAYED_GROUP, enable_auto_commit=False,
                                **kafka_client_options())
        await consumer.start()
        try:
            upto: dict[TopicPartition, int] = {}
            for letter in letters:
                tp = TopicPartition(letter.dlq, letter.partition)
                upto[tp] = max(upto.get(tp, 0), letter.offset + 1)
            consumer.assign(list(upto))
            await consumer.commit(upto)
        finally:
            await consumer.stop()
    return len(letters)


TopicOpt = Annotated[str | None, typer.Option("--topic", help="an event topic (or its .dlq); all when omitted")]
IdOpt = Annotated[str | None, typer.Option("--id", help="the event's CloudEvents id")]


def _select(topic: str | None, event_id: str | None, include_replayed: bool) -> list[DeadLetter]:
    letters = asyncio.run(read_dead_letters(kafka_bootstrap(), dlq_topics(topic),
                                            include_replayed=include_replayed or event_id is not None))
    return [d for d in letters if event_id is None or str(d.event.get("id")) == event_id]


@app.command("list")
def list_(topic: TopicOpt = None, event_id: IdOpt = None,
          all_: Annotated[bool, typer.Option("--all", help="also those already replayed")] = False) -> None:
    """Dead-lettered events (masked: envelope fields and the error class only)."""
    letters = _select(topic, event_id, all_)
    table = Table(title=f"dead letters on {kafka_bootstrap()}", title_justify="left")
    for column in ("dlq", "partition@offset", "id", "type", "subject", "time", "error", "consumer", "replayed"):
        table.add_column(column, overflow="fold")
    for d in letters:
        event = d.event
        table.add_row(d.dlq, f"{d.partition}@{d.offset}", str(event.get("id", "?")), str(event.get("type", "?")),
                      str(mask(event.get("subject", d.key))), str(event.get("time", "")), d.headers.get("error", ""),
                      d.headers.get("consumer", ""), "yes" if d.replayed else "")
    console.print(table)
    console.print(f"{len(letters)} dead letter(s)")


@app.command()
def show(topic: TopicOpt = None, event_id: IdOpt = None) -> None:
    """The events themselves, personal fields masked."""
    letters = _select(topic, event_id, include_replayed=True)
    if not letters:
        console.print("no such dead letter")
        raise typer.Exit(1)
    for d in letters:
        console.rule(f"{d.dlq} {d.partition}@{d.offset}")
        print(json.dumps({"headers": d.headers, "event": mask(d.event)}, ensure_ascii=False, indent=2))


@app.command("replay")
def replay_(topic: TopicOpt = None, event_id: IdOpt = None) -> None:
    """Republish to the original topic (the inbox drops what was already processed)."""
    letters = _select(topic, event_id, include_replayed=False)
    count = asyncio.run(replay(kafka_bootstrap(), letters, mark=event_id is None))
    console.print(f"replayed {count} event(s)")
