"""The pseudonym key of a request: the one way a route gets it (from the app's settings, `app.state.settings`, set by
`fupin_kit.app.create_service_app`), so that every service turns resident ID numbers into `person_ref`s with the
key its app was started with.

    async def route(..., key: PseudonymKey) -> ...:
        person_ref = pseudonym(id_number, key)
"""

from typing import Annotated

from fastapi import Depends, Request


async def pseudonym_key(request: Request) -> str:
    """The key of `fupin_kit.ids.pseudonym` (HMAC-SHA256) from the app's settings. `async` although it awaits
    nothing: FastAPI runs a plain `def` dependency on its thread pool, a thread hop on every request of the route."""
    return str(request.app.state.settings.pseudonym_key.get_secret_value())


PseudonymKey = Annotated[str, Depends(pseudonym_key)]
