"""The events' AsyncAPI document and its page, served by the gateway without a token."""

from fupin_events import topic_names


async def test_asyncapi_document_and_page_list_every_topic(gateway_with) -> None:  # type: ignore[no-untyped-def]
    async with gateway_with() as http:
        document = await http.get("/asyncapi.json")
        page = await http.get("/asyncapi")

    assert document.status_code == 200 and document.json()["asyncapi"] == "3.0.0"
    assert {c["address"] for c in document.json()["channels"].values()} == set(topic_names())
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    for name in topic_names():
        assert f"<h2>{name}</h2>" in page.text
    assert "http://" not in page.text and "https://" not in page.text  # nothing loaded from outside the stack
