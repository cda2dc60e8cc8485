"""The reference of `make bench`: a bare FastAPI app answering {"status": "ok"}, served by uvicorn like the services.

    uvicorn --app-dir bench hello:app --port 8190 --no-access-log
"""

from fastapi import FastAPI

app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)


@app.get("/hello")
async def hello() -> dict[str, str]:
    return {"status": "ok"}


@app.api_route("/{path:path}", methods=["GET", "POST"])
async def anything(path: str) -> dict[str, str]:
    """The same answer on any path: a stand-in upstream that isolates the gateway's own hop."""
    return {"status": "ok"}
