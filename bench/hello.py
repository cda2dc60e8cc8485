"""The reference of `make bench`: a bare FastAPI app answering {"status": "ok"}, served by uvicorn like the services.

    uvicorn --app-dir bench hello:app --port 8190 --no-access-log
"""

from fastapi import FastAPI

app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)


@app.get("/hello")
async def hello() -> dict[str, str]:
    return {"status": "ok"}
