"""Bulk intake uploads are spooled to disk and parsed from there; a body over the importer's limit is 413."""

from collections.abc import AsyncIterator

import httpx
from registry_helpers import WRITE, make_tree
from test_imports import finished, to_csv, upload

from registry.imports import service
from registry.imports.router import MAX_UPLOAD_BODY_BYTES
from registry.synthetic import households


async def test_a_large_gb18030_upload_is_spooled_imported_and_deleted(client: httpx.AsyncClient) -> None:
    tree = await make_tree(client)
    families = list(households(4, villages=[tree["village"]]))
    # past the form parser's 1 MiB in memory: the upload is on disk before the import reads it (blank rows skipped)
    content = to_csv(families).decode().encode("gb18030") + b",,,,,,\r\n" * 300_000
    assert len(content) > 2 * 1024 * 1024

    accepted = await upload(client, "city.csv", content)

    assert accepted.status_code == 202, accepted.text
    import_id = accepted.json()["import_id"]
    job = await finished(client, import_id)
    assert job["state"] == "done", job
    assert job["households_created"] == len(families) and job["rows_total"] == sum(len(f) for f in families)
    assert not service.spool_path(import_id).exists()


async def test_an_upload_over_the_limit_is_413_while_it_arrives(client: httpx.AsyncClient) -> None:
    async def body() -> AsyncIterator[bytes]:  # chunked, no Content-Length: counted as it arrives
        yield (b"--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.csv\"\r\n\r\n")
        piece = b"x" * (1 << 20)
        for _ in range(MAX_UPLOAD_BODY_BYTES // len(piece) + 1):
            yield piece
        yield b"\r\n--b--\r\n"

    answer = await client.post("/registry/imports", content=body(),
                               headers={**WRITE, "Content-Type": "multipart/form-data; boundary=b"})

    assert answer.status_code == 413
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["code"] == "payload_too_large"
