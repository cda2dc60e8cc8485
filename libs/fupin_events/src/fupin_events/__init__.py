"""Fupin's event contracts (contract §6): every topic, its producer, its payload model and its retention.

Producers build a payload model (`fupin_events.payloads`) and stage it with the kit's outbox; consumers parse `data`
with the same model; test fakes build the same models. Nothing here touches a database or a broker.
"""

from fupin_events.envelope import CloudEvent
from fupin_events.topics import TOPICS, Topic, dlq, payload_model, topic, topic_names

__all__ = ["TOPICS", "CloudEvent", "Topic", "dlq", "payload_model", "topic", "topic_names"]
