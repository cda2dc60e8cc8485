"""/welfare/ranger-quotas and /welfare/ranger-posts (生态护林员)."""

from typing import Annotated, Any

from fastapi import APIRouter, Path
from fastapi.responses import JSONResponse

from fupin_kit.db import SessionDep
from fupin_kit.pseudonyms import PseudonymKey
from welfare.access import WelfareReader, WelfareWriter
from welfare.rangers import service
from welfare.rangers.models import PostEndIn, PostIn, QuotaIn, post_out

router = APIRouter(prefix="/welfare", tags=["rangers"])
County = Annotated[str, Path(pattern=r"^\d{6}$")]
Year = Annotated[int, Path(ge=2000, le=2100)]


@router.put("/ranger-quotas/{county_code}/years/{year}")
async def set_quota(county_code: County, year: Year, body: QuotaIn, session: SessionDep,
                    _: WelfareWriter) -> JSONResponse:
    answer, created = await service.set_quota(session, county_code, year, body.quota)
    return JSONResponse(answer, status_code=201 if created else 200)


@router.get("/ranger-quotas/{county_code}/years/{year}")
async def read_quota(county_code: County, year: Year, session: SessionDep, _: WelfareReader) -> dict[str, Any]:
    return await service.read_quota(session, county_code, year)


@router.post("/ranger-posts", status_code=201)
async def appoint(body: PostIn, session: SessionDep, _: WelfareWriter, key: PseudonymKey) -> JSONResponse:
    answer = await service.appoint(session, body, pseudonym_key=key)
    return JSONResponse(answer, status_code=201, headers={"Location": f"/welfare/ranger-posts/{answer['post_id']}"})


@router.get("/ranger-posts/{post_id}")
async def read_post(post_id: str, session: SessionDep, _: WelfareReader) -> dict[str, Any]:
    post = await service.load_post(session, post_id)
    return post_out(post, service.effective_status(post))


@router.post("/ranger-posts/{post_id}/end")
async def end_post(post_id: str, body: PostEndIn, session: SessionDep, _: WelfareWriter) -> dict[str, Any]:
    return await service.end_post(session, post_id, body)
