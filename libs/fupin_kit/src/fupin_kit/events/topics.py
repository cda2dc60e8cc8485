"""Where an event topic's name meets Kafka: the optional namespace prefix (`FUPIN_TOPIC_PREFIX`).

The platform's topics are named by the event contracts (`fupin_events`) and those names are what events, envelopes,
outbox and inbox rows carry. A component started with `FUPIN_TOPIC_PREFIX` (PlatformSettings.topic_prefix) reads
and writes the Kafka topics `<prefix><name>` (and `<prefix><name>.dlq`) instead: the in-process test suites give
each run a prefix of its own, so their events never reach the running stack's consumers. Empty (the default) in
production and the dev stack: the Kafka topic is the contract's name.
"""

import os

PREFIX_ENV = "FUPIN_TOPIC_PREFIX"


def topic_prefix() -> str:
    """The prefix of this process (`FUPIN_TOPIC_PREFIX`, empty when unset)."""
    return os.environ.get(PREFIX_ENV, "")


def kafka_topic(name: str, prefix: str | None = None) -> str:
    """The Kafka topic of event topic `name` (a name already carrying the prefix is returned as it is)."""
    prefix = topic_prefix() if prefix is None else prefix
    return name if not prefix or name.startswith(prefix) else prefix + name


def event_topic(kafka_name: str, prefix: str | None = None) -> str:
    """The event topic (the contract's name) of Kafka topic `kafka_name`."""
    prefix = topic_prefix() if prefix is None else prefix
    return kafka_name.removeprefix(prefix) if prefix else kafka_name
