"""The AsyncAPI 3.0 document of the platform's events, generated from the topic table and the payload models."""

from typing import Any

from fupin_events.envelope import CloudEvent
from fupin_events.topics import TOPICS, Topic

ASYNCAPI_VERSION = "3.0.0"


def payload_schema(t: Topic) -> dict[str, Any]:
    """The JSON Schema of a topic's `data`, self-contained (its `$defs` inlined at the top level)."""
    return t.payload.model_json_schema(ref_template="#/components/schemas/{model}")


def asyncapi_document(*, server: str = "127.0.0.1:9092", version: str = "2.0.0") -> dict[str, Any]:
    """Channels = topics, one message per topic (a CloudEvent whose `data` is the payload model), and one
    operation per producer (`send`) and per consumer (`receive`)."""
    schemas: dict[str, Any] = {}
    channels: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    envelope = CloudEvent.model_json_schema()
    envelope["properties"].pop("data", None)
    schemas["CloudEvent"] = envelope
    for t in TOPICS:
        schema = payload_schema(t)
        schemas.update(schema.pop("$defs", {}))
        name = t.payload.__name__
        schemas[name] = schema
        key = _key(t.name)
        messages[key] = {
            "name": t.name,
            "title": t.summary or t.name,
            "contentType": "application/cloudevents+json",
            "headers": {"type": "object", "properties": {"traceparent": {"type": "string"}}},
            "payload": {"allOf": [{"$ref": "#/components/schemas/CloudEvent"}, {
                "type": "object", "required": ["data"],
                "properties": {"type": {"const": t.type}, "data": {"$ref": f"#/components/schemas/{name}"}}}]},
            "x-topic-version": t.version,
            "x-retention": t.retention,
        }
        channels[key] = {
            "address": t.name, "description": t.summary,
            "messages": {key: {"$ref": f"#/components/messages/{key}"}},
            "bindings": {"kafka": {"topic": t.name, "partitions": 3,
                                   "topicConfiguration": _topic_configuration(t)}},
        }
        operations[f"{t.producer}_sends_{key}"] = {
            "action": "send", "channel": {"$ref": f"#/channels/{key}"}, "summary": f"{t.producer} publishes",
            "messages": [{"$ref": f"#/channels/{key}/messages/{key}"}]}
        for consumer in t.consumers:
            operations[f"{consumer}_receives_{key}"] = {
                "action": "receive", "channel": {"$ref": f"#/channels/{key}"}, "summary": f"{consumer} consumes",
                "messages": [{"$ref": f"#/channels/{key}/messages/{key}"}]}
    return {
        "asyncapi": ASYNCAPI_VERSION,
        "info": {"title": "Fupin events", "version": version,
                 "description": "Kafka topics of the Fupin platform (contract §6). Every message value is a "
                                "CloudEvents 1.0 JSON document whose key is its subject; an event that can never "
                                "be processed goes to `<topic>.dlq`."},
        "defaultContentType": "application/cloudevents+json",
        "servers": {"dev": {"host": server, "protocol": "kafka", "description": "the local single-node broker"}},
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": schemas},
    }


def _key(topic: str) -> str:
    return topic.replace("-", "_")


def _topic_configuration(t: Topic) -> dict[str, Any]:
    if t.retention == "compacted":
        return {"cleanup.policy": ["compact"], "retention.ms": -1}
    if t.retention == "forever":
        return {"retention.ms": -1}
    return {}
