"""The pseudonym key reaches a route from the app's settings (fupin_kit.pseudonyms), not from a module's own
settings."""

from types import SimpleNamespace

import httpx
from fastapi import FastAPI
from pydantic import SecretStr

from fupin_kit.ids import pseudonym
from fupin_kit.pseudonyms import PseudonymKey

NUMBER = "11010519491231002X"


async def test_a_route_gets_the_key_of_its_apps_settings() -> None:
    app = FastAPI()
    app.state.settings = SimpleNamespace(pseudonym_key=SecretStr("this-app's-key"))

    @app.get("/ref")
    async def ref(key: PseudonymKey) -> dict[str, str]:
        return {"person_ref": pseudonym(NUMBER, key)}

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        answer = await client.get("/ref")
    assert answer.json() == {"person_ref": pseudonym(NUMBER, "this-app's-key")}
    assert answer.json()["person_ref"] != pseudonym(NUMBER, "fupin-dev-pseudonym-key")
