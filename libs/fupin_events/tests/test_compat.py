"""A payload change that would break an existing consumer is refused unless the topic's version changes."""

import json

import pytest

from fupin_events import TOPICS
from fupin_events.asyncapi import asyncapi_document
from fupin_events.compat import breaking_changes, current_schema, snapshot_path


@pytest.mark.parametrize("topic", TOPICS, ids=lambda t: t.name)
def test_every_topic_version_is_compatible_with_its_snapshot(topic):
    path = snapshot_path(topic)
    assert path.exists(), f"no schema snapshot for {topic.name} v{topic.version}: python -m fupin_events.compat --write"
    assert breaking_changes(json.loads(path.read_text()), current_schema(topic)) == []


def schema(**props):
    return {"type": "object", "properties": props, "required": list(props)}


def test_a_removed_field_is_breaking():
    assert breaking_changes(schema(a={"type": "string"}, b={"type": "integer"}),
                            schema(a={"type": "string"})) == ["b: removed"]


def test_a_retyped_field_is_breaking():
    assert breaking_changes(schema(a={"type": "string"}), schema(a={"type": "integer"})) == [
        "a: type ['string'] became ['integer']"]


def test_a_nested_retype_is_breaking():
    listing = schema(items={"type": "array", "items": {"$ref": "#/$defs/M"}})
    old = listing | {"$defs": {"M": schema(x={"type": "string"})}}
    new = listing | {"$defs": {"M": schema(x={"type": "number"})}}
    assert breaking_changes(old, new) == ["items[].x: type ['string'] became ['number']"]


def test_an_added_field_or_a_widened_type_is_compatible():
    assert breaking_changes(schema(a={"type": "string"}),
                            schema(a={"anyOf": [{"type": "string"}, {"type": "null"}]}, b={"type": "string"})) == []


def test_a_required_field_made_optional_is_breaking():
    new = {"type": "object", "properties": {"a": {"type": "string"}}, "required": []}
    assert breaking_changes(schema(a={"type": "string"}), new) == ["a: no longer required"]


def test_asyncapi_document_has_a_channel_and_operations_per_topic():
    doc = asyncapi_document()
    assert doc["asyncapi"] == "3.0.0"
    assert {c["address"] for c in doc["channels"].values()} == {t.name for t in TOPICS}
    sends = [o for o in doc["operations"].values() if o["action"] == "send"]
    assert len(sends) == len(TOPICS)
    for message in doc["components"]["messages"].values():
        ref = message["payload"]["allOf"][1]["properties"]["data"]["$ref"]
        assert ref.rsplit("/", 1)[-1] in doc["components"]["schemas"]
    assert "$defs" not in json.dumps(doc)
