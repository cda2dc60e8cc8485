"""`POST /registry/imports` (202, processed in the background) and `GET /registry/imports/{id}`."""

import uuid

from fastapi import APIRouter, BackgroundTasks, File, Query, Request, Response, UploadFile

from fupin_kit.db import SessionDep
from registry.access import Reader, Writer
from registry.imports import service
from registry.imports.models import ImportPublic
from registry.imports.parsing import MAX_BYTES

# The whole multipart body: the file's limit plus room for the form's envelope (boundaries, part headers). A longer
# body is refused while it arrives (413 payload_too_large), before the form parser spools it.
MAX_UPLOAD_BODY_BYTES = MAX_BYTES + 64 * 1024

router = APIRouter(prefix="/registry/imports", tags=["imports"])


async def _start(request: Request, import_id: uuid.UUID) -> None:
    """Runs after the response (the job row is committed by then); the task outlives the request."""
    service.start(request.app.state, request.app.state.settings.database_url, import_id)


@router.post("", status_code=202, response_model=ImportPublic, max_body_size=MAX_UPLOAD_BODY_BYTES)
async def upload(request: Request, response: Response, background: BackgroundTasks, session: SessionDep,
                 principal: Writer, file: UploadFile = File(...)) -> ImportPublic:
    # The form parser has spooled the file to a temporary file (in memory up to 1 MiB only): it is copied to the
    # import spool from there, never read whole.
    job = await service.accept(session, filename=file.filename or "upload", upload=file.file, size=file.size,
                               actor=principal.client_id)
    background.add_task(_start, request, job.id)
    response.headers["Location"] = f"/registry/imports/{job.id}"
    await session.refresh(job)
    return await service.read_job(session, job.id)


@router.get("/{import_id}", response_model=ImportPublic)
async def progress(import_id: uuid.UUID, session: SessionDep, _: Reader,
                   errors_offset: int = Query(0, ge=0), errors_limit: int = Query(1000, ge=0, le=10000)
                   ) -> ImportPublic:
    return await service.read_job(session, import_id, errors_offset=errors_offset, errors_limit=errors_limit)
